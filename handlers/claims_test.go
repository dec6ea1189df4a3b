package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// claimMember has the page of seat post room.joined saying it is member
// (under name), as a page may whatever it is.
func claimMember(t *testing.T, g *testEnv, room, seat, epoch, member, name string) {
	t.Helper()
	snap := fmt.Sprintf(`{"epoch":%q,"events":[{"seq":1,"name":"room.joined","data":{"member_id":%q,"room":{},"members":[{"id":%q,"name":%q,"type":"member","audio_muted":true,"video_muted":true}]}}]}`, epoch, member, member, name)
	if resp, body := g.events(room, seat, snap); resp.StatusCode != http.StatusOK {
		t.Fatalf("claim: got %d %s", resp.StatusCode, body)
	}
}

// hostSees posts the moderator's roster: the host, Bob and Mallory, with
// the names SignalWire gives them.
func hostSees(t *testing.T, e *testEnv, room, mod string) {
	t.Helper()
	snap := `{"epoch":"h1","events":[{"seq":1,"name":"room.joined","data":{"member_id":"m-host","room":{},"members":[{"id":"m-host","name":"Host","type":"member"},{"id":"m-bob","name":"Bob","type":"member","audio_muted":true,"video_muted":true},{"id":"m-mallory","name":"Mallory","type":"member","audio_muted":true,"video_muted":true}]}}]}`
	if resp, body := e.events(room, mod, snap); resp.StatusCode != http.StatusOK {
		t.Fatalf("host events: %d %s", resp.StatusCode, body)
	}
}

// A page that names another member's id after that member's own page
// did gets nothing meant for that member: the first claim stands.
func TestAPageCannotTakeAnotherMembersAsks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastStreams)
	base := serve(t, e)
	inv := guestInvite(t, e, "K")
	mod := moderatorSeat(t, e, "K")
	bob, bobSeat := guestSeat(t, e, inv, "Bob", "m-bob")
	mallory, malSeat := guestSeat(t, e, inv, "Mallory", "m-mallory")
	claimMember(t, mallory, "K", malSeat, "g2", "m-bob", "Mallory")
	hostSees(t, e, "K", mod)
	bs := openSSE(t, base, bob.streamPath("K", "X-Seat", bobSeat), "")
	ms := openSSE(t, base, mallory.streamPath("K", "X-Seat", malSeat), "")

	if resp, _ := e.modPost("/rooms/K/ask-unmute", mod, url.Values{"member": {"m-bob"}}); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("asking Bob: got %d, want 204", resp.StatusCode)
	}
	if r := testid(parse(t, bs.next(t, "unmute-request").Data), "unmute-request"); attr(r, "data-kind") != "audio" {
		t.Errorf("Bob got %q, want the audio request", r.Text())
	}
	if resp, _ := e.modPost("/rooms/K/ask-video-unmute", mod, url.Values{"member": {"m-mallory"}}); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("asking Mallory: got %d, want 204", resp.StatusCode)
	}
	// Mallory's first request is her own (video), not Bob's (audio).
	if r := testid(parse(t, ms.next(t, "unmute-request").Data), "unmute-request"); attr(r, "data-kind") != "video" {
		t.Errorf("Mallory got a %q request first, want only her own video one", attr(r, "data-kind"))
	}
}

// A page that names another member's id before that member's own page
// does holds it (nobody can tell which page is lying), and a block of
// that member still reaches the real member's seat: by the name the
// moderator sees. The page that lied is revoked as the seat it claimed.
func TestABlockReachesTheMemberWhoseIDAnotherPageHolds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastStreams)
	inv := guestInvite(t, e, "R") // lobby off
	mod := moderatorSeat(t, e, "R")
	mallory, malSeat := guestSeat(t, e, inv, "Mallory", "m-bob")
	bob, bobSeat := guestSeat(t, e, inv, "Bob", "m-bob")
	hostSees(t, e, "R", mod)

	resp, doc := e.modPost("/rooms/R/block", mod, url.Values{"member": {"m-bob"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(testid(doc, "notice").Text(), "Bob") {
		t.Fatalf("blocking Bob: got %d %q", resp.StatusCode, doc.Text())
	}
	if resp, _ := bob.chat("R", bobSeat, "hello?"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("Bob's seat after his block: got %d, want 403", resp.StatusCode)
	}
	if resp, _ := mallory.chat("R", malSeat, "hello?"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the seat that claimed Bob's id: got %d, want 403", resp.StatusCode)
	}
	if k := guestAt(t, e, inv).knock("R", "bob", inv); k.status != http.StatusForbidden {
		t.Errorf("the name Bob after the block: got %d, want 403", k.status)
	}
}

// The same race, then a plain Remove: the SDK removes Bob, the host's
// page reports member.left, and both seats that claimed Bob's id are
// revoked, Bob's own among them.
func TestARemovalRevokesEverySeatThatClaimedTheMember(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastStreams)
	inv := guestInvite(t, e, "L") // lobby off
	mod := moderatorSeat(t, e, "L")
	mallory, malSeat := guestSeat(t, e, inv, "Mallory", "m-bob")
	bob, bobSeat := guestSeat(t, e, inv, "Bob", "m-bob")
	hostSees(t, e, "L", mod)
	left := `{"epoch":"h1","events":[{"seq":2,"name":"member.left","data":{"member":{"id":"m-bob"}}}]}`
	if resp, body := e.events("L", mod, left); resp.StatusCode != http.StatusOK {
		t.Fatalf("host's member.left: %d %s", resp.StatusCode, body)
	}
	for who, g := range map[string]struct {
		env  *testEnv
		seat string
	}{"Bob": {bob, bobSeat}, "Mallory": {mallory, malSeat}} {
		if resp, _ := g.env.chat("L", g.seat, "hello?"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s's seat after Bob's removal: got %d, want 403", who, resp.StatusCode)
		}
	}
}

// A reloaded page joins with a new token and seat, and the SDK reattaches
// it to its call, member id and all: from the same browser, the member
// moves to the new seat, and asks reach the page that is there now.
func TestAReloadedPageKeepsItsMember(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastStreams)
	base := serve(t, e)
	inv := guestInvite(t, e, "P")
	mod := moderatorSeat(t, e, "P")
	bob, _ := guestSeat(t, e, inv, "Bob", "m-bob")
	_, a := bob.token("P", map[string]any{"user": "Bob", "invite": inviteBodyV(inv)})
	if a.Seat == "" {
		t.Fatalf("token after the reload: %s", a.Error)
	}
	claimMember(t, bob, "P", a.Seat, "g2", "m-bob", "Bob")
	hostSees(t, e, "P", mod)
	s := openSSE(t, base, bob.streamPath("P", "X-Seat", a.Seat), "")
	if resp, _ := e.modPost("/rooms/P/ask-unmute", mod, url.Values{"member": {"m-bob"}}); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("asking Bob: got %d, want 204", resp.StatusCode)
	}
	s.next(t, "unmute-request")
}
