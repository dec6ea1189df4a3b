package joinbench

import (
	"errors"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// phase is what one stretch of load cost: requests (or joins) done, their
// latencies, the wall time, and the measured child's CPU time meanwhile.
type phase struct {
	n       int
	wall    time.Duration
	cpu     time.Duration
	lat     []time.Duration // sorted
	failed  int             // answers other than the expected one
	limited int             // 429 or 503 among them: a limit the benchmark should have lifted
	err     error           // the first failure
}

// add counts q in p: a phase of several rounds.
func (p *phase) add(q phase) {
	p.n += q.n
	p.wall += q.wall
	p.cpu += q.cpu
	p.lat = append(p.lat, q.lat...)
	slices.Sort(p.lat)
	p.failed += q.failed
	p.limited += q.limited
	if p.err == nil {
		p.err = q.err
	}
}

// cpuPer is the child's CPU time per operation, in µs.
func (p phase) cpuPer() float64 { return float64(p.cpu.Microseconds()) / float64(max(1, p.n)) }

// rate is operations a second of wall time.
func (p phase) rate() float64 { return float64(p.n) / p.wall.Seconds() }

// pct is the q-quantile (0..1) of the latencies.
func (p phase) pct(q float64) time.Duration {
	if len(p.lat) == 0 {
		return 0
	}
	return p.lat[int(q*float64(len(p.lat)-1))]
}

// runPhase runs op perWorker times on each of workers goroutines, op(w, k)
// being worker w's k-th operation, and measures the child c meanwhile. A
// non-nil stop ends the phase early when closed (perWorker is then a
// ceiling). The phase gives up after limit.
func runPhase(t *testing.T, c *child, workers, perWorker int, limit time.Duration, stop <-chan struct{}, op func(w, k int) error) phase {
	t.Helper()
	var (
		mu      sync.Mutex
		p       phase
		done    atomic.Int64
		failed  atomic.Int64
		limited atomic.Int64
		wg      sync.WaitGroup
	)
	deadline := time.Now().Add(limit)
	cpu0, start := c.cpu(t), time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, min(perWorker, 1<<16))
			for k := 0; k < perWorker && time.Now().Before(deadline); k++ {
				if stop != nil {
					select {
					case <-stop:
						k = perWorker
						continue
					default:
					}
				}
				t0 := time.Now()
				err := op(w, k)
				lat = append(lat, time.Since(t0))
				done.Add(1)
				if err != nil {
					failed.Add(1)
					var se *statusError
					if errors.As(err, &se) && (se.got == http.StatusTooManyRequests || se.got == http.StatusServiceUnavailable) {
						limited.Add(1)
					}
					mu.Lock()
					if p.err == nil {
						p.err = err
					}
					mu.Unlock()
				}
			}
			mu.Lock()
			p.lat = append(p.lat, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	p.wall, p.cpu = time.Since(start), c.cpu(t)-cpu0
	p.n, p.failed, p.limited = int(done.Load()), int(failed.Load()), int(limited.Load())
	slices.Sort(p.lat)
	return p
}

// apiCounter wraps the fake's handler to count the REST calls it answers
// (the relay's WebSocket is no REST call, and no browser opens one here).
type apiCounter struct {
	next  http.Handler
	calls atomic.Int64
}

func (a *apiCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.calls.Add(1)
	a.next.ServeHTTP(w, r)
}
