package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/swrooms/swrooms/handlers"
)

// hostLobby starts room with the lobby on and returns the invite's query.
func hostLobby(t *testing.T, e *testEnv, room string) url.Values {
	t.Helper()
	resp, doc := e.post("/rooms", url.Values{"room": {room}, "user": {"Host"}, "lobby": {"on"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /rooms: got %d %s", resp.StatusCode, doc.Text())
	}
	_, page := e.get(resp.Header.Get("Location"))
	href, _ := testid(page, "invite-link").Attr("href")
	u, err := url.Parse(href)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// guestAt is a new browser that opened the invite link.
func guestAt(t *testing.T, e *testEnv, inv url.Values) *testEnv {
	t.Helper()
	g := e.another()
	resp, _ := g.get("/guest?" + inv.Encode())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("guest page: got %d, want 200", resp.StatusCode)
	}
	return g
}

type knockAnswer struct {
	status        int
	state, ticket string
	stream        string
	doc           *goquery.Document
}

func (g *testEnv) knock(room, user string, inv url.Values) knockAnswer {
	g.t.Helper()
	resp, body := g.postJSON("/rooms/"+room+"/lobby", map[string]any{"user": user, "invite": inviteBodyV(inv)})
	doc := parse(g.t, body)
	w := testid(doc, "lobby-waiting")
	a := knockAnswer{status: resp.StatusCode, doc: doc}
	a.state, _ = w.Attr("data-lobby-state")
	a.ticket, _ = w.Attr("data-lobby-ticket")
	a.stream, _ = w.Attr("sse-connect")
	return a
}

func inviteBodyV(inv url.Values) map[string]any {
	b := inviteBody(inv)
	if v, err := strconv.Atoi(inv.Get("v")); err == nil {
		b["v"] = v
	}
	return b
}

// longGrace keeps a waiting guest without a stream in the lobby for a
// minute, for tests about something else than leaving it: with
// fastStreams' 150 ms, a busy machine lets the entry go before the test
// gets to it.
func longGrace(c *handlers.Config) { c.LobbyGrace = time.Minute }

// moderatorSeat joins the host's page to the call.
func moderatorSeat(t *testing.T, e *testEnv, room string) string {
	t.Helper()
	_, a := e.token(room, map[string]any{"user": "Host"})
	if a.Seat == "" {
		t.Fatalf("no moderator seat: %s", a.Error)
	}
	return a.Seat
}

// modPost is a moderator's htmx post with its seat.
func (e *testEnv) modPost(path, seat string, form url.Values) (*http.Response, *goquery.Document) {
	e.t.Helper()
	return e.post(path, form, "HX-Request", "true", "X-Seat", seat)
}

func TestLobbyKnockAdmitThenToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastStreams)
	base := serve(t, e)
	inv := hostLobby(t, e, "Lobby")
	mod := moderatorSeat(t, e, "Lobby")
	ms := openSSE(t, base, e.streamPath("Lobby", "X-Seat", mod), "")
	if ev := ms.next(t, "lobby"); !strings.Contains(ev.Data, `data-testid="lobby-empty"`) {
		t.Errorf("got lobby %q, want it empty", ev.Data)
	}
	g := guestAt(t, e, inv)
	e.fake.ResetCalls()

	k := g.knock("Lobby", "Gina", inv)
	if k.status != http.StatusOK || k.state != "waiting" || k.ticket == "" || k.stream == "" {
		t.Fatalf("knock: got %d state %q, want 200 waiting with a ticket and a stream", k.status, k.state)
	}
	gs := openSSE(t, base, k.stream, "")
	if ev := gs.next(t, "lobby-status"); !strings.Contains(ev.Data, `data-lobby-state="waiting"`) {
		t.Errorf("got status %q, want waiting", ev.Data)
	}
	lobby := parse(t, ms.next(t, "lobby").Data)
	row := testid(lobby, "lobby-guest")
	id, _ := row.Attr("data-guest-id")
	if row.Length() != 1 || !strings.Contains(row.Text(), "Gina") || id == "" {
		t.Fatalf("got lobby %q, want Gina's row", lobby.Text())
	}
	// Announced by the island (notices.js), so not a live region itself.
	if ev := ms.next(t, "knock"); !strings.Contains(ev.Data, "Gina is waiting") || !strings.Contains(ev.Data, `data-testid="knock-notice"`) {
		t.Errorf("got knock %q, want the knock notice", ev.Data)
	}
	for _, a := range []string{"admit", "deny"} {
		if row.Find(`[data-action="`+a+`"]`).Length() != 1 {
			t.Errorf("got no %s button", a)
		}
	}

	resp, _ := g.token("Lobby", map[string]any{"user": "Gina", "invite": inviteBodyV(inv)})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("token before admission: got %d, want 403", resp.StatusCode)
	}
	resp, _ = g.token("Lobby", map[string]any{"user": "Gina", "invite": inviteBodyV(inv), "lobby": k.ticket})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("token with a waiting ticket: got %d, want 403", resp.StatusCode)
	}
	if n := len(e.fake.CallsTo("POST", "/room_tokens")); n != 0 {
		t.Fatalf("got %d token calls before admission, want 0", n)
	}

	resp, panel := e.modPost("/rooms/Lobby/lobby/admit", mod, url.Values{"guest": {id}})
	if resp.StatusCode != http.StatusOK || testid(panel, "lobby-guest").Length() != 0 {
		t.Fatalf("admit: got %d, want 200 and an empty lobby", resp.StatusCode)
	}
	ev := gs.next(t, "lobby-status")
	if !strings.Contains(ev.Data, `data-testid="lobby-admitted"`) {
		t.Errorf("got %q, want admitted", ev.Data)
	}
	if strings.Contains(ev.Data, "eyJ") || strings.Contains(ev.Data, "token") {
		t.Errorf("the stream carries something like a token: %q", ev.Data)
	}
	resp, a := g.token("Lobby", map[string]any{"user": "Gina", "invite": inviteBodyV(inv), "lobby": k.ticket})
	if resp.StatusCode != http.StatusOK || a.Role != "guest" {
		t.Fatalf("token after admission: got %d %q, want a guest token", resp.StatusCode, a.Error)
	}
	if n := len(e.fake.CallsTo("POST", "/room_tokens")); n != 1 {
		t.Errorf("got %d token calls, want exactly 1, after admission", n)
	}
}

func TestLobbyDeny(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastStreams)
	base := serve(t, e)
	inv := hostLobby(t, e, "Lobby")
	mod := moderatorSeat(t, e, "Lobby")
	ms := openSSE(t, base, e.streamPath("Lobby", "X-Seat", mod), "")
	g := guestAt(t, e, inv)
	k := g.knock("Lobby", "Dan", inv)
	gs := openSSE(t, base, k.stream, "")
	ms.next(t, "lobby") // empty, on connect
	id, _ := testid(parse(t, ms.next(t, "lobby").Data), "lobby-guest").Attr("data-guest-id")
	e.modPost("/rooms/Lobby/lobby/deny", mod, url.Values{"guest": {id}})
	for {
		ev := gs.next(t, "lobby-status")
		if strings.Contains(ev.Data, `data-testid="lobby-denied"`) {
			break
		}
	}
	resp, _ := g.token("Lobby", map[string]any{"user": "Dan", "invite": inviteBodyV(inv), "lobby": k.ticket})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("token after denial: got %d, want 403", resp.StatusCode)
	}
	if resp, _ := g.token("Lobby", map[string]any{"user": "Dan", "invite": inviteBodyV(inv)}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("token without a ticket: got %d, want 403", resp.StatusCode)
	}
}

func TestLobbyGuestWhoClosesTheTabLeaves(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastStreams) // grace 150 ms, heartbeat 50 ms
	base := serve(t, e)
	inv := hostLobby(t, e, "Lobby")
	mod := moderatorSeat(t, e, "Lobby")
	ms := openSSE(t, base, e.streamPath("Lobby", "X-Seat", mod), "")
	ms.next(t, "lobby")
	g := guestAt(t, e, inv)
	k := g.knock("Lobby", "Lea", inv)
	gs := openSSE(t, base, k.stream, "")
	if testid(parse(t, ms.next(t, "lobby").Data), "lobby-guest").Length() != 1 {
		t.Fatal("got no row for Lea")
	}
	time.Sleep(300 * time.Millisecond) // past the grace: an open stream keeps her
	gs.close()
	if testid(parse(t, ms.next(t, "lobby").Data), "lobby-guest").Length() != 0 {
		t.Error("got Lea still waiting after her tab closed")
	}
}

func TestLobbyOffAndNoHostYet(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastStreams, longGrace)
	inv := guestInvite(t, e, "Open") // hosted without the lobby field: off
	g := guestAt(t, e, inv)
	k := g.knock("Open", "Olga", inv)
	if k.state != "admitted" || k.stream != "" {
		t.Errorf("lobby off: got state %q stream %q, want admitted at once", k.state, k.stream)
	}
	if resp, _ := g.token("Open", map[string]any{"user": "Olga", "invite": inviteBodyV(inv)}); resp.StatusCode != http.StatusOK {
		t.Errorf("lobby off: token got %d, want 200", resp.StatusCode)
	}

	inv = hostLobby(t, e, "Later") // the host has not joined
	g = guestAt(t, e, inv)
	k = g.knock("Later", "Nia", inv)
	if k.state != "no-host" || testid(k.doc, "lobby-no-host").Length() != 1 {
		t.Errorf("no host: got state %q, want no-host with its message", k.state)
	}
	base := serve(t, e)
	gs := openSSE(t, base, k.stream, "")
	gs.next(t, "lobby-status")
	mod := moderatorSeat(t, e, "Later")
	openSSE(t, base, e.streamPath("Later", "X-Seat", mod), "")
	if ev := gs.next(t, "lobby-status"); !strings.Contains(ev.Data, `data-lobby-state="waiting"`) {
		t.Errorf("host arrived: got %q, want waiting", ev.Data)
	}
}

func TestLobbyToggleNeedsAModerator(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastStreams)
	inv := hostLobby(t, e, "T")
	mod := moderatorSeat(t, e, "T")
	g := guestAt(t, e, inv)
	if resp, _ := g.modPost("/rooms/T/lobby/off", "not-a-seat", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("lobby-off without a seat: got %d, want 403", resp.StatusCode)
	}
	resp, panel := e.modPost("/rooms/T/lobby/off", mod, url.Values{})
	if resp.StatusCode != http.StatusOK || testid(panel, "lobby-on").Length() != 1 {
		t.Fatalf("lobby-off: got %d, want the panel offering lobby-on", resp.StatusCode)
	}
	if k := g.knock("T", "Gus", inv); k.state != "admitted" {
		t.Errorf("after lobby-off: got %q, want admitted", k.state)
	}
	e.modPost("/rooms/T/lobby/on", mod, url.Values{})
	if k := g.knock("T", "Gus", inv); k.state != "no-host" { // no moderator stream is open
		t.Errorf("after lobby-on: got %q, want to wait", k.state)
	}
}
