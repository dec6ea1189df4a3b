package roster

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/swrooms/swrooms/internal/redistest"
)

// uuid makes a SignalWire-shaped id, so that memory figures count real sizes.
func uuid(room, i int) string {
	return fmt.Sprintf("%08x-3f0e-4d0b-9a51-%012x", room, i)
}

// roomJoined20 is a room.joined for a 20-member room, every member with
// every field the wire format has.
func roomJoined20(room int) string {
	members := make([]string, 20)
	for i := range members {
		members[i] = fmt.Sprintf(`{"id":%q,"name":"Participant %d","type":"member",`+
			`"handraised":false,"talking":false,"visible":true,"audio_muted":%t,"video_muted":false,"deaf":false}`, uuid(room, i), i, i%3 == 0)
	}
	return body("epoch-1", ev(1, "room.joined", joinedData(uuid(room, 0), members...)))
}

// typicalBatch is what a lively 20-member room sends in one flush: talking
// flips, a mute and a raised hand, each member object carrying only the
// fields that changed.
func typicalBatch(room int) string {
	id := func(i int) string { return uuid(room, i) }
	return body("epoch-1",
		ev(2, "member.talking", memberData(fmt.Sprintf(`"id":%q,"talking":true`, id(3)))),
		ev(3, "member.talking", memberData(fmt.Sprintf(`"id":%q,"talking":false`, id(3)))),
		ev(4, "member.talking", memberData(fmt.Sprintf(`"id":%q,"talking":true`, id(7)))),
		ev(5, "member.talking", memberData(fmt.Sprintf(`"id":%q,"talking":true`, id(9)))),
		ev(6, "member.talking", memberData(fmt.Sprintf(`"id":%q,"talking":false`, id(7)))),
		ev(7, "member.talking", memberData(fmt.Sprintf(`"id":%q,"talking":false`, id(9)))),
		ev(8, "member.updated", memberData(fmt.Sprintf(`"id":%q,"audio_muted":true`, id(5)))),
		ev(9, "member.talking", memberData(fmt.Sprintf(`"id":%q,"talking":true`, id(12)))),
		ev(10, "member.updated", memberData(fmt.Sprintf(`"id":%q,"handraised":true`, id(11)))),
		ev(11, "member.talking", memberData(fmt.Sprintf(`"id":%q,"talking":false`, id(12)))),
	)
}

func mustDecode(tb testing.TB, raw string) Batch {
	tb.Helper()
	b, err := DecodeBytes([]byte(raw))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func BenchmarkDecodeBatch(b *testing.B) {
	raw := []byte(typicalBatch(0))
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeBytes(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApplyBatch20 applies a typical batch to a 20-member seat and
// builds the roster the handler renders.
func BenchmarkApplyBatch20(b *testing.B) {
	benchApply20(b, NewMemoryStore(Limits{PostsPerSecond: 1e9, PostBurst: 1 << 30})) // no post budget in the way
}

// benchApply20 applies a typical batch to a 20-member seat of s, again and
// again.
func benchApply20(b *testing.B, s Store) {
	ctx := context.Background()
	if _, _, err := s.Apply(ctx, seatA, mustDecode(b, roomJoined20(0))); err != nil {
		b.Fatal(err)
	}
	tmpl, err := DecodeBytes([]byte(typicalBatch(0)))
	if err != nil {
		b.Fatal(err)
	}
	batch := Batch{Epoch: tmpl.Epoch, Events: make([]Event, len(tmpl.Events))}
	next := uint64(2)
	b.ReportAllocs()
	for b.Loop() {
		for i, e := range tmpl.Events {
			e.Seq = next + uint64(i) // fresh seqs, or the store would skip them
			batch.Events[i] = e
		}
		next += uint64(len(tmpl.Events))
		r, d, err := s.Apply(ctx, seatA, batch)
		if err != nil || r.NeedsSnapshot || r.Count != 20 || d.Full || r.Version != d.Base+1 {
			b.Fatalf("got count %d needs snapshot %v delta %+v version %d err %v", r.Count, r.NeedsSnapshot, d, r.Version, err)
		}
	}
}

// BenchmarkRedisApply is BenchmarkApplyBatch20 on a RedisStore: a read
// and a write script, each a round trip to a local redis-server, with the
// seat's record decoded and encoded once.
func BenchmarkRedisApply(b *testing.B) {
	srv := redistest.Start(b)
	benchApply20(b, NewRedisStore(srv.Open(b), Limits{PostsPerSecond: 1e9, PostBurst: 1 << 30})) // no post budget in the way
}

// BenchmarkRedisGet20 is BenchmarkGet20 on a RedisStore.
func BenchmarkRedisGet20(b *testing.B) {
	srv := redistest.Start(b)
	s := NewRedisStore(srv.Open(b), Limits{})
	ctx := context.Background()
	if _, _, err := s.Apply(ctx, seatA, mustDecode(b, roomJoined20(0))); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, err := s.Get(ctx, seatA); !ok || err != nil {
			b.Fatal("seat missing", err)
		}
	}
}

func BenchmarkGet20(b *testing.B) {
	s := NewMemoryStore(Limits{})
	ctx := context.Background()
	if _, _, err := s.Apply(ctx, seatA, mustDecode(b, roomJoined20(0))); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, _ := s.Get(ctx, seatA); !ok {
			b.Fatal("seat missing")
		}
	}
}

// BenchmarkMemory1000Seats reports the live heap of 1,000 seats in 50
// rooms of 20 members, each seat decoded from its own request as in
// production (so no strings are shared between seats).
func BenchmarkMemory1000Seats(b *testing.B) {
	const rooms, perRoom = 50, 20
	bodies := make([][]byte, rooms)
	for r := range bodies {
		bodies[r] = []byte(roomJoined20(r))
	}
	ctx := context.Background()
	var mb float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := NewMemoryStore(Limits{})
		for r := range rooms {
			for seat := range perRoom {
				batch, err := DecodeBytes(bodies[r])
				if err != nil {
					b.Fatal(err)
				}
				key := SeatKey{Room: fmt.Sprintf("room-%d", r), Seat: fmt.Sprintf("seat-%d-%d", r, seat)}
				if _, _, err := s.Apply(ctx, key, batch); err != nil {
					b.Fatal(err)
				}
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		mb = float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
		runtime.KeepAlive(s)
	}
	b.ReportMetric(mb, "MB")
	b.ReportMetric(mb*1024/(rooms*perRoom), "KB/seat")
}
