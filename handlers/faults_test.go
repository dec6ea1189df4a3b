package handlers_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/swrooms/swrooms/handlers"
	"github.com/swrooms/swrooms/signalwire/swtest"
)

// The fault catalog: what a join answers for each failure of SignalWire's
// POST /room_tokens, and how many attempts it cost. The test client tries
// twice at most (newEnvClient).
func TestSignalWireFaultsGiveClearAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fault      swtest.Fault
		status     int
		text       string
		retryAfter string // "" means none expected
		attempts   int
	}{
		{"401", swtest.Fault{Status: 401}, 502, "rejected this app's project key", "", 1},
		{"403", swtest.Fault{Status: 403}, 502, "rejected this app's project key", "", 1},
		{"404", swtest.Fault{Status: 404}, 502, "did not accept the request", "", 1},
		{"422", swtest.Fault{Status: 422}, 502, "did not accept the request", "", 1},
		{"429 without Retry-After", swtest.Fault{Status: 429}, 503, "slow down", "1", 2},
		{"429 with Retry-After longer than the call may wait", swtest.Fault{Status: 429, RetryAfter: "30"}, 503, "slow down", "30", 1},
		{"500", swtest.Fault{Status: 500}, 502, "error on its side", "", 2},
		{"503 with Retry-After", swtest.Fault{Status: 503, RetryAfter: "30"}, 502, "error on its side", "30", 1},
		{"slow", swtest.Fault{Delay: 3 * time.Second}, 503, "could not reach SignalWire in time", "", 1},
		{"garbage", swtest.Fault{Status: 200, Body: `{"token": tru`}, 502, "not with anything this app can read", "", 1},
		{"redirect", swtest.Fault{Status: 307}, 502, "redirect, which this app does not follow", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnvClient(t, time.Now, nil, func(c *handlers.Config) { c.SignalWireTimeout = 500 * time.Millisecond })
			e.host("Faulty", "Ann")
			e.fake.ResetCalls()
			e.fake.Fail("POST", "/room_tokens", tt.fault)
			resp, a := e.token("Faulty", map[string]any{"user": "Ann"})
			if resp.StatusCode != tt.status || !strings.Contains(a.Error, tt.text) {
				t.Errorf("got %d %q, want %d with %q", resp.StatusCode, a.Error, tt.status, tt.text)
			}
			if got := resp.Header.Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("got Retry-After %q, want %q", got, tt.retryAfter)
			}
			if a.Token != "" {
				t.Errorf("got a token %q from a failed call", a.Token)
			}
			// A slow answer is still being recorded when the call gives up.
			deadline := time.Now().Add(3 * time.Second)
			for len(e.fake.CallsTo("POST", "/api/video/room_tokens")) < tt.attempts && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if n := len(e.fake.CallsTo("POST", "/api/video/room_tokens")); n != tt.attempts {
				t.Errorf("got %d attempts, want %d", n, tt.attempts)
			}
		})
	}
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		e := newEnvClient(t, time.Now, nil)
		e.host("Faulty", "Ann")
		e.fake.Fail("", "", swtest.Fault{Hangup: true})
		resp, a := e.token("Faulty", map[string]any{"user": "Ann"})
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(a.Error, "could not reach SignalWire") {
			t.Errorf("got %d %q, want 503 saying SignalWire could not be reached", resp.StatusCode, a.Error)
		}
	})
}

// Item 8: the live list answers from its last list while one refresh runs.
func TestLiveRoomsServeTheLastListWhileRefreshing(t *testing.T) {
	t.Parallel()
	clk := newClock()
	e := newEnvClient(t, clk.Now, nil, func(c *handlers.Config) { c.LiveRoomsInterval = 5 * time.Second; c.SignalWireTimeout = 5 * time.Second })
	e.host("Live", "Ann")
	e.fake.SeedRoomSession(swtest.RoomSession{Name: "Live", DisplayName: "Live", Status: "in-progress", StartTime: time.Now()})
	if _, doc := e.get("/rooms/live", "HX-Request", "true"); testid(doc, "live-room").Length() != 1 {
		t.Fatalf("got no live room on the first poll")
	}
	e.fake.Fail("GET", "/room_sessions", swtest.Fault{Delay: 2 * time.Second})
	clk.Advance(time.Minute)
	e.fake.ResetCalls()
	start := time.Now()
	for i := 0; i < 5; i++ {
		if _, doc := e.get("/rooms/live", "HX-Request", "true"); testid(doc, "live-room").Length() != 1 {
			t.Errorf("poll %d: got no live room, want the last list", i)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("5 polls took %v behind a slow SignalWire, want the last list at once", d)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(e.fake.CallsTo("GET", "/api/video/room_sessions")); n > 1 {
		t.Errorf("got %d list calls under way, want 1", n)
	}
}

// Item 8: a poll without a host session, or with SignalWire refusing the
// credentials, stops (htmx 286) instead of failing every 5 s.
func TestLiveRoomsPollStops(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openHosting)
	resp, body := e.do("GET", "/rooms/live", nil, "HX-Request", "true")
	if resp.StatusCode != 286 || !strings.Contains(body, "live-stopped") {
		t.Errorf("no host session: got %d %q, want 286 with a sentence", resp.StatusCode, body)
	}
	e.host("Live", "Ann")
	e.fake.Fail("GET", "/room_sessions", swtest.Fault{Status: 401})
	resp, body = e.do("GET", "/rooms/live", nil, "HX-Request", "true")
	if resp.StatusCode != 286 || !strings.Contains(body, "refused") {
		t.Errorf("SignalWire 401: got %d %q, want 286 saying so", resp.StatusCode, body)
	}
}

// The API never redirects; one that does is refused before the body of
// the host it points to can reach the user.
func TestARedirectFromSignalWireReachesNoOne(t *testing.T) {
	t.Parallel()
	var leaked []string
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked = append(leaked, r.Header.Get("Authorization"))
		w.Write([]byte(`{"token":"from-elsewhere"}`))
	}))
	t.Cleanup(elsewhere.Close)
	e := newEnvClient(t, time.Now, nil)
	e.host("Moved", "Ann")
	e.fake.Fail("POST", "/room_tokens", swtest.Fault{Status: 307})
	resp, a := e.token("Moved", map[string]any{"user": "Ann"})
	if resp.StatusCode != http.StatusBadGateway || a.Token != "" || strings.Contains(a.Error, "from-elsewhere") {
		t.Errorf("got %d %+v, want 502 and nothing from elsewhere", resp.StatusCode, a)
	}
	if len(leaked) != 0 {
		t.Errorf("the other host got %d requests", len(leaked))
	}
}
