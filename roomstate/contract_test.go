package roomstate_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swrooms/swrooms/handlers"
	"github.com/swrooms/swrooms/roomstate"
)

// store is what both implementations offer: the handlers' interface.
type store = handlers.RoomStates

var (
	_ store = (*roomstate.Memory)(nil)
	_ store = (*roomstate.Redis)(nil)
)

// t0 is the contract's clock: times are given, never read.
var t0 = time.UnixMilli(1_700_000_000_000)

func at(d time.Duration) time.Time { return t0.Add(d) }

const grace = 10 * time.Second

// fixture is one store and room, with helpers that fail the test on an
// error.
type fixture struct {
	t    *testing.T
	s    store
	room string
	ctx  context.Context
}

func (f *fixture) knock(id, gid, name, addr string, now time.Time) roomstate.KnockResult {
	f.t.Helper()
	res, err := f.s.Knock(f.ctx, f.room, roomstate.Knock{ID: id, Name: name, NameKey: strings.ToLower(name), GuestID: gid, Addr: addr, PerAddress: 3, Since: now, Now: now, Grace: grace})
	if err != nil {
		f.t.Fatalf("knock %s: %v", id, err)
	}
	return res
}

func (f *fixture) waiting(now time.Time) []string {
	f.t.Helper()
	l, err := f.s.Lobby(f.ctx, f.room, now)
	if err != nil {
		f.t.Fatal(err)
	}
	var ids []string
	for _, e := range l.Waiting {
		ids = append(ids, e.ID)
	}
	return ids
}

func (f *fixture) sweep(now time.Time) roomstate.Change {
	f.t.Helper()
	ch, err := f.s.Sweep(f.ctx, f.room, now)
	if err != nil {
		f.t.Fatal(err)
	}
	return ch
}

func (f *fixture) lease(kind, id, stream string, now, until time.Time) roomstate.Change {
	f.t.Helper()
	ch, err := f.s.Lease(f.ctx, f.room, roomstate.Lease{Kind: kind, ID: id, Stream: stream, Until: until}, now)
	if err != nil {
		f.t.Fatal(err)
	}
	return ch
}

func (f *fixture) endLease(kind, id, stream string, now time.Time) roomstate.Change {
	f.t.Helper()
	ch, err := f.s.EndLease(f.ctx, f.room, roomstate.Lease{Kind: kind, ID: id, Stream: stream, Grace: grace}, now)
	if err != nil {
		f.t.Fatal(err)
	}
	return ch
}

func (f *fixture) state(id string, now time.Time) roomstate.EntryState {
	f.t.Helper()
	st, err := f.s.EntryState(f.ctx, f.room, id, now)
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

func (f *fixture) seat(id, name, role, gid string) {
	f.t.Helper()
	if err := f.s.TakeSeat(f.ctx, f.room, id, roomstate.Seat{Name: name, Role: role, GuestID: gid, NameKey: strings.ToLower(name)}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) member(id, member string) bool {
	f.t.Helper()
	news, err := f.s.SeatIsMember(f.ctx, f.room, id, member)
	if err != nil {
		f.t.Fatal(err)
	}
	return news
}

func (f *fixture) revoked(id string) bool {
	f.t.Helper()
	r, err := f.s.Revoked(f.ctx, f.room, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func (f *fixture) chat(seat, text string, now time.Time) (roomstate.Message, error) {
	return f.s.Chat(f.ctx, f.room, roomstate.Post{Seat: seat, Role: roomstate.RoleGuest, Fallback: "Guest", Text: text, At: now})
}

// runContract runs the contract against the stores open makes; each test
// gets a room of its own.
func runContract(t *testing.T, open func(t *testing.T, lim roomstate.Limits) store) {
	small := roomstate.Limits{Lobby: 4, Decided: 3, Blocked: 4, Seats: 4, Revoked: 2, Chat: 3, Leases: 3, HolderLeases: 2, Rivals: 2}
	for _, tc := range contract {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(&fixture{t: t, s: open(t, small), room: fmt.Sprintf("R%x", len(t.Name())) + strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()), ctx: context.Background()})
		})
	}
}

var contract = []struct {
	name string
	run  func(f *fixture)
}{
	{"one holder's many streams cannot push the host's presence out", func(f *fixture) {
		f.lease(roomstate.LeaseModerator, "m1", "s1", t0, at(20*time.Second))
		for i := range 6 {
			f.lease(roomstate.LeaseLobby, "e1", fmt.Sprintf("t%d", i), t0, at(25*time.Second))
		}
		mods, err := f.s.Moderators(f.ctx, f.room, at(time.Second))
		if err != nil || len(mods) != 1 || mods[0] != "m1" {
			f.t.Fatalf("moderators after one entry opened 6 streams: %v %v, want m1 still present", mods, err)
		}
	}},
	{"rooms are apart whatever their names", func(f *fixture) {
		names := []string{f.room, f.room + "}:chat", "{" + f.room + "}", "{" + f.room + "}:chat", f.room + ":chat", f.room + "*", f.room + "\n", f.room + "%3A"}
		for i, room := range names {
			g := &fixture{t: f.t, s: f.s, room: room, ctx: f.ctx}
			if _, err := g.chat("s", fmt.Sprint(i), at(time.Duration(i)*time.Second)); err != nil {
				f.t.Fatalf("chat in %q: %v", room, err)
			}
			g.knock(fmt.Sprint("e", i), fmt.Sprint("g", i), "Ann", "", t0)
		}
		for i, room := range names {
			h, err := f.s.ChatHistory(f.ctx, room)
			if err != nil || len(h) != 1 || h[0].Text != fmt.Sprint(i) {
				f.t.Errorf("history of %q: got %+v, %v; want its one message %d", room, h, err, i)
			}
			g := &fixture{t: f.t, s: f.s, room: room, ctx: f.ctx}
			if w := g.waiting(t0); len(w) != 1 || w[0] != fmt.Sprint("e", i) {
				f.t.Errorf("lobby of %q: got %q, want its one entry e%d", room, w, i)
			}
		}
	}},
	{"a new room's lobby is on; off admits a knock at once", func(f *fixture) {
		if res := f.knock("e1", "g1", "Ann", "", t0); res.Outcome != roomstate.KnockWaiting || res.Entry.ID != "e1" || res.Host {
			f.t.Fatalf("knock with the lobby on: got %+v, want e1 waiting without a host", res)
		}
		if err := f.s.SetLobby(f.ctx, f.room, false); err != nil {
			f.t.Fatal(err)
		}
		res := f.knock("e2", "g2", "Bob", "", t0)
		if res.Outcome != roomstate.KnockAdmitted || res.Entry.ID != "e2" {
			f.t.Fatalf("knock with the lobby off: got %+v, want e2 admitted", res)
		}
		a, err := f.s.Admission(f.ctx, f.room, "g2", "bob", "e2")
		if err != nil || a.LobbyOn || !a.Admitted || a.Blocked {
			f.t.Errorf("admission: got %+v %v, want lobby off, admitted", a, err)
		}
		if st := f.state("e2", t0); st.Decision != roomstate.Admitted {
			f.t.Errorf("entry state: got %+v, want admitted", st)
		}
		if err := f.s.SetLobby(f.ctx, f.room, true); err != nil {
			f.t.Fatal(err)
		}
		if l, _ := f.s.Lobby(f.ctx, f.room, t0); !l.On || len(l.Waiting) != 1 {
			f.t.Errorf("lobby: got %+v, want on with Ann waiting", l)
		}
	}},
	{"a browser knocking again takes over its entry, in knock order", func(f *fixture) {
		f.knock("e1", "g1", "Ann", "a", t0)
		f.knock("e2", "g2", "Bob", "b", at(time.Second))
		res := f.knock("e3", "g1", "Ann B", "a", at(2*time.Second))
		if res.Outcome != roomstate.KnockWaiting || res.Entry.ID != "e1" || res.Entry.Name != "Ann B" || !res.Entry.Since.Equal(t0) {
			f.t.Fatalf("second knock: got %+v, want e1 under the new name, waiting since the first", res)
		}
		l, err := f.s.Lobby(f.ctx, f.room, at(2*time.Second))
		if err != nil {
			f.t.Fatal(err)
		}
		if len(l.Waiting) != 2 || l.Waiting[0].Name != "Ann B" || l.Waiting[1].ID != "e2" || l.Waiting[1].Addr != "b" || l.Waiting[1].GuestID != "g2" {
			f.t.Errorf("lobby: got %+v, want Ann B then Bob", l.Waiting)
		}
	}},
	{"the lobby is bounded, and each address's share of it", func(f *fixture) {
		for i := range 3 {
			if res := f.knock(fmt.Sprint("a", i), fmt.Sprint("ga", i), "A", "1.1.1.1", t0); res.Outcome != roomstate.KnockWaiting {
				f.t.Fatalf("knock %d from one address: got %s", i, res.Outcome)
			}
		}
		if res := f.knock("a3", "ga3", "A", "1.1.1.1", t0); res.Outcome != roomstate.KnockTooMany {
			f.t.Errorf("fourth knock from one address: got %s, want too-many", res.Outcome)
		}
		if res := f.knock("b0", "gb0", "B", "", t0); res.Outcome != roomstate.KnockWaiting {
			f.t.Errorf("knock without an address: got %s, want waiting", res.Outcome)
		}
		if res := f.knock("c0", "gc0", "C", "2.2.2.2", t0); res.Outcome != roomstate.KnockFull {
			f.t.Errorf("knock past the lobby's limit: got %s, want full", res.Outcome)
		}
		if res := f.knock("a9", "ga0", "A again", "1.1.1.1", t0); res.Outcome != roomstate.KnockWaiting || res.Entry.ID != "a0" {
			f.t.Errorf("a waiting browser knocking again in a full lobby: got %+v, want its entry", res)
		}
	}},
	{"admit, deny, and a decided entry is no longer waiting", func(f *fixture) {
		f.knock("e1", "g1", "Ann", "", t0)
		f.knock("e2", "g2", "Bob", "", t0)
		e, _, err := f.s.Decide(f.ctx, f.room, "e1", roomstate.Admitted, t0)
		if err != nil || e.Name != "Ann" {
			f.t.Fatalf("admit: got %+v %v", e, err)
		}
		if _, _, err := f.s.Decide(f.ctx, f.room, "e1", roomstate.Denied, t0); !errors.Is(err, roomstate.ErrNotWaiting) {
			f.t.Errorf("deciding again: got %v, want ErrNotWaiting", err)
		}
		if _, _, err := f.s.Decide(f.ctx, f.room, "nobody", roomstate.Admitted, t0); !errors.Is(err, roomstate.ErrNotWaiting) {
			f.t.Errorf("deciding an unknown entry: got %v, want ErrNotWaiting", err)
		}
		if _, _, err := f.s.Decide(f.ctx, f.room, "e2", roomstate.Denied, t0); err != nil {
			f.t.Fatal(err)
		}
		if st := f.state("e1", t0); st.Decision != roomstate.Admitted || st.Waiting {
			f.t.Errorf("e1: got %+v, want admitted", st)
		}
		if st := f.state("e2", t0); st.Decision != roomstate.Denied {
			f.t.Errorf("e2: got %+v, want denied", st)
		}
		if st := f.state("e3", t0); st.Decision != "" || st.Waiting {
			f.t.Errorf("unknown entry: got %+v, want gone", st)
		}
		for id, want := range map[string]bool{"e1": true, "e2": false, "": false} {
			if a, _ := f.s.Admission(f.ctx, f.room, "gx", "x", id); a.Admitted != want || !a.LobbyOn {
				f.t.Errorf("admission of %q: got %+v, want admitted %v", id, a, want)
			}
		}
		if w := f.waiting(t0); len(w) != 0 {
			f.t.Errorf("waiting: got %q, want none", w)
		}
	}},
	{"admit all, with and without closing the lobby", func(f *fixture) {
		f.knock("e1", "g1", "Ann", "", t0)
		f.knock("e2", "g2", "Bob", "", t0)
		out, _, err := f.s.AdmitAll(f.ctx, f.room, false, t0)
		if err != nil || len(out) != 2 || out[0].ID != "e1" || out[1].ID != "e2" {
			f.t.Fatalf("admit all: got %+v %v, want e1 and e2", out, err)
		}
		if l, _ := f.s.Lobby(f.ctx, f.room, t0); !l.On || len(l.Waiting) != 0 {
			f.t.Errorf("after admit all: got %+v, want on and empty", l)
		}
		f.knock("e3", "g3", "Cy", "", t0)
		out, _, _ = f.s.AdmitAll(f.ctx, f.room, true, t0)
		if l, _ := f.s.Lobby(f.ctx, f.room, t0); l.On || len(out) != 1 {
			f.t.Errorf("lobby off: got %+v and %d admitted, want off and Cy admitted", l, len(out))
		}
		if st := f.state("e3", t0); st.Decision != roomstate.Admitted {
			f.t.Errorf("e3: got %+v, want admitted", st)
		}
	}},
	{"an entry without a stream leaves after the grace, reported once", func(f *fixture) {
		f.knock("e1", "g1", "Ann", "", t0)
		if w := f.waiting(at(grace - time.Millisecond)); len(w) != 1 {
			f.t.Errorf("within the grace: got %q, want e1", w)
		}
		if st := f.state("e1", at(grace)); st.Waiting {
			f.t.Errorf("at the grace: got %+v, want gone", st)
		}
		if w := f.waiting(at(grace)); len(w) != 0 {
			f.t.Errorf("lobby at the grace: got %q, want nobody (reads leave out lapsed entries)", w)
		}
		if ch := f.sweep(at(grace)); !ch.Lobby {
			f.t.Errorf("sweep: got %+v, want the lobby changed", ch)
		}
		if ch := f.sweep(at(grace)); ch.Lobby {
			f.t.Errorf("second sweep: got %+v, want nothing new", ch)
		}
		if _, _, err := f.s.Decide(f.ctx, f.room, "e1", roomstate.Admitted, at(grace)); !errors.Is(err, roomstate.ErrNotWaiting) {
			f.t.Errorf("admitting a guest who left: got %v, want ErrNotWaiting", err)
		}
	}},
	{"a stream's lease keeps its entry; its close gives it the grace", func(f *fixture) {
		f.knock("e1", "g1", "Ann", "", t0)
		f.lease(roomstate.LeaseLobby, "e1", "s1", t0, at(25*time.Second))
		f.lease(roomstate.LeaseLobby, "e1", "s2", t0, at(25*time.Second)) // a second tab
		if ch := f.sweep(at(20 * time.Second)); ch.Lobby {
			f.t.Errorf("sweep with open streams: got %+v, want no change", ch)
		}
		f.lease(roomstate.LeaseLobby, "e1", "s1", at(20*time.Second), at(45*time.Second)) // renewed
		f.endLease(roomstate.LeaseLobby, "e1", "s2", at(21*time.Second))
		if w := f.waiting(at(40 * time.Second)); len(w) != 1 {
			f.t.Errorf("one tab closed, one open: got %q, want e1", w)
		}
		f.endLease(roomstate.LeaseLobby, "e1", "s1", at(40*time.Second))
		if st := f.state("e1", at(50*time.Second-time.Millisecond)); !st.Waiting {
			f.t.Errorf("within the grace after the last close: got %+v, want waiting", st)
		}
		if ch := f.sweep(at(50 * time.Second)); !ch.Lobby {
			f.t.Errorf("sweep past the grace after the last close: got %+v, want e1 gone", ch)
		}
	}},
	{"a lease nobody renews lapses (an instance killed)", func(f *fixture) {
		f.knock("e1", "g1", "Ann", "", t0)
		f.lease(roomstate.LeaseLobby, "e1", "s1", t0, at(25*time.Second))
		if ch := f.sweep(at(25*time.Second - time.Millisecond)); ch.Lobby {
			f.t.Errorf("before the lease ends: got %+v", ch)
		}
		if w := f.waiting(at(25 * time.Second)); len(w) != 0 {
			f.t.Errorf("when the lease ends: got %q, want nobody", w)
		}
		if ch := f.sweep(at(25 * time.Second)); !ch.Lobby {
			f.t.Errorf("sweep when the lease ends: got %+v, want e1 gone", ch)
		}
	}},
	{"a host is in the call while a moderator lease is live", func(f *fixture) {
		if ch := f.lease(roomstate.LeaseModerator, "m1", "s1", t0, at(25*time.Second)); !ch.Host || !ch.HostPresent {
			f.t.Errorf("first moderator stream: got %+v, want the host arrived", ch)
		}
		if ch := f.lease(roomstate.LeaseModerator, "m1", "s2", t0, at(25*time.Second)); ch.Host || !ch.HostPresent {
			f.t.Errorf("second stream: got %+v, want no change", ch)
		}
		f.lease(roomstate.LeaseModerator, "m2", "s3", t0, at(25*time.Second))
		if mods, err := f.s.Moderators(f.ctx, f.room, t0); err != nil || !slices.Equal(mods, []string{"m1", "m2"}) {
			f.t.Errorf("moderators: got %q %v, want m1 m2", mods, err)
		}
		f.knock("e1", "g1", "Ann", "", t0)
		if st := f.state("e1", t0); !st.Waiting || !st.Host {
			f.t.Errorf("entry: got %+v, want waiting with a host", st)
		}
		f.endLease(roomstate.LeaseModerator, "m1", "s1", at(time.Second))
		if ch := f.endLease(roomstate.LeaseModerator, "m1", "s2", at(time.Second)); ch.Host {
			f.t.Errorf("m2 still streams: got %+v, want no change", ch)
		}
		if ch := f.sweep(at(25 * time.Second)); !ch.Host || ch.HostPresent {
			f.t.Errorf("m2's lease lapsed: got %+v, want the host gone", ch)
		}
		if ch := f.sweep(at(26 * time.Second)); ch.Host {
			f.t.Errorf("sweep again: got %+v, want reported once", ch)
		}
		if mods, _ := f.s.Moderators(f.ctx, f.room, at(26*time.Second)); len(mods) != 0 {
			f.t.Errorf("moderators: got %q, want none", mods)
		}
		f.lease(roomstate.LeaseModerator, "m1", "s4", at(27*time.Second), at(50*time.Second))
		if ch := f.endLease(roomstate.LeaseModerator, "m1", "s4", at(28*time.Second)); !ch.Host || ch.HostPresent {
			f.t.Errorf("the last moderator stream closed: got %+v, want the host gone", ch)
		}
	}},
	{"leases are bounded, the soonest to end dropped first", func(f *fixture) {
		f.lease(roomstate.LeaseModerator, "m1", "s1", t0, at(10*time.Second))
		f.lease(roomstate.LeaseModerator, "m2", "s2", t0, at(30*time.Second))
		f.lease(roomstate.LeaseModerator, "m3", "s3", t0, at(30*time.Second))
		f.lease(roomstate.LeaseModerator, "m4", "s4", t0, at(30*time.Second))
		if mods, _ := f.s.Moderators(f.ctx, f.room, t0); !slices.Equal(mods, []string{"m2", "m3", "m4"}) {
			f.t.Errorf("moderators: got %q, want m2 m3 m4", mods)
		}
	}},
	{"seats and the members their pages are", func(f *fixture) {
		f.seat("s1", "Ann", roomstate.RoleGuest, "g1")
		f.seat("s2", "Host", roomstate.RoleModerator, "")
		if !f.member("s1", "m-ann") || f.member("s1", "m-ann") {
			f.t.Error("the same member twice: want news once")
		}
		if f.member("nobody", "m-x") {
			f.t.Error("an unknown seat: want no news")
		}
		id, s, ok, err := f.s.MemberSeat(f.ctx, f.room, "m-ann")
		if err != nil || !ok || id != "s1" || s.Name != "Ann" || s.GuestID != "g1" || s.Member != "m-ann" || s.NameKey != "ann" {
			f.t.Errorf("member seat: got %q %+v %v %v", id, s, ok, err)
		}
		f.member("s1", "m-ann-2") // rejoined in the same page
		if _, _, ok, _ := f.s.MemberSeat(f.ctx, f.room, "m-ann"); ok {
			f.t.Error("the old member id still finds the seat")
		}
		f.member("s2", "m-host")
		if ms, _ := f.s.Members(f.ctx, f.room); !slices.Equal(ms, []string{"m-ann-2", "m-host"}) {
			f.t.Errorf("members: got %q", ms)
		}
		if err := f.s.SeatLeft(f.ctx, f.room, "s1"); err != nil {
			f.t.Fatal(err)
		}
		if ms, _ := f.s.Members(f.ctx, f.room); !slices.Equal(ms, []string{"m-host"}) {
			f.t.Errorf("members after s1 left: got %q", ms)
		}
		if s, ok, err := f.s.Seat(f.ctx, f.room, "s2"); err != nil || !ok || s.Name != "Host" || s.Role != roomstate.RoleModerator {
			f.t.Errorf("seat: got %+v %v %v", s, ok, err)
		}
		if _, ok, _ := f.s.Seat(f.ctx, f.room, "s9"); ok {
			f.t.Error("an unknown seat was found")
		}
	}},
	{"a member stays its first seat's until that seat leaves", func(f *fixture) {
		f.seat("s1", "Bob", roomstate.RoleGuest, "g1")
		f.seat("s2", "Mallory", roomstate.RoleGuest, "g2")
		f.member("s1", "m-bob")
		f.member("s2", "m-mallory")
		if f.member("s2", "m-bob") {
			f.t.Error("a second seat took another seat's member")
		}
		if id, _, ok, _ := f.s.MemberSeat(f.ctx, f.room, "m-bob"); !ok || id != "s1" {
			f.t.Errorf("m-bob: got seat %q %v, want s1", id, ok)
		}
		if id, _, ok, _ := f.s.MemberSeat(f.ctx, f.room, "m-mallory"); !ok || id != "s2" {
			f.t.Errorf("m-mallory: got seat %q %v, want s2 kept", id, ok)
		}
		if err := f.s.SeatLeft(f.ctx, f.room, "s1"); err != nil {
			f.t.Fatal(err)
		}
		if !f.member("s2", "m-bob") {
			f.t.Error("once s1 left, its member id could not be taken")
		}
	}},
	{"the same person's reloaded page takes its member over", func(f *fixture) {
		f.seat("s1", "Bob", roomstate.RoleGuest, "g1")
		f.seat("s2", "Bob", roomstate.RoleGuest, "g1") // the same browser, reloaded
		f.seat("h1", "Host", roomstate.RoleModerator, "")
		f.seat("h2", "Host", roomstate.RoleModerator, "")
		f.member("s1", "m-bob")
		if !f.member("s2", "m-bob") {
			f.t.Error("the same browser's new seat could not take its member over")
		}
		if id, s, ok, _ := f.s.MemberSeat(f.ctx, f.room, "m-bob"); !ok || id != "s2" || s.Member != "m-bob" {
			f.t.Errorf("m-bob: got seat %q %v, want s2", id, ok)
		}
		// The old page's late room.left does not take it back.
		if err := f.s.SeatLeft(f.ctx, f.room, "s1"); err != nil {
			f.t.Fatal(err)
		}
		if id, _, ok, _ := f.s.MemberSeat(f.ctx, f.room, "m-bob"); !ok || id != "s2" {
			f.t.Errorf("m-bob after the old seat left: got seat %q %v, want s2", id, ok)
		}
		f.member("h1", "m-host")
		if !f.member("h2", "m-host") {
			f.t.Error("a host's new seat could not take its member over")
		}
		if ms, _ := f.s.Members(f.ctx, f.room); !slices.Equal(ms, []string{"m-bob", "m-host"}) {
			f.t.Errorf("members: got %q", ms)
		}
		// Nobody was refused, so a removal revokes the new seat alone.
		if ids, _ := f.s.RevokeMember(f.ctx, f.room, "m-bob", "h2", t0); !slices.Equal(ids, []string{"s2"}) {
			f.t.Errorf("revoke m-bob: got %q, want s2", ids)
		}
	}},
	{"a guest without a browser id, or a host, cannot take a guest's member", func(f *fixture) {
		f.seat("s1", "Bob", roomstate.RoleGuest, "")
		f.seat("s2", "Bob", roomstate.RoleGuest, "")
		f.seat("h", "Host", roomstate.RoleModerator, "")
		f.member("s1", "m-bob")
		if f.member("s2", "m-bob") || f.member("h", "m-bob") {
			f.t.Error("a seat with no browser in common took the member")
		}
		if id, _, _, _ := f.s.MemberSeat(f.ctx, f.room, "m-bob"); id != "s1" {
			f.t.Errorf("m-bob: got seat %q, want s1", id)
		}
	}},
	{"past the seats' limit, the rivals start again", func(f *fixture) {
		f.seat("s1", "A", roomstate.RoleGuest, "g1")
		f.seat("s2", "B", roomstate.RoleGuest, "g2")
		for i := 1; i <= 6; i++ { // s1 names a new id each time, and s2 the same one
			f.member("s1", fmt.Sprint("m", i))
			f.member("s2", fmt.Sprint("m", i))
		}
		if ids, _ := f.s.RevokeMember(f.ctx, f.room, "m1", "", t0); len(ids) != 0 {
			f.t.Errorf("revoke m1: got %q, want its rival forgotten", ids)
		}
		if ids, _ := f.s.RevokeMember(f.ctx, f.room, "m5", "", t0); !slices.Equal(ids, []string{"s2"}) {
			f.t.Errorf("revoke m5: got %q, want its rival s2 kept (the rivals start again at the limit, not at every member)", ids)
		}
		if ids, _ := f.s.RevokeMember(f.ctx, f.room, "m6", "", t0); !slices.Equal(ids, []string{"s1", "s2"}) {
			f.t.Errorf("revoke m6: got %q, want s1 s2", ids)
		}
	}},
	{"removing a member removes the seats refused as its rivals too", func(f *fixture) {
		f.seat("h", "Host", roomstate.RoleModerator, "")
		for _, id := range []string{"s1", "s2", "s3"} {
			f.seat(id, "N", roomstate.RoleGuest, "")
		}
		f.member("h", "m-host")
		f.member("s1", "m-bob")
		for _, id := range []string{"s2", "s2", "h", "s3"} {
			f.member(id, "m-bob") // s2 twice; h, the host, too; s3 past Limits.Rivals (2)
		}
		f.member("s3", "m-host") // a guest claiming the host's own member id
		if id, _, _, _ := f.s.MemberSeat(f.ctx, f.room, "m-host"); id != "h" {
			f.t.Errorf("m-host: got seat %q, want h (a guest cannot take a host's member)", id)
		}
		ids, err := f.s.RevokeMember(f.ctx, f.room, "m-bob", "h", t0)
		// The holder first, then the rivals in claim order, never the
		// reporting moderator's own seat.
		if err != nil || !slices.Equal(ids, []string{"s1", "s2"}) {
			f.t.Errorf("revoke m-bob: got %q %v, want s1 s2", ids, err)
		}
		if !f.revoked("s1") || !f.revoked("s2") || f.revoked("h") || f.revoked("s3") {
			f.t.Errorf("got s1 %v s2 %v h %v s3 %v, want s1 and s2 revoked", f.revoked("s1"), f.revoked("s2"), f.revoked("h"), f.revoked("s3"))
		}
		if ids, _ := f.s.RevokeMember(f.ctx, f.room, "m-bob", "h", t0); len(ids) != 0 {
			f.t.Errorf("a second removal: got %q, want none", ids)
		}
		// The host's own member, reported gone by the host's page: only
		// the guest that claimed it.
		if ids, _ := f.s.RevokeMember(f.ctx, f.room, "m-host", "h", t0); !slices.Equal(ids, []string{"s3"}) {
			f.t.Errorf("revoke m-host: got %q, want s3", ids)
		}
	}},
	{"past the seats' limit they start again", func(f *fixture) {
		for i := range 4 {
			f.seat(fmt.Sprint("s", i), "N", roomstate.RoleGuest, "")
			f.member(fmt.Sprint("s", i), fmt.Sprint("m", i))
		}
		f.seat("s4", "N", roomstate.RoleGuest, "")
		if _, ok, _ := f.s.Seat(f.ctx, f.room, "s0"); ok {
			f.t.Error("s0 remembered past the limit")
		}
		if _, ok, _ := f.s.Seat(f.ctx, f.room, "s4"); !ok {
			f.t.Error("s4 forgotten")
		}
		if ms, _ := f.s.Members(f.ctx, f.room); len(ms) != 0 {
			f.t.Errorf("members: got %q, want none", ms)
		}
	}},
	{"a removed seat is revoked and no longer a member", func(f *fixture) {
		f.seat("s1", "Ann", roomstate.RoleGuest, "g1")
		f.seat("h", "Host", roomstate.RoleModerator, "")
		f.member("s1", "m-ann")
		f.member("h", "m-host")
		if ids, _ := f.s.RevokeMember(f.ctx, f.room, "m-host", "h", t0); len(ids) != 0 {
			f.t.Error("a moderator removed itself")
		}
		ids, err := f.s.RevokeMember(f.ctx, f.room, "m-ann", "h", t0)
		if err != nil || !slices.Equal(ids, []string{"s1"}) {
			f.t.Fatalf("revoke: got %q %v", ids, err)
		}
		if !f.revoked("s1") || f.revoked("h") {
			f.t.Error("want s1 revoked and h not")
		}
		if _, _, ok, _ := f.s.MemberSeat(f.ctx, f.room, "m-ann"); ok {
			f.t.Error("the removed member still finds its seat")
		}
		if f.member("s1", "m-ann-2") {
			f.t.Error("a revoked seat became a member again")
		}
		if _, err := f.chat("s1", "hi", t0); !errors.Is(err, roomstate.ErrRevoked) {
			f.t.Errorf("chat from a revoked seat: got %v, want ErrRevoked", err)
		}
		if ids, _ := f.s.RevokeMember(f.ctx, f.room, "m-nobody", "h", t0); len(ids) != 0 {
			f.t.Error("revoked an unknown member")
		}
	}},
	{"removals are bounded, the oldest forgotten first", func(f *fixture) {
		for i := range 3 {
			f.seat(fmt.Sprint("s", i), "N", roomstate.RoleGuest, "")
			f.member(fmt.Sprint("s", i), fmt.Sprint("m", i))
			f.s.RevokeMember(f.ctx, f.room, fmt.Sprint("m", i), "", at(time.Duration(i)*time.Second))
		}
		if f.revoked("s0") || !f.revoked("s1") || !f.revoked("s2") {
			f.t.Errorf("got s0 %v s1 %v s2 %v, want s0 forgotten", f.revoked("s0"), f.revoked("s1"), f.revoked("s2"))
		}
	}},
	{"a block revokes the browser's and the name's guest seats and denies their entries", func(f *fixture) {
		f.seat("s1", "Mallory", roomstate.RoleGuest, "g1")
		f.seat("s2", "mallory", roomstate.RoleGuest, "g2") // the same name, another browser
		f.seat("s3", "Other", roomstate.RoleGuest, "g1")   // the same browser, another name
		f.seat("s4", "Mallory", roomstate.RoleModerator, "")
		f.member("s1", "m1")
		f.knock("e1", "g9", "MALLORY", "", t0)
		f.knock("e2", "g8", "Ok", "", t0)
		b, err := f.s.Block(f.ctx, f.room, roomstate.Block{GuestID: "g1", NameKey: "mallory", Seat: "s1", Now: t0})
		if err != nil {
			f.t.Fatal(err)
		}
		if !slices.Equal(b.Seats, []string{"s1", "s2", "s3"}) || len(b.Denied) != 1 || b.Denied[0].ID != "e1" {
			f.t.Errorf("block: got %+v, want s1-s3 revoked and e1 denied", b)
		}
		for id, want := range map[string]bool{"s1": true, "s2": true, "s3": true, "s4": false} {
			if f.revoked(id) != want {
				f.t.Errorf("%s revoked: got %v, want %v", id, !want, want)
			}
		}
		if st := f.state("e1", t0); st.Decision != roomstate.Denied {
			f.t.Errorf("e1: got %+v, want denied", st)
		}
		if res := f.knock("e3", "g7", "Mallory", "", t0); res.Outcome != roomstate.KnockBlocked {
			f.t.Errorf("knock under the blocked name: got %s", res.Outcome)
		}
		if res := f.knock("e4", "g1", "Someone", "", t0); res.Outcome != roomstate.KnockBlocked {
			f.t.Errorf("knock from the blocked browser: got %s", res.Outcome)
		}
		if a, _ := f.s.Admission(f.ctx, f.room, "g1", "x", ""); !a.Blocked {
			f.t.Error("admission of the blocked browser: not blocked")
		}
		f.seat("s5", "Later", roomstate.RoleGuest, "g1")
		if !f.revoked("s5") {
			f.t.Error("a later seat of the blocked browser is not revoked")
		}
		if _, _, ok, _ := f.s.MemberSeat(f.ctx, f.room, "m1"); ok {
			f.t.Error("the blocked member still finds its seat")
		}
	}},
	{"blocks are bounded", func(f *fixture) {
		f.s.Block(f.ctx, f.room, roomstate.Block{GuestID: "g1", NameKey: "a", Now: t0})
		f.s.Block(f.ctx, f.room, roomstate.Block{GuestID: "g2", NameKey: "b", Now: t0})
		f.s.Block(f.ctx, f.room, roomstate.Block{GuestID: "g3", NameKey: "c", Now: t0})
		for gid, want := range map[string]bool{"g1": true, "g2": true, "g3": false} {
			if a, _ := f.s.Admission(f.ctx, f.room, gid, "z", ""); a.Blocked != want {
				f.t.Errorf("%s blocked: got %v, want %v", gid, a.Blocked, want)
			}
		}
	}},
	{"a new invite version turns away entries waiting with an older one", func(f *fixture) {
		if v, err := f.s.InviteVersion(f.ctx, f.room); err != nil || v != 0 {
			f.t.Fatalf("version: got %d %v, want 0", v, err)
		}
		f.knock("e1", "g1", "Ann", "", t0)
		v, denied, _, err := f.s.NewInvite(f.ctx, f.room, t0)
		if err != nil || v != 1 || len(denied) != 1 || denied[0].ID != "e1" {
			f.t.Fatalf("new invite: got %d %+v %v, want 1 with e1 turned away", v, denied, err)
		}
		if st := f.state("e1", t0); st.Decision != roomstate.Replaced {
			f.t.Errorf("e1: got %+v, want replaced", st)
		}
		if _, err := f.s.Knock(f.ctx, f.room, roomstate.Knock{ID: "e2", Name: "Bob", NameKey: "bob", GuestID: "g2", V: 1, Since: t0, Now: t0, Grace: grace}); err != nil {
			f.t.Fatal(err)
		}
		v, denied, _, _ = f.s.NewInvite(f.ctx, f.room, t0)
		if v != 2 || len(denied) != 1 {
			f.t.Errorf("second new invite: got %d %+v, want 2 with Bob turned away", v, denied)
		}
		if v, _ := f.s.InviteVersion(f.ctx, f.room); v != 2 {
			f.t.Errorf("version: got %d, want 2", v)
		}
	}},
	{"chat keeps the last messages, with increasing ids and the seat's name", func(f *fixture) {
		f.seat("s1", "Ann", roomstate.RoleGuest, "g1")
		var ids []uint64
		for i, text := range []string{"one", "two", "three", "four"} {
			seat := "s1"
			if i == 3 {
				seat = "unknown"
			}
			m, err := f.chat(seat, text, t0)
			if err != nil {
				f.t.Fatal(err)
			}
			ids = append(ids, m.ID)
		}
		increasing := ids[0] >= uint64(t0.UnixMilli())
		for i := 1; i < len(ids); i++ {
			increasing = increasing && ids[i] > ids[i-1]
		}
		if !increasing {
			f.t.Errorf("ids: got %v, want increasing from the time in ms", ids)
		}
		h, err := f.s.ChatHistory(f.ctx, f.room)
		if err != nil {
			f.t.Fatal(err)
		}
		var got []string
		for _, m := range h {
			got = append(got, m.Author+": "+m.Text)
		}
		if !slices.Equal(got, []string{"Ann: two", "Ann: three", "Guest: four"}) {
			f.t.Errorf("history: got %q", got)
		}
		if h[2].ID != ids[3] || !h[2].At.Equal(t0) || h[2].Role != roomstate.RoleGuest {
			f.t.Errorf("last message: got %+v, want id %d at t0", h[2], ids[3])
		}
		m, _ := f.chat("s1", "later", at(time.Hour))
		if m.ID != uint64(at(time.Hour).UnixMilli()) {
			f.t.Errorf("an hour later: got id %d, want the time in ms", m.ID)
		}
	}},
	{"chat keeps text as it is", func(f *fixture) {
		text := "<b>\"quoted\"</b> & ünïcödé 🎉 \u202e / \\ \n line"
		m, err := f.chat("s1", text, t0)
		if err != nil || m.Text != text {
			f.t.Fatalf("got %q %v", m.Text, err)
		}
		if h, _ := f.s.ChatHistory(f.ctx, f.room); len(h) != 1 || h[0].Text != text {
			f.t.Errorf("history: got %+v", h)
		}
	}},
	{"decisions are bounded, then forgotten all at once", func(f *fixture) {
		for i := range 4 {
			f.knock(fmt.Sprint("e", i), fmt.Sprint("g", i), "N", "", t0)
			f.s.Decide(f.ctx, f.room, fmt.Sprint("e", i), roomstate.Admitted, t0)
		}
		if st := f.state("e0", t0); st.Decision != "" {
			f.t.Errorf("e0 past the limit: got %+v, want forgotten", st)
		}
		if st := f.state("e3", t0); st.Decision != roomstate.Admitted {
			f.t.Errorf("e3: got %+v, want admitted", st)
		}
	}},
}
