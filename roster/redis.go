package roster

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swrooms/swrooms/internal/redisconn"
)

// RedisStore is a Store in Redis, shared by every instance that uses the
// same Redis, bounded by the same Limits as a MemoryStore.
//
// Its keys, with {room} the room name (":" and "%" percent-escaped, so
// that no two seats share a key) and {seat} the seat id:
//
//	key                             type    holds                          expires                bound
//	swr:roster:seat:{room}:{seat}   hash    s: the seat's record (JSON,    IdleTTL after the      its members (RoomCapacity
//	                                        see seatRecord), v: version    seat's last Apply/Get  people and devices)
//	swr:roster:posts:{room}:{seat}  string  the seat's post budget (GCRA   when the budget is     one number
//	                                        theoretical arrival time, µs)  full again (at most
//	                                                                       PostBurst/PostsPerSecond,
//	                                                                       30 s by default)
//	swr:roster:room:{room}:seats    zset    seat → last use (µs)           IdleTTL after the      SeatsPerMember×RoomCapacity
//	swr:roster:room:{room}:bytes    hash    seat → bytes charged           room's last use        the same
//	swr:roster:rooms:bytes          zset    room → bytes charged           IdleTTL after any use  one entry per room held
//	swr:roster:rooms:used           zset    room → last use (µs)           IdleTTL after any use  one entry per room held
//	swr:roster:bytes                string  bytes charged in all           IdleTTL after any use  MaxBytes
//
// (the rooms in swr:roster:rooms:* are escaped as in the keys).
//
// Apply reads the seat, applies the batch in Go with the same state
// machine as MemoryStore, and writes the result with a Lua script that
// first checks that the seat's version is still the one read (optimistic
// concurrency: two instances applying to one seat never lose an update;
// the one that loses the race applies its batch again to what the other
// wrote). The same script keeps the room's seat index and the byte
// accounting, so they change atomically with the seat.
//
// The bounds are MemoryStore's, counted in Redis: a new seat in a room
// holding SeatsPerMember×RoomCapacity seats evicts the room's least
// recently used seat; the bytes charged for all seats stay within
// MaxBytes, and past it the room charged the most gives up its least
// recently used seats first (ErrFull when nothing else can go). A seat is
// charged its Redis footprint (its record, its names and a fixed overhead
// per seat, held to MEMORY USAGE by TestRedisChargeFollowsMemoryUsage),
// not the heap estimate of a MemoryStore. Seats expire with their keys;
// the scripts drop idle seats and rooms from the indexes and the
// accounting as they pass (a few per call), so the counts follow the keys.
//
// Where it differs from a MemoryStore:
//   - Expiry and the post budget run on Redis's clock (TIME and key
//     expiry); Limits.Now only stamps JoinedAt and HandRaisedAt.
//   - The post budget (a GCRA in Redis, spent once per Apply like the
//     MemoryStore's token bucket, with the same RetryAfter) survives an
//     eviction of its seat until it is full again.
//   - A batch that fails evicts nothing: the seat cap and the budget are
//     applied only when the result is written.
//   - A record that does not decode (an incompatible version) counts as a
//     seat the store does not hold.
//
// The scripts name keys of other rooms than the one declared (to evict),
// so a RedisStore needs one Redis (or a primary with replicas), not Redis
// Cluster. Every Redis failure is an error that redisconn.Wrap marks
// unavailable; the store reconnects by itself when Redis returns.
type RedisStore struct {
	c        *redis.Client
	lim      Limits
	read     *redis.Script
	write    *redis.Script
	ttl      int64 // IdleTTL in milliseconds
	interval int64 // the post budget: microseconds between posts
	burst    int64 // and the burst, as microseconds of credit
}

var _ Store = (*RedisStore)(nil)

// keyPrefix starts every key of a RedisStore.
const keyPrefix = "swr:roster:"

// Global keys: the accounting of the whole store.
const (
	roomsBytesKey = keyPrefix + "rooms:bytes"
	roomsUsedKey  = keyPrefix + "rooms:used"
	totalBytesKey = keyPrefix + "bytes"
)

// redisSeatBytes is what Redis holds for a seat beyond its record and its
// names: the seat's hash and its expiry, its entries in its room's index
// and accounting, and its post budget; measured on Redis 7 with jemalloc
// by TestRedisChargeFollowsMemoryUsage.
const redisSeatBytes = 400

// maxWriteAttempts bounds how often Apply reapplies a batch to a seat that
// other instances keep changing under it; each failed attempt means that
// another one succeeded, so this is only reached by a storm of posts for
// one seat.
const maxWriteAttempts = 50

var errContention = errors.New("the seat changed under every attempt to apply a batch")

// NewRedisStore returns a store in the Redis that c reaches, bounded by
// lim. It sends nothing until it is used.
func NewRedisStore(c *redis.Client, lim Limits) *RedisStore {
	lim = lim.withDefaults()
	interval := max(int64(math.Round(1e6/lim.PostsPerSecond)), 1)
	return &RedisStore{
		c:        c,
		lim:      lim,
		read:     redis.NewScript(luaPrelude + luaRead),
		write:    redis.NewScript(luaPrelude + luaWrite),
		ttl:      max(lim.IdleTTL.Milliseconds(), 1),
		interval: interval,
		burst:    interval * int64(lim.PostBurst),
	}
}

// seatKeys are the keys of one seat and its room.
type seatKeys struct {
	id, room             string // the seat id, the escaped room name
	seat, posts          string
	roomSeats, roomBytes string
}

func keysOf(k SeatKey) seatKeys {
	room := strings.ReplaceAll(strings.ReplaceAll(k.Room, "%", "%25"), ":", "%3A")
	return seatKeys{
		id: k.Seat, room: room,
		seat:      keyPrefix + "seat:" + room + ":" + k.Seat,
		posts:     keyPrefix + "posts:" + room + ":" + k.Seat,
		roomSeats: keyPrefix + "room:" + room + ":seats",
		roomBytes: keyPrefix + "room:" + room + ":bytes",
	}
}

// charge is the bytes a seat with record rec is charged.
func (k seatKeys) charge(rec []byte) int64 {
	return allocBytes(int64(len(rec))) + int64(len(k.seat)) + int64(len(k.posts)) + 2*int64(len(k.id)) + redisSeatBytes
}

// allocBytes is what Redis's allocator (jemalloc) takes for n bytes: it
// rounds up to a size class, four classes per power of two, which for a
// wide seat's record of 350 KB is 384 KB.
func allocBytes(n int64) int64 {
	if n <= 16 {
		return 16
	}
	step := int64(1) << (bits.Len64(uint64(n-1)) - 3)
	return (n + step - 1) &^ (step - 1)
}

// Apply implements Store, with the errors of MemoryStore.Apply; a Redis
// failure is an error with Unavailable() true (redisconn.UnavailableError).
func (s *RedisStore) Apply(ctx context.Context, key SeatKey, b Batch) (Roster, Delta, error) {
	if err := ctx.Err(); err != nil {
		return Roster{}, Delta{}, err
	}
	if err := s.lim.check(key, b); err != nil {
		return Roster{}, Delta{}, err
	}
	now := fromUnixNano(s.lim.Now().UnixNano()) // as the record keeps it
	k := keysOf(key)
	for attempt := range maxWriteAttempts {
		prev, version, err := s.load(ctx, k, attempt == 0) // the first read spends a post
		if err != nil {
			return Roster{}, Delta{}, err
		}
		if !prev.pending(b) {
			return prev.roster(), Delta{Base: prev.version}, nil // a replay
		}
		next := prev.clone()
		list, err := next.apply(b, now, s.lim.RoomCapacity)
		if err != nil {
			return Roster{}, Delta{}, err
		}
		r := next.roster()
		d := next.delta(&prev, r, list)
		rec, err := encodeSeat(&next)
		if err != nil {
			return Roster{}, Delta{}, fmt.Errorf("roster: encode seat: %w", err)
		}
		res, err := s.write.Run(ctx, s.c,
			[]string{k.seat, k.roomSeats, k.roomBytes, roomsBytesKey, roomsUsedKey, totalBytesKey},
			version, strconv.FormatUint(next.version, 10), rec, s.ttl, k.id, k.room,
			k.charge(rec), s.lim.seatsPerRoom(), s.lim.MaxBytes, keyPrefix).Text()
		switch {
		case err != nil:
			return Roster{}, Delta{}, redisconn.Wrap("roster write", err)
		case res == "ok":
			return r, d, nil
		case res == "full":
			return Roster{}, Delta{}, ErrFull
		}
		// "conflict": another instance changed the seat since the read.
		if err := ctx.Err(); err != nil {
			return Roster{}, Delta{}, err
		}
	}
	return Roster{}, Delta{}, redisconn.Wrap("roster write", errContention)
}

// Get implements Store. Reading a seat counts as use: it postpones expiry.
// A Redis failure is an error with Unavailable() true.
func (s *RedisStore) Get(ctx context.Context, key SeatKey) (Roster, bool, error) {
	if err := ctx.Err(); err != nil {
		return Roster{}, false, err
	}
	if !key.valid() {
		return Roster{}, false, nil
	}
	st, _, err := s.load(ctx, keysOf(key), false)
	if err != nil || st.epoch == "" {
		return Roster{}, false, err
	}
	return st.roster(), true, nil
}

// load reads a seat and marks it used, first spending one post of its
// budget when spend is set (a *RateError when none is left). It returns
// the seat's state, new when the store holds none, and the version the
// write must find ("" for none).
func (s *RedisStore) load(ctx context.Context, k seatKeys, spend bool) (seatState, string, error) {
	flag := "0"
	if spend {
		flag = "1"
	}
	v, err := s.read.Run(ctx, s.c,
		[]string{k.seat, k.roomSeats, k.roomBytes, roomsBytesKey, roomsUsedKey, totalBytesKey, k.posts},
		s.ttl, k.id, k.room, flag, s.interval, s.burst).Slice()
	if err != nil {
		return seatState{}, "", redisconn.Wrap("roster read", err)
	}
	if ok, _ := v[0].(int64); ok == 0 && len(v) == 2 {
		wait, _ := v[1].(int64)
		return seatState{}, "", &RateError{RetryAfter: time.Duration(wait) * time.Microsecond}
	}
	if len(v) != 3 {
		return seatState{}, "", redisconn.Wrap("roster read", fmt.Errorf("unexpected reply %v", v))
	}
	rec, _ := v[1].(string)
	version, _ := v[2].(string)
	if rec == "" {
		return newSeatState(), version, nil
	}
	st, err := decodeSeat([]byte(rec))
	if err != nil {
		return newSeatState(), version, nil // lost, as if evicted; the write replaces it
	}
	return st, version, nil
}

// luaPrelude is shared by the scripts: Redis's clock in microseconds, and
// the recency a seat gets in its room's index, strictly after every seat
// used before it (two seats used within a microsecond keep their order).
const luaPrelude = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function recency(seats)
  local newest = redis.call('ZREVRANGE', seats, 0, 0, 'WITHSCORES')[2]
  if newest and tonumber(newest) >= now then return tonumber(newest) + 1 end
  return now
end
local function refresh(ttl, keys)
  for _, k in ipairs(keys) do redis.call('PEXPIRE', k, ttl) end
end
`

// The post budget is a GCRA of our own rather than redis_rate's, whose
// keys all start with "rate:" (outside swr:, so outside an ACL of swr:*),
// and it runs in the same script as the read: one round trip, not two.

// luaRead spends a post when asked (GCRA: the budget is a theoretical
// arrival time, at most burst ahead of now) and returns {1, record,
// version} (nil when absent), marking the seat and its room used; or {0,
// microseconds to wait} when no post is left.
//
// KEYS: seat, room seats, room bytes, rooms by bytes, rooms by use, total,
// posts. ARGV: ttl ms, seat id, room, spend ("1"), interval µs, burst µs.
const luaRead = `
local ttl = tonumber(ARGV[1])
if ARGV[4] == '1' then
  local tat = tonumber(redis.call('GET', KEYS[7]) or now)
  if tat < now then tat = now end
  local nextTat = tat + tonumber(ARGV[5])
  local allowAt = nextTat - tonumber(ARGV[6])
  if now < allowAt then return {0, allowAt - now} end
  redis.call('SET', KEYS[7], nextTat, 'PX', math.ceil((nextTat - now) / 1000))
end
local rec = redis.call('HMGET', KEYS[1], 's', 'v')
if rec[1] then
  redis.call('ZADD', KEYS[2], 'XX', recency(KEYS[2]), ARGV[2])
  redis.call('ZADD', KEYS[5], 'XX', now, ARGV[3])
  refresh(ttl, {KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]})
end
return {1, rec[1], rec[2]}
`

// luaWrite writes a seat's record if its version is still the one read,
// after making room for it as MemoryStore does, and returns "ok",
// "conflict" (the version changed: nothing written) or "full" (it does not
// fit even with every other seat gone).
//
// KEYS: seat, room seats, room bytes, rooms by bytes, rooms by use, total.
// ARGV: version read ("" for none), new version, record, ttl ms, seat id,
// room, bytes charged, seats per room, max bytes, key prefix.
const luaWrite = `
local seatKey, seatsKey, bytesKey, roomsBytes, roomsUsed, totalKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local ttl, seat, room = tonumber(ARGV[4]), ARGV[5], ARGV[6]
local cost, perRoom, maxBytes, prefix = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]), ARGV[10]
local cutoff = now - ttl * 1000

local cur = redis.call('HGET', seatKey, 'v')
if (cur or '') ~= ARGV[1] then return 'conflict' end
if cost > maxBytes then return 'full' end

local function seatsOf(r) return prefix .. 'room:' .. r .. ':seats' end
local function bytesOf(r) return prefix .. 'room:' .. r .. ':bytes' end

-- dropRoom forgets a room that holds no seat, or whose seats expired.
local function dropRoom(r)
  redis.call('DECRBY', totalKey, tonumber(redis.call('ZSCORE', roomsBytes, r) or '0'))
  redis.call('ZREM', roomsBytes, r)
  redis.call('ZREM', roomsUsed, r)
  redis.call('DEL', seatsOf(r), bytesOf(r))
end

-- evict removes a seat and what it is charged.
local function evict(r, s)
  local c = tonumber(redis.call('HGET', bytesOf(r), s) or '0')
  redis.call('DEL', prefix .. 'seat:' .. r .. ':' .. s)
  redis.call('ZREM', seatsOf(r), s)
  redis.call('HDEL', bytesOf(r), s)
  redis.call('ZINCRBY', roomsBytes, -c, r)
  redis.call('DECRBY', totalKey, c)
  if redis.call('ZCARD', seatsOf(r)) == 0 then dropRoom(r) end
end

-- victim is the least recently used seat of the room charged the most,
-- or of the next when that room holds only this seat.
local function victim()
  while true do
    local dropped = false
    for _, r in ipairs(redis.call('ZREVRANGE', roomsBytes, 0, 1)) do
      local oldest = redis.call('ZRANGE', seatsOf(r), 0, 1)
      if #oldest == 0 then
        dropRoom(r)
        dropped = true
        break
      end
      local s = oldest[1]
      if r == room and s == seat then s = oldest[2] end
      if s then return r, s end
    end
    if not dropped then return nil end
  end
end

-- Idle rooms and this room's idle seats: their keys have expired.
for _, r in ipairs(redis.call('ZRANGEBYSCORE', roomsUsed, '-inf', cutoff, 'LIMIT', 0, 16)) do
  if r ~= room then dropRoom(r) end
end
for _, s in ipairs(redis.call('ZRANGEBYSCORE', seatsKey, '-inf', cutoff, 'LIMIT', 0, 64)) do
  if s ~= seat then evict(room, s) end
end

if not cur then
  while redis.call('ZCARD', seatsKey) >= perRoom do
    local oldest = redis.call('ZRANGE', seatsKey, 0, 0)[1]
    if oldest == seat then break end
    evict(room, oldest)
  end
end

-- grow is read again after each eviction, which may drop this room.
local function grow() return cost - tonumber(redis.call('HGET', bytesKey, seat) or '0') end
while grow() > 0 and tonumber(redis.call('GET', totalKey) or '0') + grow() > maxBytes do
  local r, s = victim()
  if not r then return 'full' end
  evict(r, s)
end
local grown = grow()

redis.call('HSET', seatKey, 's', ARGV[3], 'v', ARGV[2])
redis.call('ZADD', seatsKey, recency(seatsKey), seat)
redis.call('HSET', bytesKey, seat, cost)
redis.call('ZINCRBY', roomsBytes, grown, room)
redis.call('ZADD', roomsUsed, now, room)
redis.call('INCRBY', totalKey, grown)
refresh(ttl, {seatKey, seatsKey, bytesKey, roomsBytes, roomsUsed, totalKey})
return 'ok'
`

// countSeats sums the seats of every room held: one ZCARD per room, in
// Redis, so that counting costs one round trip (rooms are bounded by the
// byte budget).
var countSeats = redis.NewScript(`
local n = 0
for _, r in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  n = n + redis.call('ZCARD', ARGV[1] .. 'room:' .. r .. ':seats')
end
return n
`)

// Len returns the number of seats held in Redis by every instance, for
// the swrooms_seats gauge; expired ones count until a write sweeps them.
// A Redis failure is an error with Unavailable() true.
func (s *RedisStore) Len(ctx context.Context) (int, error) {
	n, err := countSeats.Run(ctx, s.c, []string{roomsUsedKey}, keyPrefix).Int()
	return n, redisconn.Wrap("roster seat count", err)
}
