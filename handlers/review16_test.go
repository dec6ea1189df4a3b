package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/swrooms/swrooms/handlers"
)

// hostKnows posts the moderator's roster: the host and members (id: name),
// everyone muted.
func hostKnows(t *testing.T, e *testEnv, room, mod string, members map[string]string) *http.Response {
	t.Helper()
	list := `{"id":"m-host","name":"Host","type":"member"}`
	for id, name := range members {
		list += `,{"id":"` + id + `","name":"` + name + `","type":"member","audio_muted":true,"video_muted":true}`
	}
	resp, body := e.events(room, mod, `{"epoch":"h1","events":[{"seq":1,"name":"room.joined","data":{"member_id":"m-host","room":{},"members":[`+list+`]}}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("host events: %d %s", resp.StatusCode, body)
	}
	return resp
}

// waitEnded fails unless s's stream ends within 5 s.
func (c *sseClient) waitEnded(t *testing.T) {
	t.Helper()
	for {
		select {
		case <-c.events:
		case <-c.done:
			return
		case <-time.After(5 * time.Second):
			t.Fatal("the stream is still open, want it ended")
		}
	}
}

// streamStatus opens path and returns the status without reading on.
func streamStatus(t *testing.T, base, path string) int {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestRemovalRevokesTheGuestsSeat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		remove func(t *testing.T, e *testEnv, mod string)
	}{
		{"Remove and block", func(t *testing.T, e *testEnv, mod string) {
			if resp, _ := e.modPost("/rooms/R/block", mod, url.Values{"member": {"m-gus"}}); resp.StatusCode != http.StatusOK {
				t.Fatalf("block: got %d", resp.StatusCode)
			}
		}},
		{"a plain Remove (the SDK's member.left in the host's roster)", func(t *testing.T, e *testEnv, mod string) {
			resp, body := e.events("R", mod, `{"epoch":"h1","events":[{"seq":2,"name":"member.left","data":{"member":{"id":"m-gus"}}}]}`)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("member.left: got %d %s", resp.StatusCode, body)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, fastStreams)
			base := serve(t, e)
			inv := guestInvite(t, e, "R") // lobby off
			mod := moderatorSeat(t, e, "R")
			g, gseat := guestSeat(t, e, inv, "Gus", "m-gus")
			o, oseat := guestSeat(t, e, inv, "Olive", "m-olive")
			hostKnows(t, e, "R", mod, map[string]string{"m-gus": "Gus", "m-olive": "Olive"})
			old := g.streamPath("R", "X-Seat", gseat)
			gs := openSSE(t, base, old, "")
			gs.next(t, "chat-history")
			ms := openSSE(t, base, e.streamPath("R", "X-Seat", mod), "")

			tc.remove(t, e, mod)

			if resp, _ := g.chat("R", gseat, "still here"); resp.StatusCode != http.StatusForbidden {
				t.Errorf("chat from the removed page: got %d, want 403", resp.StatusCode)
			}
			if resp, _ := g.postJSON("/rooms/R/stream-ticket", map[string]any{}, "X-Seat", gseat); resp.StatusCode != http.StatusForbidden {
				t.Errorf("stream ticket for the removed page: got %d, want 403", resp.StatusCode)
			}
			gs.waitEnded(t)
			if code := streamStatus(t, base, old); code != http.StatusForbidden {
				t.Errorf("stream with the removed page's old ticket: got %d, want 403", code)
			}
			// Everyone else chats on, and nobody got the removed page's words.
			if resp, _ := o.chat("R", oseat, "hello"); resp.StatusCode != http.StatusOK {
				t.Errorf("another guest's chat: got %d, want 200", resp.StatusCode)
			}
			if ev := ms.next(t, "chat"); strings.Contains(ev.Data, "still here") || !strings.Contains(ev.Data, "hello") {
				t.Errorf("the host got %q, want only Olive's message", ev.Data)
			}
		})
	}
}

func TestBlockAppliesToSeatsAndWaitingGuestsThatExistAlready(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastStreams)
	inv := guestInvite(t, e, "B")
	mod := moderatorSeat(t, e, "B")
	// The same person in a second browser, joined before the block.
	_, first := guestSeat(t, e, inv, "Mallory", "m-mallory")
	twin, twinSeat := guestSeat(t, e, inv, "mallory", "m-mallory-2")
	hostKnows(t, e, "B", mod, map[string]string{"m-mallory": "Mallory"})
	e.modPost("/rooms/B/block", mod, url.Values{"member": {"m-mallory"}})
	if resp, _ := twin.chat("B", twinSeat, "hi"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("chat from a seat of the blocked name: got %d, want 403", resp.StatusCode)
	}
	if resp, _ := twin.postJSON("/rooms/B/stream-ticket", map[string]any{}, "X-Seat", first); resp.StatusCode != http.StatusForbidden {
		t.Errorf("stream ticket of the blocked seat: got %d, want 403", resp.StatusCode)
	}
}

func TestBlockedNameCannotComeBackWithInvisibleCharacters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastStreams)
	inv := guestInvite(t, e, "N")
	mod := moderatorSeat(t, e, "N")
	guestSeat(t, e, inv, "Gus", "m-gus")
	hostKnows(t, e, "N", mod, map[string]string{"m-gus": "Gus"})
	e.modPost("/rooms/N/block", mod, url.Values{"member": {"m-gus"}})
	for _, name := range []string{"Gus\u200d", "G\u200cus", "Ｇｕｓ", "GUS\ufe0f"} {
		if k := guestAt(t, e, inv).knock("N", name, inv); k.status != http.StatusForbidden {
			t.Errorf("knock as %+q: got %d, want 403", name, k.status)
		}
	}
}

// knockFrom knocks as a new browser at addr (through the trusted proxy).
func knockFrom(t *testing.T, e *testEnv, inv url.Values, name, addr string) int {
	t.Helper()
	g := e.another()
	g.get("/guest?"+inv.Encode(), from(addr)...)
	resp, _ := g.postJSON("/rooms/"+inv.Get("room")+"/lobby", map[string]any{"user": name, "invite": inviteBodyV(inv)}, from(addr)...)
	return resp.StatusCode
}

func TestAKnockFloodFromOneAddressDoesNotLockOthersOut(t *testing.T) {
	t.Parallel()
	clock := newClock()
	e := newEnvClock(t, clock.Now, openHosting, behindProxy, longGrace, func(c *handlers.Config) { c.Limits.JoinsPerAddress = 20 })
	inv := hostLobby(t, e, "Flood")
	refused := 0
	for i := range 320 {
		if code := knockFrom(t, e, inv, "Bot", "198.51.100.1"); code == http.StatusTooManyRequests {
			refused++
		} else if code != http.StatusOK {
			t.Fatalf("knock %d: got %d", i, code)
		}
	}
	if refused != 300 {
		t.Errorf("got %d knocks refused from one address, want 300 of 320", refused)
	}
	// A minute on, the address may knock again, but holds its share already.
	clock.Advance(time.Minute)
	if code := knockFrom(t, e, inv, "Bot", "198.51.100.1"); code != http.StatusTooManyRequests {
		t.Errorf("a knock past the address's share of the lobby: got %d, want 429", code)
	}
	if code := knockFrom(t, e, inv, "Gina", "203.0.113.5"); code != http.StatusOK {
		t.Errorf("a guest from another address: got %d, want 200", code)
	}
}

func TestAKnockAgainFromTheSameBrowserTakesOverItsEntry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastStreams, longGrace)
	inv := hostLobby(t, e, "Again")
	mod := moderatorSeat(t, e, "Again")
	g := guestAt(t, e, inv)
	first := g.knock("Again", "Gina", inv)
	second := g.knock("Again", "Gina B", inv)
	if first.status != http.StatusOK || second.status != http.StatusOK {
		t.Fatalf("knocks: got %d and %d, want 200", first.status, second.status)
	}
	_, panel := e.modPost("/rooms/Again/lobby/on", mod, url.Values{})
	rows := testid(panel, "lobby-guest")
	if rows.Length() != 1 || !strings.Contains(rows.Text(), "Gina B") {
		t.Errorf("got %d rows %q, want one, under the latest name", rows.Length(), rows.Text())
	}
}

func TestNewInviteLinkTurnsAwayGuestsWaitingWithTheOldOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastStreams)
	base := serve(t, e)
	inv := hostLobby(t, e, "Rev")
	mod := moderatorSeat(t, e, "Rev")
	ms := openSSE(t, base, e.streamPath("Rev", "X-Seat", mod), "")
	ms.next(t, "lobby")
	g := guestAt(t, e, inv)
	k := g.knock("Rev", "Gina", inv)
	gs := openSSE(t, base, k.stream, "")
	gs.next(t, "lobby-status")
	ms.next(t, "lobby")

	if resp, _ := e.modPost("/rooms/Rev/invite", mod, url.Values{}); resp.StatusCode != http.StatusOK {
		t.Fatalf("new invite link: got %d", resp.StatusCode)
	}
	st := parse(t, gs.next(t, "lobby-status").Data)
	denied := testid(st, "lobby-denied")
	if denied.Length() != 1 || attr(denied, "data-reason") != "invite-replaced" || !strings.Contains(denied.Text(), "replaced") {
		t.Errorf("got %q, want denied because the link was replaced", st.Text())
	}
	if n := testid(parse(t, ms.next(t, "lobby").Data), "lobby-guest").Length(); n != 0 {
		t.Errorf("got %d guests still waiting, want none", n)
	}
}

func TestAdmitAllLetsEveryoneWaitingIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastStreams, longGrace)
	inv := hostLobby(t, e, "All")
	mod := moderatorSeat(t, e, "All")
	guests := map[string]*testEnv{}
	tickets := map[string]string{}
	for _, name := range []string{"Ann", "Bea", "Cy"} {
		guests[name] = guestAt(t, e, inv)
		tickets[name] = guests[name].knock("All", name, inv).ticket
	}
	resp, panel := e.modPost("/rooms/All/lobby/admit-all", mod, url.Values{})
	if resp.StatusCode != http.StatusOK || testid(panel, "lobby-guest").Length() != 0 || attr(testid(panel, "lobby"), "data-lobby-on") != "true" {
		t.Fatalf("admit all: got %d, want 200, nobody waiting, the lobby still on", resp.StatusCode)
	}
	for name, g := range guests {
		if resp, a := g.token("All", map[string]any{"user": name, "invite": inviteBodyV(inv), "lobby": tickets[name]}); resp.StatusCode != http.StatusOK {
			t.Errorf("%s's token after admit all: got %d %q", name, resp.StatusCode, a.Error)
		}
	}
	if resp, _ := guestAt(t, e, inv).modPost("/rooms/All/lobby/admit-all", "forged", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("admit all without a moderator seat: got %d, want 403", resp.StatusCode)
	}
}

func TestAskButtonsOnlyForMembersWithAPageHere(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastStreams)
	inv := guestInvite(t, e, "A")
	mod := moderatorSeat(t, e, "A")
	guestSeat(t, e, inv, "Gwen", "m-gwen")
	resp, body := e.events("A", mod, `{"epoch":"h1","events":[{"seq":1,"name":"room.joined","data":{"member_id":"m-host","room":{},"members":[{"id":"m-host","name":"Host","type":"member"},{"id":"m-gwen","name":"Gwen","type":"member","audio_muted":true,"video_muted":true},{"id":"m-bot","name":"Bot","type":"member","audio_muted":true,"video_muted":true}]}}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("events: %d %s", resp.StatusCode, body)
	}
	doc := parse(t, body)
	for member, want := range map[string]int{"m-gwen": 1, "m-bot": 0} {
		r := doc.Find(`[data-testid="member"][data-member-id="` + member + `"]`)
		for _, action := range []string{"ask-unmute", "ask-video-unmute"} {
			if got := r.Find(`[data-action="` + action + `"]`).Length(); got != want {
				t.Errorf("%s: got %d %s buttons, want %d", member, got, action, want)
			}
		}
	}
	if resp, _ := e.modPost("/rooms/A/ask-unmute", mod, url.Values{"member": {"m-gwen"}}); resp.StatusCode != http.StatusNoContent {
		t.Errorf("asking Gwen: got %d, want 204", resp.StatusCode)
	}
}

func TestAMemberWhosePageArrivesLaterGetsItsAskButtonsPushed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastStreams)
	base := serve(t, e)
	inv := guestInvite(t, e, "L")
	mod := moderatorSeat(t, e, "L")
	ms := openSSE(t, base, e.streamPath("L", "X-Seat", mod), "")
	// The host's roster shows Lou before Lou's page says who it is.
	_, body := e.events("L", mod, `{"epoch":"h1","events":[{"seq":1,"name":"room.joined","data":{"member_id":"m-host","room":{},"members":[{"id":"m-host","name":"Host","type":"member"},{"id":"m-lou","name":"Lou","type":"member","audio_muted":true,"video_muted":true}]}}]}`)
	if n := parse(t, body).Find(`[data-member-id="m-lou"] [data-action="ask-unmute"]`).Length(); n != 0 {
		t.Fatalf("got %d ask buttons before Lou's page is known, want 0", n)
	}
	guestSeat(t, e, inv, "Lou", "m-lou")
	ev := ms.next(t, "roster-rows")
	for !strings.Contains(ev.Data, "m-lou") { // the host's own row came first
		ev = ms.next(t, "roster-rows")
	}
	rows := parse(t, ev.Data)
	r := rows.Find(`[data-testid="member"][data-member-id="m-lou"]`)
	if attr(r, "hx-swap-oob") != "true" || r.Find(`[data-action="ask-unmute"]`).Length() != 1 || r.Find(`[data-action="ask-video-unmute"]`).Length() != 1 {
		t.Errorf("got %q, want Lou's row, out of band, with both ask buttons", rows.Text())
	}
}
