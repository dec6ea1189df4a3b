package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func vars(kv ...string) map[string]string {
	m, _ := environMap(kv, "")
	return m
}

var creds = []string{
	"SIGNALWIRE_PROJECT_KEY=key", "SIGNALWIRE_TOKEN=" + testAPIToken,
	"SIGNALWIRE_SPACE=example.signalwire.com", "SECRET_KEY=" + testSecretKey,
}

func withCreds(kv ...string) []string { return append(append([]string{}, creds...), kv...) }

func TestConfigAccepts(t *testing.T) {
	tests := []struct {
		name  string
		env   []string
		check func(config) bool
	}{
		{"no variables is sandbox mode on loopback port 8080", nil, func(c config) bool { return c.Sandbox() && c.Addr == "127.0.0.1:8080" }},
		{"with credentials the default is every interface", withCreds("OPEN_HOSTING=true"), func(c config) bool { return c.Addr == ":8080" }},
		{"defaults are 24h invites, 20 members, text info logs", nil, func(c config) bool {
			return c.InviteTTL == 24*time.Hour && c.MaxMembers == 20 && c.LogFormat == "text" && c.LogLevel == "info"
		}},
		{"PORT is used when ADDR is unset", []string{"PORT=9000"}, func(c config) bool { return c.Addr == ":9000" }},
		{"ADDR wins over PORT", []string{"PORT=9000", "ADDR=127.0.0.1:7000"}, func(c config) bool { return c.Addr == "127.0.0.1:7000" }},
		{"blank values count as unset", []string{"INVITE_TTL=", "MAX_MEMBERS=  ", "SIGNALWIRE_SPACE="}, func(c config) bool {
			return c.InviteTTL == 24*time.Hour && c.MaxMembers == 20 && c.Sandbox()
		}},
		{"credentials with passcode", withCreds("HOST_PASSCODE=letmein"), func(c config) bool { return !c.Sandbox() && c.HostPasscode == "letmein" }},
		{"credentials with open hosting", withCreds("OPEN_HOSTING=true"), func(c config) bool { return c.OpenHosting }},
		{"space as https base URL", withCreds("OPEN_HOSTING=true", "SIGNALWIRE_SPACE=https://example.signalwire.com"), func(c config) bool { return true }},
		{"space as http loopback URL", withCreds("OPEN_HOSTING=true", "SIGNALWIRE_SPACE=http://127.0.0.1:9999"), func(c config) bool { return true }},
		{"public URL loses its trailing slash", []string{"PUBLIC_URL=https://rooms.example.com/"}, func(c config) bool { return c.PublicURL == "https://rooms.example.com" }},
		{"invite TTL is a Go duration", []string{"INVITE_TTL=90m"}, func(c config) bool { return c.InviteTTL == 90*time.Minute }},
		{"max members at the top of the range", []string{"MAX_MEMBERS=300"}, func(c config) bool { return c.MaxMembers == 300 }},
		{"trusted proxies take CIDRs and addresses", []string{"TRUSTED_PROXIES=10.0.0.0/8, 192.168.1.1"}, func(c config) bool { return len(c.TrustedProxies) == 2 }},
		{"json debug logs", []string{"LOG_FORMAT=json", "LOG_LEVEL=debug"}, func(c config) bool { return c.LogFormat == "json" && c.LogLevel == "debug" }},
		{"budgets default to an office of 300 joining at once", nil, func(c config) bool {
			return c.JoinsPerAddress == 300 && c.JoinsPerRoom == 600 && c.SignalWireCallsPerSecond == 100 && c.SignalWireCallBurst == 300
		}},
		{"REDIS_URL with password and DB", []string{"REDIS_URL=rediss://app:" + testRedisPassword + "@redis.internal:6380/2"}, func(c config) bool {
			return c.RedisURL == "rediss://app:"+testRedisPassword+"@redis.internal:6380/2"
		}},
		{"no REDIS_URL keeps state in memory", nil, func(c config) bool { return c.RedisURL == "" }},
		{"metrics are off by default", nil, func(c config) bool { return c.MetricsAddr == "" }},
		{"METRICS_ADDR on another port", []string{"METRICS_ADDR=127.0.0.1:9090"}, func(c config) bool { return c.MetricsAddr == "127.0.0.1:9090" }},
		{"METRICS_ADDR on ADDR's port but another interface", []string{"ADDR=127.0.0.1:8080", "METRICS_ADDR=127.0.0.2:8080"}, func(c config) bool { return c.MetricsAddr == "127.0.0.2:8080" }},
		{"METRICS_ADDR and ADDR both on port 0", []string{"ADDR=127.0.0.1:0", "METRICS_ADDR=127.0.0.1:0"}, func(c config) bool { return true }},
		{"budgets are set", []string{"JOINS_PER_ADDRESS=50", "JOINS_PER_ROOM=70", "SIGNALWIRE_CALLS_PER_SECOND=2.5", "SIGNALWIRE_CALL_BURST=5"}, func(c config) bool {
			return c.JoinsPerAddress == 50 && c.JoinsPerRoom == 70 && c.SignalWireCallsPerSecond == 2.5 && c.SignalWireCallBurst == 5
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(vars(tt.env...))
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if !tt.check(c) {
				t.Errorf("got %+v, which fails the check", redacted(c))
			}
		})
	}
}

func TestConfigRejects(t *testing.T) {
	dir := t.TempDir()
	cert := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(cert, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  []string
		want []string // substrings of the error, one per expected line
	}{
		{"only the space set names the two missing variables", []string{"SIGNALWIRE_SPACE=example.signalwire.com"}, []string{"SIGNALWIRE_PROJECT_KEY, SIGNALWIRE_TOKEN: missing", "SECRET_KEY: required", "HOST_PASSCODE: required"}},
		{"credentials without a secret key", []string{"SIGNALWIRE_PROJECT_KEY=k", "SIGNALWIRE_TOKEN=t", "SIGNALWIRE_SPACE=s.signalwire.com", "HOST_PASSCODE=p"}, []string{"SECRET_KEY: required"}},
		{"credentials without a passcode or open hosting", withCreds(), []string{"HOST_PASSCODE: required"}},
		{"a short secret key", []string{"SECRET_KEY=short"}, []string{"SECRET_KEY: too short"}},
		{"plain http to a remote space", withCreds("OPEN_HOSTING=true", "SIGNALWIRE_SPACE=http://example.signalwire.com"), []string{"SIGNALWIRE_SPACE: base URL for example.signalwire.com must use https (http is allowed only for loopback hosts)"}},
		{"a space with a path", withCreds("OPEN_HOSTING=true", "SIGNALWIRE_SPACE=example.com/x"), []string{"SIGNALWIRE_SPACE: space is not a valid host"}},
		{"a relative public URL", []string{"PUBLIC_URL=rooms.example.com"}, []string{"PUBLIC_URL: must be an absolute"}},
		{"a bad invite TTL", []string{"INVITE_TTL=tomorrow"}, []string{"INVITE_TTL: not a valid"}},
		{"a negative invite TTL", []string{"INVITE_TTL=-1h"}, []string{"INVITE_TTL: must be a positive"}},
		{"max members above 300", []string{"MAX_MEMBERS=301"}, []string{"MAX_MEMBERS: must be between 1 and 300"}},
		{"max members not a number", []string{"MAX_MEMBERS=many"}, []string{"MAX_MEMBERS: not a valid"}},
		{"open hosting not a bool", []string{"OPEN_HOSTING=perhaps"}, []string{"OPEN_HOSTING: not a valid"}},
		{"a trusted proxy that is no CIDR", []string{"TRUSTED_PROXIES=10.0.0.0/8,nope"}, []string{"TRUSTED_PROXIES: \"nope\""}},
		{"a TLS cert without a key", []string{"TLS_CERT_FILE=" + cert}, []string{"TLS_CERT_FILE, TLS_KEY_FILE: set both"}},
		{"a TLS key file that is missing", []string{"TLS_CERT_FILE=" + cert, "TLS_KEY_FILE=" + filepath.Join(dir, "nope.pem")}, []string{"TLS_KEY_FILE: cannot read"}},
		{"an unknown log format", []string{"LOG_FORMAT=xml"}, []string{"LOG_FORMAT: must be text or json"}},
		{"an unknown log level", []string{"LOG_LEVEL=loud"}, []string{"LOG_LEVEL: must be"}},
		{"a zero join budget", []string{"JOINS_PER_ADDRESS=0"}, []string{"JOINS_PER_ADDRESS: must be between 1"}},
		{"a join budget not a number", []string{"JOINS_PER_ROOM=lots"}, []string{"JOINS_PER_ROOM: not a valid"}},
		{"more calls than SignalWire allows a project", []string{"SIGNALWIRE_CALLS_PER_SECOND=5000"}, []string{"SIGNALWIRE_CALLS_PER_SECOND: must be between 0.1 and 1380"}},
		{"a call budget that is not a number", []string{"SIGNALWIRE_CALLS_PER_SECOND=NaN"}, []string{"SIGNALWIRE_CALLS_PER_SECOND: must be between 0.1 and 1380"}},
		{"a call budget that refuses everything", []string{"SIGNALWIRE_CALLS_PER_SECOND=1e-300"}, []string{"SIGNALWIRE_CALLS_PER_SECOND: must be between 0.1 and 1380"}},
		{"a zero call burst", []string{"SIGNALWIRE_CALL_BURST=0"}, []string{"SIGNALWIRE_CALL_BURST: must be between 1"}},
		{"REDIS_URL of another scheme", []string{"REDIS_URL=http://app:" + testRedisPassword + "@redis.internal:6379/0"}, []string{"REDIS_URL must start with redis:// or rediss://"}},
		{"REDIS_URL with a DB that is no number", []string{"REDIS_URL=redis://app:" + testRedisPassword + "@redis.internal:6379/zero"}, []string{"REDIS_URL redis://app:xxxxx@redis.internal:6379/zero is malformed"}},
		{"REDIS_URL that is no URL", []string{"REDIS_URL=::" + testRedisPassword}, []string{"REDIS_URL is not a URL"}},
		{"METRICS_ADDR the same as ADDR", []string{"ADDR=127.0.0.1:8080", "METRICS_ADDR=127.0.0.1:8080"}, []string{"METRICS_ADDR: must differ from ADDR (127.0.0.1:8080)"}},
		{"METRICS_ADDR on the sandbox's default address", []string{"METRICS_ADDR=127.0.0.1:8080"}, []string{"METRICS_ADDR: must differ from ADDR"}},
		{"METRICS_ADDR on every interface at ADDR's port", []string{"ADDR=127.0.0.1:9000", "METRICS_ADDR=:9000"}, []string{"METRICS_ADDR: must differ from ADDR"}},
		{"METRICS_ADDR at the port PORT sets", []string{"PORT=9000", "METRICS_ADDR=127.0.0.1:9000"}, []string{"METRICS_ADDR: must differ from ADDR (:9000)"}},
		{"METRICS_ADDR without a port", []string{"METRICS_ADDR=9090"}, []string{"METRICS_ADDR: must be host:port"}},
		{"several problems give several lines", []string{"LOG_LEVEL=loud", "MAX_MEMBERS=0"}, []string{"LOG_LEVEL", "MAX_MEMBERS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(vars(tt.env...))
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("got %q, want it to contain %q", msg, w)
				}
			}
			if got, want := len(strings.Split(msg, "\n")), len(tt.want); got != want {
				t.Errorf("got %d lines %q, want %d", got, msg, want)
			}
			for _, secret := range []string{testAPIToken, testSecretKey, "short", testRedisPassword} {
				if strings.Contains(msg, secret) && !strings.Contains(strings.Join(tt.want, ""), secret) {
					t.Errorf("error %q repeats a secret", msg)
				}
			}
		})
	}
}

func TestDotenvFileIsUnderTheProcessEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	content := "MAX_MEMBERS=7\nINVITE_TTL=2h\nLOG_LEVEL=\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := environMap([]string{"INVITE_TTL=3h"}, path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig(m)
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxMembers != 7 {
		t.Errorf("got MAX_MEMBERS %d, want 7 from the file", c.MaxMembers)
	}
	if c.InviteTTL != 3*time.Hour {
		t.Errorf("got INVITE_TTL %v, want 3h from the process", c.InviteTTL)
	}
	if c.LogLevel != "info" {
		t.Errorf("got LOG_LEVEL %q, want the default for a blank value", c.LogLevel)
	}
}

func TestMissingDotenvFileIsFine(t *testing.T) {
	if _, err := environMap(nil, filepath.Join(t.TempDir(), "absent.env")); err != nil {
		t.Errorf("got %v, want no error", err)
	}
}

func redacted(c config) config {
	c.Token, c.SecretKey, c.HostPasscode, c.RedisURL = "[redacted]", "[redacted]", "[redacted]", "[redacted]"
	return c
}

// testRedisPassword stands for the password in REDIS_URL, which no
// message or log may repeat.
const testRedisPassword = "hunter2-redis-pass"

func TestLoopbackRelayOrigin(t *testing.T) {
	for space, want := range map[string]string{
		"http://127.0.0.1:4321":          "ws://127.0.0.1:4321",
		"http://localhost:80/api/video":  "ws://localhost:80",
		"https://[::1]:8443":             "wss://[::1]:8443",
		"https://example.signalwire.com": "",
		"example.signalwire.com":         "",
		"http://192.0.2.1:4321":          "",
		"":                               "",
	} {
		if got := loopbackRelayOrigin(space); got != want {
			t.Errorf("loopbackRelayOrigin(%q) = %q, want %q", space, got, want)
		}
	}
}

func TestBeyondLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": false, "[::1]:8080": false, "localhost:8080": false,
		":8080": true, "0.0.0.0:8080": true, "[::]:8080": true, "10.0.0.5:8080": true, "nonsense": true,
	} {
		if got := beyondLoopback(addr); got != want {
			t.Errorf("beyondLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
