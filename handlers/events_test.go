package handlers_test

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/swrooms/swrooms/handlers"
	"github.com/swrooms/swrooms/signalwire/swtest"
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
	return e.do(http.MethodPost, "/rooms/"+room+"/events", strings.NewReader(body),
		"Content-Type", "application/json", "Accept", "text/html", "HX-Request", "true", "X-Seat", seat)
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
	for _, action := range []string{"audio-unmute", "video-mute", "remove", "lower-hand"} {
		if first.Find(`[data-action="`+action+`"]`).Length() != 1 {
			t.Errorf("got no %s button on Bob's row", action)
		}
	}
	if testid(doc, "mute-all").Length() != 1 {
		t.Errorf("got no room controls for the moderator")
	}
	if resp.Header.Get("X-Roster-Snapshot") != "" {
		t.Errorf("got a snapshot request after a snapshot")
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
