package ratelimit

import (
	"context"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// Memory is one budget's token buckets (golang.org/x/time/rate) in this
// process, the least recently used forgotten past its size. A bucket
// pushed out is forgotten, which only ever gives its owner more.
type Memory struct {
	mu      sync.Mutex // Get-then-Add must be one step
	buckets *lru.Cache[string, *rate.Limiter]
	every   rate.Limit
	burst   int
	now     func() time.Time
}

// NewMemory gives each of up to maxKeys keys burst units at once, refilled
// at perSecond units a second, on the clock now (nil means time.Now). It
// panics when burst < 1, perSecond <= 0 or maxKeys < 1.
func NewMemory(burst int, perSecond float64, maxKeys int, now func() time.Time) *Memory {
	checkBucket(burst, perSecond)
	buckets, err := lru.New[string, *rate.Limiter](maxKeys)
	if err != nil {
		panic("ratelimit: " + err.Error()) // only for maxKeys < 1
	}
	if now == nil {
		now = time.Now
	}
	return &Memory{buckets: buckets, every: rate.Limit(perSecond), burst: burst, now: now}
}

// Take spends one unit of key's bucket. When the bucket is empty it spends
// nothing and returns false with how long until a unit is back. The error
// is always nil.
func (m *Memory) Take(_ context.Context, key string) (time.Duration, bool, error) {
	now := m.now()
	m.mu.Lock()
	lim, ok := m.buckets.Get(key)
	if !ok {
		lim = rate.NewLimiter(m.every, m.burst)
		m.buckets.Add(key, lim)
	}
	m.mu.Unlock()
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false, nil
	}
	return 0, true, nil
}

// Has reports whether key's bucket holds a whole unit, spending nothing.
// The error is always nil.
func (m *Memory) Has(_ context.Context, key string) (bool, error) {
	m.mu.Lock()
	lim, ok := m.buckets.Get(key)
	m.mu.Unlock()
	return !ok || lim.TokensAt(m.now()) >= 1, nil
}
