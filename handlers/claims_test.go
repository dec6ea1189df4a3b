package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
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
// does holds it, but the moderator's actions on that member do not reach
// it: its name is not the one SignalWire gives that member, nor is a name
// that only looks like it.
func TestAPageClaimingAnotherMemberFirstIsNotAskedNorBlockedForThem(t *testing.T) {
	t.Parallel()
	for i, impostor := range []string{"Mallory", "BOB", "\uff22\uff4f\uff42"} { // the last: full-width "Bob"
		t.Run(impostor, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, fastStreams)
			room := fmt.Sprint("R", i)
			inv := guestInvite(t, e, room) // lobby off
			mod := moderatorSeat(t, e, room)
			mallory, malSeat := guestSeat(t, e, inv, impostor, "m-bob")
			guestSeat(t, e, inv, "Bob", "m-bob")
			hostSees(t, e, room, mod)

			if resp, _ := e.modPost("/rooms/"+room+"/ask-unmute", mod, url.Values{"member": {"m-bob"}}); resp.StatusCode != http.StatusNotFound {
				t.Errorf("asking Bob, whose id the impostor's page holds: got %d, want 404", resp.StatusCode)
			}
			resp, doc := e.modPost("/rooms/"+room+"/block", mod, url.Values{"member": {"m-bob"}})
			if resp.StatusCode != http.StatusOK || testid(doc, "notice").Length() != 1 {
				t.Fatalf("blocking Bob: got %d %q", resp.StatusCode, doc.Text())
			}
			// The SDK's removal then reaches the host's page as member.left.
			left := `{"epoch":"h1","events":[{"seq":2,"name":"member.left","data":{"member":{"id":"m-bob"}}}]}`
			if resp, body := e.events(room, mod, left); resp.StatusCode != http.StatusOK {
				t.Fatalf("host's member.left: %d %s", resp.StatusCode, body)
			}
			if k := mallory.knock(room, "Trent", inv); k.state != "admitted" {
				t.Errorf("the impostor's browser after Bob's block: got %q, want admitted (only Bob's name is blocked)", k.state)
			}
			if k := guestAt(t, e, inv).knock(room, "bob", inv); k.status != http.StatusForbidden {
				t.Errorf("the name Bob after the block: got %d, want 403", k.status)
			}
			if impostor == "Mallory" {
				// Another name: neither the block nor Bob's leaving is hers.
				if resp, body := mallory.chat(room, malSeat, "still here"); resp.StatusCode != http.StatusOK {
					t.Errorf("Mallory's seat after Bob's block and removal: got %d %s, want 200 (not revoked)", resp.StatusCode, body)
				}
			}
		})
	}
}
