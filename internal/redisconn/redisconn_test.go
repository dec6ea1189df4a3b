package redisconn_test

import (
	"context"
	"errors"
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
