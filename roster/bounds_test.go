package roster

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// wideID is a member id of MaxIDBytes bytes, unique per seat and member,
// so that no two seats share a string.
func wideID(seat, i int) string {
	id := fmt.Sprintf("%08x-%06x-", seat, i)
	return id + strings.Repeat("x", MaxIDBytes-len(id))
}

// widest is a member object as large as the wire format allows: an id of
// 64 bytes, a name of 100 emoji (400 bytes), a parent id of 64 bytes.
func widest(seat, i int, typ string) string {
	return fmt.Sprintf(`{"id":%q,"name":%q,"type":%q,"parent_id":%q}`,
		wideID(seat, i), strings.Repeat("😀", MaxNameRunes), typ, wideID(seat, i%300))
}

// widestSeat is the batches that fill one seat of a room of 300 to its
// bounds: a room.joined listing 300 devices, then 300 people in 2 batches
// of member.joined, all of the widest members.
func widestSeat(seat int) []string {
	devices := make([]string, 300)
	for i := range devices {
		devices[i] = widest(seat, 1000+i, TypeDevice)
	}
	bodies := []string{body("e1", ev(1, "room.joined", joinedData(wideID(seat, 0), devices...)))}
	for half := range 2 {
		evs := make([]string, 150)
		for i := range evs {
			n := half*150 + i
			evs[i] = ev(uint64(2+n), "member.joined", `{"member":`+widest(seat, n, TypeMember)+`}`)
		}
		bodies = append(bodies, body("e1", evs...))
	}
	return bodies
}

// heapInUse is the live heap after a collection, in bytes.
func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// TestCostEstimateFollowsTheHeap holds the estimate behind Limits.MaxBytes
// to the heap that seats really take, from the smallest seat to the
// widest: it must not undercount by more than 10%, so that the budget
// bounds the heap, nor overcount by more than 50%.
func TestCostEstimateFollowsTheHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap")
	}
	ctx := context.Background()
	shapes := []struct {
		name   string
		seats  int
		bodies func(seat int) []string
	}{
		{"one member", 2000, func(seat int) []string {
			return []string{body("e1", ev(1, "room.joined", joinedData("m1", person(uuid(seat, 1), "Ada"))))}
		}},
		{"20 members", 500, func(seat int) []string { return []string{roomJoined20(seat)} }},
		{"300 people and 300 devices, every field at its bound", 12, widestSeat},
	}
	for _, sh := range shapes {
		t.Run(sh.name, func(t *testing.T) {
			// Each seat decodes its own bodies, as in production, so that
			// the strings it keeps are its own.
			bodies := make([][]string, sh.seats)
			for i := range bodies {
				bodies[i] = sh.bodies(i)
			}
			before := heapInUse()
			s := NewMemoryStore(Limits{})
			for i, raws := range bodies {
				for _, raw := range raws {
					if _, _, err := s.Apply(ctx, SeatKey{Room: fmt.Sprintf("room-%d", i/20), Seat: fmt.Sprintf("seat-%d", i)}, mustDecode(t, raw)); err != nil {
						t.Fatal(err)
					}
				}
			}
			got := heapInUse() - before
			runtime.KeepAlive(bodies)
			est := s.Bytes()
			runtime.KeepAlive(s)
			t.Logf("%d seats: heap %.1f KB a seat, estimate %.1f KB (%.2f)", sh.seats,
				float64(got)/float64(sh.seats)/1024, float64(est)/float64(sh.seats)/1024, float64(est)/float64(got))
			if float64(est) < 0.9*float64(got) || float64(est) > 1.5*float64(got) {
				t.Errorf("estimate %d bytes for a heap of %d: want within -10%%..+50%%", est, got)
			}
		})
	}
}

// TestAFloodThroughOneRoomLeavesOtherRoomsAlone is issue 14's first
// failure: about 12,000 seats made through one invite link filled the
// store, and then another room's first post was refused. Now the flood
// only ever replaces its own room's seats.
func TestAFloodThroughOneRoomLeavesOtherRoomsAlone(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryStore(Limits{})
	join := mustBatch(t, "e1", ev(1, "room.joined", joinedData("m1", person("m1", "Ada"))))
	victim := SeatKey{Room: "Quiet_Room", Seat: "before-the-flood"}
	if _, _, err := s.Apply(ctx, victim, join); err != nil {
		t.Fatal(err)
	}
	for i := range 12_000 {
		s.Apply(ctx, SeatKey{Room: "Flooded", Seat: fmt.Sprintf("flood-%d", i)}, join)
	}
	if _, _, err := s.Apply(ctx, SeatKey{Room: "Other", Seat: "after-the-flood"}, join); err != nil {
		t.Errorf("another room's first batch after the flood: got %v, want it applied", err)
	}
	if _, ok, _ := s.Get(ctx, victim); !ok {
		t.Error("another room's seat from before the flood: got it evicted, want it kept")
	}
	if n, want := s.Len(), 2*DefaultRoomCapacity+2; n > want {
		t.Errorf("got %d seats held, want at most %d: the flooded room's share and the two others", n, want)
	}
}

// TestTheByteBudgetHolds is issue 14's second failure at the store: seats
// as wide as the wire format allows cost about 0.5 MB each, and there was
// no bound on their sum. Now the store stays within MaxBytes by its
// estimate, the room that takes the budget gives way, and another room's
// seat is never the one evicted.
func TestTheByteBudgetHolds(t *testing.T) {
	ctx := context.Background()
	const budget = 4 << 20
	s := NewMemoryStore(Limits{MaxBytes: budget})
	small := mustBatch(t, "e1", ev(1, "room.joined", joinedData("m1", person("m1", "Ada"))))
	other := SeatKey{Room: "Other", Seat: "1"}
	if _, _, err := s.Apply(ctx, other, small); err != nil {
		t.Fatal(err)
	}
	for seat := range 20 { // about 10 MB if nothing were evicted
		for _, raw := range widestSeat(seat) {
			if _, _, err := s.Apply(ctx, SeatKey{Room: "Wide", Seat: fmt.Sprint(seat)}, mustDecode(t, raw)); err != nil {
				t.Fatalf("seat %d: %v", seat, err)
			}
			if b := s.Bytes(); b > budget {
				t.Fatalf("seat %d: the store holds %d bytes, over its budget of %d", seat, b, budget)
			}
		}
	}
	if _, ok, _ := s.Get(ctx, other); !ok {
		t.Error("got the other room's seat evicted, want the wide room to give way")
	}
	if _, _, err := s.Apply(ctx, SeatKey{Room: "Third", Seat: "1"}, small); err != nil {
		t.Errorf("a new room's first batch: got %v, want it applied", err)
	}
	if n := s.Len(); n < 3 || n > 12 {
		t.Errorf("got %d seats, want the budget to hold several wide seats and the small ones", n)
	}
}

// TestAFullRoomOfScreenSharesFits: the largest room SignalWire allows, with
// a screen share per member and every field at its bound, fits one seat
// under the default limits (issue 11's burst stays possible).
func TestAFullRoomOfScreenSharesFits(t *testing.T) {
	s := NewMemoryStore(Limits{})
	for _, raw := range widestSeat(0) {
		if _, _, err := s.Apply(context.Background(), seatA, mustDecode(t, raw)); err != nil {
			t.Fatal(err)
		}
	}
	r, _, _ := s.Get(context.Background(), seatA)
	if r.Count != 300 {
		t.Errorf("got %d people, want 300", r.Count)
	}
	if b := s.Bytes(); b > DefaultMaxBytes/100 {
		t.Errorf("one full seat takes %d bytes of the default budget, want under 1%%", b)
	}
}

// TestPostsPerSeatAreLimited is issue 14's "no rate limit" on event posts:
// a seat gets PostBurst posts at once and PostsPerSecond after; past that
// nothing applies and the error says when to come back. Other seats keep
// their own budget.
func TestPostsPerSeatAreLimited(t *testing.T) {
	clk := newClock()
	s := NewMemoryStore(Limits{PostsPerSecond: 2, PostBurst: 3, Now: clk.Now})
	checkPostBudget(t, s, "in 500ms", func(d time.Duration) bool { return d == 500*time.Millisecond }, clk.Advance)
}
