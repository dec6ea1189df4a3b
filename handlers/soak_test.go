package handlers_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swrooms/swrooms/handlers"
	"github.com/swrooms/swrooms/roomstate"
	"github.com/swrooms/swrooms/roster"
)

// soakFor is how long TestSoak runs: 20 s in `go test ./...`, longer with
// `go tool task soak`.
var soakFor = flag.Duration("soak", 20*time.Second, "how long TestSoak runs")

// Sizes of the soak: rooms of soakCapacity members (so 2×soakCapacity
// seats each), four browsers at once, each hosting three rooms and joining
// them as a host and through invite links.
const (
	soakRooms    = 12
	soakWorkers  = 4
	soakCapacity = 10
)

// soakStats counts the answers by status.
type soakStats struct {
	mu       sync.Mutex
	byStatus map[int]int
	posts    atomic.Int64
	joins    atomic.Int64
}

func (s *soakStats) count(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byStatus[status]++
}

// TestSoak runs hosts and guests joining rooms and posting events against
// the real handlers and the swtest fake, as many as the machine serves, for
// -soak (20 s by default). Every answer must be 200 or 204, none a 5xx,
// and the heap in use after a collection must end within 5 MB of what it
// was at 5 s: the roster's bounds, the caches and the limiters all reach
// their steady state, and nothing grows with the number of requests. Not
// parallel: it measures the process's heap.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("a soak of 20 s")
	}
	store := roster.NewMemoryStore(roster.Limits{RoomCapacity: soakCapacity})
	// The room state remembers up to 2,000 seats a room (a few hundred
	// bytes each): 12 rooms reach that bound only after some 24,000 joins,
	// more than 20 s bring without -race, so the heap would grow within its
	// bound for the whole soak. With 100 seats a room the bound is reached
	// in the first seconds, and growth after 5 s is a leak.
	rooms := roomstate.NewMemory(roomstate.Limits{Seats: 100})
	e := newEnvStores(t, store, rooms, unlimitedJoins, func(c *handlers.Config) { c.MaxMembers = soakCapacity })
	stats := &soakStats{byStatus: map[int]int{}}

	type browser struct {
		host, guest *testEnv
		rooms       []string
		invites     []url.Values
	}
	browsers := make([]*browser, soakWorkers)
	for w := range browsers {
		b := &browser{host: e.another(), guest: e.another()}
		for r := w; r < soakRooms; r += soakWorkers {
			room := fmt.Sprintf("Soak_%02d", r)
			b.rooms = append(b.rooms, room)
			b.invites = append(b.invites, guestInvite(t, b.host, room))
		}
		b.guest.get("/guest?" + b.invites[0].Encode())
		browsers[w] = b
	}

	stop := make(chan struct{})
	// A sample waits until no request is in flight, so that it weighs what
	// the app keeps, not the buffers of requests a busy machine (CI runs
	// other packages' tests beside this one) happens to hold at that moment.
	var quiet sync.RWMutex
	var wg sync.WaitGroup
	for w, b := range browsers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 14))
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				i := k % len(b.rooms)
				quiet.RLock()
				if k%2 == 0 {
					soakSeat(b.host, b.rooms[i], map[string]any{"user": "Host"}, rng, stats)
				} else {
					soakSeat(b.guest, b.rooms[i], map[string]any{"user": fmt.Sprintf("Guest %d", k), "invite": inviteBody(b.invites[i])}, rng, stats)
				}
				quiet.RUnlock()
			}
		})
	}

	// Samples are taken while the browsers run, the last one at the end.
	start := time.Now()
	var at5, end uint64
	for tick := 5 * time.Second; ; tick = min(tick+5*time.Second, *soakFor) {
		time.Sleep(tick - time.Since(start))
		quiet.Lock()
		end = heapAfterGC()
		quiet.Unlock()
		if at5 == 0 {
			at5 = end
		}
		t.Logf("%3.0f s: HeapInuse %.1f MB, %d seats (%.1f MB by the estimate), %d joins, %d event posts",
			time.Since(start).Seconds(), float64(end)/(1<<20), store.Len(), float64(store.Bytes())/(1<<20), stats.joins.Load(), stats.posts.Load())
		if tick >= *soakFor {
			break
		}
	}
	close(stop)
	wg.Wait()
	elapsed := time.Since(start)
	t.Logf("%v: HeapInuse %+.1f MB since 5 s; %d joins, %d event posts (%.0f a second); answers %v",
		elapsed.Round(time.Second), (float64(end)-float64(at5))/(1<<20),
		stats.joins.Load(), stats.posts.Load(), float64(stats.posts.Load())/elapsed.Seconds(), stats.byStatus)
	for status, n := range stats.byStatus {
		if status != http.StatusOK && status != http.StatusNoContent {
			t.Errorf("got %d answers of %d, want only 200 and 204", n, status)
		}
	}
	if end > at5+5<<20 {
		t.Errorf("HeapInuse after GC grew from %.1f MB at 5 s to %.1f MB, want within 5 MB", float64(at5)/(1<<20), float64(end)/(1<<20))
	}
}

// soakSeat is one join of a page: a token, the room as the SDK reports it,
// a few flushes of member events, sometimes a replay, sometimes a rejoin
// with a new epoch; then the page goes away without a word, as pages do.
func soakSeat(e *testEnv, room string, join map[string]any, rng *rand.Rand, stats *soakStats) {
	resp, raw := e.postJSON("/rooms/"+room+"/token", join)
	stats.count(resp.StatusCode)
	stats.joins.Add(1)
	var a tokenAnswer
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(raw), &a) != nil {
		return
	}
	post := func(base, body string) string {
		resp, _ := e.eventsAt(room, a.Seat, base, body)
		stats.count(resp.StatusCode)
		stats.posts.Add(1)
		return resp.Header.Get("X-Roster-Version")
	}
	for range 1 + rng.IntN(2) { // a rejoin starts a new epoch on the same seat
		epoch := fmt.Sprintf("%016x", rng.Uint64())
		n := 2 + rng.IntN(soakCapacity-1)
		members := make([]string, n)
		for i := range members {
			members[i] = fmt.Sprintf(`{"id":%q,"name":"Member %d","type":"member","audio_muted":%t}`, uuidOf(i), i, rng.IntN(2) == 0)
		}
		version := post("", fmt.Sprintf(`{"epoch":%q,"events":[{"seq":1,"name":"room.joined","data":{"member_id":%q,"room":{"layout_name":"grid-responsive"},"members":[%s]}}]}`,
			epoch, uuidOf(0), strings.Join(members, ",")))
		seq := 2
		for range 3 + rng.IntN(10) {
			evs := make([]string, 1+rng.IntN(6))
			for i := range evs {
				id := uuidOf(1 + rng.IntN(n-1))
				switch rng.IntN(6) {
				case 0:
					evs[i] = fmt.Sprintf(`{"seq":%d,"name":"member.updated","data":{"member":{"id":%q,"handraised":%t}}}`, seq, id, rng.IntN(2) == 0)
				case 1:
					evs[i] = fmt.Sprintf(`{"seq":%d,"name":"member.left","data":{"member":{"id":%q}}}`, seq, id)
				case 2:
					evs[i] = fmt.Sprintf(`{"seq":%d,"name":"member.joined","data":{"member":{"id":%q,"name":"Back %d"}}}`, seq, id, seq)
				default:
					evs[i] = fmt.Sprintf(`{"seq":%d,"name":"member.talking","data":{"member":{"id":%q,"talking":%t}}}`, seq, id, rng.IntN(2) == 0)
				}
				seq++
			}
			body := fmt.Sprintf(`{"epoch":%q,"events":[%s]}`, epoch, strings.Join(evs, ","))
			next := post(version, body)
			if rng.IntN(8) == 0 {
				post(next, body) // a resend of a batch already applied
			}
			version = next
		}
	}
}
