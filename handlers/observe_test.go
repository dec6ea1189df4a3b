package handlers_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swrooms/swrooms/handlers"
)

// The test connection of fiber.App.Test comes from 0.0.0.0: trusting
// 0.0.0.0/32 makes the test a trusted proxy.
func TestRequestIDIsKeptOnlyFromATrustedProxy(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 129)
	tests := []struct {
		name    string
		proxies []string
		sent    string // X-Request-ID sent; "" for none
		kept    bool
	}{
		{"no header: a fresh id", nil, "", false},
		{"from anyone: a fresh id", nil, "client-chosen-id", false},
		{"from an untrusted peer while proxies are trusted: a fresh id", []string{"10.0.0.0/8"}, "client-chosen-id", false},
		{"from a trusted proxy: kept", []string{"0.0.0.0/32"}, "haproxy-7f3a:42", true},
		{"from a trusted proxy, with a space: a fresh id", []string{"0.0.0.0/32"}, "two words", false},
		{"from a trusted proxy, too long: a fresh id", []string{"0.0.0.0/32"}, long, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *handlers.Config) { c.TrustedProxies = tt.proxies })
			var header []string
			if tt.sent != "" {
				header = []string{"X-Request-ID", tt.sent}
			}
			// A 404 is logged ("request failed"), so the log line shows
			// which id the request had.
			resp, _ := e.do(http.MethodGet, "/no-such-page", nil, header...)
			got := resp.Header.Get("X-Request-ID")
			switch {
			case got == "":
				t.Fatal("got no X-Request-ID in the response")
			case tt.kept && got != tt.sent:
				t.Errorf("got id %q, want the proxy's %q", got, tt.sent)
			case !tt.kept && got == tt.sent:
				t.Errorf("got the sent id %q, want a fresh one", got)
			}
			line := handlers.LogLine(t, e.logs.String(), `msg="request failed"`)
			if want := "request_id=" + got; !strings.Contains(line, want) {
				t.Errorf("got log line %q, want it to carry %s", line, want)
			}
		})
	}
}

func TestEveryRequestGetsItsOwnID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seen := map[string]bool{}
	for range 5 {
		resp, _ := e.do(http.MethodGet, "/healthz", nil)
		id := resp.Header.Get("X-Request-ID")
		if id == "" || seen[id] {
			t.Fatalf("got id %q after %v, want a new one", id, seen)
		}
		seen[id] = true
	}
}

// recMeter records what the handlers report.
type recMeter struct {
	mu       sync.Mutex
	requests []string // "route method status"
	joins    []string
}

var _ handlers.Meter = (*recMeter)(nil)

func (m *recMeter) Request(route, method string, status int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d < 0 {
		panic("negative duration")
	}
	m.requests = append(m.requests, fmt.Sprintf("%s %s %d", route, method, status))
}

func (m *recMeter) Join(role string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.joins = append(m.joins, role)
}

func (m *recMeter) StreamOpened() {}
func (m *recMeter) StreamClosed() {}
func (m *recMeter) ChatMessage()  {}

func (m *recMeter) has(request string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.requests {
		if r == request {
			return true
		}
	}
	return false
}

func TestMeterSeesRoutePatternsStatusesAndJoins(t *testing.T) {
	t.Parallel()
	meter := &recMeter{}
	e := startApps(t, 1, func(int) handlers.Deps { return handlers.Deps{Meter: meter} })[0]

	e.host("Main_Office", "Alice")
	if resp, a := e.token("Main_Office", map[string]any{"user": "Alice"}); resp.StatusCode != http.StatusOK {
		t.Fatalf("token: got %d %q, want 200", resp.StatusCode, a.Error)
	}
	e.do(http.MethodGet, "/rooms/Main_Office/no-such-thing", nil)
	e.do(http.MethodGet, "/public/css/app.css", nil)
	e.do(http.MethodGet, "/metrics", nil) // never served here: a 404 like any other

	for _, want := range []string{
		"/ GET 200",
		"/rooms POST 303",
		"/rooms/:room GET 200",
		"/rooms/:room/token POST 200",
		"other GET 404",
		"/public GET 200",
	} {
		if !meter.has(want) {
			t.Errorf("got requests %q, want one %q", meter.requests, want)
		}
	}
	for _, r := range meter.requests {
		if strings.Contains(r, "Main_Office") || strings.Contains(r, "metrics") {
			t.Errorf("got route %q: a raw path, want the pattern", r)
		}
	}
	if len(meter.joins) != 1 || meter.joins[0] != "moderator" {
		t.Errorf("got joins %q, want one moderator", meter.joins)
	}
}
