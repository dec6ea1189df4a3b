package handlers_test

import (
	"flag"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var loadSSE = flag.Int("load-sse", 0, "TestLoadSSE: SSE clients in one room (task load:sse); 0 skips")

// TestLoadSSE measures push fan-out on 127.0.0.1: N streams in one room
// (each with its own seat), then chat messages, each timed from the post
// to its arrival on every stream. It prints p50, p99 and the worst; a
// figure for the README, not a timed test (`task load:sse`).
func TestLoadSSE(t *testing.T) {
	n := *loadSSE
	if n == 0 {
		t.Skip("run with -load-sse=N (task load:sse)")
	}
	e := newEnv(t, openHosting)
	base := serve(t, e)
	host := joined(t, e, "Load")
	clients := make([]*sseClient, n)
	for i := range clients {
		_, a := e.token("Load", map[string]any{"user": fmt.Sprint("viewer ", i)})
		clients[i] = openSSE(t, base, e.streamPath("Load", "X-Seat", a.Seat), "")
		clients[i].next(t, "chat-history")
	}
	const rounds = 5
	var all []time.Duration
	for r := range rounds {
		msg := fmt.Sprint("load message ", r)
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := time.Now()
		for _, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					ev := c.next(t, "chat")
					if strings.Contains(ev.Data, msg) {
						mu.Lock()
						all = append(all, time.Since(start))
						mu.Unlock()
						return
					}
				}
			}()
		}
		if resp, _ := e.chat("Load", host, msg); resp.StatusCode != 200 {
			t.Fatalf("chat: got %d", resp.StatusCode)
		}
		wg.Wait()
		time.Sleep(time.Second) // the seat's pace: one a second after a burst
	}
	slices.Sort(all)
	q := func(p float64) time.Duration { return all[min(len(all)-1, int(p*float64(len(all))))] }
	t.Logf("%d SSE clients, %d messages, %d deliveries: p50 %v, p99 %v, max %v",
		n, rounds, len(all), q(0.50).Round(time.Microsecond), q(0.99).Round(time.Microsecond), all[len(all)-1].Round(time.Microsecond))
}
