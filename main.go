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

	"github.com/swrooms/swrooms/handlers"
	"github.com/swrooms/swrooms/push"
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
	broker func(*push.Memory) handlers.Broker
}

type runOption func(*runOptions)

// withOnListen reports the address once the server listens (for port 0).
func withOnListen(f func(addr string)) runOption {
	return func(o *runOptions) { o.onListen = f }
}

// withStreamTiming sets the streams' heartbeat and the lobby's grace for
// a waiting guest without a stream.
func withStreamTiming(heartbeat, lobbyGrace time.Duration) runOption {
	return func(o *runOptions) { o.heartbeat, o.lobbyGrace = heartbeat, lobbyGrace }
}

// withBroker wraps the push broker the handlers use.
func withBroker(wrap func(*push.Memory) handlers.Broker) runOption {
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
	}

	client, err := newSignalWireClient(cfg, log)
	if err != nil {
		return fmt.Errorf("configuration:\nSIGNALWIRE_SPACE: %w", err)
	}

	status := handlers.NewStatus()
	// The rooms' pushed events; closed first at shutdown, so streams end
	// and their browsers reconnect elsewhere.
	broker := push.NewMemory(push.Limits{}, nil)
	var hb handlers.Broker = broker
	if ro.broker != nil {
		hb = ro.broker(broker)
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
		Roster: roster.NewMemoryStore(roster.Limits{RoomCapacity: cfg.MaxMembers, MaxBytes: int64(cfg.RosterMemoryMB) << 20}),
		Log:    log,
		Status: status,
	})
	app := handlers.NewApp(h)

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
	addr := ln.Addr().String()
	log.Info("listening", "addr", scheme+"://"+addr, "sandbox", sandboxMode)
	if ro.onListen != nil {
		ro.onListen(addr)
	}

	go checkSignalWire(ctx, client, status, log)

	serveErr := make(chan error, 1)
	go func() { serveErr <- app.Listener(ln) }()

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	start := time.Now()
	broker.Close()
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
// offers it, and the budget itself. The client refuses redirects whatever
// transport it is given (see signalwire.WithHTTPClient); tests build it
// through this function to prove that.
func newSignalWireClient(cfg config, log *slog.Logger) (*signalwire.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ForceAttemptHTTP2 = true
	// Idle connections kept for SignalWire's one host: a second's worth of
	// calls at half a second each, so that a burst of joins reuses
	// connections instead of paying a TLS handshake each (Go keeps 2).
	tr.MaxIdleConnsPerHost = max(8, int(cfg.SignalWireCallsPerSecond)/2)
	tr.MaxIdleConns = tr.MaxIdleConnsPerHost
	tr.IdleConnTimeout = 90 * time.Second
	return signalwire.NewClient(cfg.Space, cfg.ProjectKey, cfg.Token,
		signalwire.WithHTTPClient(&http.Client{Transport: tr, Timeout: 20 * time.Second}),
		signalwire.WithCallBudget(cfg.SignalWireCallsPerSecond, cfg.SignalWireCallBurst),
		signalwire.WithLogger(log))
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
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
