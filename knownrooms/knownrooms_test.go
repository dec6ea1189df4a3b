package knownrooms_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/swrooms/swrooms/internal/fakeclock"
	"github.com/swrooms/swrooms/internal/redistest"
	"github.com/swrooms/swrooms/knownrooms"
	"github.com/swrooms/swrooms/roomstate"
)

// store is what the handlers use of known rooms.
type store interface {
	Known(ctx context.Context, room string) (bool, error)
	Add(ctx context.Context, room string) error
	Forget(ctx context.Context, room string) error
}

var (
	_ store = (*knownrooms.Memory)(nil)
	_ store = (*knownrooms.Redis)(nil)
)

// newStore makes a store whose rooms are trusted for ttl, and a way to
// move its time forward (the fake clock, or the real time Redis follows).
type newStore func(t *testing.T, ttl time.Duration) (store, func(time.Duration))

func TestMemory(t *testing.T) {
	t.Parallel()
	testContract(t, func(t *testing.T, ttl time.Duration) (store, func(time.Duration)) {
		clock := fakeclock.New(time.Now())
		return knownrooms.NewMemory(ttl, 100, clock.Now), clock.Advance
	})
}

func TestRedis(t *testing.T) {
	t.Parallel()
	testContract(t, func(t *testing.T, ttl time.Duration) (store, func(time.Duration)) {
		return knownrooms.NewRedis(redistest.Start(t).Open(t), ttl), time.Sleep
	})
}

func testContract(t *testing.T, newStore newStore) {
	ctx := context.Background()
	known := func(t *testing.T, s store, room string) bool {
		t.Helper()
		ok, err := s.Known(ctx, room)
		if err != nil {
			t.Fatalf("Known(%q): %v", room, err)
		}
		return ok
	}
	must := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	t.Run("a room added is known, others are not", func(t *testing.T) {
		t.Parallel()
		s, _ := newStore(t, time.Hour)
		if known(t, s, "Main_Office") {
			t.Fatal("a room never added is known")
		}
		must(t, s.Add(ctx, "Main_Office"))
		if !known(t, s, "Main_Office") {
			t.Error("a room just added is not known")
		}
		if known(t, s, "main_office") {
			t.Error("room names are case-sensitive, but main_office is known")
		}
	})

	t.Run("a forgotten room is not known", func(t *testing.T) {
		t.Parallel()
		s, _ := newStore(t, time.Hour)
		must(t, s.Add(ctx, "Gone"))
		must(t, s.Forget(ctx, "Gone"))
		if known(t, s, "Gone") {
			t.Error("a forgotten room is still known")
		}
		must(t, s.Forget(ctx, "Never added"))
	})

	t.Run("a room is known for the TTL, then not", func(t *testing.T) {
		t.Parallel()
		s, advance := newStore(t, time.Second)
		must(t, s.Add(ctx, "Brief"))
		if !known(t, s, "Brief") {
			t.Fatal("a room just added is not known")
		}
		advance(1100 * time.Millisecond)
		if known(t, s, "Brief") {
			t.Error("a room is still known past its TTL")
		}
	})

	t.Run("adding again renews the TTL", func(t *testing.T) {
		t.Parallel()
		s, advance := newStore(t, 2*time.Second)
		must(t, s.Add(ctx, "Again"))
		advance(1200 * time.Millisecond)
		must(t, s.Add(ctx, "Again"))
		advance(1200 * time.Millisecond)
		if !known(t, s, "Again") {
			t.Error("a room added again 1.2 s ago with a TTL of 2 s is not known")
		}
	})
}

func TestMemoryForgetsTheLeastRecentlyUsedPastItsSize(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := knownrooms.NewMemory(time.Hour, 2, nil)
	for _, room := range []string{"A", "B", "C"} {
		if err := s.Add(ctx, room); err != nil {
			t.Fatal(err)
		}
	}
	if ok, _ := s.Known(ctx, "A"); ok {
		t.Error("A is known after two more rooms in a store of 2")
	}
	if ok, _ := s.Known(ctx, "C"); !ok {
		t.Error("C, the last room added, is not known")
	}
}

// The key is swr:known:<room> and expires with the TTL (EX 3600 for an
// hour).
func TestRedisKeyIsNamedAndExpires(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	rdb := srv.Open(t)
	ctx := context.Background()
	if err := knownrooms.NewRedis(rdb, time.Hour).Add(ctx, "Main_Office"); err != nil {
		t.Fatal(err)
	}
	ttl, err := rdb.TTL(ctx, "swr:known:Main_Office").Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("got TTL %v for swr:known:Main_Office, want about an hour", ttl)
	}
}

// Redis stopped: every method says shared state is unavailable; Redis
// back (empty): the store works again without a new client.
func TestRedisDownIsUnavailableAndRecovers(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	s := knownrooms.NewRedis(srv.Open(t), time.Hour)
	ctx := context.Background()
	srv.Stop()
	var u interface{ Unavailable() bool }
	if ok, err := s.Known(ctx, "R"); !errors.As(err, &u) || ok {
		t.Errorf("Known with Redis down: got %v %v, want false and an unavailable error", ok, err)
	}
	if err := s.Add(ctx, "R"); !errors.As(err, &u) {
		t.Errorf("Add with Redis down: got %v, want an unavailable error", err)
	}
	if err := s.Forget(ctx, "R"); !errors.As(err, &u) {
		t.Errorf("Forget with Redis down: got %v, want an unavailable error", err)
	}
	srv.Restart()
	if err := s.Add(ctx, "R"); err != nil {
		t.Fatalf("Add after Redis came back: %v", err)
	}
	if ok, err := s.Known(ctx, "R"); err != nil || !ok {
		t.Errorf("Known after Redis came back: got %v %v, want true", ok, err)
	}
}

// TestRedisKeysStayApartFromTheRoomsLiveState: the rooms' live state
// (roomstate) shares the Redis, under "swr:room:{<room>}:<part>". Whatever
// a room's name, adding it to the known rooms must not write one of those
// keys: a string there breaks the room's chat (WRONGTYPE, after the
// script already counted the message) and the lobby gauge's scan.
func TestRedisKeysStayApartFromTheRoomsLiveState(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	rdb := srv.Open(t)
	ctx := context.Background()
	rooms := roomstate.NewRedis(rdb, roomstate.Limits{}, roomstate.TTLs{})
	post := roomstate.Post{Seat: "s", Role: roomstate.RoleModerator, Fallback: "Host", Text: "hello", At: time.Now()}
	if _, err := rooms.Chat(ctx, "R", post); err != nil {
		t.Fatal(err)
	}
	known := knownrooms.NewRedis(rdb, time.Hour)
	for _, part := range []string{"state", "invite", "entries", "waiting", "decided", "leases", "blocked", "seats", "members", "revoked", "chat", "chatseq"} {
		if err := known.Add(ctx, "{R}:"+part); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := rooms.Chat(ctx, "R", post); err != nil {
		t.Errorf("chat in R after known rooms were added: %v", err)
	}
	if h, err := rooms.ChatHistory(ctx, "R"); err != nil || len(h) != 2 {
		t.Errorf("R's chat history: got %d messages, %v; want 2", len(h), err)
	}
	if _, err := rooms.WaitingGuests(ctx); err != nil {
		t.Errorf("waiting guests: %v", err)
	}
	if ok, err := known.Known(ctx, "{R}:chat"); err != nil || !ok {
		t.Errorf("Known({R}:chat) = %v, %v; want true", ok, err)
	}
}

func TestRedisRefusesATTLThatNeverExpires(t *testing.T) {
	t.Parallel()
	for _, ttl := range []time.Duration{0, -time.Second, time.Microsecond} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewRedis with TTL %v: no panic", ttl)
				}
			}()
			knownrooms.NewRedis(nil, ttl)
		}()
	}
}
