package roster

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzDecode feeds arbitrary bodies to the decoder and applies what decodes
// to a fresh store, and to a seat that shows a roster already, whose Delta
// must turn the rows the page showed into the new ones. Seeds, a batch of
// every event of the wire format, are in testdata/fuzz/FuzzDecode (made from
// testdata/batches).
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := DecodeBytes(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("got %v, want ErrMalformed or ErrTooLarge", err)
			}
			return
		}
		if len(b.Events) > MaxBatchEvents || b.Epoch == "" || len(b.Epoch) > MaxIDBytes {
			t.Fatalf("decoded %d events, epoch %q: over the limits", len(b.Events), b.Epoch)
		}
		if !json.Valid(data) {
			t.Fatalf("accepted a body that is not JSON")
		}
		checkDelta(t, b)
		lim := Limits{RoomCapacity: 4}
		s := NewMemoryStore(lim)
		ctx := context.Background()
		r, _, err := s.Apply(ctx, seatA, b)
		if err != nil {
			if !errors.Is(err, ErrTooManyMembers) {
				t.Fatalf("apply: got %v, want nil or ErrTooManyMembers", err)
			}
			if s.Len() != 0 {
				t.Fatalf("a failed first batch left %d seats", s.Len())
			}
			return
		}
		checkRoster(t, r, lim.RoomCapacity)
		again, _, err := s.Apply(ctx, seatA, b)
		if err != nil || !reflect.DeepEqual(again, r) {
			t.Fatalf("applying the batch again changed the roster (err %v)", err)
		}
	})
}

// checkDelta applies b to a seat showing three people and a screen share,
// and replays the Delta on the rows the page showed.
func checkDelta(t *testing.T, b Batch) {
	s := NewMemoryStore(Limits{RoomCapacity: 8})
	ctx := context.Background()
	base, _, err := s.Apply(ctx, seatA, Batch{Epoch: b.Epoch, Events: []Event{{Seq: 1, Name: "room.joined", kind: kindJoined, selfID: "a", list: true,
		members: []memberPatch{{id: "a", name: "A", has: 1<<fID | 1<<fName}, {id: "b", has: 1 << fID}, {id: "c", name: "C", has: 1<<fID | 1<<fName},
			{id: "s", typ: TypeScreen, parentID: "b", has: 1<<fID | 1<<fType | 1<<fParentID}}}}})
	if err != nil {
		t.Fatal(err)
	}
	r, d, err := s.Apply(ctx, seatA, b)
	if err != nil || d.Full {
		return
	}
	ids := func(r Roster) []string {
		var out []string
		for _, m := range r.Members {
			out = append(out, m.ID)
		}
		return out
	}
	if got := replay(t, ids(base), ids(r), d); !reflect.DeepEqual(got, ids(r)) {
		t.Fatalf("the delta turned %q into %q, want %q", ids(base), got, ids(r))
	}
	if d.CountChanged != (base.Count != r.Count) || d.RoomChanged != (base.Room != r.Room) {
		t.Fatalf("got delta %+v from count %d room %+v to count %d room %+v", d, base.Count, base.Room, r.Count, r.Room)
	}
}

// checkRoster asserts what the view relies on.
func checkRoster(t *testing.T, r Roster, maxMembers int) {
	t.Helper()
	people, devices := 0, 0
	for i, m := range r.Members {
		if m.ID == "" || len(m.ID) > MaxIDBytes || utf8.RuneCountInString(m.Name) > MaxNameRunes {
			t.Fatalf("row %d: bad id or name %q %q", i, m.ID, m.Name)
		}
		if m.Type == TypeMember {
			if i != people {
				t.Fatalf("row %d: a person after a device row", i)
			}
			people++
			if i > 0 {
				prev := r.Members[i-1]
				if prev.HandRaised == false && m.HandRaised {
					t.Fatalf("row %d: a raised hand after a lowered one", i)
				}
			}
		} else {
			devices++
		}
		if m.HandRaised == m.HandRaisedAt.IsZero() {
			t.Fatalf("row %d: hand raised %v at %v", i, m.HandRaised, m.HandRaisedAt)
		}
		for _, c := range m.Children {
			devices++
			if c.ParentID != m.ID || c.Type == TypeMember || len(c.Children) != 0 {
				t.Fatalf("row %d: child %+v does not belong under %q", i, c, m.ID)
			}
		}
	}
	if people != r.Count || people > maxMembers || devices > maxMembers {
		t.Fatalf("got %d people (Count %d) and %d devices, limit %d", people, r.Count, devices, maxMembers)
	}
}
