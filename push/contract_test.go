package push

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// broker is what the contract covers: the handlers' Broker and Close.
type broker interface {
	Publish(room string, ev Event) (Event, error)
	Subscribe(room string, targets []string, lastID string) (*Subscription, error)
	Close()
}

var (
	_ broker = (*Memory)(nil)
	_ broker = (*Redis)(nil)
)

// wait bounds how long a test waits for an event that must come: long,
// since it only ends a test that failed.
const wait = 10 * time.Second

var everyone = []string{"all"}

// testContract is the behaviour every broker shares. newBroker returns a
// new broker with lim, closed when the test ends; brokers from one call
// of testContract may share state (one Redis), so each test names its
// rooms after itself.
func testContract(t *testing.T, newBroker func(t *testing.T, lim Limits) broker) {
	t.Run("publish reaches only its targets", func(t *testing.T) {
		b := newBroker(t, Limits{})
		r, s := roomName(t, "R"), roomName(t, "S")
		seatA := mustSubscribe(t, b, r, []string{"all", "seat:a"}, "")
		seatB := mustSubscribe(t, b, r, []string{"all", "seat:b"}, "")
		elsewhere := mustSubscribe(t, b, s, everyone, "")
		e1 := mustPublish(t, b, r, Event{Target: "seat:a", Name: "x", Data: "1"})
		e2 := mustPublish(t, b, r, Event{Target: "all", Name: "y", Data: "2\nlines"})
		if got := recv(t, seatA); got != e1 || got.Name != "x" || got.Data != "1" {
			t.Errorf("got %+v, want %+v", got, e1)
		}
		if got := recv(t, seatA); got != e2 || got.Data != "2\nlines" {
			t.Errorf("got %+v, want %+v", got, e2)
		}
		if got := recv(t, seatB); got != e2 {
			t.Errorf("got %+v, want only the room-wide %+v", got, e2)
		}
		mark := mustPublish(t, b, s, Event{Target: "all", Data: "mark"})
		if got := recv(t, elsewhere); got != mark {
			t.Errorf("got %+v in another room, want only its own %+v", got, mark)
		}
		for _, ev := range []Event{e1, e2, mark} {
			if ev.ID == "" || strings.ContainsAny(ev.ID, " \r\n") {
				t.Errorf("got ID %q, want a non-empty SSE id", ev.ID)
			}
		}
		if e1.ID == e2.ID {
			t.Errorf("got ID %q twice, want one per event", e1.ID)
		}
	})

	t.Run("replay after Last-Event-ID misses nothing", func(t *testing.T) {
		b := newBroker(t, Limits{Replay: 8})
		r := roomName(t, "R")
		if s := mustSubscribe(t, b, r, everyone, ""); s.LastID != "" || s.Gap || len(s.Missed) != 0 {
			t.Errorf("empty room: got LastID %q gap %v missed %d, want none", s.LastID, s.Gap, len(s.Missed))
		}
		var ids []string
		for i := 1; i <= 5; i++ {
			target := "all"
			if i == 3 {
				target = "seat:b"
			}
			ids = append(ids, mustPublish(t, b, r, Event{Target: target, Data: fmt.Sprint(i)}).ID)
		}
		s := mustSubscribe(t, b, r, everyone, ids[0])
		if s.Gap {
			t.Fatal("got a gap, want a replay")
		}
		if got := datas(s.Missed); got != "2 4 5" {
			t.Errorf("got replay %q, want 2 4 5 (3 was for another seat)", got)
		}
		if s.LastID != ids[4] {
			t.Errorf("got LastID %q, want the newest %q", s.LastID, ids[4])
		}
		up := mustSubscribe(t, b, r, everyone, ids[4])
		if up.Gap || len(up.Missed) != 0 || up.LastID != ids[4] {
			t.Errorf("up to date: got gap %v missed %d LastID %q, want none and %q", up.Gap, len(up.Missed), up.LastID, ids[4])
		}
		e6 := mustPublish(t, b, r, Event{Target: "all", Data: "6"})
		for _, sub := range []*Subscription{s, up} {
			if got := recv(t, sub); got != e6 {
				t.Errorf("got %+v after the replay, want %+v", got, e6)
			}
		}
	})

	t.Run("replay keeps exactly Replay events", func(t *testing.T) {
		b := newBroker(t, Limits{Replay: 3})
		r := roomName(t, "R")
		var ids []string
		for i := 1; i <= 6; i++ {
			ids = append(ids, mustPublish(t, b, r, Event{Target: "all", Data: fmt.Sprint(i)}).ID)
		}
		if s := mustSubscribe(t, b, r, everyone, ids[2]); s.Gap || datas(s.Missed) != "4 5 6" {
			t.Errorf("3 behind: got gap %v replay %q, want 4 5 6", s.Gap, datas(s.Missed))
		}
		if s := mustSubscribe(t, b, r, everyone, ids[1]); !s.Gap || len(s.Missed) != 0 || s.LastID != ids[5] {
			t.Errorf("4 behind: got gap %v missed %d LastID %q, want a gap and %q", s.Gap, len(s.Missed), s.LastID, ids[5])
		}
	})

	t.Run("an unknown Last-Event-ID is a gap", func(t *testing.T) {
		b := newBroker(t, Limits{Replay: 3})
		r := roomName(t, "R")
		var ids []string
		for range 6 {
			ids = append(ids, mustPublish(t, b, r, Event{Target: "all"}).ID)
		}
		// Not another room's IDs: Redis's may be this room's too (the
		// stream's clock), and a stream's URL names its room.
		for _, id := range []string{ids[0], "garbage", "0-0", "1-x", "x-1", "1-2-3", " " + ids[5], "-"} {
			s := mustSubscribe(t, b, r, everyone, id)
			if !s.Gap || len(s.Missed) != 0 || s.LastID != ids[5] {
				t.Errorf("Last-Event-ID %q: got gap %v missed %d LastID %q, want a gap and %q", id, s.Gap, len(s.Missed), s.LastID, ids[5])
			}
			e := mustPublish(t, b, r, Event{Target: "all", Data: id})
			if got := recv(t, s); got != e {
				t.Errorf("Last-Event-ID %q: got %+v after the gap, want %+v", id, got, e)
			}
			ids = append(ids, e.ID)
			ids = ids[1:]
		}
		if s := mustSubscribe(t, b, roomName(t, "empty"), everyone, ids[0]); !s.Gap || s.LastID != "" {
			t.Errorf("empty room: got gap %v LastID %q, want a gap and no LastID", s.Gap, s.LastID)
		}
	})

	t.Run("a slow subscriber is cut off", func(t *testing.T) {
		b := newBroker(t, Limits{Buffer: 2})
		r := roomName(t, "R")
		slow := mustSubscribe(t, b, r, everyone, "")
		fast := mustSubscribe(t, b, r, everyone, "")
		for i := 1; i <= 4; i++ {
			e := mustPublish(t, b, r, Event{Target: "all", Data: fmt.Sprint(i)})
			// Once fast has event 4, event 3 went to slow as well.
			if got := recv(t, fast); got != e {
				t.Fatalf("got %+v, want %+v", got, e)
			}
		}
		if got := datas(drain(t, slow)); got != "1 2" {
			t.Errorf("got %q before the cut, want the 2 buffered events 1 2", got)
		}
	})

	t.Run("Close ends every subscription", func(t *testing.T) {
		b := newBroker(t, Limits{})
		r := roomName(t, "R")
		s1 := mustSubscribe(t, b, r, everyone, "")
		s2 := mustSubscribe(t, b, roomName(t, "S"), everyone, "")
		b.Close()
		for _, s := range []*Subscription{s1, s2} {
			if evs := drain(t, s); len(evs) != 0 {
				t.Errorf("got %d events, want a closed subscription", len(evs))
			}
		}
		if _, err := b.Subscribe(r, everyone, ""); err != ErrClosed {
			t.Errorf("Subscribe after Close: got %v, want ErrClosed", err)
		}
		if _, err := b.Publish(r, Event{Target: "all"}); err != ErrClosed {
			t.Errorf("Publish after Close: got %v, want ErrClosed", err)
		}
		s1.Close() // after the broker's Close, and twice, is fine
		s1.Close()
		b.Close()
	})

	t.Run("a subscription's Close ends it alone", func(t *testing.T) {
		b := newBroker(t, Limits{})
		r := roomName(t, "R")
		gone := mustSubscribe(t, b, r, everyone, "")
		stays := mustSubscribe(t, b, r, everyone, "")
		gone.Close()
		gone.Close()
		if evs := drain(t, gone); len(evs) != 0 {
			t.Errorf("got %d events, want a closed subscription", len(evs))
		}
		e := mustPublish(t, b, r, Event{Target: "all"})
		if got := recv(t, stays); got != e {
			t.Errorf("got %+v, want %+v", got, e)
		}
	})

	t.Run("evicted rooms close their streams", func(t *testing.T) {
		b := newBroker(t, Limits{Rooms: 1})
		r, s := roomName(t, "R"), roomName(t, "S")
		first := mustSubscribe(t, b, r, everyone, "")
		second := mustSubscribe(t, b, s, everyone, "")
		if evs := drain(t, first); len(evs) != 0 {
			t.Errorf("got %d events, want the evicted room's stream closed", len(evs))
		}
		e := mustPublish(t, b, s, Event{Target: "all"})
		if got := recv(t, second); got != e {
			t.Errorf("got %+v, want %+v", got, e)
		}
	})

	t.Run("subscribers joining during publishing get each event once", func(t *testing.T) {
		b := newBroker(t, Limits{Replay: 2000, Buffer: 2000})
		checkExactlyOnce(t, roomName(t, "R"), []broker{b}, []broker{b})
	})
}

// checkExactlyOnce publishes from every broker in pubs at once while
// subscribers join on the brokers in subs (in turn, some in bursts, some
// with a Last-Event-ID): each must get every event after its LastID,
// through Missed and then C, in the order a witness saw, once.
func checkExactlyOnce(t *testing.T, room string, pubs, subs []broker) {
	t.Helper()
	const perPublisher = 150
	witness := mustSubscribe(t, subs[0], room, everyone, "")
	type joiner struct {
		lastID string
		sub    *Subscription
	}
	var (
		mu      sync.Mutex
		joiners []joiner
		join    sync.WaitGroup
		publish sync.WaitGroup
	)
	for p, b := range pubs {
		publish.Go(func() {
			for i := range perPublisher {
				if _, err := b.Publish(room, Event{Target: "all", Data: fmt.Sprintf("p%d-%d", p, i)}); err != nil {
					t.Errorf("publish: %v", err)
					return
				}
			}
		})
	}
	var seen []Event
	total := perPublisher * len(pubs)
	for len(seen) < total {
		ev := recv(t, witness)
		seen = append(seen, ev)
		if len(seen)%25 != 0 {
			continue
		}
		// A burst of joiners on one broker: some with the ID just seen,
		// some with one from before, some new.
		b := subs[(len(seen)/25)%len(subs)]
		for k, last := range []string{"", ev.ID, seen[len(seen)/2].ID, ""} {
			join.Go(func() {
				s, err := b.Subscribe(room, everyone, last)
				if err != nil {
					t.Errorf("subscribe %d: %v", k, err)
					return
				}
				mu.Lock()
				joiners = append(joiners, joiner{last, s})
				mu.Unlock()
			})
		}
	}
	publish.Wait()
	join.Wait()
	end := mustPublish(t, pubs[0], room, Event{Target: "all", Data: "end"})
	if got := recv(t, witness); got != end {
		t.Fatalf("witness: got %+v after all %d events, want the end %+v", got, total, end)
	}
	seen = append(seen, end)
	index := map[string]int{witness.LastID: -1}
	for i, ev := range seen {
		if _, dup := index[ev.ID]; dup {
			t.Fatalf("witness: ID %q twice", ev.ID)
		}
		index[ev.ID] = i
	}
	if len(joiners) < 8 {
		t.Fatalf("got %d joiners, want some", len(joiners))
	}
	for _, j := range joiners {
		start, ok := index[j.lastID]
		if j.lastID == "" {
			start, ok = index[j.sub.LastID]
		}
		upTo, known := index[j.sub.LastID]
		if !ok || !known || j.sub.Gap || upTo < start {
			t.Errorf("joiner after %q: got LastID %q gap %v, want a known LastID no older and no gap", j.lastID, j.sub.LastID, j.sub.Gap)
			continue
		}
		if j.lastID == "" && len(j.sub.Missed) != 0 {
			t.Errorf("joiner without Last-Event-ID: got %d missed, want none", len(j.sub.Missed))
		}
		got := append(append([]Event(nil), j.sub.Missed...), until(t, j.sub, end.ID)...)
		if want := seen[start+1:]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("joiner after %q (LastID %q): got %d events %s, want the %d after it %s",
				j.lastID, j.sub.LastID, len(got), datas(got), len(want), datas(want))
		}
		if len(j.sub.Missed) != upTo-start {
			t.Errorf("joiner after %q: got %d missed, want the %d up to LastID %q", j.lastID, len(j.sub.Missed), upTo-start, j.sub.LastID)
		}
		j.sub.Close()
	}
}

// roomName is a room of this test only: brokers on one Redis share rooms.
func roomName(t *testing.T, name string) string { return t.Name() + "/" + name }

func mustPublish(t *testing.T, b broker, room string, ev Event) Event {
	t.Helper()
	got, err := b.Publish(room, ev)
	if err != nil {
		t.Fatalf("publish in %s: %v", room, err)
	}
	return got
}

func mustSubscribe(t *testing.T, b broker, room string, targets []string, lastID string) *Subscription {
	t.Helper()
	s, err := b.Subscribe(room, targets, lastID)
	if err != nil {
		t.Fatalf("subscribe to %s: %v", room, err)
	}
	t.Cleanup(s.Close)
	return s
}

// recv is s's next event, which must come.
func recv(t *testing.T, s *Subscription) Event {
	t.Helper()
	select {
	case ev, ok := <-s.C:
		if !ok {
			t.Fatal("got a closed subscription, want an event")
		}
		return ev
	case <-time.After(wait):
		t.Fatal("got no event, want one")
	}
	return Event{}
}

// until is what s delivers up to the event with ID id, which must come
// (fewer when s closes first).
func until(t *testing.T, s *Subscription, id string) []Event {
	t.Helper()
	var evs []Event
	timeout := time.After(wait)
	for {
		select {
		case ev, ok := <-s.C:
			if !ok {
				return evs
			}
			evs = append(evs, ev)
			if ev.ID == id {
				return evs
			}
		case <-timeout:
			t.Fatalf("got %d events, want them up to %q", len(evs), id)
		}
	}
}

// drain is what s delivers until it is closed, which must happen.
func drain(t *testing.T, s *Subscription) []Event {
	t.Helper()
	var evs []Event
	timeout := time.After(wait)
	for {
		select {
		case ev, ok := <-s.C:
			if !ok {
				return evs
			}
			evs = append(evs, ev)
		case <-timeout:
			t.Fatalf("got %d events and an open subscription, want it closed", len(evs))
		}
	}
}

func datas(evs []Event) string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Data)
	}
	return strings.Join(out, " ")
}
