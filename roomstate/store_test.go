package roomstate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swrooms/swrooms/internal/redistest"
	"github.com/swrooms/swrooms/roomstate"
)

func TestMemory(t *testing.T) {
	t.Parallel()
	runContract(t, func(t *testing.T, lim roomstate.Limits) store { return roomstate.NewMemory(lim) })
}

func TestRedis(t *testing.T) {
	t.Parallel()
	c := redistest.Start(t).Open(t)
	runContract(t, func(t *testing.T, lim roomstate.Limits) store { return roomstate.NewRedis(c, lim, roomstate.TTLs{}) })
}

func TestMemoryForgetsTheLeastRecentlyUsedRooms(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := roomstate.NewMemory(roomstate.Limits{Rooms: 2})
	for _, room := range []string{"A", "B", "C"} {
		if _, _, _, err := s.NewInvite(ctx, room, t0); err != nil {
			t.Fatal(err)
		}
	}
	if v, _ := s.InviteVersion(ctx, "A"); v != 0 {
		t.Errorf("A past the limit: got version %d, want forgotten", v)
	}
	if v, _ := s.InviteVersion(ctx, "C"); v != 1 {
		t.Errorf("C: got version %d, want 1", v)
	}
}

// TestRedisKeysExpireAndStayBounded fills a room as a call does and checks
// that every key it wrote has an expiry no longer than the one its kind
// is documented with.
func TestRedisKeysExpireAndStayBounded(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	c := srv.Open(t)
	ctx := context.Background()
	ttl := roomstate.TTLs{Invite: time.Hour, Seat: 2 * time.Hour, Decision: 3 * time.Hour, Room: 4 * time.Hour}
	s := roomstate.NewRedis(c, roomstate.Limits{Chat: 2}, ttl)
	now := time.Now()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.SetLobby(ctx, "K", true))
	_, err := s.Knock(ctx, "K", roomstate.Knock{ID: "e1", Name: "Ann", NameKey: "ann", GuestID: "g1", Since: now, Now: now, Grace: 10 * time.Second})
	must(err)
	_, err = s.Knock(ctx, "K", roomstate.Knock{ID: "e2", Name: "Bob", NameKey: "bob", GuestID: "g2", Since: now, Now: now, Grace: 10 * time.Second})
	must(err)
	_, err = s.Lease(ctx, "K", roomstate.Lease{Kind: roomstate.LeaseLobby, ID: "e1", Stream: "x", Until: now.Add(25 * time.Second)}, now)
	must(err)
	_, err = s.Lease(ctx, "K", roomstate.Lease{Kind: roomstate.LeaseModerator, ID: "h", Stream: "y", Until: now.Add(25 * time.Second)}, now)
	must(err)
	_, _, err = s.Decide(ctx, "K", "e2", roomstate.Admitted, now)
	must(err)
	must(s.TakeSeat(ctx, "K", "s1", roomstate.Seat{Name: "Ann", Role: roomstate.RoleGuest, GuestID: "g1", NameKey: "ann"}))
	_, err = s.SeatIsMember(ctx, "K", "s1", "m1")
	must(err)
	must(s.TakeSeat(ctx, "K", "s2", roomstate.Seat{Name: "Bo", Role: roomstate.RoleGuest, GuestID: "g2", NameKey: "bo"}))
	_, err = s.SeatIsMember(ctx, "K", "s2", "m1") // refused: s2 becomes m1's rival
	must(err)
	_, err = s.Block(ctx, "K", roomstate.Block{GuestID: "g1", NameKey: "ann", Seat: "s1", Now: now})
	must(err)
	_, _, _, err = s.NewInvite(ctx, "K", now)
	must(err)
	_, err = s.Knock(ctx, "K", roomstate.Knock{ID: "e3", Name: "Cy", NameKey: "cy", GuestID: "g3", V: 1, Since: now, Now: now, Grace: 10 * time.Second})
	must(err)
	for i := range 5 {
		_, err = s.Chat(ctx, "K", roomstate.Post{Seat: "h", Role: roomstate.RoleModerator, Fallback: "Host", Text: strings.Repeat("x", i), At: now})
		must(err)
	}
	// The invite version's expiry is renewed by reads, to the link's life.
	_, err = s.InviteVersion(ctx, "K")
	must(err)

	max := map[string]time.Duration{
		"state": ttl.Room, "invite": ttl.Invite, "entries": 25*time.Second + time.Minute, "waiting": 25*time.Second + time.Minute,
		"decided": ttl.Decision, "leases": 25 * time.Second, "blocked": ttl.Room, "seats": ttl.Seat, "members": ttl.Seat,
		"revoked": ttl.Seat, "chat": ttl.Room, "chatseq": ttl.Room, "rivals": ttl.Seat,
	}
	found, err := c.Keys(ctx, "*").Result()
	must(err)
	for _, k := range found {
		if !strings.HasPrefix(k, "swr:room:{K}:") {
			t.Errorf("key %q: want swr:room:{K}:<part>", k)
			continue
		}
		part := strings.TrimPrefix(k, "swr:room:{K}:")
		want, ok := max[part]
		d, err := c.PTTL(ctx, k).Result()
		must(err)
		switch {
		case !ok:
			t.Errorf("key %q is not documented", k)
		case d <= 0 || d > want:
			t.Errorf("key %q expires in %v, want within %v", k, d, want)
		}
		delete(max, part)
	}
	delete(max, "members") // the block removed the only member
	if len(max) != 0 {
		t.Errorf("keys never written: %v", max)
	}
	if n, _ := c.LLen(ctx, "swr:room:{K}:chat").Result(); n != 2 {
		t.Errorf("chat history: %d messages, want the limit, 2", n)
	}
}

// TestRedisSharedByInstances: two stores on one Redis are one room state.
func TestRedisSharedByInstances(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	a := roomstate.NewRedis(srv.Open(t), roomstate.Limits{}, roomstate.TTLs{})
	b := roomstate.NewRedis(srv.Open(t), roomstate.Limits{}, roomstate.TTLs{})
	ctx := context.Background()
	if _, err := a.Knock(ctx, "S", roomstate.Knock{ID: "e1", Name: "Ann", NameKey: "ann", GuestID: "g1", Since: t0, Now: t0, Grace: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Decide(ctx, "S", "e1", roomstate.Admitted, t0); err != nil {
		t.Fatalf("admit on the other instance: %v", err)
	}
	if st, _ := a.EntryState(ctx, "S", "e1", t0); st.Decision != roomstate.Admitted {
		t.Errorf("the first instance sees %+v, want admitted", st)
	}
}

// TestRedisDownIsUnavailable: with Redis stopped, every operation answers
// an error the handlers show as "shared state unavailable", and none
// panics; with Redis back, the store works again without a restart.
func TestRedisDownIsUnavailable(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	s := roomstate.NewRedis(srv.Open(t), roomstate.Limits{}, roomstate.TTLs{})
	ctx := context.Background()
	srv.Stop()
	ops := map[string]func() error{
		"SetLobby": func() error { return s.SetLobby(ctx, "D", true) },
		"Knock": func() error {
			_, err := s.Knock(ctx, "D", roomstate.Knock{ID: "e", Now: t0, Since: t0, Grace: time.Second})
			return err
		},
		"Lobby":      func() error { _, err := s.Lobby(ctx, "D", t0); return err },
		"Decide":     func() error { _, _, err := s.Decide(ctx, "D", "e", roomstate.Admitted, t0); return err },
		"AdmitAll":   func() error { _, _, err := s.AdmitAll(ctx, "D", true, t0); return err },
		"EntryState": func() error { _, err := s.EntryState(ctx, "D", "e", t0); return err },
		"Admission":  func() error { _, err := s.Admission(ctx, "D", "g", "k", "e"); return err },
		"Lease": func() error {
			_, err := s.Lease(ctx, "D", roomstate.Lease{Kind: roomstate.LeaseModerator, ID: "m", Stream: "s", Until: t0}, t0)
			return err
		},
		"EndLease": func() error {
			_, err := s.EndLease(ctx, "D", roomstate.Lease{Kind: roomstate.LeaseLobby, ID: "e", Stream: "s"}, t0)
			return err
		},
		"Sweep":         func() error { _, err := s.Sweep(ctx, "D", t0); return err },
		"Moderators":    func() error { _, err := s.Moderators(ctx, "D", t0); return err },
		"TakeSeat":      func() error { return s.TakeSeat(ctx, "D", "s", roomstate.Seat{}) },
		"Seat":          func() error { _, _, err := s.Seat(ctx, "D", "s"); return err },
		"SeatIsMember":  func() error { _, err := s.SeatIsMember(ctx, "D", "s", "m"); return err },
		"SeatLeft":      func() error { return s.SeatLeft(ctx, "D", "s") },
		"MemberSeat":    func() error { _, _, _, err := s.MemberSeat(ctx, "D", "m"); return err },
		"Members":       func() error { _, err := s.Members(ctx, "D"); return err },
		"Revoked":       func() error { _, err := s.Revoked(ctx, "D", "s"); return err },
		"RevokeMember":  func() error { _, err := s.RevokeMember(ctx, "D", "m", "", t0); return err },
		"Block":         func() error { _, err := s.Block(ctx, "D", roomstate.Block{GuestID: "g", Now: t0}); return err },
		"InviteVersion": func() error { _, err := s.InviteVersion(ctx, "D"); return err },
		"NewInvite":     func() error { _, _, _, err := s.NewInvite(ctx, "D", t0); return err },
		"Chat":          func() error { _, err := s.Chat(ctx, "D", roomstate.Post{Seat: "s", At: t0}); return err },
		"ChatHistory":   func() error { _, err := s.ChatHistory(ctx, "D"); return err },
	}
	// At once: each waits out the client's redials.
	var wg sync.WaitGroup
	for name, op := range ops {
		wg.Go(func() {
			var u interface{ Unavailable() bool }
			if err := op(); !errors.As(err, &u) || !u.Unavailable() {
				t.Errorf("%s with Redis down: got %v, want an unavailable error", name, err)
			}
		})
	}
	wg.Wait()
	srv.Restart()
	// go-redis answers the last dial error until its background redial
	// (once a second) succeeds.
	var res roomstate.KnockResult
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := s.SetLobby(ctx, "D", false)
		if err == nil {
			res, err = s.Knock(ctx, "D", roomstate.Knock{ID: "e", Now: t0, Since: t0, Grace: time.Second})
		}
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("with Redis back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if res.Outcome != roomstate.KnockAdmitted {
		t.Errorf("knock with Redis back: got %+v, want admitted (the lobby is off)", res)
	}
}

// TestWaitingGuestsCountsEveryRoom: the swrooms_lobby_waiting gauge
// counts the guests waiting in every room, on both stores.
func TestWaitingGuestsCountsEveryRoom(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	for name, s := range map[string]store{
		"memory": roomstate.NewMemory(roomstate.Limits{}),
		"redis":  roomstate.NewRedis(srv.Open(t), roomstate.Limits{}, roomstate.TTLs{}),
	} {
		ctx := context.Background()
		if n, err := s.WaitingGuests(ctx); err != nil || n != 0 {
			t.Fatalf("%s: empty store counts %d, %v; want 0", name, n, err)
		}
		for i, room := range []string{"A", "A", "B"} {
			id := fmt.Sprintf("e%d", i)
			if _, err := s.Knock(ctx, room, roomstate.Knock{ID: id, Name: id, NameKey: id, GuestID: "g" + id, Since: t0, Now: t0, Grace: time.Minute}); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := s.Decide(ctx, "A", "e0", roomstate.Admitted, t0); err != nil {
			t.Fatal(err)
		}
		if n, err := s.WaitingGuests(ctx); err != nil || n != 2 {
			t.Errorf("%s: counts %d, %v; want 2 waiting in two rooms", name, n, err)
		}
	}
}
