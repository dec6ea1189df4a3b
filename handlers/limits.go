package handlers

import (
	"errors"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// Limits are the join budgets (JOINS_PER_ADDRESS, JOINS_PER_ROOM). Each is
// a token bucket: that many joins at once, refilled at that many a minute.
// Zero means the default.
type Limits struct {
	// JoinsPerAddress bounds token requests from one client address (an
	// IPv6 /64), whoever's cookies they carry. Default 300: a 300-person
	// office behind one NAT joins at once.
	JoinsPerAddress int
	// JoinsPerRoom bounds joins of one room, from everyone: a flood through
	// one invite link cannot spend more. Default 600: a 300-member room
	// joining at once, with one rejoin each.
	JoinsPerRoom int
}

// Defaults of Limits; README's configuration table says how to size them.
const (
	DefaultJoinsPerAddress = 300
	DefaultJoinsPerRoom    = 600
)

func (l Limits) withDefaults() Limits {
	if l.JoinsPerAddress <= 0 {
		l.JoinsPerAddress = DefaultJoinsPerAddress
	}
	if l.JoinsPerRoom <= 0 {
		l.JoinsPerRoom = DefaultJoinsPerRoom
	}
	return l
}

// limiterKeys bounds how many addresses or rooms are tracked at once. A
// bucket pushed out is forgotten, which only ever gives its owner more.
const limiterKeys = 10_000

// keyedLimiter is one token bucket (golang.org/x/time/rate) per key, the
// least recently used forgotten past its size.
type keyedLimiter struct {
	mu      sync.Mutex // Get-then-Add must be one step
	buckets *lru.Cache[string, *rate.Limiter]
	every   rate.Limit
	burst   int
}

// newKeyedLimiter gives each of up to limiterKeys keys perMinute units at
// once, refilled at perMinute a minute.
func newKeyedLimiter(perMinute int) *keyedLimiter {
	return newBuckets(rate.Limit(float64(perMinute)/60), perMinute, limiterKeys)
}

// newBuckets gives each of up to keys keys burst units at once, refilled
// at every a second.
func newBuckets(every rate.Limit, burst, keys int) *keyedLimiter {
	return &keyedLimiter{buckets: mustLRUOf[string, *rate.Limiter](keys), every: every, burst: burst}
}

// take spends one unit of key's bucket at now. When the bucket is empty it
// spends nothing and says how long until a unit is back.
func (k *keyedLimiter) take(key string, now time.Time) (time.Duration, bool) {
	k.mu.Lock()
	lim, ok := k.buckets.Get(key)
	if !ok {
		lim = rate.NewLimiter(k.every, k.burst)
		k.buckets.Add(key, lim)
	}
	k.mu.Unlock()
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}

// joinLimits are the per-address and per-room join budgets, and the
// per-address knock budget, the same size as the join budget in a bucket
// of its own: everyone behind one address knocks once before joining once.
type joinLimits struct {
	perAddress *keyedLimiter
	perRoom    *keyedLimiter
	knocks     *keyedLimiter
	// waitingPerAddress bounds one address's entries in a room's lobby.
	waitingPerAddress int
}

func newJoinLimits(l Limits) *joinLimits {
	l = l.withDefaults()
	return &joinLimits{
		perAddress:        newKeyedLimiter(l.JoinsPerAddress),
		perRoom:           newKeyedLimiter(l.JoinsPerRoom),
		knocks:            newKeyedLimiter(l.JoinsPerAddress),
		waitingPerAddress: min(l.JoinsPerAddress, maxLobbyPerAddress),
	}
}

// clientAddrKey is the fiber.Ctx local where limitKnocks leaves the
// client's address key for the knock handler.
const clientAddrKey = "swr-client-addr"

// limitKnocks is middleware for "POST /rooms/:room/lobby": it counts every
// knock under the client's address, and leaves the address for the
// handler's per-address count of waiting guests.
func (h *Handlers) limitKnocks(addrs clientAddrs) fiber.Handler {
	return func(c *fiber.Ctx) error {
		key := addrs.key(c)
		if wait, ok := h.joins.knocks.take(key, h.now()); !ok {
			return &userError{status: fiber.StatusTooManyRequests, title: "Too many knocks", message: "Too many people knocked from your address. Wait a minute, then click Join again.", retryAfter: wait}
		}
		c.Locals(clientAddrKey, key)
		return c.Next()
	}
}

// limitJoinsPerAddress is middleware for "POST /rooms/:room/token": it
// counts every request, refused ones too, under the client's address.
func (h *Handlers) limitJoinsPerAddress(addrs clientAddrs) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if wait, ok := h.joins.perAddress.take(addrs.key(c), h.now()); !ok {
			return joinsRefused(wait, "Too many join attempts from your address. Wait a minute, then click Join again.")
		}
		return c.Next()
	}
}

// spendRoomJoin charges one join to room's budget; roomToken calls it once
// the join is authorised, so that strangers cannot spend a room's budget.
func (h *Handlers) spendRoomJoin(room string) error {
	if wait, ok := h.joins.perRoom.take(room, h.now()); !ok {
		return joinsRefused(wait, "Too many people are joining "+room+" right now. Wait a moment, then click Join again.")
	}
	return nil
}

func joinsRefused(wait time.Duration, message string) error {
	return &userError{status: fiber.StatusTooManyRequests, title: "Too many joins", message: message, retryAfter: wait}
}

// retryAfterSeconds is a Retry-After value: whole seconds, rounded up, at
// least 1.
func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}

// failedAttempts counts, per client address, requests that failed, charged
// after they fail: Fiber's limiter with SkipSuccessfulRequests counts each
// request while it runs and gives the unit back on success, so eleven
// hosts behind one NAT starting rooms at the same moment were refused.
type failedAttempts struct {
	k     *keyedLimiter
	addrs clientAddrs
	now   func() time.Time
}

// limit is middleware that refuses (with refused) an address whose
// failures have emptied its bucket, and charges one unit for each request
// that ends with a 4xx other than the refusal itself.
func (f failedAttempts) limit(refused fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		key := f.addrs.key(c)
		if !f.k.has(key, f.now()) {
			return refused(c)
		}
		err := c.Next()
		status := c.Response().StatusCode()
		var ue *userError
		if errors.As(err, &ue) {
			status = ue.status
		}
		if status >= 400 && status < 500 && status != fiber.StatusTooManyRequests {
			f.k.take(key, f.now())
		}
		return err
	}
}

// has reports whether key's bucket holds a unit at now, spending nothing.
func (k *keyedLimiter) has(key string, now time.Time) bool {
	k.mu.Lock()
	lim, ok := k.buckets.Get(key)
	k.mu.Unlock()
	return !ok || lim.TokensAt(now) >= 1
}
