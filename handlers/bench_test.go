package handlers_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/swrooms/swrooms/roster"
)

// snapshotOf is a room.joined for a room of n members, every member with
// every field of the wire format.
func snapshotOf(epoch string, n int) string {
	members := make([]string, n)
	for i := range members {
		members[i] = fmt.Sprintf(`{"id":"m-%03d-3f0e-4d0b-9a51-0c6a1d1e2f01","name":"Participant %d","type":"member",`+
			`"handraised":false,"talking":false,"visible":true,"audio_muted":%t,"video_muted":false,"deaf":false}`, i, i, i%3 == 0)
	}
	return fmt.Sprintf(`{"epoch":%q,"events":[{"seq":1,"name":"room.joined","data":{"member_id":"m-000-3f0e-4d0b-9a51-0c6a1d1e2f01",`+
		`"room":{"layout_name":"grid-responsive"},"members":[%s]}}]}`, epoch, strings.Join(members, ","))
}

// flush10 is a typical flush of a lively room of n members, numbered from
// seq: talking flips, a mute and a raised hand, as partial member objects.
func flush10(epoch string, seq, n int) string {
	evs := make([]string, 10)
	for i := range evs {
		id := fmt.Sprintf("m-%03d-3f0e-4d0b-9a51-0c6a1d1e2f01", 1+(seq+i)%(n-1))
		switch i % 5 {
		case 3:
			evs[i] = fmt.Sprintf(`{"seq":%d,"name":"member.updated","data":{"member":{"id":%q,"audio_muted":%t}}}`, seq+i, id, (seq+i)%2 == 0)
		case 4:
			evs[i] = fmt.Sprintf(`{"seq":%d,"name":"member.updated","data":{"member":{"id":%q,"handraised":%t}}}`, seq+i, id, (seq+i)%2 == 0)
		default:
			evs[i] = fmt.Sprintf(`{"seq":%d,"name":"member.talking","data":{"member":{"id":%q,"talking":%t}}}`, seq+i, id, (seq+i)%2 == 0)
		}
	}
	return fmt.Sprintf(`{"epoch":%q,"events":[%s]}`, epoch, strings.Join(evs, ","))
}

// eventPoster posts fresh flushes to one seat of a room of n members, and
// fails unless the store applied each one: a replayed batch would leave
// X-Roster-Version as it was and time a no-op. Bodies are built ahead, a
// chunk at a time, with seq counting on from the last one.
type eventPoster struct {
	e       *testEnv
	seat    string
	n       int
	delta   bool // send X-Roster-Base, as the island does, for delta answers
	version string
	seq     int
	bodies  []string
	next    int
}

func newEventPoster(tb testing.TB, n int, delta bool) *eventPoster {
	// A benchmark posts as fast as it can, far past a page's budget of posts.
	e := newEnvStore(tb, roster.NewMemoryStore(roster.Limits{PostsPerSecond: 1e9, PostBurst: 1 << 30}))
	p := &eventPoster{e: e, seat: joined(tb, e, "Bench"), n: n, delta: delta, seq: 2}
	resp, _ := e.events("Bench", p.seat, snapshotOf("e1", n))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Roster-Render") != "full" {
		tb.Fatalf("got %d %q for the snapshot", resp.StatusCode, resp.Header.Get("X-Roster-Render"))
	}
	p.version = resp.Header.Get("X-Roster-Version")
	return p
}

// refill builds the next chunk of bodies; benchmarks stop the timer for it.
func (p *eventPoster) refill(chunk int) {
	p.bodies = p.bodies[:0]
	for range chunk {
		p.bodies = append(p.bodies, flush10("e1", p.seq, p.n))
		p.seq += 10
	}
	p.next = 0
}

func (p *eventPoster) needsRefill() bool { return p.next == len(p.bodies) }

// post sends the next body and checks that it was applied.
func (p *eventPoster) post(tb testing.TB) {
	base := ""
	if p.delta {
		base = p.version
	}
	resp, _ := p.e.eventsAt("Bench", p.seat, base, p.bodies[p.next])
	p.next++
	v := resp.Header.Get("X-Roster-Version")
	wantRender := map[bool]string{true: "delta", false: "full"}[p.delta]
	if resp.StatusCode != http.StatusOK || v == p.version || resp.Header.Get("X-Roster-Render") != wantRender ||
		resp.Header.Get("X-Roster-Snapshot") != "" {
		tb.Fatalf("post %d: got %d, render %q, version %s after %s, snapshot %q: want 200, %s, applied, no snapshot asked",
			p.next, resp.StatusCode, resp.Header.Get("X-Roster-Render"), v, p.version, resp.Header.Get("X-Roster-Snapshot"), wantRender)
	}
	p.version = v
}

// TestEventPosterAppliesEveryBatch proves that the benchmarks below time
// batches the store applies, across refills: every post moves the seat to a
// new version, one more each time.
func TestEventPosterAppliesEveryBatch(t *testing.T) {
	t.Parallel()
	for _, delta := range []bool{false, true} {
		p := newEventPoster(t, 20, delta)
		first, _ := strconv.ParseUint(p.version, 10, 64)
		for range 25 {
			if p.needsRefill() {
				p.refill(10)
			}
			p.post(t)
		}
		if last, _ := strconv.ParseUint(p.version, 10, 64); last != first+25 {
			t.Errorf("delta %v: got version %d after 25 posts from %d, want %d", delta, last, first, first+25)
		}
	}
}

// BenchmarkEventsRequest is one event post of 10 events through the whole
// Fiber app: seat check, decode, apply, and the answer: the whole panel
// (full, as for a page that sends no base) or only what changed (delta).
func BenchmarkEventsRequest(b *testing.B) {
	for _, bc := range []struct {
		n     int
		delta bool
	}{{20, false}, {20, true}, {300, false}, {300, true}} {
		name := fmt.Sprintf("members=%d/%s", bc.n, map[bool]string{true: "delta", false: "full"}[bc.delta])
		b.Run(name, func(b *testing.B) {
			p := newEventPoster(b, bc.n, bc.delta)
			b.ReportAllocs()
			for b.Loop() {
				if p.needsRefill() {
					b.StopTimer()
					p.refill(1000)
					b.StartTimer()
				}
				p.post(b)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "µs/request")
		})
	}
}

// BenchmarkEventsReplay is a replayed post to a seat of a 300-member room
// whose page shows the seat's version: 204, nothing rendered, so that a
// resent or repeated batch costs a fraction of a full answer.
func BenchmarkEventsReplay(b *testing.B) {
	p := newEventPoster(b, 300, true)
	p.refill(1)
	p.post(b)
	replay := p.bodies[0]
	b.ReportAllocs()
	for b.Loop() {
		resp, _ := p.e.eventsAt("Bench", p.seat, p.version, replay)
		if resp.StatusCode != http.StatusNoContent {
			b.Fatalf("got %d, want 204 for a replay", resp.StatusCode)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "µs/request")
}
