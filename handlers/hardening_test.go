package handlers_test

// Tests of issue 14: limits keyed on the client's address, budgets,
// sessions that last a meeting, names people have, the live list, and the
// answers to SignalWire's faults.

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/swrooms/swrooms/handlers"
	"github.com/swrooms/swrooms/internal/fakeclock"
	"github.com/swrooms/swrooms/roster"
	"github.com/swrooms/swrooms/signalwire"
	"github.com/swrooms/swrooms/signalwire/swtest"
)

// newClock is a test clock that moves only when told to. It starts at the
// real time: cookie jars expire cookies by the real clock.
func newClock() *fakeclock.Clock { return fakeclock.New(time.Now().Truncate(time.Second)) }

// newEnvClient is newEnvClock with options for the SignalWire client, for
// tests of the client's budget and faults.
func newEnvClient(t testing.TB, now func() time.Time, clientOpts []signalwire.Option, mod ...func(*handlers.Config)) *testEnv {
	t.Helper()
	fake, srv := swtest.NewServer(projectKey, apiToken)
	t.Cleanup(srv.Close)
	client, err := signalwire.NewClient(srv.URL, projectKey, apiToken,
		append([]signalwire.Option{signalwire.WithRetry(2, time.Millisecond, 5*time.Millisecond)}, clientOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	cfg := handlers.Config{SecretKey: []byte(secretKey), InviteTTL: 48 * time.Hour, MaxMembers: 5, OpenHosting: true}
	for _, m := range mod {
		m(&cfg)
	}
	logs := &strings.Builder{}
	status := handlers.NewStatus()
	status.SetReady()
	h := handlers.New(cfg, handlers.Deps{
		Video: client, Roster: roster.NewMemoryStore(roster.Limits{}),
		Log: slog.New(slog.NewTextHandler(logs, nil)), Status: status, Now: now,
	})
	return &testEnv{t: t, app: handlers.NewApp(h), fake: fake, jar: newJar(), logs: logs}
}

// behindProxy makes the test connection (0.0.0.0) a trusted proxy, so that
// X-Forwarded-For names the client.
func behindProxy(c *handlers.Config) { c.TrustedProxies = []string{"0.0.0.0/32"} }

func from(addr string) []string { return []string{"X-Forwarded-For", addr} }

// Item 3: a fresh cookie used to buy a fresh bucket of 30 joins.
func TestJoinLimitIsKeyedOnTheAddressNotTheCookie(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openHosting, behindProxy, func(c *handlers.Config) { c.Limits.JoinsPerAddress = 10 })
	inv := guestInvite(t, e, "Busy")
	e.fake.ResetCalls()
	var last *http.Response
	var a tokenAnswer
	for i := 0; i < 11; i++ {
		b := e.another() // a new browser each time: new CSRF cookie, same address
		b.get("/guest?"+inv.Encode(), from("198.51.100.1")...)
		last, a = b.tokenFrom("Busy", map[string]any{"user": "Bot", "invite": inviteBody(inv)}, "198.51.100.1")
	}
	if last.StatusCode != http.StatusTooManyRequests || !strings.Contains(a.Error, "Wait") {
		t.Errorf("got %d %q for the 11th join from one address, want 429 with advice", last.StatusCode, a.Error)
	}
	if ra, _ := strconv.Atoi(last.Header.Get("Retry-After")); ra < 1 || ra > 60 {
		t.Errorf("got Retry-After %q, want 1-60 s", last.Header.Get("Retry-After"))
	}
	if n := len(e.fake.CallsTo("POST", "/api/video/room_tokens")); n != 10 {
		t.Errorf("got %d token requests to SignalWire, want 10", n)
	}
	// A client in front writing its own X-Forwarded-For entry gets no new bucket.
	resp, _ := e.tokenFrom("Busy", map[string]any{"user": "Bot", "invite": inviteBody(inv)}, "203.0.113.99, 198.51.100.1")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("got %d with a spoofed X-Forwarded-For entry, want 429", resp.StatusCode)
	}
	// Another address is not affected.
	if resp, _ := e.another().tokenFrom("Busy", map[string]any{"user": "Ann", "invite": inviteBody(inv)}, "198.51.100.2"); resp.StatusCode != http.StatusOK {
		t.Errorf("got %d from another address, want 200", resp.StatusCode)
	}
}

// tokenFrom is token with the request coming from addr (through the
// trusted proxy).
func (e *testEnv) tokenFrom(room string, body map[string]any, addr string) (*http.Response, tokenAnswer) {
	e.t.Helper()
	if e.csrf == "" {
		e.get("/", from(addr)...)
	}
	resp, raw := e.postJSON("/rooms/"+room+"/token", body, from(addr)...)
	var a tokenAnswer
	_ = json.Unmarshal([]byte(raw), &a)
	return resp, a
}

// Item 4: with a trusted proxy that appends, each request used to get a
// bucket of its own by writing a new first entry.
func TestPasscodeLimitHoldsBehindAnAppendingProxy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, behindProxy)
	var last int
	for i := 0; i < 12; i++ {
		resp, _ := e.post("/rooms", url.Values{"room": {"R"}, "user": {"Ann"}, "passcode": {"guess"}},
			from("10.9.8."+strconv.Itoa(i)+", 198.51.100.7")...)
		last = resp.StatusCode
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("got %d after 12 wrong passcodes from one address, want 429", last)
	}
	// A request without the header is keyed on its peer, which is limited
	// separately from the client behind the proxy.
	if resp, _ := e.another().post("/rooms", url.Values{"room": {"R"}, "user": {"Ann"}, "passcode": {"guess"}}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("got %d for the proxy itself, want 422", resp.StatusCode)
	}
}

// Abuse: a flood of joins through one invite link, from one address and
// from many, stays within the budgets, and another room still works.
func TestJoinFloodsAreBounded(t *testing.T) {
	t.Parallel()
	start := time.Now()
	// A clock that stands still: the buckets refill by the minute, and a
	// flood that takes over 1.2 s on a loaded machine would earn one more.
	e := newEnvAt(t, start, openHosting, behindProxy, func(c *handlers.Config) {
		c.Limits = handlers.Limits{JoinsPerAddress: 20, JoinsPerRoom: 50}
	})
	inv := guestInvite(t, e, "Flooded")
	other := e.another()
	otherInv := guestInvite(t, other, "Quiet")
	e.fake.ResetCalls()
	bot := e.another()
	for i := 0; i < 300; i++ { // one address, one cookie
		bot.tokenFrom("Flooded", map[string]any{"user": "Bot", "invite": inviteBody(inv)}, "198.51.100.1")
	}
	if n := len(e.fake.CallsTo("POST", "/api/video/room_tokens")); n != 20 {
		t.Errorf("one address: got %d SignalWire calls for 300 joins, want 20", n)
	}
	for i := 0; i < 300; i++ { // many addresses, one invite link
		bot.tokenFrom("Flooded", map[string]any{"user": "Bot", "invite": inviteBody(inv)}, "203.0.113."+strconv.Itoa(i%250))
	}
	if n := len(e.fake.CallsTo("POST", "/api/video/room_tokens")); n != 50 {
		t.Errorf("one room: got %d SignalWire calls, want the room's 50", n)
	}
	if resp, a := other.another().tokenFrom("Quiet", map[string]any{"user": "Ann", "invite": inviteBody(otherInv)}, "192.0.2.1"); resp.StatusCode != http.StatusOK || a.Token == "" {
		t.Errorf("another room: got %d %q, want a token", resp.StatusCode, a.Error)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v, want under 10 s", d)
	}
}

// The instance's budget of SignalWire calls: a clear 503 with Retry-After.
func TestSignalWireCallBudgetAnswers503WithRetryAfter(t *testing.T) {
	t.Parallel()
	e := newEnvClient(t, time.Now, []signalwire.Option{signalwire.WithCallBudget(0.1, 2)})
	e.host("Budget", "Ann") // one call: POST /rooms
	if resp, _ := e.token("Budget", map[string]any{"user": "Ann"}); resp.StatusCode != http.StatusOK {
		t.Fatalf("got %d for the second call, want 200", resp.StatusCode)
	}
	resp, a := e.token("Budget", map[string]any{"user": "Ann"})
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(a.Error, "Wait a few seconds") {
		t.Errorf("got %d %q, want 503 saying to wait", resp.StatusCode, a.Error)
	}
	if ra, _ := strconv.Atoi(resp.Header.Get("Retry-After")); ra < 1 || ra > 10 {
		t.Errorf("got Retry-After %q, want the budget's refill time (up to 10 s)", resp.Header.Get("Retry-After"))
	}
	if n := len(e.fake.CallsTo("POST", "/api/video/room_tokens")); n != 1 {
		t.Errorf("got %d token calls, want 1: a spent budget makes no call", n)
	}
}

// Item 6: a page rendered late in the life of its CSRF cookie and host
// session used to die within the hour.
func TestPagesWorkTwelveHoursFromRender(t *testing.T) {
	t.Parallel()
	clk := newClock()
	e := newEnvClient(t, clk.Now, nil)
	e.host("Long", "Ann")
	inv := guestInvite(t, e, "Long")
	guest := e.another()

	clk.Advance(11 * time.Hour)
	e.get("/rooms/Long?user=Ann") // the moderator page, rendered now
	guest.get("/guest?" + inv.Encode())
	clk.Advance(12*time.Hour - time.Minute)

	if resp, a := e.token("Long", map[string]any{"user": "Ann"}); resp.StatusCode != http.StatusOK || a.Role != "moderator" {
		t.Errorf("moderator rejoin 12 h after render: got %d %q, want a moderator token", resp.StatusCode, a.Error)
	}
	resp, a := guest.token("Long", map[string]any{"user": "Bea", "invite": inviteBody(inv)})
	if resp.StatusCode != http.StatusOK || a.Role != "guest" {
		t.Errorf("guest join 12 h after render: got %d %q, want a guest token", resp.StatusCode, a.Error)
	}
	// Another tab opened meanwhile does not spoil the first one's token.
	first := e.csrf
	e.get("/")
	e.csrf = first
	if resp, _ := e.token("Long", map[string]any{"user": "Ann"}); resp.StatusCode != http.StatusOK {
		t.Errorf("got %d with the first tab's token after another tab opened, want 200", resp.StatusCode)
	}
	// A page's token does not outlive its documented limit (24 h).
	clk.Advance(12*time.Hour + 2*time.Minute)
	if resp, _ := guest.token("Long", map[string]any{"user": "Bea", "invite": inviteBody(inv)}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("got %d for a page rendered over 24 h ago, want 403", resp.StatusCode)
	}
}

func TestHostSessionsEndAfterSevenDays(t *testing.T) {
	t.Parallel()
	clk := newClock()
	e := newEnvClient(t, clk.Now, nil, func(c *handlers.Config) { c.OpenHosting = false; c.HostPasscode = "open-sesame" })
	e.host("Week", "Ann")
	for i := 0; i < 6; i++ { // used every day: renewed
		clk.Advance(23 * time.Hour)
		if resp, _ := e.get("/rooms/Week"); resp.StatusCode != http.StatusOK {
			t.Fatalf("day %d: got %d, want the room page", i+1, resp.StatusCode)
		}
	}
	clk.Advance(12 * time.Hour) // 6 d 6 h: renewed up to the 7-day limit, no further
	if resp, _ := e.get("/rooms/Week"); resp.StatusCode != http.StatusOK {
		t.Fatalf("6 d 6 h: got %d, want the room page", resp.StatusCode)
	}
	clk.Advance(7 * time.Hour) // 6 d 13 h: less than a page's life left
	if resp, _ := e.get("/rooms/Week"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("got %d for a page that could not last 12 h, want 403", resp.StatusCode)
	}
	if _, doc := e.get("/"); testid(doc, "passcode-input").Length() != 1 {
		t.Errorf("got no passcode field near the session's end, want one")
	}
	if resp, _ := e.token("Week", map[string]any{"user": "Ann"}); resp.StatusCode != http.StatusOK {
		t.Errorf("got %d for a token from the page rendered 7 h ago, want 200", resp.StatusCode)
	}
	clk.Advance(11*time.Hour + time.Minute) // past 7 days
	if resp, _ := e.token("Week", map[string]any{"user": "Ann"}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("got %d for a token after 7 days, want 403", resp.StatusCode)
	}
}

// Item 7: names with the format characters their scripts need.
func TestNamesPeopleHave(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openHosting)
	e.get("/")
	tests := []struct {
		name, user string
		ok         bool
	}{
		{"Malayalam with ZWJ (chillu)", "അര്\u200dജുന്\u200d", true},
		{"Persian with ZWNJ", "مهر\u200cآسا", true},
		{"emoji ZWJ sequence", "👩\u200d👩\u200d👧 Family", true},
		{"emoji with variation selector", "Ann ❤\ufe0f", true},
		{"subdivision flag (tag characters)", "Ann 🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F", true},
		{"ideographic space", "山田\u3000太郎", true},
		{"right-to-left override", "Ann\u202egnp.exe", false},
		{"left-to-right isolate", "Ann\u2066x", false},
		{"pop directional isolate", "x\u2069Ann", false},
		{"right-to-left mark", "Ann\u200f", false},
		{"control character", "Ann\x07", false},
		{"NUL", "Ann\x00", false},
		{"line separator", "Ann\u2028Bob", false},
	}
	for _, tt := range tests {
		_, doc := e.post("/rooms/validate", url.Values{"user": {tt.user}}, "HX-Request", "true")
		msg := strings.TrimSpace(testid(doc, "field-error").Text())
		if tt.ok && msg != "" {
			t.Errorf("%s: got %q, want the name accepted", tt.name, msg)
		}
		if !tt.ok && !strings.Contains(msg, "control or text-direction") {
			t.Errorf("%s: got %q, want it refused with a reason", tt.name, msg)
		}
	}
}
