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

// raced is a room where Mallory's page named Bob's member id before Bob's
// own page did (nobody can tell which page lies), and the host's roster
// shows both (lobby off).
type raced struct {
	e, mallory, bob   *testEnv
	inv               url.Values
	mod, mal, bobSeat string
}

func race(t *testing.T, room string) raced {
	t.Helper()
	r := raced{e: newEnv(t, fastStreams)}
	r.inv = guestInvite(t, r.e, room)
	r.mod = moderatorSeat(t, r.e, room)
	r.mallory, r.mal = guestSeat(t, r.e, r.inv, "Mallory", "m-bob")
	r.bob, r.bobSeat = guestSeat(t, r.e, r.inv, "Bob", "m-bob")
	hostSees(t, r.e, room, r.mod)
	return r
}

// bothRevoked checks that neither Bob's seat nor Mallory's may chat.
func (r raced) bothRevoked(t *testing.T, room, after string) {
	t.Helper()
	for who, g := range map[string]struct {
		env  *testEnv
		seat string
	}{"Bob": {r.bob, r.bobSeat}, "Mallory": {r.mallory, r.mal}} {
		if resp, _ := g.env.chat(room, g.seat, "hello?"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s's seat after %s: got %d, want 403", who, after, resp.StatusCode)
		}
	}
}

// In the race, a block of Bob still reaches his seat, by the name the
// moderator sees, and the page that held his id is revoked with it.
func TestABlockReachesTheMemberWhoseIDAnotherPageHolds(t *testing.T) {
	t.Parallel()
	r := race(t, "R")
	resp, doc := r.e.modPost("/rooms/R/block", r.mod, url.Values{"member": {"m-bob"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(testid(doc, "notice").Text(), "Bob") {
		t.Fatalf("blocking Bob: got %d %q", resp.StatusCode, doc.Text())
	}
	r.bothRevoked(t, "R", "Bob's block")
	if k := guestAt(t, r.e, r.inv).knock("R", "bob", r.inv); k.status != http.StatusForbidden {
		t.Errorf("the name Bob after the block: got %d, want 403", k.status)
	}
}

// In the race, a plain Remove: the SDK removes Bob, the host's page
// reports member.left, and every seat that claimed Bob's id is revoked,
// Bob's own among them.
func TestARemovalRevokesEverySeatThatClaimedTheMember(t *testing.T) {
	t.Parallel()
	r := race(t, "L")
	left := `{"epoch":"h1","events":[{"seq":2,"name":"member.left","data":{"member":{"id":"m-bob"}}}]}`
	if resp, body := r.e.events("L", r.mod, left); resp.StatusCode != http.StatusOK {
		t.Fatalf("host's member.left: %d %s", resp.StatusCode, body)
	}
	r.bothRevoked(t, "L", "Bob's removal")
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
