package push

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/swrooms/swrooms/internal/redistest"
)

func TestMemoryContract(t *testing.T) {
	testContract(t, func(t *testing.T, lim Limits) broker {
		m := NewMemory(lim, nil)
		t.Cleanup(m.Close)
		return m
	})
}

func TestRedisContract(t *testing.T) {
	srv := redistest.Start(t)
	testContract(t, func(t *testing.T, lim Limits) broker { return openRedis(t, srv, lim) })
}

// openRedis is a broker on srv with a client of its own, as an instance
// of the app has; both closed when the test ends.
func openRedis(t *testing.T, srv *redistest.Server, lim Limits) *Redis {
	return openRedisBlocking(t, srv, lim, readBlock)
}

func openRedisBlocking(t *testing.T, srv *redistest.Server, lim Limits, block time.Duration) *Redis {
	t.Helper()
	b := newRedisBlocking(srv.Open(t), lim, slog.New(slog.NewTextHandler(t.Output(), nil)), block)
	t.Cleanup(b.Close)
	return b
}

func TestRedisReaderTakesUpANewRoomAtOnce(t *testing.T) {
	srv := redistest.Start(t)
	// The reader's XREAD would wait for an hour: only the wake-up ends it.
	b := openRedisBlocking(t, srv, Limits{}, time.Hour)
	first := mustSubscribe(t, b, "R", everyone, "")
	e := mustPublish(t, b, "R", Event{Target: "all"})
	if got := recv(t, first); got != e {
		t.Fatalf("got %+v, want %+v", got, e)
	}
	// The reader now blocks on R alone.
	second := mustSubscribe(t, b, "S", everyone, "")
	e = mustPublish(t, b, "S", Event{Target: "all"})
	if got := recv(t, second); got != e {
		t.Errorf("got %+v, want %+v", got, e)
	}
}

func TestRedisInstancesShareOneOrderAndIDs(t *testing.T) {
	srv := redistest.Start(t)
	a, b := openRedis(t, srv, Limits{Buffer: 500}), openRedis(t, srv, Limits{Buffer: 500})
	subA := mustSubscribe(t, a, "R", everyone, "")
	subB := mustSubscribe(t, b, "R", everyone, "")
	var (
		mu        sync.Mutex
		published = map[string]string{} // ID -> data
		wg        sync.WaitGroup
	)
	for name, br := range map[string]*Redis{"a": a, "b": b} {
		wg.Go(func() {
			for i := range 100 {
				ev, err := br.Publish("R", Event{Target: "all", Data: fmt.Sprintf("%s%d", name, i)})
				if err != nil {
					t.Errorf("publish on %s: %v", name, err)
					return
				}
				mu.Lock()
				published[ev.ID] = ev.Data
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	var gotA, gotB []Event
	for range 200 {
		gotA = append(gotA, recv(t, subA))
		gotB = append(gotB, recv(t, subB))
	}
	if fmt.Sprint(gotA) != fmt.Sprint(gotB) {
		t.Errorf("instance a saw %s\nb saw %s\nwant one order", datas(gotA), datas(gotB))
	}
	var prev streamID
	for _, ev := range gotA {
		id, ok := parseStreamID(ev.ID)
		if !ok || !prev.less(id) {
			t.Errorf("got ID %q after %q, want increasing stream IDs", ev.ID, prev)
		}
		prev = id
		if published[ev.ID] != ev.Data {
			t.Errorf("got %q with ID %q, Publish returned it for %q", ev.Data, ev.ID, published[ev.ID])
		}
	}
}

func TestRedisSubscribersGetEachEventOnceAcrossInstances(t *testing.T) {
	srv := redistest.Start(t)
	lim := Limits{Replay: 2000, Buffer: 2000}
	a, b, c := openRedis(t, srv, lim), openRedis(t, srv, lim), openRedis(t, srv, lim)
	// c has no stream on the room until the joiners come, all at once.
	checkExactlyOnce(t, "R", []broker{a, b}, []broker{a, b, c})
}

func TestRedisGapForIDsNotInTheStream(t *testing.T) {
	srv := redistest.Start(t)
	b := openRedis(t, srv, Limits{})
	first := mustPublish(t, b, "R", Event{Target: "all"})
	newest := mustPublish(t, b, "R", Event{Target: "all"})
	f, _ := parseStreamID(first.ID)
	n, _ := parseStreamID(newest.ID)
	cases := map[string]string{
		"ahead of the newest": streamID{n.ms + 1, 0}.String(),
		"before the oldest":   streamID{f.ms, 0}.String(),
	}
	if f.seq == 0 {
		cases["before the oldest"] = streamID{f.ms - 1, 99}.String()
	}
	if between := (streamID{f.ms, f.seq + 1}); between.less(n) {
		cases["between two entries"] = between.String()
	}
	for name, id := range cases {
		s := mustSubscribe(t, b, "R", everyone, id)
		if !s.Gap || len(s.Missed) != 0 || s.LastID != newest.ID {
			t.Errorf("%s (%s): got gap %v missed %d LastID %q, want a gap and %q", name, id, s.Gap, len(s.Missed), s.LastID, newest.ID)
		}
	}
}

func TestRedisKeysExpireAndStreamsAreCapped(t *testing.T) {
	srv := redistest.Start(t)
	b := openRedis(t, srv, Limits{Replay: 10})
	mustSubscribe(t, b, "R", everyone, "") // wakes the reader: the wake key
	for range 500 {
		mustPublish(t, b, "R", Event{Target: "all"})
	}
	rc := srv.Open(t)
	ctx := context.Background()
	n, err := rc.XLen(ctx, streamKey("R")).Result()
	if err != nil || n < 11 || n > 200 {
		t.Errorf("got a stream of %d entries (%v), want 11 (Replay+1) to about 100 more", n, err)
	}
	keys, err := rc.Keys(ctx, "*").Result()
	if err != nil || len(keys) != 2 {
		t.Fatalf("got keys %q (%v), want the room's stream and the wake key", keys, err)
	}
	for _, k := range keys {
		ttl, err := rc.TTL(ctx, k).Result()
		if err != nil || ttl <= 0 || ttl > RedisStreamTTL {
			t.Errorf("key %s: got TTL %v (%v), want an expiry of at most %v", k, ttl, err, RedisStreamTTL)
		}
	}
}

func TestRedisLetsGoOfRoomsWithoutStreams(t *testing.T) {
	srv := redistest.Start(t)
	b := openRedis(t, srv, Limits{Buffer: 1})
	s1 := mustSubscribe(t, b, "R", everyone, "")
	s2 := mustSubscribe(t, b, "R", everyone, "")
	s3 := mustSubscribe(t, b, "S", everyone, "")
	if got := b.readerRooms(); got != 2 {
		t.Fatalf("got %d rooms read, want 2", got)
	}
	s1.Close()
	if got := b.readerRooms(); got != 2 {
		t.Errorf("got %d rooms read with a stream left in each, want 2", got)
	}
	s2.Close()
	if got := b.readerRooms(); got != 1 {
		t.Errorf("got %d rooms read after R's last stream ended, want 1", got)
	}
	// A subscriber cut off for being slow (it reads nothing; its buffer
	// holds one event) leaves too.
	mustPublish(t, b, "S", Event{Target: "all"})
	mustPublish(t, b, "S", Event{Target: "all"})
	deadline := time.Now().Add(wait)
	for b.readerRooms() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("got %d rooms read after S's only stream was cut off, want 0", b.readerRooms())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if evs := drain(t, s3); len(evs) != 1 {
		t.Errorf("got %d events before the cut, want the 1 buffered", len(evs))
	}
}

// readerRooms is how many rooms the reader reads.
func (b *Redis) readerRooms() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rooms.Len()
}

func TestRedisOutageFailsCallsAndRecoversByItself(t *testing.T) {
	srv := redistest.Start(t)
	base := runtime.NumGoroutine()
	a, c := srv.Open(t), srv.Open(t) // closed below, before the last count
	pa := NewRedis(a, Limits{}, slog.New(slog.NewTextHandler(t.Output(), nil)))
	pc := NewRedis(c, Limits{}, slog.New(slog.NewTextHandler(t.Output(), nil)))
	subA := mustSubscribe(t, pa, "R", everyone, "")
	subC := mustSubscribe(t, pc, "R", everyone, "")
	before := mustPublish(t, pa, "R", Event{Target: "all", Data: "before"})
	for _, s := range []*Subscription{subA, subC} {
		if got := recv(t, s); got != before {
			t.Fatalf("got %+v, want %+v", got, before)
		}
	}

	srv.Stop()
	// Requests keep coming while Redis is down: each fails (go-redis
	// retries its dial a few times first) and leaves nothing behind.
	var calls sync.WaitGroup
	for i := range 30 {
		calls.Go(func() {
			room, last := fmt.Sprint("S", i), ""
			if i%2 == 0 {
				room, last = "R", before.ID
			}
			if _, err := []*Redis{pa, pc}[i%2].Subscribe(room, everyone, last); !unavailable(err) {
				t.Errorf("Subscribe with Redis down: got %v, want an unavailable error", err)
			}
			if _, err := []*Redis{pc, pa}[i%2].Publish("R", Event{Target: "all"}); !unavailable(err) {
				t.Errorf("Publish with Redis down: got %v, want an unavailable error", err)
			}
		})
	}
	calls.Wait()
	// Two readers and at most one go-redis dial probe per connection
	// pool (each app's client has two, commands and pipelines, and its
	// reader's one): nothing piles up.
	waitGoroutines(t, base+2+6)
	for _, b := range []*Redis{pa, pc} {
		if got := b.readerRooms(); got != 1 {
			t.Errorf("got %d rooms read, want only R: failed subscriptions leave none", got)
		}
	}

	srv.Restart()
	var after Event
	deadline := time.Now().Add(wait)
	for {
		ev, err := pc.Publish("R", Event{Target: "all", Data: "after"})
		if err == nil {
			after = ev
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("publish after the restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for name, s := range map[string]*Subscription{"a": subA, "c": subC} {
		if got := recv(t, s); got != after {
			t.Errorf("instance %s after the restart: got %+v, want %+v", name, got, after)
		}
	}
	if s := mustSubscribe(t, pa, "R", everyone, before.ID); !s.Gap || s.LastID != after.ID {
		t.Errorf("ID from before the restart: got gap %v LastID %q, want a gap and %q", s.Gap, s.LastID, after.ID)
	}

	pa.Close()
	pc.Close()
	for _, s := range []*Subscription{subA, subC} {
		drain(t, s)
	}
	_ = a.Close()
	_ = c.Close()
	waitGoroutines(t, base)
}

func unavailable(err error) bool {
	var u interface{ Unavailable() bool }
	return errors.As(err, &u) && u.Unavailable()
}

// waitGoroutines waits until at most n goroutines run: those that end by
// themselves (a closed reader, a go-redis dial probe) take a moment.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("got %d goroutines, want at most %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Subscribe's steps one by one (join, since, start), in the orders that
// concurrent subscribers and the reader may take.
func TestRedisSubscribersStartWhereTheReaderDid(t *testing.T) {
	srv := redistest.Start(t)
	b := openRedis(t, srv, Limits{Buffer: 2})
	ctx := context.Background()
	mustRead := func(s *redisSub) roomRead {
		t.Helper()
		read, err := b.since(ctx, streamKey("R"), s, "")
		if err != nil {
			t.Fatal(err)
		}
		return read
	}

	// Two subscribers open the room at once; the second reads it before
	// event 1, the first after, and starts the reader there.
	r, s1, _ := b.join("R", everyone)
	_, s2, _ := b.join("R", everyone)
	read2 := mustRead(s2)
	e1 := mustPublish(t, b, "R", Event{Target: "all", Data: "1"})
	sub1, woke, err := b.start(r, s1, "", mustRead(s1), true)
	if err != nil || !woke || sub1.LastID != e1.ID {
		t.Fatalf("first start: got LastID %q woke %v err %v, want %q, the reader woken", sub1.LastID, woke, err, e1.ID)
	}
	b.wakeReader(ctx)
	e2 := mustPublish(t, b, "R", Event{Target: "all", Data: "2"})
	if got := recv(t, sub1); got != e2 {
		t.Fatalf("got %+v, want %+v", got, e2)
	}
	// The second's read is older than where the reader started: event 1
	// would fall between; it must read again.
	if _, _, err := b.start(r, s2, "", read2, true); err != errReadAgain {
		t.Fatalf("start from a read before the reader's start: got %v, want errReadAgain", err)
	}
	sub2, woke, err := b.start(r, s2, "", mustRead(s2), true)
	if err != nil || woke || sub2.LastID != e2.ID {
		t.Fatalf("second start: got LastID %q woke %v err %v, want %q", sub2.LastID, woke, err, e2.ID)
	}
	e3 := mustPublish(t, b, "R", Event{Target: "all", Data: "3"})
	for _, s := range []*Subscription{sub1, sub2} {
		if got := recv(t, s); got != e3 {
			t.Errorf("got %+v, want %+v once (2 was before LastID)", got, e3)
		}
	}

	// Redis restarted empty: what the reader handed out is gone, and a
	// read stays older. The subscriber starts after it, with a gap.
	_, s3, _ := b.join("R", everyone)
	sub3, _, err := b.start(r, s3, "1-1", roomRead{}, false)
	if err != nil || !sub3.Gap || sub3.LastID != e3.ID {
		t.Errorf("start after a lost read: got gap %v LastID %q err %v, want a gap and %q", sub3.Gap, sub3.LastID, err, e3.ID)
	}
	e4 := mustPublish(t, b, "R", Event{Target: "all", Data: "4"})
	for _, s := range []*Subscription{sub1, sub3} {
		if got := recv(t, s); got != e4 {
			t.Errorf("got %+v, want %+v", got, e4)
		}
	}

	// A pending subscriber holds what the reader hands out up to its
	// buffer; one more cuts it off.
	_, s4, _ := b.join("R", everyone)
	for i := 5; i <= 7; i++ {
		e := mustPublish(t, b, "R", Event{Target: "all", Data: fmt.Sprint(i)})
		if got := recv(t, sub1); got != e {
			t.Fatalf("got %+v, want %+v", got, e)
		}
	}
	b.mu.Lock()
	floor := s4.floor
	b.mu.Unlock()
	sub4, _, err := b.start(r, s4, "", roomRead{newest: floor}, true)
	if err != nil {
		t.Fatal(err)
	}
	if evs := drain(t, sub4); len(evs) != 0 {
		t.Errorf("got %d events, want a subscriber cut off while pending", len(evs))
	}
}
