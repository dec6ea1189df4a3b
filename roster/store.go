package roster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
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

// ErrFull reports that the store holds MaxSeats seats and none has been idle
// for IdleTTL, so a new seat cannot be added (HTTP 503).
var ErrFull = errors.New("roster: too many people are in rooms on this server right now; try again in a few minutes")

// Limits bound a MemoryStore. Zero fields take their defaults.
type Limits struct {
	// MaxSeats bounds the number of seats kept (default 10,000).
	MaxSeats int
	// MaxMembersPerSeat bounds the people in one roster, and separately its
	// screen shares and devices (default 300, SignalWire's largest room).
	MaxMembersPerSeat int
	// IdleTTL is how long a seat that no Apply or Get touched is kept
	// (default 30 minutes).
	IdleTTL time.Duration
	// MaxEventsPerBatch bounds one batch (default and at most
	// MaxBatchEvents, which Decode enforces).
	MaxEventsPerBatch int
	// Now is the clock (default time.Now); tests inject one to expire seats.
	Now func() time.Time
}

func (l Limits) withDefaults() Limits {
	if l.MaxSeats <= 0 {
		l.MaxSeats = 10_000
	}
	if l.MaxMembersPerSeat <= 0 {
		l.MaxMembersPerSeat = 300
	}
	if l.IdleTTL <= 0 {
		l.IdleTTL = 30 * time.Minute
	}
	if l.MaxEventsPerBatch <= 0 || l.MaxEventsPerBatch > MaxBatchEvents {
		l.MaxEventsPerBatch = MaxBatchEvents
	}
	if l.Now == nil {
		l.Now = time.Now
	}
	return l
}

// MemoryStore is a Store in process memory, bounded by Limits.
//
// When it is full it evicts only seats idle for IdleTTL, and otherwise
// refuses new seats with ErrFull. Evicting a live seat instead would make
// every full-server join push out someone in a call, who would then recover
// by snapshot only to push out another: under load the refusal is the
// honest answer, and it keeps the people already in rooms working.
//
// One mutex guards the seat index and each seat has its own, so batches for
// different seats apply in parallel. The index is golang-lru's simplelru,
// kept in recency order; expiry uses the injected clock, which its expirable
// variant cannot (it reads time.Now and runs a goroutine of its own).
type MemoryStore struct {
	lim   Limits
	mu    sync.Mutex
	seats *simplelru.LRU[SeatKey, *seat]
}

type seat struct {
	mu    sync.Mutex
	state seatState   // guarded by mu
	used  time.Time   // guarded by MemoryStore.mu
	gone  atomic.Bool // set once removed from the index: holders retry
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store bounded by lim.
func NewMemoryStore(lim Limits) *MemoryStore {
	lim = lim.withDefaults()
	seats, err := simplelru.NewLRU(lim.MaxSeats, func(_ SeatKey, s *seat) { s.gone.Store(true) })
	if err != nil {
		panic(fmt.Sprintf("roster: %v", err)) // unreachable: MaxSeats > 0
	}
	return &MemoryStore{lim: lim, seats: seats}
}

// Len returns the number of seats held, expired ones included until they are
// swept.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seats.Len()
}

// Apply implements Store. It adds the seat when it is new; ErrFull when it
// cannot, ErrTooManyMembers, ErrStaleEpoch or an ErrMalformed when the batch
// cannot be applied.
func (s *MemoryStore) Apply(ctx context.Context, key SeatKey, b Batch) (Roster, Delta, error) {
	if err := ctx.Err(); err != nil {
		return Roster{}, Delta{}, err
	}
	if !key.valid() {
		return Roster{}, Delta{}, fmt.Errorf("%w: the seat is empty or too long", ErrMalformed)
	}
	if b.Epoch == "" || len(b.Epoch) > MaxIDBytes {
		return Roster{}, Delta{}, fmt.Errorf("%w: the batch has no valid epoch", ErrMalformed)
	}
	if len(b.Events) > s.lim.MaxEventsPerBatch {
		return Roster{}, Delta{}, fmt.Errorf("%w: the batch has %d events; at most %d are allowed",
			ErrMalformed, len(b.Events), s.lim.MaxEventsPerBatch)
	}
	for {
		st, err := s.acquire(key, true)
		if err != nil {
			return Roster{}, Delta{}, err
		}
		r, d, retry, err := s.applySeat(key, st, b)
		if retry {
			continue // the seat expired between lookup and lock
		}
		return r, d, err
	}
}

func (s *MemoryStore) applySeat(key SeatKey, st *seat, b Batch) (_ Roster, _ Delta, retry bool, _ error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.gone.Load() {
		return Roster{}, Delta{}, true, nil
	}
	if !st.state.pending(b) {
		return st.state.roster(), Delta{Base: st.state.version}, false, nil
	}
	next := st.state.clone()
	list, err := next.apply(b, s.lim.Now(), s.lim.MaxMembersPerSeat)
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
	st, err := s.acquire(key, false)
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

// acquire finds the seat and marks it used, adding it when create is set.
// It also sweeps expired seats: the index is in recency order, so they are
// all at its old end and each is removed once, which keeps the cost of
// expiry constant per call without a background goroutine.
func (s *MemoryStore) acquire(key SeatKey, create bool) (*seat, error) {
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
			return st, nil
		}
		s.seats.Remove(key)
	}
	if !create {
		return nil, nil
	}
	if s.seats.Len() >= s.lim.MaxSeats {
		return nil, ErrFull
	}
	st := &seat{used: now, state: newSeatState()}
	s.seats.Add(key, st)
	return st, nil
}

func (s *MemoryStore) expired(st *seat, now time.Time) bool {
	return now.Sub(st.used) >= s.lim.IdleTTL
}
