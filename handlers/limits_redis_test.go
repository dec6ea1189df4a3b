package handlers_test

// Issue 17: rate limits and known rooms shared by every instance through
// Redis.

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/swrooms/swrooms/handlers"
	"github.com/swrooms/swrooms/internal/redistest"
	"github.com/swrooms/swrooms/knownrooms"
	"github.com/swrooms/swrooms/ratelimit"
)

// newInstances is n apps as n processes behind a load balancer would be
// (startApps); with rdb, their rate limits and known rooms are in Redis,
// else each in its own memory.
func newInstances(t *testing.T, n int, rdb *redis.Client, mod ...func(*handlers.Config)) []*testEnv {
	t.Helper()
	return startApps(t, n, func(int) handlers.Deps {
		if rdb == nil {
			return handlers.Deps{}
		}
		return handlers.Deps{
			Limiters: func(name string, burst int, perSecond float64) handlers.Limiter {
				return ratelimit.NewRedis(rdb, name, burst, perSecond)
			},
			KnownRooms: knownrooms.NewRedis(rdb, handlers.KnownRoomTTL),
		}
	}, mod...)
}

// on is the same browser (cookies, CSRF token) talking to another
// instance, as a round-robin balancer sends it.
func (e *testEnv) on(other *testEnv) *testEnv {
	return &testEnv{t: e.t, app: other.app, fake: e.fake, jar: e.jar, csrf: e.csrf, logs: other.logs}
}

// Issue 17, "Rate limits hold across instances": the per-address join
// budget is the same total with one instance or three. The budget refills
// at 4 a minute (one every 15 s), far slower than the test runs.
func TestJoinBudgetPerAddressIsOneTotalAcrossInstances(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	const budget = 4
	tests := []struct {
		name      string
		instances int
		redis     bool
		want      int
	}{
		{"one instance", 1, true, budget},
		{"three instances sharing Redis", 3, true, budget},
		// The contrast, which shows the requests do reach all three: each
		// instance counting alone lets all five through.
		{"three instances each in memory", 3, false, budget + 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var rdb *redis.Client
			if tt.redis {
				rdb = srv.Open(t)
			}
			envs := newInstances(t, tt.instances, rdb, behindProxy, func(c *handlers.Config) {
				c.Limits.JoinsPerAddress = budget
			})
			addr := "198.51.100." + strconv.Itoa(i+1) // a bucket of its own in the shared Redis
			host := envs[0]
			host.get("/", from(addr)...)
			host.host("Busy", "Ann")
			host.fake.ResetCalls()
			var allowed int
			var last *http.Response
			var a tokenAnswer
			for j := range budget + 1 {
				last, a = host.on(envs[j%len(envs)]).tokenFrom("Busy", map[string]any{"user": "Ann"}, addr)
				if last.StatusCode == http.StatusOK {
					allowed++
				}
			}
			if allowed != tt.want {
				t.Errorf("got %d of %d token requests from one address allowed, want %d", allowed, budget+1, tt.want)
			}
			if tt.want == budget && (last.StatusCode != http.StatusTooManyRequests || !strings.Contains(a.Error, "Wait a minute")) {
				t.Errorf("the request past the budget: got %d %q, want 429 with advice", last.StatusCode, a.Error)
			}
			if tt.want == budget && last.Header.Get("Retry-After") == "" {
				t.Error("the 429 has no Retry-After")
			}
			if n := len(host.fake.CallsTo("POST", "/api/video/room_tokens")); n != allowed {
				t.Errorf("got %d token requests to SignalWire, want %d", n, allowed)
			}
		})
	}
}

// A room one instance created is known to the others: a second host
// through another instance costs no SignalWire call.
func TestKnownRoomsAreSharedAcrossInstances(t *testing.T) {
	t.Parallel()
	envs := newInstances(t, 2, redistest.Start(t).Open(t), openHosting)
	envs[0].host("Shared", "Ann")
	if n := len(envs[0].fake.CallsTo("POST", "/api/video/rooms")); n != 1 {
		t.Fatalf("got %d room creations for the first host, want 1", n)
	}
	envs[1].host("Shared", "Bob")
	if n := len(envs[0].fake.CallsTo("POST", "/api/video/rooms")); n != 1 {
		t.Errorf("got %d room creations after a second host on another instance, want still 1", n)
	}
}

// Redis stopped: a join fails closed (no token, no SignalWire call) with
// an error page rather than a silent allow or a 429; Redis back: joins
// work again without a restart.
func TestJoinsFailClosedWhileRedisIsDown(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	envs := newInstances(t, 1, srv.Open(t), openHosting)
	e := envs[0]
	e.host("Busy", "Ann")
	e.fake.ResetCalls()
	srv.Stop()
	resp, a := e.token("Busy", map[string]any{"user": "Ann"})
	if resp.StatusCode != http.StatusServiceUnavailable || a.Token != "" || a.Error == "" {
		t.Errorf("token with Redis down: got %d %+v, want a 503 error and no token", resp.StatusCode, a)
	}
	if n := len(e.fake.CallsTo("POST", "/api/video/room_tokens")); n != 0 {
		t.Errorf("got %d token requests to SignalWire with Redis down, want 0", n)
	}
	if !strings.Contains(e.logs.String(), "redis rate limit join-addr") {
		t.Errorf("the log does not name the failed budget:\n%s", e.logs.String())
	}
	// The passcode budget cannot be asked either: no room is started.
	if resp, doc := e.post("/rooms", url.Values{"room": {"Other"}, "user": {"Ann"}, "passcode": {"open-sesame"}}); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("starting a room with Redis down: got %d %q, want a 503 error page", resp.StatusCode, testid(doc, "error-message").Text())
	}
	if n := len(e.fake.CallsTo("POST", "/api/video/rooms")); n != 0 {
		t.Errorf("got %d room creations with Redis down, want 0", n)
	}
	srv.Restart()
	if resp, a := e.token("Busy", map[string]any{"user": "Ann"}); resp.StatusCode != http.StatusOK || a.Token == "" {
		t.Errorf("token after Redis came back: got %d %q, want 200 and a token", resp.StatusCode, a.Error)
	}
}
