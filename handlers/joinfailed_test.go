package handlers_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/swrooms/swrooms/signalwire/swtest"
)

// forget deletes room on the fake, as someone on SignalWire's dashboard
// would, while the app still remembers it.
func (e *testEnv) forget(room string) {
	e.t.Helper()
	for _, r := range e.fake.Rooms() {
		if r.Name != room {
			continue
		}
		req := httptest.NewRequest(http.MethodDelete, swtest.APIRoot+"/rooms/"+r.ID, nil)
		req.SetBasicAuth(projectKey, apiToken)
		w := httptest.NewRecorder()
		e.fake.ServeHTTP(w, req)
		if w.Code != http.StatusNoContent {
			e.t.Fatalf("DELETE room %s: got %d", room, w.Code)
		}
		return
	}
	e.t.Fatalf("the fake has no room %s", room)
}

func (e *testEnv) joinFailed(room, seat string) (*http.Response, map[string]string) {
	e.t.Helper()
	resp, body := e.do(http.MethodPost, "/rooms/"+room+"/join-failed", strings.NewReader(`{"code":"404","message":"Room not found"}`),
		"Content-Type", "application/json", "Accept", "application/json", "X-Seat", seat)
	var a map[string]string
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal([]byte(body), &a); err != nil {
			e.t.Fatalf("join-failed answer %q: %v", body, err)
		}
	}
	return resp, a
}

func TestJoinFailedForAForgottenRoom(t *testing.T) {
	e := newEnv(t)
	inv := guestInvite(t, e, "standup")
	hostSeat := func() string {
		_, a := e.token("standup", map[string]any{"user": "Host"})
		return a.Seat
	}()
	guest := e.another()
	_, g := guest.token("standup", map[string]any{"user": "Ada", "invite": inviteBody(inv)})
	if g.Seat == "" {
		t.Fatalf("guest got no seat: %s", g.Error)
	}

	// The room exists: the failure was something else, and nothing is made.
	e.fake.ResetCalls()
	resp, a := guest.joinFailed("standup", g.Seat)
	if resp.StatusCode != http.StatusOK || a["action"] != "retry" {
		t.Fatalf("room exists: got %d %v, want 200 retry", resp.StatusCode, a)
	}
	if n := len(e.fake.CallsTo(http.MethodPost, "/rooms")); n != 0 {
		t.Fatalf("room exists: %d POST /rooms, want 0", n)
	}
	if n := len(e.fake.CallsTo(http.MethodGet, "/rooms/standup")); n != 1 {
		t.Fatalf("room exists: %d GET /rooms/standup, want 1", n)
	}

	e.forget("standup")
	// A guest may not create rooms: it is sent to the page that says so.
	resp, a = guest.joinFailed("standup", g.Seat)
	if resp.StatusCode != http.StatusOK || a["action"] != "gone" || a["location"] != "/rooms/standup/gone" {
		t.Fatalf("guest: got %d %v, want 200 gone /rooms/standup/gone", resp.StatusCode, a)
	}
	resp, doc := guest.get(a["location"])
	if resp.StatusCode != http.StatusGone || !strings.Contains(testid(doc, "error-message").Text(), "Ask the host") {
		t.Fatalf("gone page: got %d %q", resp.StatusCode, testid(doc, "error-message").Text())
	}
	if n := len(e.fake.Rooms()); n != 0 {
		t.Fatalf("a guest's report created a room: %d rooms", n)
	}

	// The host's page creates it again and rejoins.
	resp, a = e.joinFailed("standup", hostSeat)
	if resp.StatusCode != http.StatusOK || a["action"] != "rejoin" {
		t.Fatalf("host: got %d %v, want 200 rejoin", resp.StatusCode, a)
	}
	if rooms := e.fake.Rooms(); len(rooms) != 1 || rooms[0].Name != "standup" {
		t.Fatalf("after the host's report: rooms %+v, want standup again", rooms)
	}
	// The next host of the room is served from the refreshed cache.
	e.fake.ResetCalls()
	e.host("standup", "Host")
	if n := len(e.fake.Calls()); n != 0 {
		t.Fatalf("hosting again after re-creation: %d SignalWire calls, want 0", n)
	}
}

func TestJoinFailedNeedsTheRoomsSeat(t *testing.T) {
	e := newEnv(t)
	seat := joined(t, e, "standup")
	e.host("other", "alice")
	for name, tc := range map[string]struct{ room, seat string }{
		"no seat":         {"standup", ""},
		"forged seat":     {"standup", flipFirst(seat)},
		"another room":    {"other", seat},
		"bad room syntax": {"no%20such", seat},
	} {
		resp, _ := e.joinFailed(tc.room, tc.seat)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: got %d, want 403", name, resp.StatusCode)
		}
	}
}
