package roster

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/time/rate"
)

// Store keeps one roster per seat. Implementations must be safe for
// concurrent use; MemoryStore is the one in this process, and a shared store
// can replace it behind this interface.
type Store interface {
	// Apply applies b to the seat's roster and returns the result, and how
	// it differs from the roster at the version before b (Delta.Base). It
	// is idempotent: events already applied in the batch's epoch are
	// skipped, and a batch with nothing new returns an empty Delta. A batch
	// that fails changes nothing.
	Apply(ctx context.Context, seat SeatKey, b Batch) (Roster, Delta, error)
	// Get returns the seat's roster; false when the store has none.
	Get(ctx context.Context, seat SeatKey) (Roster, bool, error)
}

// SeatKey names one viewer's roster.
type SeatKey struct {
	Room string
	// Seat is the opaque seat id from the signed seat credential.
	Seat string
}

const maxKeyBytes = 128

func (k SeatKey) valid() bool {
	return k.Room != "" && k.Seat != "" && len(k.Room) <= maxKeyBytes && len(k.Seat) <= maxKeyBytes
}

// maxLRUSize is the size given to golang-lru's simplelru, which this store
// bounds itself (per room and by bytes) rather than by count.
const maxLRUSize = math.MaxInt

// MemoryStore is a Store in process memory, bounded by Limits.
//
// A room holds at most Limits.SeatsPerMember×RoomCapacity seats: a new one
// evicts the room's least recently used seat, which in a real meeting is a
// page that left or rejoined (only members in the call post, and a room
// holds RoomCapacity of them), and in a flood through one invite link is
// the flood's own. The whole store holds at most Limits.MaxBytes by its
// estimate; past it the room holding the most bytes gives way (see
// reserve). Seats idle for IdleTTL are swept first. So a flood through one
// room or one invite never refuses, nor evicts, another room's seats; a
// seat that was evicted recovers with a snapshot at its next post.
//
// One mutex guards the indexes and the accounting, and each seat has its
// own, so batches for different seats apply in parallel. The indexes are
// golang-lru's simplelru, kept in recency order (all seats, for expiry,
// and each room's), with a heap of rooms by bytes; expiry uses the
// injected clock, which the expirable variant cannot (it reads time.Now
// and runs a goroutine of its own).
type MemoryStore struct {
	lim     Limits
	mu      sync.Mutex
	seats   *simplelru.LRU[SeatKey, *seat]
	rooms   map[string]*roomSeats
	byBytes roomHeap
	bytes   int64
}

type seat struct {
	mu    sync.Mutex
	state seatState     // guarded by mu
	posts *rate.Limiter // the seat's budget of posts; safe for concurrent use
	used  time.Time     // guarded by MemoryStore.mu
	cost  int64         // guarded by MemoryStore.mu: the estimate charged
	gone  atomic.Bool   // set once removed from the index: holders retry
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store bounded by lim.
func NewMemoryStore(lim Limits) *MemoryStore {
	s := &MemoryStore{lim: lim.withDefaults(), rooms: make(map[string]*roomSeats)}
	seats, err := simplelru.NewLRU(maxLRUSize, s.forget)
	if err != nil {
		panic(fmt.Sprintf("roster: %v", err)) // unreachable: the size is positive
	}
	s.seats = seats
	return s
}

// Len returns the number of seats held, expired ones included until they are
// swept.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seats.Len()
}

// Bytes returns the store's estimate of the heap its seats hold, which
// Limits.MaxBytes bounds.
func (s *MemoryStore) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// Apply implements Store. It adds the seat when it is new. It fails with a
// *RateError (errors.Is ErrTooManyPosts) past the seat's budget of posts;
// ErrFull when the seat does not fit in the budget; ErrTooManyMembers,
// ErrStaleEpoch or an ErrMalformed when the batch cannot be applied.
func (s *MemoryStore) Apply(ctx context.Context, key SeatKey, b Batch) (Roster, Delta, error) {
	if err := ctx.Err(); err != nil {
		return Roster{}, Delta{}, err
	}
	if err := s.lim.check(key, b); err != nil {
		return Roster{}, Delta{}, err
	}
	for {
		st, now, err := s.acquire(key, true)
		if err != nil {
			return Roster{}, Delta{}, err
		}
		if wait := spend(st.posts, now); wait > 0 {
			return Roster{}, Delta{}, &RateError{RetryAfter: wait}
		}
		r, d, retry, err := s.applySeat(key, st, b, now)
		if retry {
			continue // the seat expired between lookup and lock
		}
		return r, d, err
	}
}

// check refuses, with an ErrMalformed, what no store can apply: an empty
// or oversized seat key, a batch without a valid epoch or with more than
// MaxEventsPerBatch events.
func (l Limits) check(key SeatKey, b Batch) error {
	if !key.valid() {
		return fmt.Errorf("%w: the seat is empty or too long", ErrMalformed)
	}
	if b.Epoch == "" || len(b.Epoch) > MaxIDBytes {
		return fmt.Errorf("%w: the batch has no valid epoch", ErrMalformed)
	}
	if len(b.Events) > l.MaxEventsPerBatch {
		return fmt.Errorf("%w: the batch has %d events; at most %d are allowed",
			ErrMalformed, len(b.Events), l.MaxEventsPerBatch)
	}
	return nil
}

// spend takes one post from lim at now, or, when none is left, takes
// nothing and returns how long until one is.
func spend(lim *rate.Limiter, now time.Time) time.Duration {
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d
	}
	return 0
}

func (s *MemoryStore) applySeat(key SeatKey, st *seat, b Batch, now time.Time) (_ Roster, _ Delta, retry bool, _ error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.gone.Load() {
		return Roster{}, Delta{}, true, nil
	}
	if !st.state.pending(b) {
		// A replay: nothing to apply, clone or charge.
		return st.state.roster(), Delta{Base: st.state.version}, false, nil
	}
	next := st.state.clone()
	list, err := next.apply(b, now, s.lim.RoomCapacity)
	if err == nil {
		s.mu.Lock()
		if !s.charge(key, st, next.cost(key)) {
			err = ErrFull
		}
		s.mu.Unlock()
	}
	if err != nil {
		if st.state.epoch == "" {
			// The seat was added for this batch: a failed batch must not
			// occupy a seat either. Removing it under st.mu means a
			// concurrent Apply waiting for st sees gone and starts over.
			s.mu.Lock()
			if cur, ok := s.seats.Peek(key); ok && cur == st {
				s.seats.Remove(key)
			}
			s.mu.Unlock()
		}
		return Roster{}, Delta{}, false, err // sentinels whose text is meant for the user
	}
	r := next.roster()
	d := next.delta(&st.state, r, list)
	st.state = next
	return r, d, false, nil
}

// Get implements Store. Reading a seat counts as use: it postpones expiry.
func (s *MemoryStore) Get(ctx context.Context, key SeatKey) (Roster, bool, error) {
	if err := ctx.Err(); err != nil {
		return Roster{}, false, err
	}
	if !key.valid() {
		return Roster{}, false, nil
	}
	st, _, err := s.acquire(key, false)
	if err != nil || st == nil {
		return Roster{}, false, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.gone.Load() || st.state.epoch == "" {
		return Roster{}, false, nil
	}
	return st.state.roster(), true, nil
}

// acquire finds the seat and marks it used, adding it when create is set,
// and returns the time it read. It also sweeps expired seats: the index is
// in recency order, so they are all at its old end and each is removed
// once, which keeps the cost of expiry constant per call without a
// background goroutine.
func (s *MemoryStore) acquire(key SeatKey, create bool) (*seat, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.lim.Now()
	for {
		_, oldest, ok := s.seats.GetOldest()
		if !ok || !s.expired(oldest, now) {
			break
		}
		s.seats.RemoveOldest()
	}
	if st, ok := s.seats.Get(key); ok {
		if !s.expired(st, now) { // a clock that went backwards can reorder
			st.used = now
			s.rooms[key.Room].seats.Get(key.Seat) // its room's recency too
			return st, now, nil
		}
		s.seats.Remove(key)
	}
	if !create {
		return nil, now, nil
	}
	st := &seat{used: now, state: newSeatState(),
		posts: rate.NewLimiter(rate.Limit(s.lim.PostsPerSecond), s.lim.PostBurst)}
	if err := s.addSeat(key, st); err != nil {
		return nil, now, err
	}
	return st, now, nil
}

func (s *MemoryStore) expired(st *seat, now time.Time) bool {
	return now.Sub(st.used) >= s.lim.IdleTTL
}
