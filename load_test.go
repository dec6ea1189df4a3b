package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The load test is a script, not a check: `go tool task load` runs it
// against an instance on loopback and prints figures for the README.
var (
	loadFlag     = flag.Bool("load", false, "run the load test")
	loadSeats    = flag.Int("load-seats", 1000, "seats (viewers) to create, 20 per room")
	loadWorkers  = flag.Int("load-workers", 64, "concurrent posting clients")
	loadDuration = flag.Duration("load-duration", 10*time.Second, "how long to post events")
)

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// loadClient is one browser: a cookie jar and a CSRF token.
type loadClient struct {
	http *http.Client
	base string
	csrf string
}

func newLoadClient(t *testing.T, base string) *loadClient {
	jar, _ := cookiejar.New(nil)
	c := &loadClient{http: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		Transport:     &http.Transport{MaxIdleConnsPerHost: 256},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, base: base}
	resp, err := c.http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(b)
	if m == nil {
		t.Fatal("no CSRF token on the picker")
	}
	c.csrf = string(m[1])
	return c
}

func (c *loadClient) host(t *testing.T, room string) {
	form := url.Values{"room": {room}, "user": {"host"}, "_csrf": {c.csrf}}
	resp, err := c.http.PostForm(c.base+"/rooms", form)
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("host %s: %v %v", room, err, resp)
	}
	resp.Body.Close()
}

func (c *loadClient) seat(t *testing.T, room string) string {
	req, _ := http.NewRequest(http.MethodPost, c.base+"/rooms/"+room+"/token", strings.NewReader(`{"user":"viewer"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Csrf-Token", c.csrf)
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a struct{ Seat string }
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || a.Seat == "" {
		t.Fatalf("token for %s: %d %v", room, resp.StatusCode, err)
	}
	return a.Seat
}

func (c *loadClient) post(room, seat, body string) (int, error) {
	req, _ := http.NewRequest(http.MethodPost, c.base+"/rooms/"+room+"/events", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("HX-Request", "true")
	req.Header.Set("X-Seat", seat)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func loadMember(room, i int) string { return fmt.Sprintf("%08x-3f0e-4d0b-9a51-%012x", room, i) }

func loadSnapshot(room int) string {
	members := make([]string, 20)
	for i := range members {
		members[i] = fmt.Sprintf(`{"id":%q,"name":"Participant %d","type":"member","handraised":false,"talking":false,"visible":true,"audio_muted":false,"video_muted":false,"deaf":false}`, loadMember(room, i), i)
	}
	return fmt.Sprintf(`{"epoch":"load","events":[{"seq":1,"name":"room.joined","data":{"member_id":%q,"room":{"layout_name":"grid-responsive"},"members":[%s]}}]}`,
		loadMember(room, 0), strings.Join(members, ","))
}

func loadFlush(room, seq int) string {
	evs := make([]string, 10)
	for i := range evs {
		evs[i] = fmt.Sprintf(`{"seq":%d,"name":"member.talking","data":{"member":{"id":%q,"talking":%t}}}`, seq+i, loadMember(room, 1+(seq+i)%19), (seq+i)%2 == 0)
	}
	return fmt.Sprintf(`{"epoch":"load","events":[%s]}`, strings.Join(evs, ","))
}

func heapMB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// TestLoadEvents measures sustained event throughput of one instance over
// loopback, and the memory its rosters take.
func TestLoadEvents(t *testing.T) {
	if !*loadFlag {
		t.Skip("a load script, not a check: run `go tool task load`")
	}
	// Every seat joins from this one address: the join and SignalWire call
	// budgets are lifted, since they are not what this script measures.
	app := startFakeApp(t, "LOG_LEVEL=warn", "JOINS_PER_ADDRESS=1000000", "JOINS_PER_ROOM=1000000",
		"SIGNALWIRE_CALLS_PER_SECOND=1380", "SIGNALWIRE_CALL_BURST=1000000")
	rooms := (*loadSeats + 19) / 20
	type seatT struct {
		room, n int
		name    string
		seat    string
	}
	seats := make([]seatT, 0, *loadSeats)
	before := heapMB()
	for r := 0; r < rooms; r++ {
		name := fmt.Sprintf("Load_%d", r)
		// A browser per room: its host hosts it.
		hostC := newLoadClient(t, app.URL)
		hostC.host(t, name)
		for i := 0; i < 20 && len(seats) < *loadSeats; i++ {
			s := seatT{room: r, name: name, seat: hostC.seat(t, name)}
			if code, err := hostC.post(name, s.seat, loadSnapshot(r)); err != nil || code != 200 {
				t.Fatalf("snapshot: %d %v", code, err)
			}
			seats = append(seats, s)
		}
	}
	after := heapMB()
	t.Logf("memory: %d seats in 20-member rooms: heap grew %.1f MB (%.1f MB in all)", len(seats), after-before, after)

	poster := newLoadClient(t, app.URL)
	var events, errs, limited atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	deadline := time.Now().Add(*loadDuration)
	var wg sync.WaitGroup
	for w := 0; w < *loadWorkers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var mine []time.Duration
			for k := 0; time.Now().Before(deadline); k++ {
				s := &seats[(w+k*(*loadWorkers))%len(seats)]
				mu.Lock()
				s.n++
				seq := 2 + 10*s.n
				mu.Unlock()
				start := time.Now()
				code, err := poster.post(s.name, s.seat, loadFlush(s.room, seq))
				mine = append(mine, time.Since(start))
				if code == http.StatusTooManyRequests {
					// The per-seat budget of posts (roster.Limits): with
					// fewer seats than req/s ÷ 20, the script outruns it.
					limited.Add(1)
					continue
				}
				if err != nil || code != 200 {
					errs.Add(1)
					continue
				}
				events.Add(10)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	slices.Sort(lat)
	p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
	t.Logf("throughput: %d workers for %v: %.0f events/s in %d requests (%.0f req/s), %d errors, %d over a seat's budget of posts; latency p50 %v p99 %v",
		*loadWorkers, *loadDuration, float64(events.Load())/loadDuration.Seconds(), len(lat),
		float64(len(lat))/loadDuration.Seconds(), errs.Load(), limited.Load(), p(0.5), p(0.99))
	if errs.Load() > 0 {
		t.Errorf("got %d failed posts", errs.Load())
	}
}
