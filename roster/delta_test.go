package roster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// replay applies d's deletes and inserts to the ids a page shows, as the
// page's htmx does, and fails when an op names a row that is not there.
func replay(t *testing.T, shown []string, cur []string, d Delta) []string {
	t.Helper()
	rows := slices.Clone(shown)
	for _, id := range d.Deleted {
		i := slices.Index(rows, id)
		if i < 0 {
			t.Fatalf("delete of %q, which the page does not show: %q", id, rows)
		}
		rows = slices.Delete(rows, i, i+1)
	}
	for _, j := range d.Inserted {
		if j == len(cur)-1 {
			rows = append(rows, cur[j])
			continue
		}
		i := slices.Index(rows, cur[j+1])
		if i < 0 {
			t.Fatalf("insert of %q before %q, which the page does not show: %q", cur[j], cur[j+1], rows)
		}
		rows = slices.Insert(rows, i, cur[j])
	}
	return rows
}

func TestDiffRowsMovesTheFewestRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 300 {
		old := make([]rowSig, rng.IntN(12))
		for i := range old {
			old[i] = rowSig{id: fmt.Sprint("m", i), sum: uint64(i)}
		}
		cur := slices.Clone(old)
		rng.Shuffle(len(cur), func(i, j int) { cur[i], cur[j] = cur[j], cur[i] })
		cur = cur[:rng.IntN(len(cur)+1)] // some leave
		for i := range rng.IntN(3) {     // some arrive
			cur = slices.Insert(cur, rng.IntN(len(cur)+1), rowSig{id: fmt.Sprint("new", i)})
		}
		changed := map[string]bool{}
		for i := range cur {
			if rng.IntN(4) == 0 {
				cur[i].sum += 100
				changed[cur[i].id] = true
			}
		}
		deleted, replaced, inserted := diffRows(old, cur)
		ids := func(rs []rowSig) []string {
			out := make([]string, len(rs))
			for i, r := range rs {
				out[i] = r.id
			}
			return out
		}
		d := Delta{Deleted: deleted, Replaced: replaced, Inserted: inserted}
		if got := replay(t, ids(old), ids(cur), d); !slices.Equal(got, ids(cur)) {
			t.Fatalf("case %d: %q became %q, want %q (delta %+v)", n, ids(old), got, ids(cur), d)
		}
		if !slices.IsSortedFunc(inserted, func(a, b int) int { return b - a }) {
			t.Errorf("case %d: inserts %v are not highest first", n, inserted)
		}
		// Every changed row is replaced or reinserted, and only those.
		for j, r := range cur {
			redrawn := slices.Contains(replaced, j) || slices.Contains(inserted, j)
			if changed[r.id] && !redrawn {
				t.Errorf("case %d: row %q changed and was not redrawn", n, r.id)
			}
			if slices.Contains(replaced, j) && !changed[r.id] {
				t.Errorf("case %d: row %q replaced without a change", n, r.id)
			}
		}
		// The rows kept in place are a longest common subsequence: no
		// order keeps more of them.
		var seq []int
		for _, r := range cur {
			if i := slices.IndexFunc(old, func(o rowSig) bool { return o.id == r.id }); i >= 0 {
				seq = append(seq, i)
			}
		}
		moved := len(inserted) - (len(cur) - len(seq))
		if want := len(seq) - lisLen(seq); moved != want {
			t.Errorf("case %d: moved %d rows, want %d", n, moved, want)
		}
	}
}

// lisLen is the length of a longest increasing subsequence, the slow way.
func lisLen(seq []int) int {
	best := make([]int, len(seq))
	n := 0
	for i := range seq {
		best[i] = 1
		for j := range i {
			if seq[j] < seq[i] {
				best[i] = max(best[i], best[j]+1)
			}
		}
		n = max(n, best[i])
	}
	return n
}

func testApplyReportsTheDelta(t *testing.T, open storeMaker) {
	ctx := context.Background()
	s := open.one(t, Limits{})
	join := mustBatch(t, "e1", ev(1, "room.joined", joinedData("a", person("a", "Ada"), person("b", "Bob"), person("c", "Cy"))))
	r, d, err := s.Apply(ctx, seatA, join)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Full || r.Version == d.Base {
		t.Errorf("got delta %+v version %d for the first list, want full and a new version", d, r.Version)
	}
	step := func(name string, events ...string) (Roster, Delta) {
		t.Helper()
		before := r.Version
		var err error
		r, d, err = s.Apply(ctx, seatA, mustBatch(t, "e1", events...))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d.Base != before {
			t.Errorf("%s: got base %d, want the version before, %d", name, d.Base, before)
		}
		return r, d
	}

	r, d = step("talking", ev(2, "member.talking", memberData(`"id":"b","talking":true`)))
	if want := (Delta{Base: d.Base, Replaced: []int{1}}); !reflect.DeepEqual(d, want) {
		t.Errorf("talking: got %+v, want %+v", d, want)
	}
	r, d = step("a hand raise moves one row", ev(3, "member.updated", memberData(`"id":"c","handraised":true`)))
	if want := (Delta{Base: d.Base, Deleted: []string{"c"}, Inserted: []int{0}}); !reflect.DeepEqual(d, want) {
		t.Errorf("hand: got %+v, want %+v", d, want)
	}
	r, d = step("a join", ev(4, "member.joined", memberData(`"id":"z","name":"Zed"`)))
	if want := (Delta{Base: d.Base, Inserted: []int{3}, CountChanged: true}); !reflect.DeepEqual(d, want) {
		t.Errorf("join: got %+v, want %+v", d, want)
	}
	r, d = step("a screen share changes its owner's row", ev(5, "member.joined", memberData(`"id":"s","type":"screen","parent_id":"a"`)))
	if want := (Delta{Base: d.Base, Replaced: []int{1}}); !reflect.DeepEqual(d, want) {
		t.Errorf("screen share: got %+v, want %+v", d, want)
	}
	r, d = step("a leave and a lock", ev(6, "member.left", memberData(`"id":"b"`)), ev(7, "room.updated", `{"room":{"locked":true}}`))
	if want := (Delta{Base: d.Base, Deleted: []string{"b"}, CountChanged: true, RoomChanged: true}); !reflect.DeepEqual(d, want) {
		t.Errorf("leave: got %+v, want %+v", d, want)
	}
	version := r.Version
	r, d = step("a replay", ev(7, "room.updated", `{"room":{"locked":true}}`))
	if want := (Delta{Base: version}); !reflect.DeepEqual(d, want) || r.Version != version {
		t.Errorf("replay: got %+v version %d, want %+v and version %d", d, r.Version, want, version)
	}
	if _, d = step("a member list", ev(8, "members.snapshot", listData(`{"id":"a"}`))); !d.Full {
		t.Errorf("list: got %+v, want full", d)
	}
	if _, d = step("left", ev(9, "room.left", "")); !d.Full {
		t.Errorf("left: got %+v, want full", d)
	}
	if _, d, _ = s.Apply(ctx, seatA, mustBatch(t, "e2", ev(1, "member.joined", memberData(`"id":"q"`)))); !d.Full {
		t.Errorf("new epoch: got %+v, want full", d)
	}
}

func testNewSeatsStartAtRandomVersions(t *testing.T, open storeMaker) {
	seen := map[uint64]bool{}
	s := open.one(t, Limits{})
	for i := range 20 {
		r, _, err := s.Apply(context.Background(), SeatKey{Room: "r", Seat: fmt.Sprint(i)}, mustBatch(t, "e1"))
		if err != nil {
			t.Fatal(err)
		}
		if seen[r.Version] || r.Version >= 1<<53 {
			t.Fatalf("got version %d twice or over 2^53", r.Version)
		}
		seen[r.Version] = true
	}
}
