// Package knownrooms remembers which rooms were recently confirmed to exist
// on SignalWire, so that a second host of the same room costs no SignalWire
// call. Memory keeps them in this process; Redis shares them between
// instances, so that a host whose request lands on another instance costs
// no call either.
//
// A room is trusted for a TTL (the handlers use an hour): one deleted on
// SignalWire's dashboard is created again after that, or as soon as a
// failed join reports it gone (Forget).
//
// # Redis keys
//
//	swr:known:<room>   string "1", expires after the TTL (EX 3600 for an hour)
//
// Not under "swr:room:", which is the rooms' live state (roomstate): there
// a room name with braces would make a known room's key one of another
// room's keys.
package knownrooms

import (
	"context"
	"fmt"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/redis/go-redis/v9"

	"github.com/swrooms/swrooms/internal/redisconn"
)

// Memory is the known rooms of this process: room -> when it was
// confirmed, the least recently used forgotten past its size. A plain LRU
// with the time as value: expirable.LRU would start a goroutine per store
// that never stops.
type Memory struct {
	mu    sync.Mutex
	rooms *lru.Cache[string, time.Time]
	ttl   time.Duration
	now   func() time.Time
}

// NewMemory remembers up to maxRooms rooms for ttl each, on the clock now
// (nil means time.Now). It panics when maxRooms < 1.
func NewMemory(ttl time.Duration, maxRooms int, now func() time.Time) *Memory {
	rooms, err := lru.New[string, time.Time](maxRooms)
	if err != nil {
		panic("knownrooms: " + err.Error()) // only for maxRooms < 1
	}
	if now == nil {
		now = time.Now
	}
	return &Memory{rooms: rooms, ttl: ttl, now: now}
}

// Known reports whether room was confirmed less than the TTL ago. The
// error is always nil.
func (m *Memory) Known(_ context.Context, room string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	at, ok := m.rooms.Get(room)
	return ok && m.now().Sub(at) < m.ttl, nil
}

// Add records that room exists now. The error is always nil.
func (m *Memory) Add(_ context.Context, room string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rooms.Add(room, m.now())
	return nil
}

// Forget drops room, so that the next host asks SignalWire again. The
// error is always nil.
func (m *Memory) Forget(_ context.Context, room string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rooms.Remove(room)
	return nil
}

// Redis is the known rooms of every instance: one key per room, which
// expires after the TTL (Redis's clock, not the caller's). The number of
// keys is bounded by the rooms hosted within a TTL.
type Redis struct {
	rdb redis.Cmdable
	ttl time.Duration
}

// NewRedis remembers rooms in rdb under "swr:known:<room>" for ttl each.
// It panics when ttl is under a millisecond, which Redis would take as
// no expiry at all (0) or refuse.
func NewRedis(rdb redis.Cmdable, ttl time.Duration) *Redis {
	if ttl < time.Millisecond {
		panic(fmt.Sprintf("knownrooms: a TTL of %v would keep rooms in Redis forever", ttl))
	}
	return &Redis{rdb: rdb, ttl: ttl}
}

func key(room string) string { return "swr:known:" + room }

// Known reports whether room was confirmed less than the TTL ago. When
// Redis cannot answer, the error is a *redisconn.UnavailableError.
func (r *Redis) Known(ctx context.Context, room string) (bool, error) {
	n, err := r.rdb.Exists(ctx, key(room)).Result()
	if err != nil {
		return false, redisconn.Wrap("known rooms", err)
	}
	return n == 1, nil
}

// Add records that room exists now, for the TTL from now. Errors are as
// for Known.
func (r *Redis) Add(ctx context.Context, room string) error {
	return redisconn.Wrap("known rooms", r.rdb.Set(ctx, key(room), "1", r.ttl).Err())
}

// Forget drops room, so that the next host asks SignalWire again. Errors
// are as for Known.
func (r *Redis) Forget(ctx context.Context, room string) error {
	return redisconn.Wrap("known rooms", r.rdb.Del(ctx, key(room)).Err())
}
