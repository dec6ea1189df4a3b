package roster

import (
	"errors"
	"fmt"
	"time"
)

// Limits bound a MemoryStore. Zero fields take their defaults.
//
// Every bound is per room or per seat, so that what one room or one invite
// link does cannot take another room's share: a room holds at most
// SeatsPerMember×RoomCapacity seats, a seat at most RoomCapacity people and
// RoomCapacity screen shares and devices, each field of which the wire
// format bounds (MaxIDBytes, MaxNameRunes); and all seats together at most
// MaxBytes, by an estimate of each seat's memory kept up to date on every
// Apply.
type Limits struct {
	// RoomCapacity is the most members a room holds: the max_members the
	// app creates rooms with (MAX_MEMBERS). It bounds the people of one
	// seat's roster, and apart from them its screen shares and devices; a
	// batch that would leave more fails with ErrTooManyMembers. Default
	// 300, SignalWire's largest room.
	RoomCapacity int
	// SeatsPerMember bounds the seats of one room to this many per member
	// of RoomCapacity (default 2: every member of a full room joined
	// twice, as a reload or a rejoin leaves the old seat behind). A new
	// seat in a full room evicts that room's least recently used seat.
	SeatsPerMember int
	// MaxBytes is the budget of the whole store in bytes (default
	// DefaultMaxBytes). When a new seat or a growing one would pass it,
	// seats of the room holding the most bytes go first, least recently
	// used first; see MemoryStore.
	MaxBytes int64
	// PostsPerSecond and PostBurst bound the batches one seat may apply:
	// a token bucket of PostBurst, refilled at PostsPerSecond (defaults 20
	// and 600). Past it Apply fails with a *RateError and applies nothing.
	PostsPerSecond float64
	PostBurst      int
	// IdleTTL is how long a seat that no Apply or Get touched is kept
	// (default 30 minutes).
	IdleTTL time.Duration
	// MaxEventsPerBatch bounds one batch (default and at most
	// MaxBatchEvents, which Decode enforces).
	MaxEventsPerBatch int
	// Now is the clock (default time.Now); tests inject one to expire seats
	// and refill the post budget.
	Now func() time.Time
}

// Defaults of Limits.
const (
	// DefaultRoomCapacity is SignalWire's largest room.
	DefaultRoomCapacity = 300
	// DefaultMaxBytes holds about 37,000 viewers of 20-member rooms (7 KB
	// a seat), or eleven full 300-member rooms where everyone has a seat
	// (75 KB a seat with 20-character names): far beyond what one
	// instance serves, and a bound a 512 MB machine can afford.
	DefaultMaxBytes = 256 << 20
	// DefaultPostsPerSecond and DefaultPostBurst: the island posts one
	// batch at a time and only when the SDK has events, so a page
	// sustains far fewer posts a second than 20 (a batch every 50 ms, for
	// minutes) even in a lively room; the burst lets every member of a
	// full room change twice in a row (a mute-all and an unmute-all), one
	// post each on a fast network.
	DefaultPostsPerSecond = 20
	DefaultPostBurst      = 600
)

func (l Limits) withDefaults() Limits {
	if l.RoomCapacity <= 0 {
		l.RoomCapacity = DefaultRoomCapacity
	}
	if l.SeatsPerMember <= 0 {
		l.SeatsPerMember = 2
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.PostsPerSecond <= 0 {
		l.PostsPerSecond = DefaultPostsPerSecond
	}
	if l.PostBurst <= 0 {
		l.PostBurst = DefaultPostBurst
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

// seatsPerRoom is how many seats one room may hold.
func (l Limits) seatsPerRoom() int { return l.SeatsPerMember * l.RoomCapacity }

// ErrTooManyMembers reports a batch that would leave more people, or more
// screen shares and devices, than Limits.RoomCapacity; the batch is not
// applied (HTTP 422).
var ErrTooManyMembers = errors.New("roster: the room has more members than this server can track")

// ErrStaleEpoch reports a batch from an epoch that a newer join of the same
// seat has replaced (a delayed request, or a second tab with the same seat).
// The batch is not applied (HTTP 409).
var ErrStaleEpoch = errors.New("roster: this page's session was replaced by a newer one")

// ErrFull reports that a seat does not fit in Limits.MaxBytes even once
// every other seat that could go has gone: the budget is smaller than one
// room's roster. The batch is not applied (HTTP 503).
var ErrFull = errors.New("roster: too many people are in rooms on this server right now; try again in a few minutes")

// ErrTooManyPosts is what a *RateError is (errors.Is): the seat posted
// more batches than Limits.PostsPerSecond allows (HTTP 429).
var ErrTooManyPosts = errors.New("roster: too many updates from this page")

// RateError reports a seat over its budget of posts; nothing was applied.
type RateError struct {
	// RetryAfter is when the seat may post again.
	RetryAfter time.Duration
}

func (e *RateError) Error() string {
	return fmt.Sprintf("%v; retry in %v", ErrTooManyPosts, e.RetryAfter)
}

// Is makes errors.Is(err, ErrTooManyPosts) hold.
func (e *RateError) Is(target error) bool { return target == ErrTooManyPosts }
