package signalwire_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/swrooms/swrooms/signalwire"
	"github.com/swrooms/swrooms/signalwire/swtest"
)

func TestObserverSeesEveryAttemptByEndpointName(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t)
	var mu sync.Mutex
	var got []string
	c := newClient(t, srv.URL, signalwire.WithObserver(func(endpoint string, status int, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		if d < 0 {
			t.Errorf("%s: negative duration %v", endpoint, d)
		}
		got = append(got, fmt.Sprintf("%s %d", endpoint, status))
	}))
	ctx := t.Context()
	if _, err := seen2(c.CreateRoom(ctx, signalwire.CreateRoomParams{Name: "Main_Office"})); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetRoom(ctx, "No_Such_Room"); err == nil {
		t.Fatal("GetRoom of a missing room: got no error")
	}
	f.Fail("POST", "/room_tokens", swtest.Fault{Status: 503, Count: 1})
	if _, err := seen2(c.CreateRoomToken(ctx, signalwire.RoomTokenParams{RoomName: "Main_Office", UserName: "Alice"})); err != nil {
		t.Fatal(err)
	}
	if _, err := seen2(c.ListRooms(ctx, signalwire.ListParams{})); err != nil {
		t.Fatal(err)
	}
	if _, err := seen2(c.ListRoomSessions(ctx, signalwire.ListRoomSessionsParams{RoomName: "Main_Office"})); err != nil {
		t.Fatal(err)
	}
	if _, err := seen2(c.ListRoomSessionMembers(ctx, "a-session-id")); err != nil && !signalwire.IsNotFound(err) {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{
		"create_room 200", "get_room 404",
		"room_token 503", "room_token 200", // the retry is a request of its own
		"list_rooms 200", "list_room_sessions 200",
	}
	if len(got) < len(want) || !slices.Equal(got[:len(want)], want) {
		t.Fatalf("got %q, want %q then the members call", got, want)
	}
	if rest := got[len(want):]; len(rest) != 1 || (rest[0] != "list_session_members 200" && rest[0] != "list_session_members 404") {
		t.Errorf("members call: got %q, want one list_session_members", rest)
	}
}

func TestObserverSeesNoAnswerAsStatusZero(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t)
	f.Fail("GET", "/rooms", swtest.Fault{Hangup: true})
	var statuses []int
	var mu sync.Mutex
	c := newClient(t, srv.URL, signalwire.WithRetry(1, 0, 0), signalwire.WithObserver(func(endpoint string, status int, _ time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		if endpoint != "get_room" {
			t.Errorf("endpoint: got %q, want get_room", endpoint)
		}
		statuses = append(statuses, status)
	}))
	if _, err := seen2(c.GetRoom(t.Context(), "Main_Office")); err == nil {
		t.Fatal("got no error from a hung-up request")
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(statuses, []int{0}) {
		t.Errorf("got statuses %v, want [0]", statuses)
	}
}

func seen2[T any](v T, err error) (T, error) { return v, seen(err) }
