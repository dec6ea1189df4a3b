package metrics_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"

	"github.com/swrooms/swrooms/internal/redistest"
	"github.com/swrooms/swrooms/metrics"
)

// scrape fetches and parses what h serves.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: got %d, want 200: %s", rec.Code, rec.Body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	return fams
}

// value is the value of the family's series with exactly labels, and
// whether it exists; a histogram's value is its count.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f, ok := fams[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		if len(m.GetLabel())*2 != len(labels) {
			continue
		}
		for i, lp := range m.GetLabel() {
			if lp.GetName() != labels[2*i] || lp.GetValue() != labels[2*i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

func TestEveryFamilyIsServedWithWhatWasCounted(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	m.SetCounts(metrics.Counts{
		Seats:        func() (int, error) { return 7, nil },
		LobbyWaiting: func() (int, error) { return 2, nil },
	})
	m.Request("/rooms/:room", "GET", 200, 30*time.Millisecond)
	m.Request("/rooms/:room", "GET", 200, 10*time.Millisecond)
	m.Request("other", "GET", 404, time.Millisecond)
	m.SignalWireRequest("room_token", 200, 200*time.Millisecond)
	m.SignalWireRequest("room_token", 0, time.Second)
	m.Join("guest")
	m.StreamOpened()
	m.StreamOpened()
	m.StreamClosed()
	m.ChatMessage()
	fams := scrape(t, m.Handler())

	for _, tt := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"swrooms_http_requests_total", []string{"method", "GET", "route", "/rooms/:room", "status", "200"}, 2},
		{"swrooms_http_requests_total", []string{"method", "GET", "route", "other", "status", "404"}, 1},
		{"swrooms_http_request_duration_seconds", []string{"method", "GET", "route", "/rooms/:room"}, 2},
		{"swrooms_signalwire_requests_total", []string{"endpoint", "room_token", "status", "200"}, 1},
		{"swrooms_signalwire_requests_total", []string{"endpoint", "room_token", "status", "error"}, 1},
		{"swrooms_signalwire_request_duration_seconds", []string{"endpoint", "room_token"}, 2},
		{"swrooms_joins_total", []string{"role", "guest"}, 1},
		{"swrooms_joins_total", []string{"role", "moderator"}, 0}, // both roles from the start, so rate() works
		{"swrooms_seats", nil, 7},
		{"swrooms_lobby_waiting", nil, 2},
		{"swrooms_sse_connections", nil, 1},
		{"swrooms_chat_messages_total", nil, 1},
		{"swrooms_redis_errors_total", nil, 0},
	} {
		got, ok := value(fams, tt.name, tt.labels...)
		if !ok {
			t.Errorf("%s%v: missing", tt.name, tt.labels)
		} else if got != tt.want {
			t.Errorf("%s%v: got %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("%s: missing (Go runtime and process collectors)", name)
		}
	}
}

func TestCountsAreLeftOutUntilSetAndWhenTheyFail(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	fams := scrape(t, m.Handler())
	if _, ok := fams["swrooms_seats"]; ok {
		t.Error("swrooms_seats served before SetCounts")
	}
	m.SetCounts(metrics.Counts{
		Seats:        func() (int, error) { return 0, errors.New("redis down") },
		LobbyWaiting: func() (int, error) { return 3, nil },
	})
	fams = scrape(t, m.Handler())
	if _, ok := fams["swrooms_seats"]; ok {
		t.Error("swrooms_seats served although its count failed; want it left out, not 0")
	}
	if v, ok := value(fams, "swrooms_lobby_waiting"); !ok || v != 3 {
		t.Errorf("swrooms_lobby_waiting: got %v %v, want 3", v, ok)
	}
}

func TestNothingGoesToTheDefaultRegistry(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	m.Request("/", "GET", 200, time.Millisecond)
	fams, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if strings.HasPrefix(f.GetName(), "swrooms_") {
			t.Errorf("%s is on the default registry", f.GetName())
		}
	}
}

func TestRedisHookCountsFailuresNotAnswers(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	// No retries: a stopped server fails each command at once.
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, DialerRetries: 1})
	t.Cleanup(func() { _ = rdb.Close() })
	m := metrics.New()
	rdb.AddHook(m.RedisHook())
	errorsCounted := func() float64 {
		v, _ := value(scrape(t, m.Handler()), "swrooms_redis_errors_total")
		return v
	}
	ctx := t.Context()

	if err := rdb.Set(ctx, "swr:test", "1", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	_ = rdb.Get(ctx, "swr:missing").Err() // redis.Nil: an answer
	if _, err := rdb.Pipelined(ctx, func(p redisPipe) error { p.Incr(ctx, "swr:n"); p.Get(ctx, "swr:missing"); return nil }); err != nil && !isNil(err) {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_ = rdb.Get(canceled, "swr:test").Err() // the caller gave up: not Redis's fault
	// A script's first run: EVALSHA answers NOSCRIPT and go-redis sends
	// EVAL, as after every Redis restart; nothing failed.
	if err := redis.NewScript("return 1").Run(ctx, rdb, nil).Err(); err != nil {
		t.Fatal(err)
	}
	if got := errorsCounted(); got != 0 {
		t.Fatalf("errors with Redis up: got %v, want 0", got)
	}

	srv.Stop()
	if err := rdb.Get(ctx, "swr:test").Err(); err == nil {
		t.Fatal("GET with Redis stopped: no error")
	}
	if got := errorsCounted(); got != 1 {
		t.Errorf("after a failed command: got %v, want 1", got)
	}
	_, _ = rdb.Pipelined(ctx, func(p redisPipe) error { p.Incr(ctx, "swr:n"); p.Incr(ctx, "swr:n"); return nil })
	if got := errorsCounted(); got != 2 {
		t.Errorf("after a failed pipeline: got %v, want 2 (a pipeline counts once)", got)
	}
}

type redisPipe = redis.Pipeliner

func isNil(err error) bool { return errors.Is(err, redis.Nil) }
