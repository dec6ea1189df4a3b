package handlers_test

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/swrooms/swrooms/handlers"
	"github.com/swrooms/swrooms/roster"
	"github.com/swrooms/swrooms/signalwire/swtest"
	"github.com/swrooms/swrooms/views"
)

// joined hosts room and joins it, returning the seat credential.
func joined(t testing.TB, e *testEnv, room string) string {
	t.Helper()
	e.host(room, "alice")
	_, a := e.token(room, map[string]any{"user": "alice"})
	if a.Seat == "" {
		t.Fatalf("got no seat: %+v", a.Error)
	}
	return a.Seat
}

func (e *testEnv) events(room, seat, body string) (*http.Response, string) {
	e.t.Helper()
	return e.eventsAt(room, seat, "", body)
}

// eventsAt posts a batch as the island does once its page shows the roster
// at version base ("" before the first answer).
func (e *testEnv) eventsAt(room, seat, base, body string) (*http.Response, string) {
	e.t.Helper()
	header := []string{"Content-Type", "application/json", "Accept", "text/html", "HX-Request", "true", "X-Seat", seat}
	if base != "" {
		header = append(header, "X-Roster-Base", base)
	}
	return e.do(http.MethodPost, "/rooms/"+room+"/events", strings.NewReader(body), header...)
}

func batch(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../roster/testdata/batches/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEventsRenderTheRoster(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openHosting)
	seat := joined(t, e, "Main_Office")
	resp, body := e.events("Main_Office", seat, batch(t, "room-joined.json"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("got %d %q, want 200", resp.StatusCode, body)
	}
	doc := parse(t, body)
	members := testid(doc, "member")
	if members.Length() != 2 {
		t.Fatalf("got %d members, want 2 people (the screen share is not a person)", members.Length())
	}
	if got := testid(doc, "roster-count").Text(); got != "2" {
		t.Errorf("got count %q, want 2", got)
	}
	first := members.First()
	if name := first.Find(`[data-testid="member-name"]`).Text(); name != "Bob" {
		t.Errorf("got %q first, want Bob whose hand is up", name)
	}
	if v, _ := first.Attr("data-audio-muted"); v != "true" {
		t.Errorf("got data-audio-muted %q, want true", v)
	}
	alice := doc.Find(`[data-member-id="7b5c1a36-3f0e-4d0b-9a51-0c6a1d1e2f01"]`)
	if alice.Find(`[data-testid="member-you"]`).Length() != 1 {
		t.Errorf("got no you marker on the viewer's own row")
	}
	if alice.Find(`[data-action]`).Length() != 0 {
		t.Errorf("got controls on the host's own row")
	}
	if alice.Find(`[data-testid="member-device"][data-type="screen"]`).Length() != 1 {
		t.Errorf("got no screen share under its owner")
	}
	for _, action := range []string{"video-mute", "remove", "remove-block", "lower-hand"} {
		if first.Find(`[data-action="`+action+`"]`).Length() != 1 {
			t.Errorf("got no %s button on Bob's row", action)
		}
	}
	// Bob has no page on this server (nothing could ask him): no unmute button.
	if n := first.Find(`[data-action="ask-unmute"], [data-action="audio-unmute"]`).Length(); n != 0 {
		t.Errorf("got %d unmute buttons on the row of a member without a page here, want 0", n)
	}
	if testid(doc, "mute-all").Length() != 1 {
		t.Errorf("got no room controls for the moderator")
	}
	if resp.Header.Get("X-Roster-Snapshot") != "" {
		t.Errorf("got a snapshot request after a snapshot")
	}
	if resp.Header.Get("X-Roster-Render") != "full" || resp.Header.Get("X-Roster-Version") == "" {
		t.Errorf("got render %q version %q, want full and a version", resp.Header.Get("X-Roster-Render"), resp.Header.Get("X-Roster-Version"))
	}
	for _, id := range []string{"roster-list", "roster-count", "room-state", "room-controls", views.RowID("9e2d4c11-8a7b-4f3e-b2c1-5d6e7f8a9b02")} {
		if doc.Find("#"+id).Length() != 1 {
			t.Errorf("got no #%s for out-of-band swaps", id)
		}
	}
}

func TestEventsWithoutSnapshotAskForOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openHosting)
	seat := joined(t, e, "Main_Office")
	resp, _ := e.events("Main_Office", seat, batch(t, "member-joined.json"))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Roster-Snapshot") != "needed" {
		t.Errorf("got %d with X-Roster-Snapshot %q, want 200 asking for a snapshot", resp.StatusCode, resp.Header.Get("X-Roster-Snapshot"))
	}
}

func TestBadEventPosts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openHosting)
	seat := joined(t, e, "Main_Office")
	if resp, _ := e.events("Main_Office", seat, batch(t, "room-joined.json")); resp.StatusCode != 200 {
		t.Fatalf("got %d for the snapshot", resp.StatusCode)
	}
	_, before := e.events("Main_Office", seat, `{"epoch":"k3J9xQ2mPz","events":[]}`)

	tests := []struct {
		name   string
		room   string
		seat   string
		body   string
		status int
	}{
		{"malformed JSON", "Main_Office", seat, `{"events":[`, 400},
		{"an event of the wrong shape", "Main_Office", seat, `{"epoch":"x","events":[{"seq":"one","name":"member.left","data":{}}]}`, 400},
		{"a camelCase member key", "Main_Office", seat, `{"epoch":"k3J9xQ2mPz","events":[{"seq":2,"name":"member.updated","data":{"member":{"id":"9e2d4c11-8a7b-4f3e-b2c1-5d6e7f8a9b02","audioMuted":true}}}]}`, 400},
		{"the SDK's room_session", "Main_Office", seat, `{"epoch":"k3J9xQ2mPz","events":[{"seq":2,"name":"room.joined","data":{"member_id":"a","room_session":{}}}]}`, 400},
		{"an oversized body", "Main_Office", seat, `{"epoch":"x","events":[],"pad":"` + strings.Repeat("x", 300<<10) + `"}`, 413},
		{"no seat", "Main_Office", "", batch(t, "member-left.json"), 403},
		{"a forged seat", "Main_Office", strings.Replace(seat, "moderator", "guest", 1), batch(t, "member-left.json"), 403},
		{"a seat of another room", "Other", seat, batch(t, "member-left.json"), 403},
	}
	for _, tt := range tests {
		t.Run(tt.name+" answers "+http.StatusText(tt.status), func(t *testing.T) {
			resp, _ := e.events(tt.room, tt.seat, tt.body)
			if resp.StatusCode != tt.status {
				t.Errorf("got %d, want %d", resp.StatusCode, tt.status)
			}
		})
	}
	_, after := e.events("Main_Office", seat, `{"epoch":"k3J9xQ2mPz","events":[]}`)
	if before != after {
		t.Errorf("bad posts changed the roster:\nbefore %s\nafter  %s", before, after)
	}
}

func TestGuestRosterIsReadOnly(t *testing.T) {
	t.Parallel()
	host := newEnv(t, openHosting)
	inv := guestInvite(t, host, "Main_Office")
	guest := host.another()
	guest.get("/guest?" + inv.Encode())
	_, a := guest.token("Main_Office", map[string]any{"user": "gus", "invite": inviteBody(inv)})
	_, body := guest.events("Main_Office", a.Seat, batch(t, "room-joined.json"))
	doc := parse(t, body)
	if testid(doc, "member").Length() != 2 {
		t.Fatalf("got %d members, want 2", testid(doc, "member").Length())
	}
	if n := doc.Find("[data-action]").Length(); n != 0 {
		t.Errorf("got %d controls on a guest's roster, want none", n)
	}
}

func TestLiveRoomsCostOneCallPerInterval(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openHosting, func(c *handlers.Config) { c.LiveRoomsInterval = time.Hour })
	e.host("Live", "Ann")
	e.fake.SeedRoomSession(swtest.RoomSession{Name: "Live", DisplayName: "Live", Status: "in-progress", StartTime: time.Now().Add(-75 * time.Minute)})
	for i := 0; i < 5; i++ {
		_, doc := e.get("/rooms/live", "HX-Request", "true")
		if got, _ := testid(doc, "live-room").Attr("data-room"); got != "Live" {
			t.Fatalf("got live room %q, want Live", got)
		}
		if got := testid(doc, "live-since").Text(); got != "live for 1 h 15 min" {
			t.Errorf("got %q, want live for 1 h 15 min", got)
		}
	}
	if n := len(e.fake.CallsTo("GET", "/api/video/room_sessions")); n != 1 {
		t.Errorf("got %d list calls for 5 refreshes, want 1", n)
	}
	stranger := e.another()
	if resp, _ := stranger.get("/rooms/live"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("got %d for a non-host, want 403", resp.StatusCode)
	}
}

// uuidOf makes a SignalWire-shaped member id.
func uuidOf(i int) string { return fmt.Sprintf("%08x-3f0e-4d0b-9a51-0c6a1d1e2f01", i) }

// roomOf is a room.joined for n members with SignalWire-sized ids and
// names of 100 characters; member 0 is the viewer.
func roomOf(n int) string {
	members := make([]string, n)
	for i := range members {
		name := fmt.Sprintf("%03d %s", i, strings.Repeat("W", roster.MaxNameRunes-4))
		members[i] = fmt.Sprintf(`{"id":%q,"name":%q,"type":"member","audio_muted":%t,"video_muted":false,"deaf":false,"visible":true,"handraised":false,"talking":false}`,
			uuidOf(i), name, i%2 == 0)
	}
	return fmt.Sprintf(`{"epoch":"e1","events":[{"seq":1,"name":"room.joined","data":{"member_id":%q,"room":{"layout_name":"grid-responsive"},"members":[%s]}}]}`,
		uuidOf(0), strings.Join(members, ","))
}

// one is a batch of one event.
func one(seq int, name, data string) string {
	return fmt.Sprintf(`{"epoch":"e1","events":[{"seq":%d,"name":%q,"data":%s}]}`, seq, name, data)
}

func TestEventsAnswerOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openHosting)
	seat := joined(t, e, "Main_Office")
	resp, _ := e.events("Main_Office", seat, roomOf(4))
	v0 := resp.Header.Get("X-Roster-Version")
	if resp.Header.Get("X-Roster-Render") != "full" || v0 == "" {
		t.Fatalf("got render %q version %q for the first list, want full", resp.Header.Get("X-Roster-Render"), v0)
	}

	// Member 3 raises a hand: its row moves to the top, nothing else changes.
	resp, body := e.eventsAt("Main_Office", seat, v0, one(2, "member.updated", fmt.Sprintf(`{"member":{"id":%q,"handraised":true}}`, uuidOf(3))))
	v1 := resp.Header.Get("X-Roster-Version")
	if resp.StatusCode != 200 || resp.Header.Get("X-Roster-Render") != "delta" || v1 == v0 {
		t.Fatalf("got %d render %q version %q after %q, want a delta and a new version", resp.StatusCode, resp.Header.Get("X-Roster-Render"), v1, v0)
	}
	doc := parse(t, body)
	row3, row0 := views.RowID(uuidOf(3)), views.RowID(uuidOf(0))
	if got := doc.Find("[hx-swap-oob]").Length(); got != 2 {
		t.Errorf("got %d out-of-band elements, want a delete and an insert:\n%s", got, body)
	}
	if doc.Find(`li#`+row3+`[hx-swap-oob="delete"]`).Length() != 1 {
		t.Errorf("got no delete of the moved row:\n%s", body)
	}
	ins := doc.Find(`ul[hx-swap-oob="beforebegin:#` + row0 + `"]`)
	if ins.Find(`li#`+row3+`[data-testid="member"][data-hand-raised="true"]`).Length() != 1 {
		t.Errorf("got no insert of the moved row before the first row:\n%s", body)
	}
	if ins.Find(`[data-action="lower-hand"]`).Length() != 1 {
		t.Errorf("got no moderator controls in the inserted row")
	}

	// A talking flip replaces one row in place; a lock swaps room state and controls.
	resp, body = e.eventsAt("Main_Office", seat, v1, `{"epoch":"e1","events":[`+
		fmt.Sprintf(`{"seq":3,"name":"member.talking","data":{"member":{"id":%q,"talking":true}}},`, uuidOf(1))+
		`{"seq":4,"name":"room.updated","data":{"room":{"locked":true}}}]}`)
	doc = parse(t, body)
	if resp.Header.Get("X-Roster-Render") != "delta" {
		t.Fatalf("got render %q, want delta", resp.Header.Get("X-Roster-Render"))
	}
	if doc.Find(`li#`+views.RowID(uuidOf(1))+`[hx-swap-oob="true"][data-talking="true"]`).Length() != 1 {
		t.Errorf("got no replaced row:\n%s", body)
	}
	if doc.Find(`#room-state[hx-swap-oob="true"] [data-testid="locked-indicator"]`).Length() != 1 ||
		doc.Find(`#room-controls[hx-swap-oob="true"] [data-action="unlock"]`).Length() != 1 {
		t.Errorf("got no room state and controls:\n%s", body)
	}
	if doc.Find("#roster-count").Length() != 0 {
		t.Errorf("got the count, which did not change")
	}
	v2 := resp.Header.Get("X-Roster-Version")

	// A leave deletes the row and swaps the count.
	resp, body = e.eventsAt("Main_Office", seat, v2, one(5, "member.left", fmt.Sprintf(`{"member":{"id":%q}}`, uuidOf(2))))
	doc = parse(t, body)
	if doc.Find(`li#`+views.RowID(uuidOf(2))+`[hx-swap-oob="delete"]`).Length() != 1 || doc.Find(`#roster-count[hx-swap-oob="true"]`).Text() != "3" {
		t.Errorf("got no delete and count 3:\n%s", body)
	}
	v3 := resp.Header.Get("X-Roster-Version")

	// A replay changes nothing: 204, nothing rendered, the same version.
	resp, body = e.eventsAt("Main_Office", seat, v3, one(5, "member.left", fmt.Sprintf(`{"member":{"id":%q}}`, uuidOf(2))))
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("X-Roster-Version") != v3 || body != "" {
		t.Errorf("got %d version %q body %q for a replay, want 204 at %s", resp.StatusCode, resp.Header.Get("X-Roster-Version"), body, v3)
	}
}

func TestEventsAnswerInFullWhenTheBaseIsNotTheSeats(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openHosting)
	seat := joined(t, e, "Main_Office")
	resp, _ := e.events("Main_Office", seat, roomOf(3))
	v := resp.Header.Get("X-Roster-Version")
	talk := func(seq int) string {
		return one(seq, "member.talking", fmt.Sprintf(`{"member":{"id":%q,"talking":%t}}`, uuidOf(1), seq%2 == 0))
	}
	tests := []struct {
		name, base, body string
	}{
		{"no base", "", talk(2)},
		{"an older base (an answer the page missed)", v, talk(3)},
		{"a base from another server", "12345", talk(4)},
		{"a member list, even on the right base", "", ""},
	}
	for _, tt := range tests {
		base, body := tt.base, tt.body
		if body == "" {
			resp, _ := e.events("Main_Office", seat, talk(5))
			base = resp.Header.Get("X-Roster-Version")
			body = one(6, "members.snapshot", fmt.Sprintf(`{"members":[{"id":%q}]}`, uuidOf(0)))
		}
		resp, html := e.eventsAt("Main_Office", seat, base, body)
		if got := resp.Header.Get("X-Roster-Render"); got != "full" || testid(parse(t, html), "roster").Length() != 1 {
			t.Errorf("%s: got render %q, want the full panel", tt.name, got)
		}
	}
}

// TestOneChangeInAFullRoomAnswersUnder8KB: in a room of 300 (SignalWire's
// largest) with names of 100 characters, the answer to one member's change
// that moves a moderator's row (the biggest row there is) stays under 8 KB,
// and the post under 2 KB.
func TestOneChangeInAFullRoomAnswersUnder8KB(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openHosting)
	seat := joined(t, e, "Main_Office")
	resp, full := e.events("Main_Office", seat, roomOf(300))
	if resp.StatusCode != 200 || resp.Header.Get("X-Roster-Render") != "full" {
		t.Fatalf("got %d render %q", resp.StatusCode, resp.Header.Get("X-Roster-Render"))
	}
	row, _ := goquery.OuterHtml(parse(t, full).Find("li#" + views.RowID(uuidOf(299))))
	base := resp.Header.Get("X-Roster-Version")
	post := one(2, "member.updated", fmt.Sprintf(`{"member":{"id":%q,"handraised":true}}`, uuidOf(299)))
	resp, body := e.eventsAt("Main_Office", seat, base, post)
	if resp.Header.Get("X-Roster-Render") != "delta" {
		t.Fatalf("got render %q, want delta", resp.Header.Get("X-Roster-Render"))
	}
	t.Logf("300 members: full answer %d bytes, a moderator's row %d bytes, post %d bytes, delta answer %d bytes", len(full), len(row), len(post), len(body))
	if len(body) >= 8<<10 || len(post) >= 2<<10 {
		t.Errorf("got a %d-byte answer to a %d-byte post, want under 8 KB and 2 KB", len(body), len(post))
	}
}

func TestForcedUnmuteButtonsOnlyWhenConfigured(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openHosting, func(c *handlers.Config) { c.ModeratorCanUnmute = true })
	seat := joined(t, e, "Main_Office")
	_, body := e.events("Main_Office", seat, batch(t, "room-joined.json"))
	bob := parse(t, body).Find(`[data-member-id="9e2d4c11-8a7b-4f3e-b2c1-5d6e7f8a9b02"]`)
	if bob.Find(`[data-action="audio-unmute"]`).Length() != 1 || bob.Find(`[data-action="ask-unmute"]`).Length() != 0 {
		t.Errorf("MODERATOR_CAN_UNMUTE: got no forced unmute button on Bob's row (muted)")
	}
}
