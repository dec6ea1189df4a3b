package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/caarlos0/env/v10"
	"github.com/joho/godotenv"

	"github.com/swrooms/swrooms/internal/redisconn"
	"github.com/swrooms/swrooms/signalwire"
)

// config is everything the app reads from its environment. The names of the
// three SignalWire variables are the original demo's, so an existing .env
// keeps working.
type config struct {
	ProjectKey     string        `env:"SIGNALWIRE_PROJECT_KEY"`
	Token          string        `env:"SIGNALWIRE_TOKEN"`
	Space          string        `env:"SIGNALWIRE_SPACE"`
	Addr           string        `env:"ADDR"`
	Port           string        `env:"PORT"`
	PublicURL      string        `env:"PUBLIC_URL"`
	SecretKey      string        `env:"SECRET_KEY"`
	HostPasscode   string        `env:"HOST_PASSCODE"`
	OpenHosting    bool          `env:"OPEN_HOSTING"`
	InviteTTL      time.Duration `env:"INVITE_TTL" envDefault:"24h"`
	MaxMembers     int           `env:"MAX_MEMBERS" envDefault:"20"`
	TrustedProxies []string      `env:"TRUSTED_PROXIES" envSeparator:","`
	TLSCertFile    string        `env:"TLS_CERT_FILE"`
	TLSKeyFile     string        `env:"TLS_KEY_FILE"`
	LogFormat      string        `env:"LOG_FORMAT" envDefault:"text"`
	LogLevel       string        `env:"LOG_LEVEL" envDefault:"info"`
	// RedisURL, when set, is the Redis that instances share state through
	// (redis:// or rediss://, with password and DB). It is a secret: the
	// password never reaches a message or a log.
	RedisURL string `env:"REDIS_URL"`
	// MetricsAddr, when set, is where Prometheus metrics are served, on a
	// listener of their own: never the public ADDR.
	MetricsAddr string `env:"METRICS_ADDR"`

	// Budgets; README's configuration table says how to size them.
	JoinsPerAddress          int     `env:"JOINS_PER_ADDRESS" envDefault:"300"`
	JoinsPerRoom             int     `env:"JOINS_PER_ROOM" envDefault:"600"`
	SignalWireCallsPerSecond float64 `env:"SIGNALWIRE_CALLS_PER_SECOND" envDefault:"100"`
	SignalWireCallBurst      int     `env:"SIGNALWIRE_CALL_BURST" envDefault:"300"`
	RosterMemoryMB           int     `env:"ROSTER_MEMORY_MB" envDefault:"256"`

	// MODERATOR_CAN_UNMUTE restores the original demo's forced unmute.
	ModeratorCanUnmute bool `env:"MODERATOR_CAN_UNMUTE"`
}

// minSecretLen is the shortest SECRET_KEY accepted: 32 bytes is the size of
// an HMAC-SHA256 key below which the key, not the hash, is the weak point.
const minSecretLen = 32

// Sandbox reports whether no SignalWire account is configured, in which
// case the app runs against its built-in fake of SignalWire (REST API,
// relay and bots) with the real SDK.
func (c config) Sandbox() bool {
	return c.ProjectKey == "" && c.Token == "" && c.Space == ""
}

// environMap merges a .env file under the process environment: the process
// wins, and blank values count as unset so that `FOO=` in a .env or a
// deployment template does not override a default with nothing.
func environMap(environ []string, dotenvPath string) (map[string]string, error) {
	m := map[string]string{}
	if dotenvPath != "" {
		f, err := os.Open(dotenvPath)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("read %s: %w", dotenvPath, err)
		default:
			fileVars, err := godotenv.Parse(f)
			f.Close()
			if err != nil {
				return nil, fmt.Errorf("parse %s: %w", dotenvPath, err)
			}
			for k, v := range fileVars {
				m[k] = v
			}
		}
	}
	for k, v := range env.ToMap(environ) {
		m[k] = v
	}
	for k, v := range m {
		if strings.TrimSpace(v) == "" {
			delete(m, k)
		}
	}
	return m, nil
}

// loadConfig parses and checks the configuration. Its error lists every
// problem, one per line, each naming the variable; it never repeats a
// secret's value.
func loadConfig(vars map[string]string) (config, error) {
	var cfg config
	var problems []string
	if err := env.ParseWithOptions(&cfg, env.Options{Environment: vars}); err != nil {
		problems = append(problems, envProblems(err)...)
	}
	cfg.Addr = cfg.defaultAddr()
	// A variable that did not parse has its zero value: say so once, not
	// again as out of range.
	for _, p := range cfg.check() {
		name, _, _ := strings.Cut(p, ":")
		if !slices.ContainsFunc(problems, func(q string) bool { return strings.HasPrefix(q, name+":") }) {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return cfg, errors.New(strings.Join(problems, "\n"))
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	cfg.TrustedProxies, _ = parseProxies(cfg.TrustedProxies) // check() has accepted every entry
	return cfg, nil
}

// defaultAddr is ADDR, or what it defaults to: PORT on every interface,
// or 127.0.0.1:8080 in sandbox mode.
func (c config) defaultAddr() string {
	switch {
	case c.Addr != "":
		return c.Addr
	case c.Port != "":
		return ":" + c.Port
	case c.Sandbox():
		// A sandbox is one person's machine, open to anyone who can reach
		// it, and its relay answers on loopback only: it listens there
		// unless told otherwise.
		return "127.0.0.1:8080"
	}
	return ":8080"
}

// beyondLoopback reports whether listen address addr (host:port) takes
// connections from other machines: an empty host, a wildcard or any
// address but loopback. An address that does not parse counts as beyond,
// so that the warning errs on the side of being shown.
func beyondLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err != nil || !signalwire.IsLoopback(host)
}

// envProblems turns the env package's errors, which name struct fields,
// into lines that name the variables a user actually sets.
func envProblems(err error) []string {
	var agg env.AggregateError
	errs := []error{err}
	if errors.As(err, &agg) {
		errs = agg.Errors
	}
	var lines []string
	for _, e := range errs {
		var pe env.ParseError
		if errors.As(e, &pe) {
			lines = append(lines, fmt.Sprintf("%s: not a valid %s", envName(pe.Name), pe.Type))
			continue
		}
		lines = append(lines, e.Error())
	}
	return lines
}

func envName(field string) string {
	f, ok := reflect.TypeFor[config]().FieldByName(field)
	if !ok {
		return field
	}
	return f.Tag.Get("env")
}

func (c config) check() []string {
	var p []string
	creds := map[string]string{
		"SIGNALWIRE_PROJECT_KEY": c.ProjectKey,
		"SIGNALWIRE_TOKEN":       c.Token,
		"SIGNALWIRE_SPACE":       c.Space,
	}
	var missing []string
	for _, name := range []string{"SIGNALWIRE_PROJECT_KEY", "SIGNALWIRE_TOKEN", "SIGNALWIRE_SPACE"} {
		if creds[name] == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 && len(missing) < 3 {
		p = append(p, fmt.Sprintf("%s: missing (set all three SignalWire variables, or none for sandbox mode)", strings.Join(missing, ", ")))
	}
	if c.Space != "" {
		if err := signalwire.CheckSpace(c.Space); err != nil {
			p = append(p, "SIGNALWIRE_SPACE: "+strings.TrimPrefix(err.Error(), "signalwire: "))
		}
	}
	if !c.Sandbox() {
		if c.SecretKey == "" {
			p = append(p, "SECRET_KEY: required with SignalWire credentials (at least 32 bytes, e.g. `openssl rand -hex 32`)")
		}
		if c.HostPasscode == "" && !c.OpenHosting {
			p = append(p, "HOST_PASSCODE: required with SignalWire credentials unless OPEN_HOSTING=true")
		}
	}
	if c.SecretKey != "" && len(c.SecretKey) < minSecretLen {
		p = append(p, fmt.Sprintf("SECRET_KEY: too short (%d bytes, need at least %d)", len(c.SecretKey), minSecretLen))
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			p = append(p, "PUBLIC_URL: must be an absolute http:// or https:// URL such as https://rooms.example.com")
		}
	}
	if c.InviteTTL <= 0 {
		p = append(p, "INVITE_TTL: must be a positive duration such as 24h")
	}
	if c.MaxMembers < 1 || c.MaxMembers > 300 {
		p = append(p, fmt.Sprintf("MAX_MEMBERS: must be between 1 and 300 (got %d)", c.MaxMembers))
	}
	for name, v := range map[string]int{"JOINS_PER_ADDRESS": c.JoinsPerAddress, "JOINS_PER_ROOM": c.JoinsPerRoom, "SIGNALWIRE_CALL_BURST": c.SignalWireCallBurst} {
		if v < 1 || v > 1_000_000 {
			p = append(p, fmt.Sprintf("%s: must be between 1 and 1000000 (got %d)", name, v))
		}
	}
	// The widest seat of a 300-member room takes 0.5 MB: 16 MB keeps a
	// full room's worth of ordinary seats.
	if c.RosterMemoryMB < 16 || c.RosterMemoryMB > 1<<20 {
		p = append(p, fmt.Sprintf("ROSTER_MEMORY_MB: must be between 16 and 1048576 (got %d)", c.RosterMemoryMB))
	}
	// SignalWire allows 13,800 POSTs per 10 s for a whole project. Below
	// one call in 10 s the budget refuses every join; written as a
	// positive range check, so that NaN (which compares false) fails it.
	if !(c.SignalWireCallsPerSecond >= 0.1 && c.SignalWireCallsPerSecond <= 1380) {
		p = append(p, fmt.Sprintf("SIGNALWIRE_CALLS_PER_SECOND: must be between 0.1 and 1380, SignalWire's limit for a project (got %g)", c.SignalWireCallsPerSecond))
	}
	if _, err := parseProxies(c.TrustedProxies); err != nil {
		p = append(p, "TRUSTED_PROXIES: "+err.Error())
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		p = append(p, "TLS_CERT_FILE, TLS_KEY_FILE: set both or neither")
	}
	for name, path := range map[string]string{"TLS_CERT_FILE": c.TLSCertFile, "TLS_KEY_FILE": c.TLSKeyFile} {
		if path == "" {
			continue
		}
		if _, err := os.Stat(path); err != nil {
			p = append(p, name+": cannot read "+path)
		}
	}
	if c.RedisURL != "" {
		// Open only parses (it dials lazily); its error names REDIS_URL
		// and never the password.
		if rdb, err := redisconn.Open(c.RedisURL); err != nil {
			p = append(p, err.Error())
		} else {
			_ = rdb.Close()
		}
	}
	if c.MetricsAddr != "" {
		if msg := metricsAddrProblem(c.MetricsAddr, c.Addr); msg != "" {
			p = append(p, "METRICS_ADDR: "+msg)
		}
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		p = append(p, fmt.Sprintf("LOG_FORMAT: must be text or json (got %q)", c.LogFormat))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		p = append(p, fmt.Sprintf("LOG_LEVEL: must be debug, info, warn or error (got %q)", c.LogLevel))
	}
	return p
}

// metricsAddrProblem says what is wrong with METRICS_ADDR, or "": it must
// be host:port, and not ADDR's port on an interface ADDR also listens on,
// since metrics are never served on the public port.
func metricsAddrProblem(metrics, addr string) string {
	mh, mp, err := net.SplitHostPort(metrics)
	if err != nil || mp == "" {
		return "must be host:port, such as 127.0.0.1:9090"
	}
	ah, ap, err := net.SplitHostPort(addr)
	if err != nil {
		return "" // listening on ADDR says what is wrong with it
	}
	anyHost := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	if mp == ap && mp != "0" && (mh == ah || anyHost(mh) || anyHost(ah)) {
		return fmt.Sprintf("must differ from ADDR (%s): metrics are never served on the public port", addr)
	}
	return ""
}

// parseProxies accepts CIDRs and bare addresses, the two forms Fiber's
// trusted proxy check understands.
func parseProxies(in []string) ([]string, error) {
	var out []string
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if _, err := netip.ParsePrefix(s); err != nil {
			if _, err := netip.ParseAddr(s); err != nil {
				return nil, fmt.Errorf("%q is not a CIDR or IP address", s)
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// loopbackRelayOrigin is the WebSocket origin a SignalWire fake on loopback
// serves its relay from ("ws://127.0.0.1:PORT" for space
// "http://127.0.0.1:PORT"), which the CSP must let the SDK reach; "" for any
// space off this machine, whose relay is SignalWire's own. The fake's tokens
// name their relay on the same host and port as its REST API.
func loopbackRelayOrigin(space string) string {
	u, err := url.Parse(space)
	if err != nil || u.Host == "" {
		return ""
	}
	if !signalwire.IsLoopback(u.Hostname()) {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		return "ws://" + u.Host
	case "https":
		return "wss://" + u.Host
	}
	return ""
}
