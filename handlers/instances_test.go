package handlers_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/swrooms/swrooms/handlers"
	"github.com/swrooms/swrooms/internal/redistest"
	"github.com/swrooms/swrooms/knownrooms"
	"github.com/swrooms/swrooms/push"
	"github.com/swrooms/swrooms/ratelimit"
	"github.com/swrooms/swrooms/roomstate"
	"github.com/swrooms/swrooms/roster"
	"github.com/swrooms/swrooms/signalwire"
	"github.com/swrooms/swrooms/signalwire/swtest"
)

// Several instances of the app behind a load balancer share one broker
// and one room state; a browser's requests land on any of them. A shared
// push.Memory stands in for the shared broker (the same methods, ids
// global per room); the room state is a shared roomstate.Memory or one
// Redis, each instance with a client of its own.

// startApps builds n instances of the app over one fake SignalWire, as n
// processes behind a load balancer are: one config (newEnv's, then mod),
// each instance its own SignalWire client, Handlers and log (printed when
// the test fails). deps gives instance i what it shares with the others;
// what it leaves nil the instance keeps in memory of its own.
func startApps(t *testing.T, n int, deps func(i int) handlers.Deps, mod ...func(*handlers.Config)) []*testEnv {
	t.Helper()
	fake, srv := swtest.NewServer(projectKey, apiToken)
	t.Cleanup(srv.Close)
	cfg := handlers.Config{SecretKey: []byte(secretKey), HostPasscode: "open-sesame", InviteTTL: time.Hour, MaxMembers: 5}
	for _, m := range mod {
		m(&cfg)
	}
	envs := make([]*testEnv, n)
	for i := range envs {
		client, err := signalwire.NewClient(srv.URL, projectKey, apiToken,
			signalwire.WithRetry(2, time.Millisecond, 5*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		logs := &strings.Builder{}
		logw := &lockedWriter{w: logs}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("instance %d's log:\n%s", i, logw.String())
			}
		})
		status := handlers.NewStatus()
		status.SetReady()
		d := deps(i)
		d.Video, d.Log, d.Status = client, slog.New(slog.NewTextHandler(logw, nil)), status
		if d.Roster == nil {
			d.Roster = roster.NewMemoryStore(roster.Limits{})
		}
		envs[i] = &testEnv{t: t, app: handlers.NewApp(handlers.New(cfg, d)), fake: fake, jar: newJar(), logs: logs}
	}
	return envs
}

// instances are n apps over one fake SignalWire, broker, roster store and
// room state, each serving on its own address (bases).
type instances struct {
	envs  []*testEnv
	bases []string
	rooms handlers.RoomStates // what a killed instance leaves behind is written here
}

// sharedStates are the room states the instance tests run on: each call
// of the returned func is one instance's view of the same state.
var sharedStates = []struct {
	name string
	open func(t *testing.T) func() handlers.RoomStates
}{
	{"memory", func(t *testing.T) func() handlers.RoomStates {
		m := roomstate.NewMemory(roomstate.Limits{})
		return func() handlers.RoomStates { return m }
	}},
	{"redis", func(t *testing.T) func() handlers.RoomStates {
		srv := redistest.Start(t)
		return func() handlers.RoomStates {
			return roomstate.NewRedis(srv.Open(t), roomstate.Limits{}, roomstate.TTLs{})
		}
	}},
}

// onEveryState runs test on n instances (fastStreams, then mod) over each
// of the shared room states, in parallel; host is the first instance's
// browser.
func onEveryState(t *testing.T, n int, test func(t *testing.T, in *instances, host *testEnv), mod ...func(*handlers.Config)) {
	t.Parallel()
	for _, st := range sharedStates {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			in := startInstances(t, n, st.open(t), mod...)
			test(t, in, in.envs[0])
		})
	}
}

func startInstances(t *testing.T, n int, states func() handlers.RoomStates, mod ...func(*handlers.Config)) *instances {
	t.Helper()
	broker := push.NewMemory(push.Limits{}, nil)
	rosters := roster.NewMemoryStore(roster.Limits{})
	in := &instances{}
	in.envs = startApps(t, n, func(int) handlers.Deps {
		in.rooms = states()
		return handlers.Deps{Roster: rosters, Broker: broker, Rooms: in.rooms}
	}, append([]func(*handlers.Config){fastStreams}, mod...)...)
	for _, e := range in.envs {
		in.bases = append(in.bases, serve(t, e))
	}
	return in
}

// lockedWriter lets the handlers' goroutines share one log.
type lockedWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// at sends b's next requests to instance i (the balancer's choice).
func (in *instances) at(b *testEnv, i int) *testEnv {
	b.app = in.envs[i].app
	return b
}

func TestInstancesShareTheLobby(t *testing.T) {
	onEveryState(t, 3, func(t *testing.T, in *instances, host *testEnv) {
		inv := hostLobby(t, in.at(host, 0), "L")
		mod := moderatorSeat(t, in.at(host, 1), "L")
		ms := openSSE(t, in.bases[2], host.streamPath("L", "X-Seat", mod), "")
		ms.next(t, "lobby")

		g := guestAt(t, in.at(host, 0), inv)
		k := g.knock("L", "Gina", inv)
		if k.status != http.StatusOK || k.state != "waiting" {
			t.Fatalf("knock on A: got %d %q, want waiting (a host streams on C)", k.status, k.state)
		}
		gs := openSSE(t, in.bases[1], k.stream, "")
		gs.next(t, "lobby-status")
		row := testid(parse(t, ms.next(t, "lobby").Data), "lobby-guest")
		id, _ := row.Attr("data-guest-id")
		if row.Length() != 1 || !strings.Contains(row.Text(), "Gina") {
			t.Fatalf("the host's stream on C: got %q, want Gina waiting", row.Text())
		}
		if resp, _ := in.at(host, 2).modPost("/rooms/L/lobby/admit", mod, url.Values{"guest": {id}}); resp.StatusCode != http.StatusOK {
			t.Fatalf("admit on C: got %d", resp.StatusCode)
		}
		if ev := gs.next(t, "lobby-status"); !strings.Contains(ev.Data, `data-lobby-state="admitted"`) {
			t.Errorf("the guest's stream on B: got %q, want admitted", ev.Data)
		}
		if resp, a := in.at(g, 2).token("L", map[string]any{"user": "Gina", "invite": inviteBodyV(inv), "lobby": k.ticket}); resp.StatusCode != http.StatusOK {
			t.Errorf("token on C after admission on C: got %d %q", resp.StatusCode, a.Error)
		}
	})
}

func TestInstancesShareChatWithoutLossOrRepeat(t *testing.T) {
	onEveryState(t, 3, func(t *testing.T, in *instances, host *testEnv) {
		inv := guestInvite(t, in.at(host, 0), "C")
		mod := moderatorSeat(t, in.at(host, 1), "C")
		g, gseat := guestSeat(t, in.at(host, 2), inv, "Gus", "m-gus")
		hs := openSSE(t, in.bases[0], host.streamPath("C", "X-Seat", mod), "")
		gs := openSSE(t, in.bases[1], g.streamPath("C", "X-Seat", gseat), "")
		hs.next(t, "chat-history")
		gs.next(t, "chat-history")
		if resp, body := in.at(g, 2).chat("C", gseat, "hello from C"); resp.StatusCode != http.StatusOK {
			t.Fatalf("chat on C: got %d %s", resp.StatusCode, body)
		}
		first := gs.next(t, "chat")
		if ev := hs.next(t, "chat"); !strings.Contains(ev.Data, "hello from C") || ev.ID != first.ID {
			t.Errorf("the host's stream on A: got %+v, want the message with id %s", ev, first.ID)
		}
		// The guest's stream ends; two messages go out meanwhile on two
		// instances; it reconnects to a third with Last-Event-ID.
		gs.close()
		in.at(host, 0).chat("C", mod, "while away, on A")
		in.at(host, 1).chat("C", mod, "while away, on B")
		again := openSSE(t, in.bases[2], g.streamPath("C", "X-Seat", gseat), first.ID)
		for _, want := range []string{"while away, on A", "while away, on B"} {
			if ev := again.next(t, "chat"); !strings.Contains(ev.Data, want) {
				t.Errorf("replay on C: got %q, want %q", ev.Data, want)
			}
		}
		again.none(t, "chat", 200*time.Millisecond)
		late := openSSE(t, in.bases[1], host.streamPath("C", "X-Seat", mod), "")
		if h := testid(parse(t, late.next(t, "chat-history").Data), "chat-message"); h.Length() != 3 {
			t.Errorf("history on B: got %d messages, want 3", h.Length())
		}
	})
}

// TestStreamsOpeningWhileChatFlowsGetEveryMessageOnce opens streams on
// every instance while messages are posted on every instance: each
// stream's history and the events after it hold every message once.
func TestStreamsOpeningWhileChatFlowsGetEveryMessageOnce(t *testing.T) {
	onEveryState(t, 3, func(t *testing.T, in *instances, host *testEnv) {
		in.at(host, 0).host("F", "Host")
		const seats, each = 6, 5 // a seat's burst is 5
		var creds []string
		for i := range seats {
			_, a := in.at(host, i%3).token("F", map[string]any{"user": "Host"})
			creds = append(creds, a.Seat)
		}
		streamPath := host.streamPath("F", "X-Seat", creds[0])
		posted := make(chan struct{})
		go func() {
			defer close(posted)
			for n := range seats * each {
				p := &testEnv{t: t, app: in.envs[n%3].app, jar: host.jar, csrf: host.csrf, logs: host.logs}
				if resp, _ := p.chat("F", creds[n/each], fmt.Sprint("m", n)); resp.StatusCode != http.StatusOK {
					t.Errorf("chat %d: got %d", n, resp.StatusCode)
				}
			}
		}()
		var streams []*sseClient
		for i := 0; ; i++ {
			streams = append(streams, openSSE(t, in.bases[i%3], streamPath, ""))
			select {
			case <-posted:
			case <-time.After(5 * time.Millisecond):
				continue
			}
			break
		}
		for i, s := range streams {
			seen := map[string]int{}
			h := parse(t, s.next(t, "chat-history").Data)
			h.Find(`[data-testid="chat-text"]`).Each(func(_ int, m *goquery.Selection) { seen[strings.TrimSpace(m.Text())]++ })
			for len(seen) < seats*each {
				ev := s.next(t, "chat")
				seen[strings.TrimSpace(testid(parse(t, ev.Data), "chat-text").Text())]++
			}
			s.none(t, "chat", 50*time.Millisecond)
			for text, n := range seen {
				if n != 1 {
					t.Errorf("stream %d of %d: %q %d times", i, len(streams), text, n)
				}
			}
		}
	})
}

func TestInstancesShareRemovals(t *testing.T) {
	onEveryState(t, 3, func(t *testing.T, in *instances, host *testEnv) {
		inv := guestInvite(t, in.at(host, 0), "R")
		mod := moderatorSeat(t, in.at(host, 0), "R")
		g, gseat := guestSeat(t, in.at(host, 1), inv, "Gus", "m-gus")
		hostKnows(t, in.at(host, 2), "R", mod, map[string]string{"m-gus": "Gus"})
		old := g.streamPath("R", "X-Seat", gseat)
		gs := openSSE(t, in.bases[0], old, "")
		gs.next(t, "chat-history")
		if resp, _ := in.at(host, 1).modPost("/rooms/R/block", mod, url.Values{"member": {"m-gus"}}); resp.StatusCode != http.StatusOK {
			t.Fatalf("block on B: got %d", resp.StatusCode)
		}
		gs.waitEnded(t)
		for i := range 3 {
			if resp, _ := in.at(g, i).chat("R", gseat, "still here"); resp.StatusCode != http.StatusForbidden {
				t.Errorf("chat on instance %d after the block: got %d, want 403", i, resp.StatusCode)
			}
			if code := streamStatus(t, in.bases[i], old); code != http.StatusForbidden {
				t.Errorf("stream on instance %d after the block: got %d, want 403", i, code)
			}
			if k := guestAt(t, in.at(host, i), inv).knock("R", "Gus", inv); k.status != http.StatusForbidden {
				t.Errorf("knock as Gus on instance %d: got %d, want 403", i, k.status)
			}
		}
		// A plain Remove: the host's page reports member.left on A; the
		// guest's stream on C ends.
		o, oseat := guestSeat(t, in.at(host, 1), inv, "Olive", "m-olive")
		os := openSSE(t, in.bases[2], o.streamPath("R", "X-Seat", oseat), "")
		os.next(t, "chat-history")
		resp, body := in.at(host, 0).events("R", mod, `{"epoch":"h1","events":[{"seq":2,"name":"member.left","data":{"member":{"id":"m-olive"}}}]}`)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("member.left on A: got %d %s", resp.StatusCode, body)
		}
		os.waitEnded(t)
		if resp, _ := in.at(o, 1).postJSON("/rooms/R/stream-ticket", map[string]any{}, "X-Seat", oseat); resp.StatusCode != http.StatusForbidden {
			t.Errorf("stream ticket on B after the removal on A: got %d, want 403", resp.StatusCode)
		}
	})
}

func TestInstancesShareNewInviteLinks(t *testing.T) {
	onEveryState(t, 3, func(t *testing.T, in *instances, host *testEnv) {
		inv := hostLobby(t, in.at(host, 0), "V")
		mod := moderatorSeat(t, in.at(host, 0), "V")
		k := guestAt(t, in.at(host, 1), inv).knock("V", "Gina", inv)
		gs := openSSE(t, in.bases[2], k.stream, "")
		gs.next(t, "lobby-status")
		if resp, _ := in.at(host, 1).modPost("/rooms/V/invite", mod, url.Values{}); resp.StatusCode != http.StatusOK {
			t.Fatalf("new invite link on B: got %d", resp.StatusCode)
		}
		if ev := gs.next(t, "lobby-status"); !strings.Contains(ev.Data, "invite-replaced") {
			t.Errorf("the waiting guest's stream on C: got %q, want turned away, link replaced", ev.Data)
		}
		for i := range 3 {
			if resp, _ := in.at(host.another(), i).get("/guest?" + inv.Encode()); resp.StatusCode != http.StatusForbidden {
				t.Errorf("the old link on instance %d: got %d, want 403", i, resp.StatusCode)
			}
		}
	})
}

func TestInstancesShareAskToUnmute(t *testing.T) {
	onEveryState(t, 3, func(t *testing.T, in *instances, host *testEnv) {
		inv := guestInvite(t, in.at(host, 0), "U")
		mod := moderatorSeat(t, in.at(host, 0), "U")
		g, gseat := guestSeat(t, in.at(host, 0), inv, "Gwen", "m-gwen") // her page said who she is on A
		gs := openSSE(t, in.bases[1], g.streamPath("U", "X-Seat", gseat), "")
		gs.next(t, "chat-history")
		_, body := in.at(host, 2).events("U", mod, `{"epoch":"h1","events":[{"seq":1,"name":"room.joined","data":{"member_id":"m-host","room":{},"members":[{"id":"m-host","name":"Host","type":"member"},{"id":"m-gwen","name":"Gwen","type":"member","audio_muted":true,"video_muted":true}]}}]}`)
		if n := parse(t, body).Find(`[data-member-id="m-gwen"] [data-action="ask-unmute"]`).Length(); n != 1 {
			t.Errorf("the host's roster on C: got %d ask buttons for Gwen, want 1", n)
		}
		if resp, _ := in.at(host, 2).modPost("/rooms/U/ask-unmute", mod, url.Values{"member": {"m-gwen"}}); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("ask on C: got %d", resp.StatusCode)
		}
		if ev := gs.next(t, "unmute-request"); !strings.Contains(ev.Data, "unmute-request") {
			t.Errorf("Gwen's stream on B: got %q", ev.Data)
		}
	})
}

// TestAKilledInstancesPresenceLapses: streams of an instance killed
// without closing them leave leases nobody renews or ends. A host whose
// only stream was there stops counting once its lease ends, and so does a
// waiting guest, found by the heartbeats of the streams on the instances
// that live.
func TestAKilledInstancesPresenceLapses(t *testing.T) {
	onEveryState(t, 2, func(t *testing.T, in *instances, host *testEnv) {
		inv := hostLobby(t, in.at(host, 0), "K")
		ctx := context.Background()
		lease := func(kind, id string) {
			t.Helper()
			// As a heartbeat and a grace would give; the killed
			// instance never renews it.
			now := time.Now()
			if _, err := in.rooms.Lease(ctx, "K", roomstate.Lease{Kind: kind, ID: id, Stream: "killed", Until: now.Add(2 * time.Second)}, now); err != nil {
				t.Fatal(err)
			}
		}
		lease(roomstate.LeaseModerator, "killed-host-seat")
		k := guestAt(t, in.at(host, 0), inv).knock("K", "Gina", inv)
		if k.state != "waiting" {
			t.Fatalf("knock: got %q, want waiting (the killed instance's host still counts)", k.state)
		}
		gs := openSSE(t, in.bases[1], k.stream, "")
		for !strings.Contains(gs.next(t, "lobby-status").Data, `"no-host"`) {
		}

		mod := moderatorSeat(t, in.at(host, 1), "K")
		ms := openSSE(t, in.bases[1], host.streamPath("K", "X-Seat", mod), "")
		k2 := guestAt(t, in.at(host, 0), inv).knock("K", "Lea", inv)
		lease(roomstate.LeaseLobby, strings.Split(k2.ticket, ".")[1]) // the lobby ticket: room.entry.exp.sig
		for {
			lobby := testid(parse(t, ms.next(t, "lobby").Data), "lobby-guest")
			if strings.Contains(lobby.Text(), "Lea") {
				continue
			}
			if lobby.Length() != 1 || !strings.Contains(lobby.Text(), "Gina") {
				t.Errorf("got %q waiting, want Gina (her stream lives) and not Lea", lobby.Text())
			}
			break
		}
	}, func(c *handlers.Config) { c.LobbyGrace = time.Second })
}

// TestSharedStateUnreachable: with the Redis of the shared room state, or
// of all the shared state, down, the routes that need it answer a 503
// (the error handler's "shared state unavailable" page) and log an error
// that names Redis; none answers as if all were well, with a 500, or
// panics. With Redis back, they work again without a restart.
func TestSharedStateUnreachable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		deps func(t *testing.T, srv *redistest.Server) handlers.Deps
	}{
		{"the room state in Redis", func(t *testing.T, srv *redistest.Server) handlers.Deps {
			return handlers.Deps{Rooms: roomstate.NewRedis(srv.Open(t), roomstate.Limits{}, roomstate.TTLs{})}
		}},
		{"all shared state in Redis", redisDeps},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := redistest.Start(t)
			host := startApps(t, 1, func(int) handlers.Deps { return tc.deps(t, srv) }, fastStreams)[0]
			base := serve(t, host)
			checkUnreachable(t, srv, host, base)
		})
	}
}

func checkUnreachable(t *testing.T, srv *redistest.Server, host *testEnv, base string) {
	inv := hostLobby(t, host, "D")
	mod := moderatorSeat(t, host, "D")
	path := host.streamPath("D", "X-Seat", mod)
	g := guestAt(t, host, inv)
	srv.Stop()

	// At once: each waits out the client's redials. Each check has its
	// own copy of the browsers (the same cookies).
	checks := map[string]func(host, g *testEnv) int{
		"knock": func(_, g *testEnv) int { return g.knock("D", "Gina", inv).status },
		"chat":  func(host, _ *testEnv) int { resp, _ := host.chat("D", mod, "hello"); return resp.StatusCode },
		"stream ticket": func(host, _ *testEnv) int {
			resp, _ := host.postJSON("/rooms/D/stream-ticket", map[string]any{}, "X-Seat", mod)
			return resp.StatusCode
		},
		"stream": func(*testEnv, *testEnv) int { return streamStatus(t, base, path) },
		"lobby off": func(host, _ *testEnv) int {
			resp, _ := host.modPost("/rooms/D/lobby/off", mod, url.Values{})
			return resp.StatusCode
		},
		"new invite": func(host, _ *testEnv) int {
			resp, _ := host.modPost("/rooms/D/invite", mod, url.Values{})
			return resp.StatusCode
		},
		"guest page": func(_, g *testEnv) int { resp, _ := g.get("/guest?" + inv.Encode()); return resp.StatusCode },
		"host page":  func(host, _ *testEnv) int { resp, _ := host.get("/rooms/D"); return resp.StatusCode },
		"guest token": func(_, g *testEnv) int {
			resp, _ := g.token("D", map[string]any{"user": "Gina", "invite": inviteBodyV(inv)})
			return resp.StatusCode
		},
		"ask to unmute": func(host, _ *testEnv) int {
			resp, _ := host.modPost("/rooms/D/ask-unmute", mod, url.Values{"member": {"m"}})
			return resp.StatusCode
		},
		"remove and block": func(host, _ *testEnv) int {
			resp, _ := host.modPost("/rooms/D/block", mod, url.Values{"member": {"m"}})
			return resp.StatusCode
		},
		"roster events": func(host, _ *testEnv) int {
			resp, _ := host.events("D", mod, `{"epoch":"h1","events":[{"seq":1,"name":"room.joined","data":{"member_id":"m-host","room":{},"members":[{"id":"m-host","name":"Host","type":"member"}]}}]}`)
			return resp.StatusCode
		},
	}
	var wg sync.WaitGroup
	for name, check := range checks {
		hc, gc := *host, *g
		wg.Go(func() {
			if code := check(&hc, &gc); code != http.StatusServiceUnavailable {
				t.Errorf("%s with Redis down: got %d, want 503 (shared state unavailable)", name, code)
			}
		})
	}
	wg.Wait()
	logs := host.logs.String()
	if strings.Contains(logs, "panic") {
		t.Errorf("the log holds a panic: %s", logs)
	}
	for l := range strings.Lines(logs) {
		if strings.Contains(l, `msg="request failed"`) && (!strings.Contains(l, "status=503") || !strings.Contains(l, "redis ")) {
			t.Errorf("got log line %s, want a 503 naming Redis", l)
		}
	}

	srv.Restart()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, body := host.chat("D", mod, "back")
		if resp.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("chat with Redis back: got %d %s", resp.StatusCode, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if k := g.knock("D", "Gina", inv); k.status != http.StatusOK {
		t.Errorf("knock with Redis back: got %d", k.status)
	}
}

// redisDeps is what an instance shares through Redis when REDIS_URL is
// set, as main wires it: every store on a client of its own.
func redisDeps(t *testing.T, srv *redistest.Server) handlers.Deps {
	rdb := srv.Open(t)
	broker := push.NewRedis(rdb, push.Limits{}, nil)
	t.Cleanup(broker.Close) // before the client closes
	return handlers.Deps{
		Roster: roster.NewRedisStore(rdb, roster.Limits{}),
		Broker: broker,
		Limiters: func(name string, burst int, perSecond float64) handlers.Limiter {
			return ratelimit.NewRedis(rdb, name, burst, perSecond)
		},
		KnownRooms: knownrooms.NewRedis(rdb, handlers.KnownRoomTTL),
		Rooms:      roomstate.NewRedis(rdb, roomstate.Limits{}, roomstate.TTLs{}),
	}
}

// TestEveryRedisKeyIsOursAndExpires runs a call through two instances
// with all their shared state in one Redis (a host, a lobby, guests
// admitted, chat, the roster, a block, a new invite link) and then reads
// every key Redis holds: each starts with "swr:" and has an expiry, and
// every store wrote some.
func TestEveryRedisKeyIsOursAndExpires(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	envs := startApps(t, 2, func(int) handlers.Deps { return redisDeps(t, srv) }, fastStreams, longGrace)
	bases := []string{serve(t, envs[0]), serve(t, envs[1])}
	host := envs[0]
	inv := hostLobby(t, host, "W")
	mod := moderatorSeat(t, host.on(envs[1]), "W")
	ms := openSSE(t, bases[1], host.streamPath("W", "X-Seat", mod), "")
	ms.next(t, "lobby")
	k := guestAt(t, host, inv).knock("W", "Gina", inv)
	if k.state != "waiting" {
		t.Fatalf("knock: got %d %q, want waiting", k.status, k.state)
	}
	gs := openSSE(t, bases[0], k.stream, "")
	gs.next(t, "lobby-status")
	if resp, _ := host.modPost("/rooms/W/lobby/admit-all", mod, url.Values{}); resp.StatusCode != http.StatusOK {
		t.Fatalf("admit all: got %d", resp.StatusCode)
	}
	if resp, _ := host.modPost("/rooms/W/lobby/off", mod, url.Values{}); resp.StatusCode != http.StatusOK {
		t.Fatalf("lobby off: got %d", resp.StatusCode)
	}
	g, gseat := guestSeat(t, host.on(envs[1]), inv, "Gus", "m-gus")
	hostKnows(t, host, "W", mod, map[string]string{"m-gus": "Gus"})
	if resp, body := g.chat("W", gseat, "hello"); resp.StatusCode != http.StatusOK {
		t.Fatalf("chat: got %d %s", resp.StatusCode, body)
	}
	ms.next(t, "chat")
	if resp, _ := host.modPost("/rooms/W/ask-unmute", mod, url.Values{"member": {"m-gus"}}); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("ask to unmute: got %d", resp.StatusCode)
	}
	if resp, _ := host.modPost("/rooms/W/block", mod, url.Values{"member": {"m-gus"}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("block: got %d", resp.StatusCode)
	}
	if resp, _ := host.modPost("/rooms/W/invite", mod, url.Values{}); resp.StatusCode != http.StatusOK {
		t.Fatalf("new invite link: got %d", resp.StatusCode)
	}
	ms.close()
	gs.close()

	stores := map[string]int{"swr:roster:": 0, "swr:push:": 0, "swr:rl:": 0, "swr:room:{W}:": 0, "swr:known:W": 0}
	eachKey(t, srv, func(k string, ttl time.Duration) {
		switch {
		case ttl == -2: // expired since the scan saw it: a short-lived budget
		case !strings.HasPrefix(k, "swr:"):
			t.Errorf("key %q is not under swr:", k)
		case ttl < 0:
			t.Errorf("key %q has no expiry", k)
		}
		for prefix := range stores {
			if strings.HasPrefix(k, prefix) {
				stores[prefix]++
			}
		}
	})
	for prefix, n := range stores {
		if n == 0 {
			t.Errorf("no key %s*: the workload missed a store", prefix)
		}
	}
}

// TestHostileRoomNamesNeverReachRedis: room names that could reach into
// other keys or patterns (":", braces, "*", "%", a newline) are refused
// before any store sees them, on every route that takes a room, even with
// a moderator's credentials for another room: no key names them, and no
// answer is a server error.
func TestHostileRoomNamesNeverReachRedis(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	host := startApps(t, 1, func(int) handlers.Deps { return redisDeps(t, srv) }, fastStreams)[0]
	inv := hostLobby(t, host, "V")
	mod := moderatorSeat(t, host, "V")
	g := guestAt(t, host, inv)
	k := g.knock("V", "Gina", inv)
	stream := host.streamPath("V", "X-Seat", mod)
	for _, room := range []string{"Zq:1", "Zq{2}", "Zq}:chat", "{Zq}:state", "Zq*", "Zq%0A", "Zq%7B%7D", "Zq%3A", "Zq%00"} {
		invite := map[string]any{"room": room, "exp": inv.Get("exp"), "sig": inv.Get("sig")}
		seat := []string{"X-Seat", mod}
		answers := map[string]int{}
		for name, status := range map[string]func() int{
			"host page": func() int { r, _ := host.get("/rooms/" + room); return r.StatusCode },
			"start": func() int {
				r, _ := host.post("/rooms", url.Values{"room": {room}, "user": {"Ann"}})
				return r.StatusCode
			},
			"guest page": func() int {
				r, _ := g.get("/guest?room=" + room + "&exp=" + inv.Get("exp") + "&sig=" + inv.Get("sig"))
				return r.StatusCode
			},
			"token": func() int {
				r, _ := host.postJSON("/rooms/"+room+"/token", map[string]any{"user": "Ann"})
				return r.StatusCode
			},
			"guest token": func() int {
				r, _ := g.postJSON("/rooms/"+room+"/token", map[string]any{"user": "G", "invite": invite})
				return r.StatusCode
			},
			"events": func() int { r, _ := host.events(room, mod, `{"epoch":"e","events":[]}`); return r.StatusCode },
			"join failed": func() int {
				r, _ := host.postJSON("/rooms/"+room+"/join-failed", map[string]any{}, seat...)
				return r.StatusCode
			},
			"gone": func() int { r, _ := host.get("/rooms/" + room + "/gone"); return r.StatusCode },
			"seat": func() int { r, _ := host.get("/rooms/"+room+"/seat", seat...); return r.StatusCode },
			"stream": func() int {
				r, _ := host.get(strings.Replace(stream, "/rooms/V/", "/rooms/"+room+"/", 1))
				return r.StatusCode
			},
			"stream ticket": func() int {
				r, _ := host.postJSON("/rooms/"+room+"/stream-ticket", map[string]any{}, seat...)
				return r.StatusCode
			},
			"lobby ticket": func() int {
				r, _ := g.postJSON("/rooms/"+room+"/stream-ticket", map[string]any{}, "X-Lobby", k.ticket)
				return r.StatusCode
			},
			"knock": func() int {
				r, _ := g.postJSON("/rooms/"+room+"/lobby", map[string]any{"user": "G", "invite": invite})
				return r.StatusCode
			},
			"admit all": func() int {
				r, _ := host.modPost("/rooms/"+room+"/lobby/admit-all", mod, url.Values{})
				return r.StatusCode
			},
			"chat": func() int {
				r, _ := host.modPost("/rooms/"+room+"/chat", mod, url.Values{"message": {"hi"}})
				return r.StatusCode
			},
			"block": func() int {
				r, _ := host.modPost("/rooms/"+room+"/block", mod, url.Values{"member": {"m"}})
				return r.StatusCode
			},
			"new invite": func() int { r, _ := host.modPost("/rooms/"+room+"/invite", mod, url.Values{}); return r.StatusCode },
			"ask unmute": func() int {
				r, _ := host.modPost("/rooms/"+room+"/ask-unmute", mod, url.Values{"member": {"m"}})
				return r.StatusCode
			},
			"answer": func() int {
				r, _ := host.modPost("/rooms/"+room+"/unmute-answer", mod, url.Values{})
				return r.StatusCode
			},
		} {
			answers[name] = status()
		}
		for name, code := range answers {
			if code >= 500 || code < 400 {
				t.Errorf("%s of room %q: got %d, want it refused (4xx)", name, room, code)
			}
		}
	}
	eachKey(t, srv, func(k string, _ time.Duration) {
		if strings.Contains(k, "Zq") {
			t.Errorf("key %q names a room the handlers should have refused", k)
		}
	})
}

// eachKey calls f with every key srv holds and its time to live (PTTL's
// answer: -1 for none, -2 for a key gone since the scan).
func eachKey(t *testing.T, srv *redistest.Server, f func(key string, ttl time.Duration)) {
	t.Helper()
	ctx := context.Background()
	rdb := srv.Open(t)
	iter := rdb.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		ms, err := rdb.Do(ctx, "PTTL", iter.Val()).Int64()
		if err != nil {
			t.Fatal(err)
		}
		ttl := time.Duration(ms) * time.Millisecond
		if ms < 0 {
			ttl = time.Duration(ms)
		}
		f(iter.Val(), ttl)
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
}
