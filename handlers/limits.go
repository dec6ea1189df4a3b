package handlers

import (
	"context"
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/swrooms/swrooms/ratelimit"
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

// Limiter is one named budget of token buckets, one bucket per key (a
// client address, a room, a seat). Take spends a unit, or refuses and says
// how long until one is back; Has says whether a unit is there without
// spending it. An error means the budget could not be asked (Redis is
// unreachable: a *redisconn.UnavailableError): the handlers return it, and
// the request fails closed with a page that says shared state is
// unavailable, never silently allowed or refused. ratelimit.Memory and
// ratelimit.Redis implement it.
type Limiter interface {
	Take(ctx context.Context, key string) (retryAfter time.Duration, ok bool, err error)
	Has(ctx context.Context, key string) (bool, error)
}

var (
	_ Limiter = (*ratelimit.Memory)(nil)
	_ Limiter = (*ratelimit.Redis)(nil)
)

// limiterKeys bounds how many addresses or rooms a budget in memory tracks
// at once. A bucket pushed out is forgotten, which only ever gives its
// owner more.
const limiterKeys = 10_000

// newBudget makes the budget name: burst units at once, refilled at
// perSecond a second, for up to maxKeys keys when it is kept in memory.
type newBudget func(name string, burst int, perSecond float64, maxKeys int) Limiter

// budgetsOf makes budgets with d.Limiters (shared ones, in Redis), or in
// memory on d.Now.
func budgetsOf(d Deps) newBudget {
	return func(name string, burst int, perSecond float64, maxKeys int) Limiter {
		if d.Limiters != nil {
			return d.Limiters(name, burst, perSecond)
		}
		return ratelimit.NewMemory(burst, perSecond, maxKeys, d.Now)
	}
}

// perMinute is the refill rate, per second, of a budget refilled at n a
// minute.
func perMinute(n int) float64 { return float64(n) / 60 }

// joinLimits are the budgets of joining, each keyed on the client's
// address but perRoom: the per-address and per-room join budgets; the
// per-address knock budget, the same size as the join budget in a bucket
// of its own (everyone behind one address knocks once before joining
// once); failed host attempts; and failed-join reports.
type joinLimits struct {
	perAddress   Limiter
	perRoom      Limiter
	knocks       Limiter
	hostFailures Limiter
	joinFailures Limiter
	// waitingPerAddress bounds one address's entries in a room's lobby.
	waitingPerAddress int
}

// newJoinLimits makes the budgets of joining. Their names are their keys'
// namespace in Redis (swr:rl:<name>:<key>), so they must stay distinct.
func newJoinLimits(l Limits, budget newBudget) *joinLimits {
	l = l.withDefaults()
	return &joinLimits{
		perAddress:        budget("join-addr", l.JoinsPerAddress, perMinute(l.JoinsPerAddress), limiterKeys),
		perRoom:           budget("join-room", l.JoinsPerRoom, perMinute(l.JoinsPerRoom), limiterKeys),
		knocks:            budget("knock-addr", l.JoinsPerAddress, perMinute(l.JoinsPerAddress), limiterKeys),
		hostFailures:      budget("host-fail", passcodeFailuresPerMinute, perMinute(passcodeFailuresPerMinute), limiterKeys),
		joinFailures:      budget("joinfail-addr", joinFailuresPerMinute, perMinute(joinFailuresPerMinute), limiterKeys),
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
		if wait, ok, err := h.joins.knocks.Take(c.UserContext(), key); err != nil {
			return err
		} else if !ok {
			return &userError{status: fiber.StatusTooManyRequests, title: "Too many knocks", message: "Too many people knocked from your address. Wait a minute, then click Join again.", retryAfter: wait}
		}
		c.Locals(clientAddrKey, key)
		return c.Next()
	}
}

// limitJoinsPerAddress is middleware that counts every request, refused
// ones too, under the client's address in budget: joins.perAddress for
// "POST /rooms/:room/token", and joins.joinFailures for "POST
// /rooms/:room/join-failed" (each report costs a SignalWire lookup, and a
// page makes one per join).
func limitJoinsPerAddress(addrs clientAddrs, budget Limiter) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if wait, ok, err := budget.Take(c.UserContext(), addrs.key(c)); err != nil {
			return err
		} else if !ok {
			return joinsRefused(wait, "Too many join attempts from your address. Wait a minute, then click Join again.")
		}
		return c.Next()
	}
}

// spendRoomJoin charges one join to room's budget; roomToken calls it once
// the join is authorised, so that strangers cannot spend a room's budget.
func (h *Handlers) spendRoomJoin(ctx context.Context, room string) error {
	if wait, ok, err := h.joins.perRoom.Take(ctx, room); err != nil {
		return err
	} else if !ok {
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
	budget Limiter
	addrs  clientAddrs
}

// limit is middleware that refuses (with refused) an address whose
// failures have emptied its bucket, and charges one unit for each request
// that ends with a 4xx other than the refusal itself. A budget that cannot
// be asked or charged fails the request with its error: a failure that
// goes uncounted would let guessing go on unbounded.
func (f failedAttempts) limit(refused fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		key := f.addrs.key(c)
		if ok, err := f.budget.Has(c.UserContext(), key); err != nil {
			return err
		} else if !ok {
			return refused(c)
		}
		err := c.Next()
		status := c.Response().StatusCode()
		var ue *userError
		if errors.As(err, &ue) {
			status = ue.status
		}
		if status >= 400 && status < 500 && status != fiber.StatusTooManyRequests {
			if _, _, terr := f.budget.Take(c.UserContext(), key); terr != nil {
				return terr
			}
		}
		return err
	}
}
