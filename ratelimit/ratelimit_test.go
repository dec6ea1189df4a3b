package ratelimit_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swrooms/swrooms/internal/fakeclock"
	"github.com/swrooms/swrooms/internal/redistest"
	"github.com/swrooms/swrooms/ratelimit"
)

// limiter is what the handlers use of a budget.
type limiter interface {
	Take(ctx context.Context, key string) (time.Duration, bool, error)
	Has(ctx context.Context, key string) (bool, error)
}

var (
	_ limiter = (*ratelimit.Memory)(nil)
	_ limiter = (*ratelimit.Redis)(nil)
)

// budgets makes budgets for one test, and moves their time forward: the
// memory budgets' clock, or the real time that Redis's clock follows.
type budgets struct {
	make    func(name string, burst int, perSecond float64) limiter
	advance func(d time.Duration)
}

func memoryBudgets(t *testing.T) budgets {
	clock := fakeclock.New(time.Now())
	return budgets{
		make: func(_ string, burst int, perSecond float64) limiter {
			return ratelimit.NewMemory(burst, perSecond, 100, clock.Now)
		},
		advance: clock.Advance,
	}
}

func redisBudgets(t *testing.T) (budgets, *redistest.Server) {
	srv := redistest.Start(t)
	rdb := srv.Open(t)
	return budgets{
		make: func(name string, burst int, perSecond float64) limiter {
			return ratelimit.NewRedis(rdb, name, burst, perSecond)
		},
		advance: time.Sleep,
	}, srv
}

func TestMemory(t *testing.T) {
	t.Parallel()
	testContract(t, func(t *testing.T) budgets { return memoryBudgets(t) })
}

func TestRedis(t *testing.T) {
	t.Parallel()
	testContract(t, func(t *testing.T) budgets { b, _ := redisBudgets(t); return b })
}

// perMinute is a rate slow enough that no unit comes back during a test,
// however loaded the machine.
const perMinute = 1.0 / 60

// testContract is what every implementation must do.
func testContract(t *testing.T, newBudgets func(t *testing.T) budgets) {
	ctx := context.Background()
	take := func(t *testing.T, l limiter, key string) (time.Duration, bool) {
		t.Helper()
		wait, ok, err := l.Take(ctx, key)
		if err != nil {
			t.Fatalf("Take(%q): %v", key, err)
		}
		return wait, ok
	}
	has := func(t *testing.T, l limiter, key string) bool {
		t.Helper()
		ok, err := l.Has(ctx, key)
		if err != nil {
			t.Fatalf("Has(%q): %v", key, err)
		}
		return ok
	}

	t.Run("a burst is taken, then refused with the wait for the next unit", func(t *testing.T) {
		t.Parallel()
		l := newBudgets(t).make("burst", 3, perMinute)
		for i := range 3 {
			if _, ok := take(t, l, "a"); !ok {
				t.Fatalf("take %d of a burst of 3 refused", i+1)
			}
		}
		wait, ok := take(t, l, "a")
		if ok {
			t.Fatal("the 4th take of a burst of 3 was allowed")
		}
		// One a minute: the next unit is about a minute away.
		if wait <= 30*time.Second || wait > time.Minute {
			t.Errorf("got retry-after %v, want about a minute (30 s, 60 s]", wait)
		}
	})

	t.Run("a unit is back after the retry-after", func(t *testing.T) {
		t.Parallel()
		b := newBudgets(t)
		l := b.make("refill", 1, 0.5)
		if _, ok := take(t, l, "a"); !ok {
			t.Fatal("the first take refused")
		}
		wait, ok := take(t, l, "a")
		if ok || wait <= 0 || wait > 2*time.Second {
			t.Fatalf("got %v %v for a take from an empty bucket, want refused within 2 s", wait, ok)
		}
		b.advance(wait + 10*time.Millisecond)
		if _, ok := take(t, l, "a"); !ok {
			t.Errorf("refused after waiting the retry-after (%v)", wait)
		}
	})

	t.Run("keys have buckets of their own", func(t *testing.T) {
		t.Parallel()
		l := newBudgets(t).make("keys", 1, perMinute)
		take(t, l, "198.51.100.1")
		if _, ok := take(t, l, "198.51.100.1"); ok {
			t.Fatal("a second take from a bucket of 1 was allowed")
		}
		for _, key := range []string{"198.51.100.2", "2001:db8::/64", "Room\x00seat"} {
			if _, ok := take(t, l, key); !ok {
				t.Errorf("key %q was refused after another key's bucket emptied", key)
			}
		}
	})

	t.Run("budgets of different names never share a bucket", func(t *testing.T) {
		t.Parallel()
		b := newBudgets(t)
		joins, knocks := b.make("joins", 1, perMinute), b.make("knocks", 1, perMinute)
		take(t, joins, "198.51.100.1")
		if _, ok := take(t, joins, "198.51.100.1"); ok {
			t.Fatal("a second take from a bucket of 1 was allowed")
		}
		if _, ok := take(t, knocks, "198.51.100.1"); !ok {
			t.Error("the knocks budget was refused after the joins budget emptied")
		}
	})

	t.Run("has spends nothing", func(t *testing.T) {
		t.Parallel()
		l := newBudgets(t).make("has", 2, perMinute)
		for range 5 {
			if !has(t, l, "a") {
				t.Fatal("Has is false for a full bucket")
			}
		}
		take(t, l, "a")
		if !has(t, l, "a") {
			t.Fatal("Has is false with one unit left")
		}
		if _, ok := take(t, l, "a"); !ok {
			t.Fatal("the second take of a burst of 2 was refused after Has")
		}
		if has(t, l, "a") {
			t.Error("Has is true for an empty bucket")
		}
		if !has(t, l, "b") {
			t.Error("Has is false for a key never seen")
		}
	})

	t.Run("concurrent takes spend the burst exactly", func(t *testing.T) {
		t.Parallel()
		l := newBudgets(t).make("race", 10, perMinute)
		if n := takeAtOnce(t, 40, func(int) limiter { return l }); n != 10 {
			t.Errorf("got %d of 40 concurrent takes allowed, want the burst of 10", n)
		}
	})
}

// Two instances (two clients) spending one budget at the same moment get
// the burst between them, never more: each take is one atomic script.
func TestRedisBudgetIsSharedAcrossInstances(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	var instances []limiter
	for range 3 {
		instances = append(instances, ratelimit.NewRedis(srv.Open(t), "joins", 10, perMinute))
	}
	if n := takeAtOnce(t, 60, func(i int) limiter { return instances[i%3] }); n != 10 {
		t.Errorf("got %d of 60 takes through 3 instances allowed, want the burst of 10", n)
	}
}

// takeAtOnce takes n units of one key at once, the i-th from the budget
// of(i), and returns how many were allowed.
func takeAtOnce(t *testing.T, n int, of func(i int) limiter) int {
	t.Helper()
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, ok, err := of(i).Take(context.Background(), "198.51.100.1"); err != nil {
				t.Error(err)
			} else if ok {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	return int(allowed.Load())
}

// The bucket lives under swr:rl:<name>:<key> and expires once it would be
// full again; redis_rate's own "rate:" prefix never reaches Redis.
func TestRedisKeysAreNamedAndExpire(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	rdb := srv.Open(t)
	ctx := context.Background()
	l := ratelimit.NewRedis(rdb, "joins", 5, perMinute) // full again 5 minutes after the last take
	if _, ok, err := l.Take(ctx, "198.51.100.1"); err != nil || !ok {
		t.Fatalf("Take: %v %v", ok, err)
	}
	if ok, err := l.Has(ctx, "198.51.100.2"); err != nil || !ok {
		t.Fatalf("Has: %v %v", ok, err)
	}
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != "swr:rl:joins:198.51.100.1" {
		t.Fatalf("got keys %q, want only swr:rl:joins:198.51.100.1 (Has of a full bucket writes nothing)", keys)
	}
	ttl, err := rdb.TTL(ctx, keys[0]).Result()
	if err != nil {
		t.Fatal(err)
	}
	// One unit spent of one a minute: full again in a minute.
	if ttl <= 0 || ttl > time.Minute {
		t.Errorf("got TTL %v, want (0, 1 min]", ttl)
	}
}

// Redis stopped: every answer is an unavailable error, never a silent
// allow or refusal; Redis back (empty): the budget works again without a
// new client.
func TestRedisDownIsUnavailableAndRecovers(t *testing.T) {
	t.Parallel()
	b, srv := redisBudgets(t)
	l := b.make("joins", 1, perMinute)
	ctx := context.Background()
	if _, ok, err := l.Take(ctx, "a"); err != nil || !ok {
		t.Fatalf("Take: %v %v", ok, err)
	}
	srv.Stop()
	var u interface{ Unavailable() bool }
	_, ok, err := l.Take(ctx, "a")
	if !errors.As(err, &u) || !u.Unavailable() || ok {
		t.Errorf("Take with Redis down: got %v %v, want not ok and an unavailable error", ok, err)
	}
	if err != nil && !strings.Contains(err.Error(), "rate limit joins") {
		t.Errorf("error %q does not name the budget", err)
	}
	if _, err := l.Has(ctx, "a"); !errors.As(err, &u) || !u.Unavailable() {
		t.Errorf("Has with Redis down: got %v, want an unavailable error", err)
	}
	srv.Restart()
	if _, ok, err := l.Take(ctx, "a"); err != nil || !ok {
		t.Errorf("Take after Redis came back empty: got %v %v, want allowed", ok, err)
	}
}

func TestConstructorsRefuseBudgetsThatCannotWork(t *testing.T) {
	t.Parallel()
	for name, f := range map[string]func(){
		"memory without burst":    func() { ratelimit.NewMemory(0, 1, 10, nil) },
		"memory without refill":   func() { ratelimit.NewMemory(1, 0, 10, nil) },
		"memory without keys":     func() { ratelimit.NewMemory(1, 1, 0, nil) },
		"redis with a colon name": func() { ratelimit.NewRedis(nil, "a:b", 1, 1) },
		"redis without a name":    func() { ratelimit.NewRedis(nil, "", 1, 1) },
		"redis without refill":    func() { ratelimit.NewRedis(nil, "a", 1, 0) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
