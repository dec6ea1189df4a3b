package roster

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swrooms/swrooms/internal/fakeclock"
)

// newClock is the clock of expiry and hand-raise times.
func newClock() *fakeclock.Clock { return fakeclock.New(time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)) }

// person renders a member object of the wire format.
func person(id, name string, extra ...string) string {
	fields := append([]string{fmt.Sprintf(`"id":%q,"name":%q,"type":"member"`, id, name)}, extra...)
	return "{" + strings.Join(fields, ",") + "}"
}

func joinedData(self string, members ...string) string {
	return fmt.Sprintf(`{"member_id":%q,"room":{"layout_name":"grid-responsive"},"members":[%s]}`,
		self, strings.Join(members, ","))
}

func listData(members ...string) string {
	return fmt.Sprintf(`{"members":[%s]}`, strings.Join(members, ","))
}

func memberData(fields string) string { return `{"member":{` + fields + `}}` }

func mustBatch(t testing.TB, epoch string, events ...string) Batch {
	t.Helper()
	b, err := DecodeBytes([]byte(body(epoch, events...)))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return b
}

var seatA = SeatKey{Room: "Main_Office", Seat: "seat-a"}

// rowIDs lists the rows' ids, with children after their parent as "parent>child".
func rowIDs(r Roster) []string {
	var ids []string
	for _, m := range r.Members {
		ids = append(ids, m.ID)
		for _, c := range m.Children {
			ids = append(ids, m.ID+">"+c.ID)
		}
	}
	return ids
}

func find(r Roster, id string) (Member, bool) {
	for _, m := range r.Members {
		if m.ID == id {
			return m, true
		}
		for _, c := range m.Children {
			if c.ID == id {
				return c, true
			}
		}
	}
	return Member{}, false
}

func testApply(t *testing.T, open storeMaker) {
	join := ev(1, "room.joined", joinedData("a", person("a", "alice"), person("b", "Bob")))
	tests := []struct {
		name    string
		batches [][]string // each applied in turn, epoch "e1"
		check   func(t *testing.T, r Roster)
	}{
		{
			name:    "room.joined fills the roster and remembers self",
			batches: [][]string{{join}},
			check: func(t *testing.T, r Roster) {
				if got, want := rowIDs(r), []string{"a", "b"}; !reflect.DeepEqual(got, want) {
					t.Errorf("got rows %q, want %q", got, want)
				}
				if r.SelfID != "a" || r.Count != 2 || r.NeedsSnapshot || r.Room.Layout != "grid-responsive" {
					t.Errorf("got self %q count %d needs snapshot %v layout %q", r.SelfID, r.Count, r.NeedsSnapshot, r.Room.Layout)
				}
			},
		},
		{
			name: "a second room.joined with members sets who is in the room",
			batches: [][]string{{join}, {
				ev(2, "room.joined", joinedData("a", person("a", "alice"), person("c", "carol"))),
			}},
			check: func(t *testing.T, r Roster) {
				if got, want := rowIDs(r), []string{"a", "c"}; !reflect.DeepEqual(got, want) {
					t.Errorf("got rows %q, want %q", got, want)
				}
			},
		},
		{
			name: "members.snapshot sets who is in the room and keeps self",
			batches: [][]string{{join}, {
				ev(2, "members.snapshot", listData(person("c", "carol"))),
			}},
			check: func(t *testing.T, r Roster) {
				if got, want := rowIDs(r), []string{"c"}; !reflect.DeepEqual(got, want) || r.SelfID != "a" {
					t.Errorf("got rows %q self %q, want %q self a", got, r.SelfID, want)
				}
			},
		},
		{
			name: "a members.snapshot with member_id sets self on a seat the server lost",
			batches: [][]string{{
				ev(7, "members.snapshot", `{"member_id":"c","members":[`+person("c", "carol")+`]}`),
			}},
			check: func(t *testing.T, r Roster) {
				if r.SelfID != "c" || r.NeedsSnapshot {
					t.Errorf("got self %q needsSnapshot %v, want self c and no further snapshot request", r.SelfID, r.NeedsSnapshot)
				}
			},
		},
		{
			name: "member.joined adds a member and member.updated changes only the fields present",
			batches: [][]string{{join,
				ev(2, "member.joined", memberData(`"id":"c","name":"carol","type":"member","audio_muted":true,"visible":true`)),
				ev(3, "member.updated", memberData(`"id":"c","video_muted":true`)),
			}},
			check: func(t *testing.T, r Roster) {
				m, _ := find(r, "c")
				if m.Name != "carol" || !m.AudioMuted || !m.VideoMuted || !m.Visible {
					t.Errorf("got %+v, want carol audio and video muted, visible", m)
				}
			},
		},
		{
			name: "member.updated for an unknown member makes no row and asks for a snapshot",
			batches: [][]string{{join,
				ev(2, "member.updated", memberData(`"id":"c","name":"carol","deaf":true`)),
			}},
			check: func(t *testing.T, r Roster) {
				if _, ok := find(r, "c"); ok || r.Count != 2 || !r.NeedsSnapshot {
					t.Errorf("got carol %v count %d needs snapshot %v, want no row, 2, true", ok, r.Count, r.NeedsSnapshot)
				}
			},
		},
		{
			name: "member.left removes the member",
			batches: [][]string{{join}, {
				ev(2, "member.left", memberData(`"id":"b","name":"Bob"`)),
				ev(3, "member.left", memberData(`"id":"nobody"`)),
			}},
			check: func(t *testing.T, r Roster) {
				if got, want := rowIDs(r), []string{"a"}; !reflect.DeepEqual(got, want) || r.Count != 1 {
					t.Errorf("got rows %q count %d, want %q count 1", got, r.Count, want)
				}
			},
		},
		{
			name: "member.talking sets and clears talking",
			batches: [][]string{{join,
				ev(2, "member.talking", memberData(`"id":"a","talking":true`)),
				ev(3, "member.talking", memberData(`"id":"b","talking":true`)),
				ev(4, "member.talking", memberData(`"id":"b","talking":false`)),
			}},
			check: func(t *testing.T, r Roster) {
				a, _ := find(r, "a")
				b, _ := find(r, "b")
				if !a.Talking || b.Talking {
					t.Errorf("got alice talking %v, Bob talking %v; want true, false", a.Talking, b.Talking)
				}
			},
		},
		{
			name: "talking about an unknown member adds nobody and asks for a snapshot",
			batches: [][]string{{join,
				ev(2, "member.talking", memberData(`"id":"ghost","talking":true`)),
			}},
			check: func(t *testing.T, r Roster) {
				if _, ok := find(r, "ghost"); ok || !r.NeedsSnapshot {
					t.Errorf("got a row for ghost %v, needs snapshot %v; want none, true", ok, r.NeedsSnapshot)
				}
			},
		},
		{
			name: "raised hands come first, earliest first",
			batches: [][]string{
				{ev(1, "room.joined", joinedData("a", person("a", "alice"), person("b", "Bob"), person("c", "carol"), person("d", "dave")))},
				{ev(2, "member.updated", memberData(`"id":"d","handraised":true`))},
				{ev(3, "member.updated", memberData(`"id":"b","handraised":true`))},
				{ev(4, "member.updated", memberData(`"id":"d","handraised":true`))}, // already up: keeps its place
			},
			check: func(t *testing.T, r Roster) {
				if got, want := rowIDs(r), []string{"d", "b", "a", "c"}; !reflect.DeepEqual(got, want) {
					t.Errorf("got rows %q, want %q", got, want)
				}
				d, _ := find(r, "d")
				b, _ := find(r, "b")
				if d.HandRaisedAt.IsZero() || !d.HandRaisedAt.Before(b.HandRaisedAt) {
					t.Errorf("got dave's hand at %v, Bob's at %v; want dave earlier", d.HandRaisedAt, b.HandRaisedAt)
				}
			},
		},
		{
			name: "hands raised in one batch keep their seq order",
			batches: [][]string{{join,
				ev(3, "member.updated", memberData(`"id":"a","handraised":true`)),
				ev(2, "member.updated", memberData(`"id":"b","handraised":true`)),
			}},
			check: func(t *testing.T, r Roster) {
				if got, want := rowIDs(r), []string{"b", "a"}; !reflect.DeepEqual(got, want) {
					t.Errorf("got rows %q, want %q", got, want)
				}
			},
		},
		{
			name: "a lowered hand goes back to name order",
			batches: [][]string{{join,
				ev(2, "member.updated", memberData(`"id":"b","handraised":true`)),
				ev(3, "member.updated", memberData(`"id":"b","handraised":false`)),
			}},
			check: func(t *testing.T, r Roster) {
				b, _ := find(r, "b")
				if got, want := rowIDs(r), []string{"a", "b"}; !reflect.DeepEqual(got, want) || !b.HandRaisedAt.IsZero() {
					t.Errorf("got rows %q, hand at %v; want %q, zero", got, b.HandRaisedAt, want)
				}
			},
		},
		{
			name: "names sort case-insensitively, then by id",
			batches: [][]string{{ev(1, "members.snapshot", listData(
				person("5", "bob"), person("4", "Alice"), person("3", "álvaro"), person("2", "ALICE"), person("1", "Carol"), person("0", "alice"),
			))}},
			check: func(t *testing.T, r Roster) {
				if got, want := rowIDs(r), []string{"0", "2", "4", "5", "1", "3"}; !reflect.DeepEqual(got, want) {
					t.Errorf("got rows %q, want %q", got, want)
				}
			},
		},
		{
			name: "a screen share and a device are shown under their owner, not as people",
			batches: [][]string{{join,
				ev(2, "member.joined", memberData(`"id":"s","name":"alice (screen)","type":"screen","parent_id":"a"`)),
				ev(3, "member.joined", memberData(`"id":"d","name":"Alice (cam 2)","type":"device","parent_id":"a"`)),
			}},
			check: func(t *testing.T, r Roster) {
				if got, want := rowIDs(r), []string{"a", "a>d", "a>s", "b"}; !reflect.DeepEqual(got, want) || r.Count != 2 {
					t.Errorf("got rows %q count %d, want %q count 2", got, r.Count, want)
				}
			},
		},
		{
			name: "a screen share whose owner is unknown is its own row after the people",
			batches: [][]string{{join,
				ev(2, "member.joined", memberData(`"id":"s","name":"Aaron (screen)","type":"screen","parent_id":"gone"`)),
			}},
			check: func(t *testing.T, r Roster) {
				if got, want := rowIDs(r), []string{"a", "b", "s"}; !reflect.DeepEqual(got, want) || r.Count != 2 {
					t.Errorf("got rows %q count %d, want %q count 2", got, r.Count, want)
				}
			},
		},
		{
			name: "a screen share moves under its owner once the owner appears",
			batches: [][]string{
				{join, ev(2, "member.joined", memberData(`"id":"s","name":"carol (screen)","type":"screen","parent_id":"c"`))},
				{ev(3, "member.joined", memberData(`"id":"c","name":"carol"`))},
			},
			check: func(t *testing.T, r Roster) {
				if got, want := rowIDs(r), []string{"a", "b", "c", "c>s"}; !reflect.DeepEqual(got, want) {
					t.Errorf("got rows %q, want %q", got, want)
				}
			},
		},
		{
			name: "layout, room and recording events update the room",
			batches: [][]string{{join,
				ev(2, "layout.changed", `{"layout_name":"2x2"}`),
				ev(3, "room.updated", `{"room":{"locked":true,"hide_video_muted":true}}`),
				ev(4, "recording.started", `{}`),
			}},
			check: func(t *testing.T, r Roster) {
				if want := (Room{Layout: "2x2", Locked: true, Recording: true, HideVideoMuted: true}); r.Room != want {
					t.Errorf("got room %+v, want %+v", r.Room, want)
				}
			},
		},
		{
			name: "room.updated changes only the fields present; recording.updated and .ended set recording",
			batches: [][]string{{join,
				ev(2, "recording.updated", `{"state":"recording"}`),
				ev(3, "room.updated", `{"room":{"locked":true,"layout_name":"5up"}}`),
				ev(4, "layout.changed", `{"layout_name":"1x1"}`),
				ev(5, "room.updated", `{"room":{"hide_video_muted":false}}`),
				ev(6, "recording.ended", `{}`),
			}},
			check: func(t *testing.T, r Roster) {
				if want := (Room{Layout: "1x1", Locked: true}); r.Room != want {
					t.Errorf("got room %+v, want %+v", r.Room, want)
				}
			},
		},
		{
			name:    "room.left marks the seat left",
			batches: [][]string{{join}, {ev(2, "room.left", `{"reason":"RECONNECTION_ATTEMPT_TIMEOUT"}`)}},
			check: func(t *testing.T, r Roster) {
				if !r.Left {
					t.Error("got Left false, want true")
				}
			},
		},
		{
			name: "events out of order within a batch apply in seq order",
			batches: [][]string{{join,
				ev(5, "member.joined", memberData(`"id":"c","name":"carol"`)), // after the leave: present
				ev(3, "member.left", memberData(`"id":"d"`)),                  // after the join: absent
				ev(4, "member.left", memberData(`"id":"c"`)),
				ev(2, "member.joined", memberData(`"id":"d","name":"dave"`)),
			}},
			check: func(t *testing.T, r Roster) {
				if got, want := rowIDs(r), []string{"a", "b", "c"}; !reflect.DeepEqual(got, want) || r.NeedsSnapshot {
					t.Errorf("got rows %q needs snapshot %v, want %q and false", got, r.NeedsSnapshot, want)
				}
			},
		},
		{
			name: "a batch overlapping the last one applies only the new events",
			batches: [][]string{
				{join, ev(2, "member.left", memberData(`"id":"b"`))},
				{ev(2, "member.left", memberData(`"id":"b"`)), ev(1, "room.joined", joinedData("a", person("a", "alice"), person("b", "Bob"))),
					ev(3, "member.joined", memberData(`"id":"c","name":"carol"`))},
			},
			check: func(t *testing.T, r Roster) {
				if got, want := rowIDs(r), []string{"a", "c"}; !reflect.DeepEqual(got, want) {
					t.Errorf("got rows %q, want %q", got, want)
				}
			},
		},
		{
			name:    "unknown events advance seq without a gap",
			batches: [][]string{{join, ev(2, "media.connected", "")}, {ev(3, "member.left", memberData(`"id":"b"`))}},
			check: func(t *testing.T, r Roster) {
				if r.NeedsSnapshot || r.Count != 1 {
					t.Errorf("got needs snapshot %v count %d, want false and 1", r.NeedsSnapshot, r.Count)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			s := open.one(t, Limits{Now: clk.Now})
			var r Roster
			for i, evs := range tt.batches {
				clk.Advance(time.Second)
				var err error
				if r, _, err = s.Apply(context.Background(), seatA, mustBatch(t, "e1", evs...)); err != nil {
					t.Fatalf("batch %d: %v", i+1, err)
				}
			}
			tt.check(t, r)
			got, ok, err := s.Get(context.Background(), seatA)
			if err != nil || !ok || !reflect.DeepEqual(got, r) {
				t.Errorf("Get got %+v, %v, %v; want the roster Apply returned", got, ok, err)
			}
		})
	}
}

func testReplayedBatchChangesNothing(t *testing.T, open storeMaker) {
	s := open.one(t, Limits{})
	ctx := context.Background()
	b := mustBatch(t, "e1",
		ev(1, "room.joined", joinedData("a", person("a", "alice"), person("b", "Bob"))),
		ev(2, "member.updated", memberData(`"id":"b","handraised":true`)),
		ev(3, "member.joined", memberData(`"id":"c","name":"carol"`)),
	)
	first, _, err := s.Apply(ctx, seatA, b)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"the same batch", "a duplicate of an older part"} {
		again := b
		if name != "the same batch" {
			again = mustBatch(t, "e1", ev(2, "member.left", memberData(`"id":"b"`)))
		}
		got, _, err := s.Apply(ctx, seatA, again)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, first) {
			t.Errorf("%s: got %+v, want unchanged %+v", name, got, first)
		}
	}
}

func testTheRosterSharesNoMemoryWithTheStore(t *testing.T, open storeMaker) {
	s := open.one(t, Limits{})
	ctx := context.Background()
	r, _, err := s.Apply(ctx, seatA, mustBatch(t, "e1", ev(1, "room.joined", joinedData("a", person("a", "alice"))),
		ev(2, "member.joined", memberData(`"id":"s","type":"screen","parent_id":"a"`))))
	if err != nil {
		t.Fatal(err)
	}
	r.Members[0].Name = "mallory"
	r.Members[0].Children[0].ID = "x"
	got, _, _ := s.Get(ctx, seatA)
	if got.Members[0].Name != "alice" || got.Members[0].Children[0].ID != "s" {
		t.Errorf("got %+v after editing a returned roster, want it unchanged", got.Members[0])
	}
}

func testHandRaisedAtSurvivesASnapshot(t *testing.T, open storeMaker) {
	clk := newClock()
	s := open.one(t, Limits{Now: clk.Now})
	ctx := context.Background()
	r1, _, _ := s.Apply(ctx, seatA, mustBatch(t, "e1",
		ev(1, "room.joined", joinedData("a", person("a", "alice"), person("b", "Bob", `"handraised":true`)))))
	clk.Advance(time.Minute)
	r2, _, err := s.Apply(ctx, seatA, mustBatch(t, "e1",
		ev(2, "member.updated", memberData(`"id":"a","handraised":true`)),
		ev(3, "members.snapshot", listData(person("a", "alice", `"handraised":true`), person("b", "Bob", `"handraised":true`)))))
	if err != nil {
		t.Fatal(err)
	}
	b1, _ := find(r1, "b")
	b2, _ := find(r2, "b")
	if !b2.HandRaisedAt.Equal(b1.HandRaisedAt) || !b2.JoinedAt.Equal(b1.JoinedAt) {
		t.Errorf("got Bob's hand at %v joined %v, want %v and %v", b2.HandRaisedAt, b2.JoinedAt, b1.HandRaisedAt, b1.JoinedAt)
	}
	if got, want := rowIDs(r2), []string{"b", "a"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got rows %q, want %q", got, want)
	}
}

func testNeedsSnapshot(t *testing.T, open storeMaker) {
	join := func(seq uint64) string { return ev(seq, "room.joined", joinedData("a", person("a", "alice"))) }
	bob := func(seq uint64) string { return ev(seq, "member.joined", memberData(`"id":"b","name":"Bob"`)) }
	tests := []struct {
		name    string
		batches []Batch
		want    []bool // NeedsSnapshot after each batch
	}{
		{
			name:    "an unknown seat without a snapshot needs one, and the snapshot clears it",
			batches: []Batch{mustBatch(t, "e1", bob(40)), mustBatch(t, "e1", ev(41, "members.snapshot", listData(person("a", "alice"))))},
			want:    []bool{true, false},
		},
		{
			name:    "an unknown seat whose batch holds a snapshot needs none",
			batches: []Batch{mustBatch(t, "e1", join(1), bob(2))},
			want:    []bool{false},
		},
		{
			name:    "an empty batch for an unknown seat needs a snapshot",
			batches: []Batch{mustBatch(t, "e1")},
			want:    []bool{true},
		},
		{
			name:    "a seq gap between batches needs a snapshot until the next one",
			batches: []Batch{mustBatch(t, "e1", join(1)), mustBatch(t, "e1", bob(3)), mustBatch(t, "e1", ev(4, "member.left", memberData(`"id":"b"`))), mustBatch(t, "e1", join(5))},
			want:    []bool{false, true, true, false},
		},
		{
			name:    "a seq gap inside a batch needs a snapshot",
			batches: []Batch{mustBatch(t, "e1", join(1), bob(2), ev(4, "member.left", memberData(`"id":"b"`)))},
			want:    []bool{true},
		},
		{
			name:    "a gap before a snapshot in the same batch is healed by it",
			batches: []Batch{mustBatch(t, "e1", join(1)), mustBatch(t, "e1", bob(5), join(6))},
			want:    []bool{false, false},
		},
		{
			name:    "a room.joined without members is no snapshot",
			batches: []Batch{mustBatch(t, "e1", ev(1, "room.joined", `{"room":{},"member_id":"a"}`))},
			want:    []bool{true},
		},
		{
			name:    "a new epoch needs a snapshot until one arrives after its last seq",
			batches: []Batch{mustBatch(t, "e1", join(1)), mustBatch(t, "e2", bob(2)), mustBatch(t, "e2", join(1)), mustBatch(t, "e2", join(3))},
			want:    []bool{false, true, true, false}, // a late seq 1 is stale after seq 2
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open.one(t, Limits{})
			for i, b := range tt.batches {
				r, _, err := s.Apply(context.Background(), seatA, b)
				if err != nil {
					t.Fatalf("batch %d: %v", i+1, err)
				}
				if r.NeedsSnapshot != tt.want[i] {
					t.Errorf("batch %d: got NeedsSnapshot %v, want %v", i+1, r.NeedsSnapshot, tt.want[i])
				}
			}
		})
	}
}

func testEpochs(t *testing.T, open storeMaker) {
	ctx := context.Background()
	s := open.one(t, Limits{})
	old := mustBatch(t, "e1", ev(1, "room.joined", joinedData("a", person("a", "alice"), person("b", "Bob"))))
	if _, _, err := s.Apply(ctx, seatA, old); err != nil {
		t.Fatal(err)
	}
	t.Run("a new epoch starts afresh at seq 1", func(t *testing.T) {
		r, _, err := s.Apply(ctx, seatA, mustBatch(t, "e2", ev(1, "room.joined", joinedData("z", person("z", "zoe"))), ev(2, "room.left", "")))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := rowIDs(r), []string{"z"}; !reflect.DeepEqual(got, want) || r.SelfID != "z" || !r.Left {
			t.Errorf("got rows %q self %q left %v, want %q, z, true", got, r.SelfID, r.Left, want)
		}
	})
	t.Run("a batch from a replaced epoch is refused and changes nothing", func(t *testing.T) {
		before, _, _ := s.Get(ctx, seatA)
		_, _, err := s.Apply(ctx, seatA, mustBatch(t, "e1", ev(2, "member.left", memberData(`"id":"z"`))))
		if !errors.Is(err, ErrStaleEpoch) {
			t.Fatalf("got %v, want ErrStaleEpoch", err)
		}
		if after, _, _ := s.Get(ctx, seatA); !reflect.DeepEqual(after, before) {
			t.Errorf("got %+v, want unchanged %+v", after, before)
		}
	})
	t.Run("only the last few epochs are remembered", func(t *testing.T) {
		for i := range retiredEpochs + 1 {
			if _, _, err := s.Apply(ctx, seatA, mustBatch(t, fmt.Sprintf("n%d", i))); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := s.Apply(ctx, seatA, old); err != nil {
			t.Errorf("got %v for an epoch long forgotten, want it accepted as new", err)
		}
	})
}

func testLimits(t *testing.T, open storeMaker) {
	ctx := context.Background()
	join := func(n int, extra ...string) Batch {
		members := make([]string, n)
		for i := range members {
			members[i] = person(fmt.Sprintf("m%03d", i), fmt.Sprintf("member %d", i))
		}
		return mustBatch(t, "e1", append([]string{ev(1, "room.joined", joinedData("m000", members...))}, extra...)...)
	}

	t.Run("a new seat in a full room evicts that room's least recently used seat", func(t *testing.T) {
		s := open.one(t, Limits{RoomCapacity: 1, SeatsPerMember: 2})
		for _, k := range []SeatKey{{"r", "1"}, {"r", "2"}, {"other", "1"}} {
			if _, _, err := s.Apply(ctx, k, join(1)); err != nil {
				t.Fatal(err)
			}
		}
		if _, ok, _ := s.Get(ctx, SeatKey{"r", "1"}); !ok { // seat 2 is now the least recently used
			t.Fatal("seat 1 is missing")
		}
		if _, _, err := s.Apply(ctx, SeatKey{"r", "3"}, join(1)); err != nil {
			t.Fatalf("got %v, want the new seat added", err)
		}
		for k, want := range map[SeatKey]bool{{"r", "1"}: true, {"r", "2"}: false, {"r", "3"}: true, {"other", "1"}: true} {
			if _, ok, _ := s.Get(ctx, k); ok != want {
				t.Errorf("seat %v: got held %v, want %v", k, ok, want)
			}
		}
	})
	t.Run("too many members is refused and leaves the roster unchanged", func(t *testing.T) {
		s := open.one(t, Limits{RoomCapacity: 3})
		before, _, err := s.Apply(ctx, seatA, join(3))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = s.Apply(ctx, seatA, mustBatch(t, "e1", ev(2, "room.locked", ""), ev(3, "member.joined", memberData(`"id":"x","name":"x"`))))
		if !errors.Is(err, ErrTooManyMembers) {
			t.Fatalf("got %v, want ErrTooManyMembers", err)
		}
		if after, _, _ := s.Get(ctx, seatA); !reflect.DeepEqual(after, before) {
			t.Errorf("got %+v, want unchanged %+v", after, before)
		}
		// The refused seqs were not recorded: a corrected retry applies.
		if r, _, err := s.Apply(ctx, seatA, mustBatch(t, "e1", ev(2, "member.left", memberData(`"id":"m001"`)),
			ev(3, "member.joined", memberData(`"id":"x","name":"x"`)))); err != nil || r.Count != 3 || r.NeedsSnapshot {
			t.Errorf("got count %d needs snapshot %v err %v, want 3, false, nil", r.Count, r.NeedsSnapshot, err)
		}
	})
	t.Run("members that join and leave within one batch do not count", func(t *testing.T) {
		s := open.one(t, Limits{RoomCapacity: 1})
		_, _, err := s.Apply(ctx, seatA, join(1, ev(2, "member.joined", memberData(`"id":"x"`)), ev(3, "member.left", memberData(`"id":"x"`))))
		if err != nil {
			t.Errorf("got %v, want nil", err)
		}
	})
	t.Run("screen shares and devices are counted apart from people", func(t *testing.T) {
		s := open.one(t, Limits{RoomCapacity: 2})
		r, _, err := s.Apply(ctx, seatA, join(2,
			ev(2, "member.joined", memberData(`"id":"s1","type":"screen","parent_id":"m000"`)),
			ev(3, "member.joined", memberData(`"id":"s2","type":"device","parent_id":"m001"`))))
		if err != nil || r.Count != 2 {
			t.Fatalf("got count %d, %v; want 2, nil", r.Count, err)
		}
		_, _, err = s.Apply(ctx, seatA, mustBatch(t, "e1", ev(4, "member.joined", memberData(`"id":"s3","type":"screen","parent_id":"m000"`))))
		if !errors.Is(err, ErrTooManyMembers) {
			t.Errorf("got %v, want ErrTooManyMembers", err)
		}
	})
	t.Run("a failed first batch does not occupy a seat", func(t *testing.T) {
		s := open.one(t, Limits{RoomCapacity: 1})
		if _, _, err := s.Apply(ctx, seatA, join(2)); !errors.Is(err, ErrTooManyMembers) {
			t.Fatalf("got %v, want ErrTooManyMembers", err)
		}
		if l, ok := s.(interface{ Len() int }); ok && l.Len() != 0 {
			t.Errorf("got %d seats, want 0", l.Len())
		}
		if _, ok, _ := s.Get(ctx, seatA); ok {
			t.Error("got a roster for the failed seat, want none")
		}
	})
	t.Run("too many events per batch is malformed", func(t *testing.T) {
		s := open.one(t, Limits{MaxEventsPerBatch: 2})
		_, _, err := s.Apply(ctx, seatA, join(1, ev(2, "room.left", ""), ev(3, "room.ended", "")))
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("got %v, want ErrMalformed", err)
		}
	})
	t.Run("a batch without an epoch is malformed", func(t *testing.T) {
		s := open.one(t, Limits{})
		if _, _, err := s.Apply(ctx, seatA, Batch{}); !errors.Is(err, ErrMalformed) {
			t.Errorf("got %v, want ErrMalformed", err)
		}
	})
	t.Run("an empty or oversized seat key is refused", func(t *testing.T) {
		s := open.one(t, Limits{})
		for _, k := range []SeatKey{{}, {Room: "r"}, {Room: "r", Seat: strings.Repeat("s", 129)}} {
			if _, _, err := s.Apply(ctx, k, join(1)); !errors.Is(err, ErrMalformed) {
				t.Errorf("key %+v: got %v, want ErrMalformed", k, err)
			}
		}
	})
	t.Run("a canceled context is reported", func(t *testing.T) {
		s := open.one(t, Limits{})
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, _, err := s.Apply(cctx, seatA, join(1)); !errors.Is(err, context.Canceled) {
			t.Errorf("Apply got %v, want context.Canceled", err)
		}
		if _, _, err := s.Get(cctx, seatA); !errors.Is(err, context.Canceled) {
			t.Errorf("Get got %v, want context.Canceled", err)
		}
	})
}

// TestMemoryIdleSeatsAreSwept: on the injected clock, a seat idle for
// IdleTTL is gone and no longer counted.
func TestMemoryIdleSeatsAreSwept(t *testing.T) {
	ctx := context.Background()
	join := mustBatch(t, "e1", ev(1, "room.joined", joinedData("m000", person("m000", "member 0"))))
	clk := newClock()
	s := NewMemoryStore(Limits{IdleTTL: time.Minute, Now: clk.Now})
	s.Apply(ctx, SeatKey{"r", "old"}, join)
	clk.Advance(50 * time.Second)
	s.Apply(ctx, SeatKey{"r", "recent"}, join)
	clk.Advance(10 * time.Second)
	if _, _, err := s.Apply(ctx, SeatKey{"r", "new"}, join); err != nil {
		t.Fatalf("got %v, want the new seat added", err)
	}
	if n := s.Len(); n != 2 {
		t.Errorf("got %d seats, want the idle seat swept", n)
	}
	if _, ok, _ := s.Get(ctx, SeatKey{"r", "old"}); ok {
		t.Error("got the idle seat still there, want it evicted")
	}
	if _, ok, _ := s.Get(ctx, SeatKey{"r", "recent"}); !ok {
		t.Error("got the recent seat evicted, want it kept")
	}
}

func TestExpiry(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := NewMemoryStore(Limits{IdleTTL: 30 * time.Minute, Now: clk.Now})
	seatB := SeatKey{Room: "Main_Office", Seat: "seat-b"}
	b := mustBatch(t, "e1", ev(1, "room.joined", joinedData("a", person("a", "alice"))))
	for _, k := range []SeatKey{seatA, seatB} {
		if _, _, err := s.Apply(ctx, k, b); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(20 * time.Minute)
	if _, ok, _ := s.Get(ctx, seatA); !ok { // reading counts as use
		t.Fatal("got seat A gone after 20 minutes, want it kept")
	}
	clk.Advance(15 * time.Minute)

	if _, ok, _ := s.Get(ctx, seatB); ok {
		t.Error("got seat B after 35 idle minutes, want it expired")
	}
	if _, ok, _ := s.Get(ctx, seatA); !ok {
		t.Error("got seat A expired 15 minutes after it was read, want it kept")
	}
	if n := s.Len(); n != 1 {
		t.Errorf("got %d seats held, want the expired one swept", n)
	}
	r, _, err := s.Apply(ctx, seatB, mustBatch(t, "e1", ev(2, "member.left", memberData(`"id":"a"`))))
	if err != nil || !r.NeedsSnapshot {
		t.Errorf("got needs snapshot %v, %v for an expired seat's next batch; want true, nil", r.NeedsSnapshot, err)
	}
}

func testGetOfAnUnknownSeatReportsFalse(t *testing.T, open storeMaker) {
	s := open.one(t, Limits{})
	if _, ok, err := s.Get(context.Background(), seatA); ok || err != nil {
		t.Errorf("got %v, %v; want false, nil", ok, err)
	}
	if _, ok, err := s.Get(context.Background(), SeatKey{}); ok || err != nil {
		t.Errorf("got %v, %v for an empty key; want false, nil", ok, err)
	}
}

// testConcurrentApply runs many viewers at once through two instances,
// some sharing seats, under -race; replays from several goroutines must
// converge on the same roster.
func testConcurrentApply(t *testing.T, open storeMaker) {
	const viewers, seats, rounds = 32, 8, 40
	clk := newClock()
	instance := open(t, Limits{IdleTTL: time.Hour, Now: clk.Now})
	stores := []Store{instance(), instance()}
	s := stores[0]
	ctx := context.Background()
	batches := make([]Batch, rounds)
	batches[0] = mustBatch(t, "e1", ev(1, "room.joined", joinedData("a", person("a", "alice"), person("b", "Bob"))))
	for i := 1; i < rounds; i++ {
		id := fmt.Sprintf("m%d", i)
		batches[i] = mustBatch(t, "e1",
			ev(uint64(2*i), "member.joined", memberData(fmt.Sprintf(`"id":%q,"name":"n%d"`, id, i))),
			ev(uint64(2*i+1), "member.talking", memberData(fmt.Sprintf(`"id":%q,"talking":true`, id))))
	}
	var wg sync.WaitGroup
	for v := range viewers {
		wg.Go(func() {
			key := SeatKey{Room: "r", Seat: fmt.Sprintf("s%d", v%seats)}
			s := stores[v%len(stores)]
			for i, b := range batches {
				if _, _, err := s.Apply(ctx, key, b); err != nil {
					t.Errorf("viewer %d batch %d: %v", v, i, err)
					return
				}
				if _, _, err := s.Get(ctx, key); err != nil {
					t.Error(err)
				}
				clk.Advance(time.Millisecond)
			}
		})
	}
	wg.Wait()
	for i := range seats {
		r, ok, _ := s.Get(ctx, SeatKey{Room: "r", Seat: fmt.Sprintf("s%d", i)})
		if !ok || r.Count != rounds+1 || r.NeedsSnapshot {
			t.Errorf("seat %d: got count %d needs snapshot %v, want %d and false", i, r.Count, r.NeedsSnapshot, rounds+1)
		}
	}
}
