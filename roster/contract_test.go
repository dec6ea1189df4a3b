package roster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swrooms/swrooms/internal/redistest"
)

// storeMaker gives a test an empty shared state bounded by lim: each call
// of instance is one more app instance on it (a MemoryStore is one
// instance's state, so all calls return it; RedisStores share a Redis).
type storeMaker func(t *testing.T, lim Limits) (instance func() Store)

// one is the first instance of a fresh state.
func (mk storeMaker) one(t *testing.T, lim Limits) Store { return mk(t, lim)() }

// runStoreContract is what every Store must do, whatever holds the seats.
func runStoreContract(t *testing.T, open storeMaker) {
	for _, c := range []struct {
		name string
		test func(*testing.T, storeMaker)
	}{
		{"apply and get", testApply},
		{"SDK-shaped sequences", testSDKShapedSequences},
		{"a replayed batch changes nothing", testReplayedBatchChangesNothing},
		{"the roster shares no memory with the store", testTheRosterSharesNoMemoryWithTheStore},
		{"a raised hand's time survives a snapshot", testHandRaisedAtSurvivesASnapshot},
		{"needs snapshot", testNeedsSnapshot},
		{"epochs", testEpochs},
		{"deltas", testApplyReportsTheDelta},
		{"new seats start at random versions", testNewSeatsStartAtRandomVersions},
		{"limits", testLimits},
		{"get of an unknown seat reports false", testGetOfAnUnknownSeatReportsFalse},
		{"seats are apart whatever their names", testSeatsAreApartWhateverTheirNames},
		{"concurrent viewers converge", testConcurrentApply},
		{"two instances lose no update", testTwoInstancesLoseNoUpdate},
		{"posts per seat are limited", testPostsPerSeatAreLimited},
		{"an idle seat expires", testAnIdleSeatExpires},
		{"a room past the byte budget gives way", testTheByteBudgetHolds},
		{"a seat larger than the budget is refused", testASeatLargerThanTheBudgetIsRefused},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, open) })
	}
}

func TestMemoryStoreContract(t *testing.T) {
	runStoreContract(t, func(t *testing.T, lim Limits) func() Store {
		s := NewMemoryStore(lim)
		return func() Store { return s }
	})
}

func TestRedisStoreContract(t *testing.T) {
	srv := redistest.Start(t)
	admin := srv.Open(t)
	runStoreContract(t, func(t *testing.T, lim Limits) func() Store {
		if err := admin.FlushDB(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
		return func() Store { return NewRedisStore(srv.Open(t), lim) }
	})
}

// testTwoInstancesLoseNoUpdate applies batches to one seat from two
// instances at once, each batch one new member. An update is lost when two
// batches apply to the same version: so the versions the applied batches
// report must form one chain from the first to the last, and every member
// of an applied batch must be in the final roster. (A batch whose seq is
// below the seat's last is stale and applies nothing, by the contract.)
func testTwoInstancesLoseNoUpdate(t *testing.T, open storeMaker) {
	const perInstance = 60
	ctx := context.Background()
	instance := open(t, Limits{})
	stores := []Store{instance(), instance()}
	first, _, err := stores[0].Apply(ctx, seatA, mustBatch(t, "e1", ev(1, "room.joined", joinedData("a", person("a", "Ada")))))
	if err != nil {
		t.Fatal(err)
	}
	type step struct {
		base, version uint64
		member        string
	}
	var (
		seq     atomic.Uint64
		mu      sync.Mutex
		applied []step
		wg      sync.WaitGroup
	)
	seq.Store(1)
	batches := make([]Batch, 2*perInstance+2) // by seq
	for n := 2; n < len(batches); n++ {
		id := fmt.Sprintf("m%03d", n)
		batches[n] = mustBatch(t, "e1", ev(uint64(n), "member.joined", memberData(fmt.Sprintf(`"id":%q,"name":%q`, id, id))))
	}
	for _, s := range stores {
		wg.Go(func() {
			for range perInstance {
				n := seq.Add(1)
				r, d, err := s.Apply(ctx, seatA, batches[n])
				if err != nil {
					t.Error(err)
					return
				}
				if d.Base != r.Version {
					mu.Lock()
					applied = append(applied, step{d.Base, r.Version, batches[n].Events[0].MemberID()})
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	final, ok, err := stores[1].Get(ctx, seatA)
	if err != nil || !ok {
		t.Fatalf("got %v, %v; want the seat", ok, err)
	}
	slices.SortFunc(applied, func(a, b step) int { return cmp.Compare(a.base, b.base) })
	at := first.Version
	for _, s := range applied {
		if s.base != at || s.version != at+1 {
			t.Fatalf("a batch applied to version %d giving %d, want %d giving %d: an update was lost (%d batches applied)",
				s.base, s.version, at, at+1, len(applied))
		}
		at = s.version
		if _, ok := find(final, s.member); !ok {
			t.Errorf("member %s was applied and is missing", s.member)
		}
	}
	if final.Version != at || final.Count != len(applied)+1 {
		t.Errorf("got version %d count %d, want %d and %d", final.Version, final.Count, at, len(applied)+1)
	}
	if len(applied) < 2 {
		t.Errorf("only %d of %d batches applied", len(applied), 2*perInstance)
	}
}

// testPostsPerSeatAreLimited on the real clock (a RedisStore's budget runs
// on Redis's): PostBurst posts at once, the next refused with the wait,
// and accepted after it. TestPostsPerSeatAreLimited pins the exact wait on
// an injected clock.
func testPostsPerSeatAreLimited(t *testing.T, open storeMaker) {
	const perSecond = 1 // the first four posts must happen within a second
	s := open.one(t, Limits{PostsPerSecond: perSecond, PostBurst: 3})
	checkPostBudget(t, s, "within a second", func(d time.Duration) bool { return d > 0 && d <= time.Second/perSecond },
		func(d time.Duration) { time.Sleep(d + 10*time.Millisecond) })
}

// checkPostBudget spends s's budget of 3 posts at once for one seat: the
// 4th is refused with a RateError whose wait okWait accepts (said as
// want), and changes nothing; another seat keeps its own budget; after
// wait(RetryAfter) the post applies.
func checkPostBudget(t *testing.T, s Store, want string, okWait func(time.Duration) bool, wait func(time.Duration)) {
	t.Helper()
	ctx := context.Background()
	talk := func(seq uint64) Batch {
		return mustBatch(t, "e1", ev(seq, "member.talking", memberData(fmt.Sprintf(`"id":"a","talking":%t`, seq%2 == 0))))
	}
	if _, _, err := s.Apply(ctx, seatA, mustBatch(t, "e1", ev(1, "room.joined", joinedData("a", person("a", "Ada"))))); err != nil {
		t.Fatal(err)
	}
	for seq := uint64(2); seq <= 3; seq++ {
		if _, _, err := s.Apply(ctx, seatA, talk(seq)); err != nil {
			t.Fatalf("post %d: %v", seq, err)
		}
	}
	before, _, _ := s.Get(ctx, seatA)
	_, _, err := s.Apply(ctx, seatA, talk(4))
	var re *RateError
	if !errors.As(err, &re) || !errors.Is(err, ErrTooManyPosts) || !okWait(re.RetryAfter) {
		t.Fatalf("the 4th post at once: got %v, want a RateError to retry %s", err, want)
	}
	if after, _, _ := s.Get(ctx, seatA); after.Version != before.Version {
		t.Error("a refused post changed the roster")
	}
	if _, _, err := s.Apply(ctx, SeatKey{Room: seatA.Room, Seat: "another"}, talk(2)); err != nil {
		t.Errorf("another seat: got %v, want it applied", err)
	}
	wait(re.RetryAfter)
	if _, _, err := s.Apply(ctx, seatA, talk(4)); err != nil {
		t.Errorf("after the wait: got %v, want it applied", err)
	}
}

// testAnIdleSeatExpires on the real clock: only the direction that cannot
// flake (gone after more than IdleTTL); TestExpiry and
// TestRedisUseRefreshesExpiry pin that use postpones it.
func testAnIdleSeatExpires(t *testing.T, open storeMaker) {
	ctx := context.Background()
	const ttl = 100 * time.Millisecond
	s := open.one(t, Limits{IdleTTL: ttl})
	join := mustBatch(t, "e1", ev(1, "room.joined", joinedData("a", person("a", "Ada"))))
	if _, _, err := s.Apply(ctx, seatA, join); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * ttl)
	if _, ok, err := s.Get(ctx, seatA); ok || err != nil {
		t.Errorf("got %v, %v after twice IdleTTL; want the seat gone", ok, err)
	}
	r, d, err := s.Apply(ctx, seatA, mustBatch(t, "e1", ev(2, "member.joined", memberData(`"id":"b","name":"Bob"`))))
	if err != nil || !r.NeedsSnapshot || !d.Full || r.Count != 1 {
		t.Errorf("got needs snapshot %v full %v count %d, %v; want a new seat that asks for a snapshot", r.NeedsSnapshot, d.Full, r.Count, err)
	}
}

// testTheByteBudgetHolds: with seats as wide as the wire format allows,
// the room that takes the budget gives way and another room's seat is
// never the one evicted; a new room still gets in. (Each store charges
// its own measure of bytes; about eight of these seats fit 4 MB in both.)
func testTheByteBudgetHolds(t *testing.T, open storeMaker) {
	ctx := context.Background()
	s := open.one(t, Limits{MaxBytes: 4 << 20})
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
		}
	}
	if _, ok, _ := s.Get(ctx, other); !ok {
		t.Error("got the other room's seat evicted, want the wide room to give way")
	}
	if _, ok, _ := s.Get(ctx, SeatKey{Room: "Wide", Seat: "0"}); ok {
		t.Error("got the wide room's oldest seat kept, want it evicted")
	}
	if r, ok, _ := s.Get(ctx, SeatKey{Room: "Wide", Seat: "19"}); !ok || r.Count != 300 {
		t.Errorf("got the newest wide seat %v with %d people, want it whole", ok, r.Count)
	}
	if _, _, err := s.Apply(ctx, SeatKey{Room: "Third", Seat: "1"}, small); err != nil {
		t.Errorf("a new room's first batch: got %v, want it applied", err)
	}
}

func testASeatLargerThanTheBudgetIsRefused(t *testing.T, open storeMaker) {
	ctx := context.Background()
	s := open.one(t, Limits{MaxBytes: 100})
	_, _, err := s.Apply(ctx, seatA, mustBatch(t, "e1", ev(1, "room.joined", joinedData("m1", person("m1", "Ada")))))
	if !errors.Is(err, ErrFull) {
		t.Fatalf("got %v, want ErrFull", err)
	}
	if _, ok, err := s.Get(ctx, seatA); ok || err != nil {
		t.Errorf("got %v, %v; want no seat", ok, err)
	}
}

// testSeatsAreApartWhateverTheirNames: rooms and seats whose names contain
// a store's separators or escapes never share a roster.
func testSeatsAreApartWhateverTheirNames(t *testing.T, open storeMaker) {
	ctx := context.Background()
	s := open.one(t, Limits{})
	keys := []SeatKey{{"a:b", "c"}, {"a", "b:c"}, {"a%3Ab", "c"}, {"a", "seats"}, {"a:seats", "c"}, {"a", "bytes"}, {"rooms", "bytes"}}
	for i, k := range keys {
		self := fmt.Sprint("m", i)
		if _, _, err := s.Apply(ctx, k, mustBatch(t, "e1", ev(1, "room.joined", joinedData(self, person(self, self))))); err != nil {
			t.Fatalf("seat %+v: %v", k, err)
		}
	}
	for i, k := range keys {
		if r, ok, err := s.Get(ctx, k); !ok || err != nil || r.SelfID != fmt.Sprint("m", i) || r.Count != 1 {
			t.Errorf("seat %+v: got self %q count %d, %v, %v; want m%d alone", k, r.SelfID, r.Count, ok, err, i)
		}
	}
}
