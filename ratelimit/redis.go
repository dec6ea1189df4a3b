package ratelimit

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/swrooms/swrooms/internal/redisconn"
)

// Redis is one budget's token buckets in Redis, shared by every instance
// that uses the same name. Each Take or Has is one call of redis_rate's
// GCRA script, which reads and writes the key atomically inside Redis: two
// instances spending at the same moment cannot both take the last unit
// (Fiber's limiter, which reads then writes, could).
//
// Time is Redis's own clock (the script calls TIME), not the caller's, so
// that instances whose clocks disagree still agree on a bucket.
type Redis struct {
	lim   *redis_rate.Limiter
	name  string
	limit redis_rate.Limit
}

// NewRedis gives each key of the budget name burst units at once, refilled
// at perSecond units a second, in rdb under "swr:rl:<name>:<key>". Budgets
// of different names never share a key. It panics when name is empty or
// has a colon (which could make two budgets' keys meet), burst < 1 or
// perSecond <= 0.
func NewRedis(rdb redis.Cmdable, name string, burst int, perSecond float64) *Redis {
	if name == "" || strings.Contains(name, ":") {
		panic(fmt.Sprintf("ratelimit: budget name %q must be non-empty and without a colon", name))
	}
	checkBucket(burst, perSecond)
	return &Redis{
		lim:  redis_rate.NewLimiter(swrKeys{rdb}),
		name: name,
		// One unit every 1/perSecond seconds: redis_rate's rate is a whole
		// number per period, ours may be a fraction (10 a minute).
		limit: redis_rate.Limit{Rate: 1, Period: time.Duration(float64(time.Second) / perSecond), Burst: burst},
	}
}

// Take spends one unit of key's bucket. When the bucket is empty it spends
// nothing and returns false with how long until a unit is back. When Redis
// cannot answer, the error is a *redisconn.UnavailableError and ok is
// false: the caller must say so rather than guess.
func (r *Redis) Take(ctx context.Context, key string) (time.Duration, bool, error) {
	res, err := r.lim.Allow(ctx, r.name+":"+key, r.limit)
	if err != nil {
		return 0, false, redisconn.Wrap("rate limit "+r.name, err)
	}
	if res.Allowed == 0 {
		return res.RetryAfter, false, nil
	}
	return 0, true, nil
}

// Has reports whether key's bucket holds a whole unit, spending nothing:
// the script with a cost of zero reports what remains and leaves the
// bucket as it was. Errors are as for Take.
func (r *Redis) Has(ctx context.Context, key string) (bool, error) {
	res, err := r.lim.AllowN(ctx, r.name+":"+key, r.limit, 0)
	if err != nil {
		return false, redisconn.Wrap("rate limit "+r.name, err)
	}
	return res.Remaining >= 1, nil
}

// libraryPrefix is what redis_rate puts before every key (a constant of
// that package), and keyPrefix what swrooms' rate limit keys start with.
const (
	libraryPrefix = "rate:"
	keyPrefix     = "swr:rl:"
)

// swrKeys is the client redis_rate sees: it renames the library's keys
// "rate:<name>:<key>" to "swr:rl:<name>:<key>", so that every key of
// swrooms starts with "swr:" (one pattern for ACLs, scans and the README's
// key table). The contract tests check the key a Take leaves.
type swrKeys struct{ redis.Cmdable }

func rename(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		if rest, ok := strings.CutPrefix(k, libraryPrefix); ok {
			k = keyPrefix + rest
		}
		out[i] = k
	}
	return out
}

func (s swrKeys) Eval(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return s.Cmdable.Eval(ctx, script, rename(keys), args...)
}

func (s swrKeys) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return s.Cmdable.EvalSha(ctx, sha1, rename(keys), args...)
}

func (s swrKeys) EvalRO(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return s.Cmdable.EvalRO(ctx, script, rename(keys), args...)
}

func (s swrKeys) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return s.Cmdable.EvalShaRO(ctx, sha1, rename(keys), args...)
}

func (s swrKeys) Del(ctx context.Context, keys ...string) *redis.IntCmd {
	return s.Cmdable.Del(ctx, rename(keys)...)
}
