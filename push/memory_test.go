package push

import (
	"fmt"
	"sync"
	"testing"
)

func fixedEpoch() string { return "e1" }

func recv(t *testing.T, s *Subscription) Event {
	t.Helper()
	select {
	case ev, ok := <-s.C:
		if !ok {
			t.Fatal("got a closed subscription, want an event")
		}
		return ev
	default:
		t.Fatal("got no event, want one")
	}
	return Event{}
}

func TestPublishReachesOnlyItsTargets(t *testing.T) {
	m := NewMemory(Limits{}, fixedEpoch)
	all, _ := m.Subscribe("R", []string{"all", "seat:a"}, "")
	other, _ := m.Subscribe("R", []string{"all", "seat:b"}, "")
	elsewhere, _ := m.Subscribe("S", []string{"all"}, "")
	m.Publish("R", Event{Target: "seat:a", Name: "x", Data: "1"})
	m.Publish("R", Event{Target: "all", Name: "x", Data: "2"})
	if ev := recv(t, all); ev.Data != "1" || ev.ID != "e1-1" {
		t.Errorf("got %+v, want data 1 with id e1-1", ev)
	}
	if ev := recv(t, all); ev.Data != "2" {
		t.Errorf("got %+v, want data 2", ev)
	}
	if ev := recv(t, other); ev.Data != "2" || ev.ID != "e1-2" {
		t.Errorf("got %+v, want only the room-wide event e1-2", ev)
	}
	if len(elsewhere.C) != 0 {
		t.Errorf("got an event of another room")
	}
}

func TestReplayAfterLastEventIDMissesNothing(t *testing.T) {
	m := NewMemory(Limits{Replay: 8}, fixedEpoch)
	for i := 1; i <= 5; i++ {
		m.Publish("R", Event{Target: map[bool]string{true: "all", false: "seat:b"}[i != 3], Data: fmt.Sprint(i)})
	}
	s, _ := m.Subscribe("R", []string{"all"}, "e1-1")
	if s.Gap {
		t.Fatal("got a gap, want a replay")
	}
	var got []string
	for _, ev := range s.Missed {
		got = append(got, ev.Data)
	}
	if fmt.Sprint(got) != "[2 4 5]" {
		t.Errorf("got replay %v, want [2 4 5] (3 was for another seat)", got)
	}
	if s.LastID != "e1-5" {
		t.Errorf("got LastID %q, want e1-5", s.LastID)
	}
	up, _ := m.Subscribe("R", []string{"all"}, "e1-5")
	if up.Gap || len(up.Missed) != 0 {
		t.Errorf("got gap %v missed %d for an up-to-date client, want none", up.Gap, len(up.Missed))
	}
}

func TestReplayReportsAGap(t *testing.T) {
	m := NewMemory(Limits{Replay: 3}, fixedEpoch)
	for range 6 {
		m.Publish("R", Event{Target: "all"})
	}
	for _, id := range []string{"e1-1", "e0-5", "e1-99", "garbage", "e1-x"} {
		s, _ := m.Subscribe("R", []string{"all"}, id)
		if !s.Gap {
			t.Errorf("Last-Event-ID %q: got no gap, want one", id)
		}
	}
	s, _ := m.Subscribe("R", []string{"all"}, "e1-3")
	if s.Gap || len(s.Missed) != 3 {
		t.Errorf("got gap %v, %d missed, want the 3 kept events", s.Gap, len(s.Missed))
	}
}

func TestASlowSubscriberIsCutOff(t *testing.T) {
	m := NewMemory(Limits{Buffer: 2}, fixedEpoch)
	slow, _ := m.Subscribe("R", []string{"all"}, "")
	for range 3 {
		m.Publish("R", Event{Target: "all"})
	}
	n := 0
	for range slow.C {
		n++
	}
	if n != 2 {
		t.Errorf("got %d buffered events before the close, want 2", n)
	}
}

func TestCloseEndsEverySubscription(t *testing.T) {
	m := NewMemory(Limits{}, nil)
	s, _ := m.Subscribe("R", []string{"all"}, "")
	m.Close()
	if _, ok := <-s.C; ok {
		t.Error("got an open subscription after Close")
	}
	if _, err := m.Subscribe("R", []string{"all"}, ""); err != ErrClosed {
		t.Errorf("got %v, want ErrClosed", err)
	}
	s.Close() // twice is fine
}

func TestEvictedRoomsCloseTheirStreams(t *testing.T) {
	m := NewMemory(Limits{Rooms: 1}, nil)
	s, _ := m.Subscribe("R", []string{"all"}, "")
	m.Publish("S", Event{Target: "all"})
	if _, ok := <-s.C; ok {
		t.Error("got an open subscription on an evicted room")
	}
}

func TestConcurrentPublishAndSubscribe(t *testing.T) {
	m := NewMemory(Limits{Buffer: 1000}, nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, _ := m.Subscribe("R", []string{"all"}, "")
			for range 50 {
				m.Publish("R", Event{Target: "all", Data: fmt.Sprint(i)})
			}
			s.Close()
		}()
	}
	wg.Wait()
}
