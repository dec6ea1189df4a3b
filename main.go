// Command swrooms serves SignalWire Video rooms: a room picker, a
// moderator panel and guest invite links.
package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swrooms/swrooms/handlers"
	"github.com/swrooms/swrooms/internal/redisconn"
	"github.com/swrooms/swrooms/knownrooms"
	"github.com/swrooms/swrooms/metrics"
	"github.com/swrooms/swrooms/push"
	"github.com/swrooms/swrooms/ratelimit"
	"github.com/swrooms/swrooms/roomstate"
	"github.com/swrooms/swrooms/roster"
	"github.com/swrooms/swrooms/signalwire"
	"github.com/swrooms/swrooms/signalwire/swtest"
)

func main() {
	if err := run(context.Background(), os.Args, os.Environ(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "swrooms:", err)
		os.Exit(1)
	}
}

// runOptions are seams for tests; production sets none of them, and none
// can be set from the environment.
type runOptions struct {
	onListen func(addr string)
	// heartbeat and lobbyGrace shorten the streams' timing (0: defaults),
	// so that a test sees a closed tab leave the lobby in seconds.
	heartbeat, lobbyGrace time.Duration
	// broker wraps the push broker, so that a test can cut streams.
	broker func(handlers.Broker) handlers.Broker
	// onMetricsListen reports the metrics listener's address (METRICS_ADDR).
	onMetricsListen func(addr string)
}

type runOption func(*runOptions)

// withOnListen reports the address once the server listens (for port 0).
func withOnListen(f func(addr string)) runOption {
	return func(o *runOptions) { o.onListen = f }
}

// withOnMetricsListen reports the metrics listener's address once it listens.
func withOnMetricsListen(f func(addr string)) runOption {
	return func(o *runOptions) { o.onMetricsListen = f }
}

// withStreamTiming sets the streams' heartbeat and the lobby's grace for
// a waiting guest without a stream.
func withStreamTiming(heartbeat, lobbyGrace time.Duration) runOption {
	return func(o *runOptions) { o.heartbeat, o.lobbyGrace = heartbeat, lobbyGrace }
}

// withBroker wraps the push broker the handlers use.
func withBroker(wrap func(handlers.Broker) handlers.Broker) runOption {
	return func(o *runOptions) { o.broker = wrap }
}

// shutdownTimeout bounds the drain of in-flight requests after a signal,
// so that the process exits within 5 s as orchestrators expect.
const shutdownTimeout = 4 * time.Second

func run(ctx context.Context, args []string, environ []string, stdout io.Writer, opts ...runOption) error {
	var ro runOptions
	for _, o := range opts {
		o(&ro)
	}
	flags := flag.NewFlagSet("swrooms", flag.ContinueOnError)
	flags.SetOutput(stdout)
	envFile := flags.String("env-file", ".env", "`file` of variables to load under the process environment (ignored when missing)")
	if len(args) > 0 {
		if err := flags.Parse(args[1:]); err != nil {
			return err
		}
	}
	vars, err := environMap(environ, *envFile)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(vars)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := newLogger(cfg, stdout)
	stopProfiling, err := startProfiling(vars, log)
	if err != nil {
		return err
	}
	defer stopProfiling()

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	secret := []byte(cfg.SecretKey)
	sandboxMode := cfg.Sandbox()
	if sandboxMode {
		fake, closeFake, err := startSandbox(log)
		if err != nil {
			return err
		}
		defer closeFake()
		cfg.ProjectKey, cfg.Token, cfg.Space = fake.projectKey, fake.token, fake.url
		if len(secret) == 0 {
			secret = make([]byte, 32)
			_, _ = rand.Read(secret)
			log.Warn("sandbox mode: no SECRET_KEY, using a random key; invite links and host sessions end when the app stops")
		}
		log.Warn("sandbox mode: no SignalWire credentials; SignalWire's servers (REST API and relay) and the rooms' bots are simulated on this machine", "fake", fake.url)
		if beyondLoopback(cfg.Addr) {
			// PORT alone (a platform's convention) listens everywhere.
			log.Warn("sandbox mode listening beyond this machine: anyone who reaches it can host rooms, and other machines' browsers cannot reach the simulated relay, which answers on loopback only; set ADDR=127.0.0.1:PORT to keep it local", "addr", cfg.Addr)
		}
		if cfg.RedisURL != "" {
			// Each sandbox simulates SignalWire by itself: behind a
			// balancer, one meeting's people would get tokens for
			// different simulations (and each page's CSP admits only its
			// own instance's relay), so they would never meet.
			log.Warn("sandbox mode with REDIS_URL: this instance's simulated SignalWire is its own, so run one instance only; several instances sharing a Redis need a real SignalWire space (the same SIGNALWIRE_* variables on each)")
		}
	}

	// Nil without REDIS_URL; loadConfig has parsed the URL already.
	var rdb *redis.Client
	var redisState *handlers.Dependency
	if cfg.RedisURL != "" {
		if rdb, err = redisconn.Open(cfg.RedisURL); err != nil {
			return fmt.Errorf("configuration:\n%w", err)
		}
		defer rdb.Close()
		// go-redis logs each failed dial itself, to stderr, every retry:
		// into the app's log at debug level instead (a process-wide
		// setting of the library). watchRedis says it once, clearly.
		redis.SetLogger(redisLog{log})
		redisState = handlers.NewDependency("Redis")
	}
	st := buildStores(cfg, rdb, log)

	// Metrics only when asked for: without METRICS_ADDR nothing counts.
	var meter handlers.Meter
	var swOpts []signalwire.Option
	var m *metrics.Metrics
	if cfg.MetricsAddr != "" {
		m = metrics.New()
		meter = m
		swOpts = append(swOpts, signalwire.WithObserver(m.SignalWireRequest))
		if rdb != nil {
			rdb.AddHook(m.RedisHook())
		}
	}

	client, err := newSignalWireClient(cfg, log, swOpts...)
	if err != nil {
		return fmt.Errorf("configuration:\nSIGNALWIRE_SPACE: %w", err)
	}

	status := handlers.NewStatus()
	var hb handlers.Broker = st.broker
	if ro.broker != nil {
		hb = ro.broker(st.broker)
	}
	h := handlers.New(handlers.Config{
		Sandbox:   sandboxMode,
		SecretKey: secret,
		// In sandbox mode cfg.Space is the fake's loopback URL by now, so
		// the CSP lets the SDK reach the fake's relay.
		RelayOrigin:  loopbackRelayOrigin(cfg.Space),
		HostPasscode: cfg.HostPasscode,
		// A sandbox without a passcode is open: it is one person's machine.
		OpenHosting:    cfg.OpenHosting || (sandboxMode && cfg.HostPasscode == ""),
		InviteTTL:      cfg.InviteTTL,
		MaxMembers:     cfg.MaxMembers,
		PublicURL:      cfg.PublicURL,
		TrustedProxies: cfg.TrustedProxies,
		SecureCookies:  cfg.TLSCertFile != "" || strings.HasPrefix(cfg.PublicURL, "https://"),
		Limits:         handlers.Limits{JoinsPerAddress: cfg.JoinsPerAddress, JoinsPerRoom: cfg.JoinsPerRoom},

		ModeratorCanUnmute: cfg.ModeratorCanUnmute,
		StreamHeartbeat:    ro.heartbeat,
		LobbyGrace:         ro.lobbyGrace,
	}, handlers.Deps{
		Broker: hb,
		Video:  client,
		Roster: st.roster,
		Log:    log,

		Limiters:   st.limiters,
		KnownRooms: st.knownRooms,
		Rooms:      st.rooms,
		Status:     status,
		Meter:      meter,
		Redis:      redisState,
	})
	app := handlers.NewApp(h)
	if m != nil {
		m.SetCounts(metrics.Counts{Seats: st.seats, LobbyWaiting: h.LobbyWaiting})
	}

	// Listen first, so that a busy port fails here and now.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	scheme := "http"
	if cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			ln.Close()
			return fmt.Errorf("TLS_CERT_FILE, TLS_KEY_FILE: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		scheme = "https"
	}
	if m != nil {
		stopMetrics, err := serveMetrics(cfg.MetricsAddr, m, log, ro.onMetricsListen)
		if err != nil {
			ln.Close()
			return err
		}
		defer stopMetrics()
	}
	addr := ln.Addr().String()
	log.Info("listening", "addr", scheme+"://"+addr, "sandbox", sandboxMode)
	if ro.onListen != nil {
		ro.onListen(addr)
	}

	go checkSignalWire(ctx, client, status, log)
	if rdb != nil {
		go watchRedis(ctx, rdb, redisState, log)
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- app.Listener(ln) }()

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	start := time.Now()
	st.broker.Close()
	if err := app.ShutdownWithTimeout(shutdownTimeout); err != nil {
		// Connections still open now are idle sockets a browser opened ahead
		// of need, or requests slower than the drain allows; exiting closes
		// them, and failing the exit would not save them.
		if !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("shutdown: %w", err)
		}
		log.Warn("closed connections still open after the drain", "after", shutdownTimeout)
	}
	log.Info("stopped", "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// newSignalWireClient builds the REST client as production runs it: a
// pooled transport sized for the call budget, HTTP/2 where SignalWire
// offers it, and the budget itself; opts come last (the metrics'
// observer). The client refuses redirects whatever transport it is given
// (see signalwire.WithHTTPClient); tests build it through this function
// to prove that.
func newSignalWireClient(cfg config, log *slog.Logger, opts ...signalwire.Option) (*signalwire.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ForceAttemptHTTP2 = true
	// Idle connections kept for SignalWire's one host: a second's worth of
	// calls at half a second each, so that a burst of joins reuses
	// connections instead of paying a TLS handshake each (Go keeps 2).
	tr.MaxIdleConnsPerHost = max(8, int(cfg.SignalWireCallsPerSecond)/2)
	tr.MaxIdleConns = tr.MaxIdleConnsPerHost
	tr.IdleConnTimeout = 90 * time.Second
	return signalwire.NewClient(cfg.Space, cfg.ProjectKey, cfg.Token, append([]signalwire.Option{
		signalwire.WithHTTPClient(&http.Client{Transport: tr, Timeout: 20 * time.Second}),
		signalwire.WithCallBudget(cfg.SignalWireCallsPerSecond, cfg.SignalWireCallBurst),
		signalwire.WithLogger(log),
	}, opts...)...)
}

// stores are the state the handlers keep between requests: in this
// process's memory without REDIS_URL (the default, for one instance), in
// Redis with it, shared by every instance behind the load balancer.
type stores struct {
	roster roster.Store
	// broker carries the rooms' pushed events; closed first at shutdown,
	// so streams end and their browsers reconnect elsewhere.
	broker broker
	// seats counts the roster's seats for swrooms_seats.
	seats func() (int, error)
	// limiters and knownRooms are shared through Redis; nil means the
	// handlers keep their own in memory.
	limiters   func(name string, burst int, perSecond float64) handlers.Limiter
	knownRooms handlers.KnownRooms
	rooms      handlers.RoomStates
}

// broker is the push channel as main holds it: the handlers' Broker, and
// Close at shutdown.
type broker interface {
	handlers.Broker
	Close()
}

// buildStores builds the stores: rdb is nil without REDIS_URL. With rdb
// every store is the Redis one; without it, the memory ones (nil
// limiters, knownRooms and rooms: the handlers keep their own).
func buildStores(cfg config, rdb *redis.Client, log *slog.Logger) stores {
	lim := roster.Limits{RoomCapacity: cfg.MaxMembers, MaxBytes: int64(cfg.RosterMemoryMB) << 20}
	if rdb != nil {
		rs := roster.NewRedisStore(rdb, lim)
		return stores{
			roster: rs,
			broker: push.NewRedis(rdb, push.Limits{}, log),
			seats:  func() (int, error) { return rs.Len(context.Background()) },
			limiters: func(name string, burst int, perSecond float64) handlers.Limiter {
				return ratelimit.NewRedis(rdb, name, burst, perSecond)
			},
			knownRooms: knownrooms.NewRedis(rdb, handlers.KnownRoomTTL),
			// The invite version must outlive every link signed with it.
			rooms: roomstate.NewRedis(rdb, roomstate.Limits{}, roomstate.TTLs{Invite: cfg.InviteTTL}),
		}
	}
	rs := roster.NewMemoryStore(lim)
	return stores{
		roster: rs,
		broker: push.NewMemory(push.Limits{}, nil),
		seats:  func() (int, error) { return rs.Len(), nil },
	}
}

// redisCheckEvery is how often the background check pings Redis: a
// balancer reading /readyz sees an outage, and the end of one, within a
// second or two.
const redisCheckEvery = time.Second

// watchRedis pings Redis every redisCheckEvery until ctx ends and records
// the answer in state (/readyz). It logs the first answer and every change,
// naming Redis by its address, never its URL (which holds the password).
// go-redis reconnects by itself: nothing here restarts anything.
func watchRedis(ctx context.Context, rdb *redis.Client, state *handlers.Dependency, log *slog.Logger) {
	addr := rdb.Options().Addr
	t := time.NewTicker(redisCheckEvery)
	defer t.Stop()
	first := true
	for {
		// Redis's dial timeout: long enough for go-redis's own retries to
		// end in the real reason ("connection refused") rather than ours.
		err := redisconn.Ping(ctx, rdb, redisconn.DialTimeout)
		if ctx.Err() != nil {
			return
		}
		if changed := state.Set(err == nil); changed || first {
			if err != nil {
				log.Error("redis: cannot reach "+addr+"; /readyz answers 503 until it answers", "err", err)
			} else if first {
				log.Info("redis: connected", "addr", addr)
			} else {
				log.Info("redis: answering again", "addr", addr)
			}
		}
		first = false
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// redisLog is go-redis's logger: its lines at debug level in the app's log.
type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "go-redis: "+fmt.Sprintf(format, v...))
}

// serveMetrics serves m's /metrics on addr (METRICS_ADDR), a listener of
// its own, and returns the func that stops it. Anything else there is 404.
func serveMetrics(addr string, m *metrics.Metrics, log *slog.Logger, onListen func(string)) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("METRICS_ADDR: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "err", err)
		}
	}()
	log.Info("serving metrics", "addr", "http://"+ln.Addr().String()+"/metrics")
	if onListen != nil {
		onListen(ln.Addr().String())
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// newLogger logs at LOG_LEVEL in LOG_FORMAT; a record logged with a
// request's context carries its request_id, the SignalWire client's too.
func newLogger(cfg config, w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return handlers.LogRequestIDs(slog.New(slog.NewJSONHandler(w, opts)))
	}
	return handlers.LogRequestIDs(slog.New(slog.NewTextHandler(w, opts)))
}

// checkSignalWire makes one cheap authenticated call at start, retrying
// until SignalWire answers: /readyz turns 200 then, and a rejected key is
// reported once, clearly, instead of on every page.
func checkSignalWire(ctx context.Context, client *signalwire.Client, status *handlers.Status, log *slog.Logger) {
	delay := time.Second
	for {
		callCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err := client.Ping(callCtx)
		cancel()
		switch {
		case err == nil:
			status.SetReady()
			log.Info("SignalWire answered", "space", client.Space())
			return
		case signalwire.IsUnauthorized(err):
			status.SetRejected(client.Space())
			log.Error("SignalWire rejected the project key or token for " + client.Space())
			return
		case ctx.Err() != nil:
			return
		}
		log.Warn("SignalWire did not answer the startup check; retrying", "err", err, "in", delay)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, time.Minute)
	}
}

// sandbox is the fake SignalWire that sandbox mode runs in-process.
type sandbox struct {
	url, projectKey, token string
}

// startSandbox serves the fake SignalWire on a loopback port, with random
// credentials: the REST API, so the real client code runs unchanged
// against it, and on the same handler the relay that the real SDK in the
// browser joins rooms through (the fake's tokens name it in their "ch"
// header, ws://127.0.0.1:PORT/relay), with bots in every room. Room
// sessions follow who joins through the relay, so the fake needs no
// WithLiveSessionsFromTokens. The returned func closes the relay's
// connections (hijacked, so srv.Close would not) and then the server.
func startSandbox(log *slog.Logger) (sandbox, func(), error) {
	sb := sandbox{projectKey: "sandbox-" + randomHex(8), token: "PT" + randomHex(24)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return sb, nil, fmt.Errorf("sandbox: %w", err)
	}
	fake := swtest.New(sb.projectKey, sb.token, swtest.WithBots(swtest.Bots{}))
	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("sandbox API stopped", "err", err)
		}
	}()
	sb.url = "http://" + ln.Addr().String()
	return sb, func() {
		fake.CloseRelay()
		srv.Close()
	}, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
