package redisconn_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swrooms/swrooms/internal/redisconn"
	"github.com/swrooms/swrooms/internal/redistest"
)

func TestOpenRefusesMalformedURLsWithoutThePassword(t *testing.T) {
	for _, raw := range []string{
		"http://user:hunter2secret@127.0.0.1:6379/0",
		"redis://user:hunter2secret@127.0.0.1:6379/notanumber",
		"redis://:hunter2secret@127.0.0.1:6379/0?dial_timeout=banana",
		"::not a url hunter2secret",
		"redis://:hunter2secret@127.0.0.1:99999/0",
		"redis://:hunter2secret@127.0.0.1:6379/-1",
		// go-redis takes no password option: a URL that gives one is
		// refused, and must not be printed as it was given.
		"redis://127.0.0.1:6379/0?password=hunter2secret",
		"redis://u@127.0.0.1:6379/x?password=hunter2secret",
	} {
		_, err := redisconn.Open(raw)
		if err == nil {
			t.Errorf("Open(%q) = nil error", raw)
			continue
		}
		if !strings.Contains(err.Error(), "REDIS_URL") || strings.Contains(err.Error(), "hunter2secret") {
			t.Errorf("Open(%q) error %q: want REDIS_URL named and no password", raw, err)
		}
	}
}

func TestOpenTakesPasswordAndDB(t *testing.T) {
	c, err := redisconn.Open("rediss://u:p@example.com:6380/3")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if o := c.Options(); o.DB != 3 || o.Password != "p" || o.Username != "u" || o.TLSConfig == nil {
		t.Errorf("options = db %d user %q tls %v", o.DB, o.Username, o.TLSConfig != nil)
	}
}

func TestPingFollowsTheServer(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Open(t)
	ctx := context.Background()
	if err := redisconn.Ping(ctx, c, time.Second); err != nil {
		t.Fatalf("ping a running server: %v", err)
	}
	srv.Stop()
	err := redisconn.Ping(ctx, c, time.Second)
	var u interface{ Unavailable() bool }
	if !errors.As(err, &u) || !u.Unavailable() {
		t.Fatalf("ping a stopped server: %v, want an unavailable error", err)
	}
	srv.Restart()
	if err := redisconn.Ping(ctx, c, 3*time.Second); err != nil {
		t.Fatalf("ping after restart: %v", err)
	}
	if err := redisconn.Wrap("get", redis.Nil); !errors.Is(err, redis.Nil) || errors.As(err, &u) {
		t.Errorf("Wrap(redis.Nil) = %v, want redis.Nil unchanged", err)
	}
}

// TestAnUnresponsiveRedisFailsCallsWithoutPilingUp: against a Redis that
// accepts connections and never answers, many concurrent commands (more
// than the pool holds) each end with an unavailable error, bounded by the
// read and pool timeouts rather than waiting on one another, and leave no
// goroutine behind.
func TestAnUnresponsiveRedisFailsCallsWithoutPilingUp(t *testing.T) {
	c, err := redisconn.Open(redistest.Unresponsive(t))
	if err != nil {
		t.Fatal(err)
	}
	base := runtime.NumGoroutine()
	const calls = 100 // the pool holds 10 a core
	done := make(chan error, calls)
	for range calls {
		go func() { done <- redisconn.Wrap("get", c.Get(context.Background(), "k").Err()) }()
	}
	// Each call takes two attempts of one read timeout, or one pool
	// timeout: all are done in about 4 s. 20 s leaves room for a busy
	// machine, not for calls that hang or wait out one another's timeouts.
	deadline := time.After(20 * time.Second)
	var u interface{ Unavailable() bool }
	for i := range calls {
		select {
		case err := <-done:
			if !errors.As(err, &u) {
				t.Errorf("call %d: got %v, want an unavailable error", i, err)
			}
		case <-deadline:
			t.Fatalf("%d of %d calls still waiting after 20 s", calls-i, calls)
		}
	}
	_ = c.Close()
	for n := runtime.NumGoroutine(); n > base; n = runtime.NumGoroutine() {
		select {
		case <-deadline:
			buf := make([]byte, 1<<20)
			t.Fatalf("got %d goroutines, want at most %d:\n%s", n, base, buf[:runtime.Stack(buf, true)])
		case <-time.After(20 * time.Millisecond):
		}
	}
}
