package handlers_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// snapshot20 is a room.joined for a 20-member room, shaped as the SDK
// sends it.
func snapshot20(epoch string) string {
	members := make([]string, 20)
	for i := range members {
		members[i] = fmt.Sprintf(`{"id":"m-%02d-3f0e-4d0b-9a51-0c6a1d1e2f01","name":"Participant %d","type":"member",`+
			`"handraised":false,"talking":false,"visible":true,"audio_muted":%t,"video_muted":false,"deaf":false}`, i, i, i%3 == 0)
	}
	return fmt.Sprintf(`{"epoch":%q,"events":[{"seq":1,"name":"room.joined","data":{"room_session":{"id":"rs-1","name":"Bench",`+
		`"members":[%s]},"member_id":"m-00-3f0e-4d0b-9a51-0c6a1d1e2f01","call_id":"c-1"}}]}`, epoch, strings.Join(members, ","))
}

// flush10 is a typical flush of a lively room: talking flips, a mute and
// a raised hand, numbered from seq.
func flush10(epoch string, seq int) string {
	evs := make([]string, 10)
	for i := range evs {
		id := fmt.Sprintf("m-%02d-3f0e-4d0b-9a51-0c6a1d1e2f01", 1+(seq+i)%19)
		switch i % 5 {
		case 3:
			evs[i] = fmt.Sprintf(`{"seq":%d,"name":"member.updated","data":{"member":{"id":%q,"audio_muted":%t,"updated":["audio_muted"]}}}`, seq+i, id, (seq+i)%2 == 0)
		case 4:
			evs[i] = fmt.Sprintf(`{"seq":%d,"name":"member.updated","data":{"member":{"id":%q,"handraised":%t,"updated":["handraised"]}}}`, seq+i, id, (seq+i)%2 == 0)
		default:
			evs[i] = fmt.Sprintf(`{"seq":%d,"name":"member.talking","data":{"member":{"id":%q,"talking":%t}}}`, seq+i, id, (seq+i)%2 == 0)
		}
	}
	return fmt.Sprintf(`{"epoch":%q,"events":[%s]}`, epoch, strings.Join(evs, ","))
}

// BenchmarkEventsRequest is one event post through the whole Fiber app:
// seat check, decode, apply to a 20-member roster, render the panel.
func BenchmarkEventsRequest(b *testing.B) {
	e := newEnv(b, openHosting)
	seat := joined(b, e, "Bench")
	if resp, _ := e.events("Bench", seat, snapshot20("e1")); resp.StatusCode != http.StatusOK {
		b.Fatalf("got %d for the snapshot", resp.StatusCode)
	}
	bodies := make([]string, 1000)
	for i := range bodies {
		bodies[i] = flush10("e1", 2+10*i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == len(bodies) {
			// Replays are no-ops for the store; start a fresh epoch so every
			// request does the full work.
			i = 0
			epoch := fmt.Sprintf("e%d", b.N)
			e.events("Bench", seat, snapshot20(epoch))
			for j := range bodies {
				bodies[j] = flush10(epoch, 2+10*j)
			}
		}
		resp, _ := e.events("Bench", seat, bodies[i])
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("got %d", resp.StatusCode)
		}
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "µs/request")
}
