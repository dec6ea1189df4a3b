package roster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swrooms/swrooms/internal/redistest"
)

// TestRedisStoreFollowsRedisDownAndBack: with Redis stopped, Apply and Get
// fail with an error the handlers render as "shared state unavailable";
// once it is back (empty), the same store serves again, and the seat it
// lost starts afresh and asks for a snapshot.
func TestRedisStoreFollowsRedisDownAndBack(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	s := NewRedisStore(srv.Open(t), Limits{})
	join := mustBatch(t, "e1", ev(1, "room.joined", joinedData("a", person("a", "Ada"))))
	if _, _, err := s.Apply(ctx, seatA, join); err != nil {
		t.Fatal(err)
	}

	srv.Stop()
	var u interface{ Unavailable() bool }
	_, _, err := s.Apply(ctx, seatA, mustBatch(t, "e1", ev(2, "member.joined", memberData(`"id":"b","name":"Bob"`))))
	if !errors.As(err, &u) || !u.Unavailable() {
		t.Errorf("Apply with Redis down: got %v, want an unavailable error", err)
	}
	if _, _, err := s.Get(ctx, seatA); !errors.As(err, &u) || !u.Unavailable() {
		t.Errorf("Get with Redis down: got %v, want an unavailable error", err)
	}

	srv.Restart()
	r, d, err := s.Apply(ctx, seatA, mustBatch(t, "e1", ev(2, "member.joined", memberData(`"id":"b","name":"Bob"`))))
	if err != nil || !r.NeedsSnapshot || !d.Full || r.Count != 1 {
		t.Fatalf("after the restart: got needs snapshot %v full %v count %d, %v; want the seat anew", r.NeedsSnapshot, d.Full, r.Count, err)
	}
	if got, ok, err := s.Get(ctx, seatA); err != nil || !ok || got.Version != r.Version {
		t.Errorf("Get after the restart: got %v, %v, version %d; want version %d", ok, err, got.Version, r.Version)
	}
}

// TestRedisKeyLayout: the keys of one seat are the ones the package
// documents, all under swr:, all expiring with the seat; and a read
// postpones the seat's expiry.
func TestRedisKeyLayout(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	c := srv.Open(t)
	const ttl = time.Hour
	s := NewRedisStore(srv.Open(t), Limits{IdleTTL: ttl, PostsPerSecond: 1, PostBurst: 10})
	key := SeatKey{Room: "Main:Office%", Seat: "seat-a"}
	if _, _, err := s.Apply(ctx, key, mustBatch(t, "e1", ev(1, "room.joined", joinedData("a", person("a", "Ada"))))); err != nil {
		t.Fatal(err)
	}
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	const posts = "swr:roster:posts:Main%3AOffice%25:seat-a"
	keys = slices.DeleteFunc(keys, func(k string) bool { return k == posts }) // it may have expired already
	slices.Sort(keys)
	want := []string{
		"swr:roster:bytes",
		"swr:roster:room:Main%3AOffice%25:bytes",
		"swr:roster:room:Main%3AOffice%25:seats",
		"swr:roster:rooms:bytes",
		"swr:roster:rooms:used",
		"swr:roster:seat:Main%3AOffice%25:seat-a",
	}
	if !slices.Equal(keys, want) {
		t.Fatalf("got keys %q, want %q", keys, want)
	}
	for _, k := range keys {
		if d := c.PTTL(ctx, k).Val(); d <= 0 || d > ttl {
			t.Errorf("key %s expires in %v, want within IdleTTL", k, d)
		}
	}
	if d := c.PTTL(ctx, posts).Val(); d > 10*time.Second {
		t.Errorf("the post budget expires in %v, want once it is full again (10 s at most)", d)
	}

	for _, k := range keys {
		c.PExpire(ctx, k, 10*time.Second)
	}
	if _, ok, err := s.Get(ctx, key); !ok || err != nil {
		t.Fatalf("got %v, %v; want the seat", ok, err)
	}
	for _, k := range keys {
		if d := c.PTTL(ctx, k).Val(); d <= 10*time.Second {
			t.Errorf("after a read, key %s expires in %v, want IdleTTL again", k, d)
		}
	}
}

// checkAccounting holds the store's indexes and byte counts to the seats
// Redis holds: each room's seats have keys, at most seatsPerRoom of them;
// the bytes of each room are the sum of its seats' charges, the total the
// sum of the rooms', within MaxBytes.
func checkAccounting(t *testing.T, c *redis.Client, lim Limits) {
	t.Helper()
	ctx := context.Background()
	lim = lim.withDefaults()
	rooms, err := c.ZRangeWithScores(ctx, roomsBytesKey, 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	used, _ := c.ZRange(ctx, roomsUsedKey, 0, -1).Result()
	var sum int64
	var names []string
	for _, z := range rooms {
		room := z.Member.(string)
		names = append(names, room)
		k := keysOf(SeatKey{Room: room, Seat: "-"}) // the tests' room names need no escaping
		seats, _ := c.ZRange(ctx, k.roomSeats, 0, -1).Result()
		charges, _ := c.HGetAll(ctx, k.roomBytes).Result()
		if len(seats) > lim.seatsPerRoom() {
			t.Errorf("room %s holds %d seats, over %d", room, len(seats), lim.seatsPerRoom())
		}
		var roomSum int64
		for _, seat := range seats {
			n, err := strconv.ParseInt(charges[seat], 10, 64)
			if err != nil {
				t.Errorf("room %s seat %s has no charge: %v", room, seat, err)
			}
			roomSum += n
			if c.Exists(ctx, keysOf(SeatKey{Room: room, Seat: seat}).seat).Val() != 1 {
				t.Errorf("room %s lists seat %s, which has no key", room, seat)
			}
		}
		if len(charges) != len(seats) {
			t.Errorf("room %s charges %d seats and lists %d", room, len(charges), len(seats))
		}
		if int64(z.Score) != roomSum {
			t.Errorf("room %s is charged %v bytes, its seats %d", room, z.Score, roomSum)
		}
		sum += roomSum
	}
	slices.Sort(names)
	slices.Sort(used)
	if !slices.Equal(names, used) {
		t.Errorf("rooms by bytes %q and by use %q differ", names, used)
	}
	total, _ := c.Get(ctx, totalBytesKey).Int64()
	if total != sum || total > lim.MaxBytes {
		t.Errorf("the total is %d bytes, the rooms' sum %d, the budget %d", total, sum, lim.MaxBytes)
	}
}

// TestRedisBoundsHold runs the floods of issue 14 on Redis: one room past
// its seats, one room past the byte budget; the accounting follows the
// keys throughout and stays within the budget.
func TestRedisBoundsHold(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	c := srv.Open(t)
	join := mustBatch(t, "e1", ev(1, "room.joined", joinedData("m1", person("m1", "Ada"))))

	t.Run("a room holds at most SeatsPerMember×RoomCapacity seats", func(t *testing.T) {
		c.FlushDB(ctx)
		lim := Limits{RoomCapacity: 2, SeatsPerMember: 2}
		s := NewRedisStore(srv.Open(t), lim)
		if _, _, err := s.Apply(ctx, SeatKey{Room: "Quiet", Seat: "1"}, join); err != nil {
			t.Fatal(err)
		}
		for i := range 30 {
			if _, _, err := s.Apply(ctx, SeatKey{Room: "Flooded", Seat: fmt.Sprint(i)}, join); err != nil {
				t.Fatal(err)
			}
		}
		if n := c.ZCard(ctx, keysOf(SeatKey{Room: "Flooded", Seat: "-"}).roomSeats).Val(); n != 4 {
			t.Errorf("the flooded room holds %d seats, want 4", n)
		}
		for i := range 30 {
			if _, ok, _ := s.Get(ctx, SeatKey{Room: "Flooded", Seat: fmt.Sprint(i)}); ok != (i >= 26) {
				t.Errorf("seat %d: got held %v, want only the last 4", i, ok)
			}
		}
		checkAccounting(t, c, lim)
	})
	t.Run("all seats stay within MaxBytes", func(t *testing.T) {
		c.FlushDB(ctx)
		lim := Limits{MaxBytes: 2 << 20}
		s := NewRedisStore(srv.Open(t), lim)
		for seat := range 10 {
			for _, raw := range widestSeat(seat) {
				if _, _, err := s.Apply(ctx, SeatKey{Room: fmt.Sprint("Wide", seat%3), Seat: fmt.Sprint(seat)}, mustDecode(t, raw)); err != nil {
					t.Fatalf("seat %d: %v", seat, err)
				}
			}
			checkAccounting(t, c, lim)
		}
	})
}

// TestRedisIdleSeatsLeaveTheAccounting: seats and rooms whose keys expired
// are no longer counted, so they take neither seats nor bytes. Their
// expiry is made here (keys deleted, last use long ago), so that the
// indexes outlive them as they do when Redis expires the keys.
func TestRedisIdleSeatsLeaveTheAccounting(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	c := srv.Open(t)
	lim := Limits{RoomCapacity: 1, SeatsPerMember: 3}
	s := NewRedisStore(srv.Open(t), lim)
	join := mustBatch(t, "e1", ev(1, "room.joined", joinedData("m1", person("m1", "Ada"))))
	for _, k := range []SeatKey{{"A", "1"}, {"A", "2"}, {"B", "1"}} {
		if _, _, err := s.Apply(ctx, k, join); err != nil {
			t.Fatal(err)
		}
	}
	a, b := keysOf(SeatKey{"A", "1"}), keysOf(SeatKey{"B", "1"})
	c.Del(ctx, a.seat, b.seat, b.roomSeats, b.roomBytes)
	c.ZAdd(ctx, a.roomSeats, redis.Z{Score: 1, Member: "1"})
	c.ZAdd(ctx, roomsUsedKey, redis.Z{Score: 1, Member: "B"})

	if _, _, err := s.Apply(ctx, SeatKey{"A", "3"}, join); err != nil {
		t.Fatal(err)
	}
	if rooms := c.ZRange(ctx, roomsBytesKey, 0, -1).Val(); !slices.Equal(rooms, []string{"A"}) {
		t.Errorf("got rooms %q counted, want only A", rooms)
	}
	if seats := c.ZRange(ctx, a.roomSeats, 0, -1).Val(); !slices.Equal(seats, []string{"2", "3"}) {
		t.Errorf("got seats %q in room A, want 2 and 3", seats)
	}
	checkAccounting(t, c, lim)
}

// TestRedisStoreTakesAnUnreadableRecordAsLost: a record that does not
// decode (another version wrote it) is a seat the store does not hold,
// and the next batch replaces it.
func TestRedisStoreTakesAnUnreadableRecordAsLost(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	c := srv.Open(t)
	s := NewRedisStore(srv.Open(t), Limits{})
	if _, _, err := s.Apply(ctx, seatA, mustBatch(t, "e1", ev(1, "room.joined", joinedData("a", person("a", "Ada"))))); err != nil {
		t.Fatal(err)
	}
	c.HSet(ctx, keysOf(seatA).seat, "s", `{"format":2}`)
	if _, ok, err := s.Get(ctx, seatA); ok || err != nil {
		t.Errorf("got %v, %v; want no seat", ok, err)
	}
	r, _, err := s.Apply(ctx, seatA, mustBatch(t, "e1", ev(2, "member.joined", memberData(`"id":"b","name":"Bob"`))))
	if err != nil || !r.NeedsSnapshot || r.Count != 1 {
		t.Errorf("got needs snapshot %v count %d, %v; want the seat anew", r.NeedsSnapshot, r.Count, err)
	}
	checkAccounting(t, c, Limits{})
}

// TestRedisChargeFollowsMemoryUsage holds what a RedisStore charges a seat
// against MaxBytes to what Redis reports its keys take (MEMORY USAGE),
// from the smallest seat to the widest: not under by more than 10%, so
// that the budget bounds Redis's memory, nor over by more than 50%.
func TestRedisChargeFollowsMemoryUsage(t *testing.T) {
	if testing.Short() {
		t.Skip("measures Redis's memory")
	}
	ctx := context.Background()
	srv := redistest.Start(t)
	c := srv.Open(t)
	shapes := []struct {
		name   string
		seats  int
		bodies func(seat int) []string
	}{
		{"one member", 300, func(seat int) []string {
			return []string{body("e1", ev(1, "room.joined", joinedData("m1", person(uuid(seat, 1), "Ada"))))}
		}},
		{"20 members", 100, func(seat int) []string { return []string{roomJoined20(seat)} }},
		{"300 people and 300 devices, every field at its bound", 4, widestSeat},
	}
	for _, sh := range shapes {
		t.Run(sh.name, func(t *testing.T) {
			c.FlushDB(ctx)
			s := NewRedisStore(srv.Open(t), Limits{PostsPerSecond: 1, PostBurst: 10})
			for i := range sh.seats {
				for _, raw := range sh.bodies(i) {
					// Seat ids as long as the app's (a 22-character token).
					key := SeatKey{Room: fmt.Sprintf("Room_%d", i/20), Seat: fmt.Sprintf("seat-%017d", i)}
					if _, _, err := s.Apply(ctx, key, mustDecode(t, raw)); err != nil {
						t.Fatal(err)
					}
				}
			}
			var used int64
			iter := c.Scan(ctx, 0, "*", 1000).Iterator()
			for iter.Next(ctx) {
				n, err := c.MemoryUsage(ctx, iter.Val(), 0).Result()
				if err != nil && !errors.Is(err, redis.Nil) { // a post budget may expire meanwhile
					t.Fatal(err)
				}
				used += n
			}
			if err := iter.Err(); err != nil {
				t.Fatal(err)
			}
			charged, _ := c.Get(ctx, totalBytesKey).Int64()
			t.Logf("%d seats: Redis %.1f KB a seat, charged %.1f KB (%.2f)", sh.seats,
				float64(used)/float64(sh.seats)/1024, float64(charged)/float64(sh.seats)/1024, float64(charged)/float64(used))
			if float64(charged) < 0.9*float64(used) || float64(charged) > 1.5*float64(used) {
				t.Errorf("charged %d bytes for %d in Redis: want within -10%%..+50%%", charged, used)
			}
		})
	}
}

// TestSeatRecordRoundTrips: a seat read back from its record is the seat
// that was written, in every field a batch can set.
func TestSeatRecordRoundTrips(t *testing.T) {
	clk := newClock()
	st := newSeatState()
	batches := []Batch{
		mustBatch(t, "e0", ev(1, "room.joined", joinedData("a", person("a", "Ada")))),
		mustBatch(t, "e1",
			ev(1, "room.joined", joinedData("a", person("a", "Ada", `"audio_muted":true`), person("b", "Bob", `"video_muted":true,"deaf":true`),
				person("c", "Cy", `"visible":true,"talking":true`))),
			ev(2, "member.joined", memberData(`"id":"s","name":"Ada (screen)","type":"screen","parent_id":"a"`)),
			ev(3, "member.joined", memberData(`"id":"r","name":"bot","type":"robot","parent_id":"gone"`)),
			ev(5, "member.updated", memberData(`"id":"b","handraised":true`)),
			ev(6, "room.updated", `{"room":{"locked":true,"hide_video_muted":true,"layout_name":"2x2"}}`),
			ev(7, "recording.started", ""),
		),
		mustBatch(t, "e1", ev(8, "room.left", "")),
	}
	for i, b := range batches {
		clk.Advance(time.Minute)
		prev := st
		st = prev.clone()
		list, err := st.apply(b, fromUnixNano(clk.Now().UnixNano()), DefaultRoomCapacity)
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		st.delta(&prev, st.roster(), list)

		rec, err := encodeSeat(&st)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeSeat(rec)
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		if !maps.Equal(got.members, st.members) || !slices.Equal(got.shown.rows, st.shown.rows) || got.shown.count != st.shown.count ||
			!slices.Equal(got.retired, st.retired) || got.epoch != st.epoch || got.lastSeq != st.lastSeq || got.needSnap != st.needSnap ||
			got.selfID != st.selfID || got.room != st.room || got.left != st.left || got.version != st.version || got.tick != st.tick {
			t.Errorf("batch %d: read back\n\t%+v\nwant\n\t%+v", i, got, st)
		}
	}
	if len(st.retired) != 1 || !st.left || len(st.members) != 5 || !st.room.Recording {
		t.Fatalf("the state does not cover what the test means to: %+v", st)
	}
	for _, bad := range []string{``, `[]`, `{"v":1}`, `{"e":"e1","m":[{"i":"a"}],"w":[{"m":1,"s":2}]}`} {
		if _, err := decodeSeat([]byte(bad)); !errors.Is(err, errBadRecord) {
			t.Errorf("decode %q: got %v, want errBadRecord", bad, err)
		}
	}
}

// TestRedisLenCountsEverySeatOfEveryRoom: the swrooms_seats gauge counts
// the seats all instances hold.
func TestRedisLenCountsEverySeatOfEveryRoom(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	a, b := NewRedisStore(srv.Open(t), Limits{}), NewRedisStore(srv.Open(t), Limits{})
	if n, err := a.Len(ctx); err != nil || n != 0 {
		t.Fatalf("Len of an empty store = %d, %v; want 0", n, err)
	}
	join := mustBatch(t, "e1", ev(1, "room.joined", joinedData("m1", person("m1", "Ada"))))
	for i, k := range []SeatKey{{"A", "1"}, {"A", "2"}, {"B:x", "1"}} {
		s := a
		if i%2 == 1 {
			s = b
		}
		if _, _, err := s.Apply(ctx, k, join); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := b.Len(ctx); err != nil || n != 3 {
		t.Errorf("Len = %d, %v; want 3 seats in two rooms", n, err)
	}
}
