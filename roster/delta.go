package roster

// Delta says how one batch changed a seat's roster, so that a page showing
// the roster at version Base can be brought to the new version by changing
// only the rows that changed. Rows are Roster.Members, the top-level rows;
// a change to a screen share or device changes its parent's row.
type Delta struct {
	// Base is the seat's version before the batch. It equals
	// Roster.Version when the batch changed nothing (a replay).
	Base uint64
	// Full is set when the change is not told row by row: a member list was
	// applied, the epoch changed (a new seat, a rejoin), or the viewer left
	// or rejoined the call, which changes every row's controls. The roster
	// must then be rendered whole; the row fields below are empty.
	Full bool
	// Deleted are the ids of rows to remove, first: rows that are gone and
	// rows that moved, which Inserted puts back.
	Deleted []string
	// Replaced are indices into Roster.Members of rows that kept their place
	// among the rows that stay, and changed.
	Replaced []int
	// Inserted are indices into Roster.Members of new and moved rows,
	// highest first. Inserting each, in this order, before the row that
	// follows it in Roster.Members (or at the end for the last row) puts
	// every row in place: the row that follows is always there already.
	Inserted []int
	// CountChanged reports a change of Roster.Count.
	CountChanged bool
	// RoomChanged reports a change of Roster.Room.
	RoomChanged bool
}

// shownRows is what a roster looks like row by row: enough to diff the next
// one against it without keeping the rows themselves.
type shownRows struct {
	rows  []rowSig
	count int
}

// rowSig is one top-level row: its id and a hash of everything the row
// shows, its children included.
type rowSig struct {
	id  string
	sum uint64
}

// delta records r as what s shows now, and returns how it differs from
// what prev showed. list says whether the batch applied a member list.
func (s *seatState) delta(prev *seatState, r Roster, list bool) Delta {
	s.shown = shownRows{rows: make([]rowSig, len(r.Members)), count: r.Count}
	for i := range r.Members {
		s.shown.rows[i] = rowSig{id: r.Members[i].ID, sum: rowSum(&r.Members[i], r.SelfID)}
	}
	d := Delta{Base: prev.version}
	if list || prev.epoch != s.epoch || prev.left != s.left {
		d.Full = true
		return d
	}
	d.CountChanged = prev.shown.count != r.Count
	d.RoomChanged = prev.room != s.room
	d.Deleted, d.Replaced, d.Inserted = diffRows(prev.shown.rows, s.shown.rows)
	return d
}

// rowSum hashes what a row shows (FNV-1a, inline so that it allocates
// nothing). A collision would leave one row stale until its next change,
// and needs about 2^32 rows to be likely.
func rowSum(m *Member, selfID string) uint64 {
	h := fnv(14695981039346656037)
	h.member(m, selfID)
	for i := range m.Children {
		h.member(&m.Children[i], selfID)
	}
	return uint64(h)
}

type fnv uint64

func (h *fnv) byte(b byte) { *h = (*h ^ fnv(b)) * 1099511628211 }

func (h *fnv) member(m *Member, selfID string) {
	for _, s := range [...]string{m.ID, m.Name, m.Type, m.ParentID} {
		for i := 0; i < len(s); i++ {
			h.byte(s[i])
		}
		h.byte(0) // so that "ab","c" and "a","bc" differ
	}
	var flags byte
	for i, b := range [...]bool{m.AudioMuted, m.VideoMuted, m.Deaf, m.Visible, m.Talking, m.HandRaised, m.ID == selfID} {
		if b {
			flags |= 1 << i
		}
	}
	h.byte(flags)
}

// diffRows compares two orders of rows. Rows in both keep their place when
// they are in a longest increasing subsequence of their old positions taken
// in the new order: the most rows that can stay while the others move, so
// a hand raise moves one row instead of shifting all rows above it.
func diffRows(old, cur []rowSig) (deleted []string, replaced, inserted []int) {
	if len(old) == len(cur) {
		same := true
		for i := range cur {
			if old[i].id != cur[i].id {
				same = false
				break
			}
		}
		if same { // the common case: flags changed, nobody moved
			for i := range cur {
				if old[i].sum != cur[i].sum {
					replaced = append(replaced, i)
				}
			}
			return nil, replaced, nil
		}
	}
	oldAt := make(map[string]int, len(old))
	for i, r := range old {
		oldAt[r.id] = i
	}
	inOld := make([]int, len(cur)) // old index of each current row, or -1
	kept := make([]bool, len(old))
	var seq []int // old indices of rows in both, in the current order
	for j, r := range cur {
		i, ok := oldAt[r.id]
		if !ok {
			inOld[j] = -1
			continue
		}
		inOld[j] = i
		kept[i] = true
		seq = append(seq, i)
	}
	for i, r := range old {
		if !kept[i] {
			deleted = append(deleted, r.id)
		}
	}
	stays := increasing(seq)
	k := 0
	move := make([]bool, len(cur))
	for j := range cur {
		if inOld[j] < 0 {
			move[j] = true
			continue
		}
		i := inOld[j]
		switch {
		case !stays[k]:
			deleted = append(deleted, old[i].id)
			move[j] = true
		case old[i].sum != cur[j].sum:
			replaced = append(replaced, j)
		}
		k++
	}
	for j := len(cur) - 1; j >= 0; j-- {
		if move[j] {
			inserted = append(inserted, j)
		}
	}
	return deleted, replaced, inserted
}

// increasing marks a longest strictly increasing subsequence of seq, whose
// values are distinct, in O(n log n) (patience sorting).
func increasing(seq []int) []bool {
	in := make([]bool, len(seq))
	if len(seq) == 0 {
		return in
	}
	tails := make([]int, 0, 16) // tails[l]: index in seq of the smallest end of a run of length l+1
	prev := make([]int, len(seq))
	for i, v := range seq {
		lo, hi := 0, len(tails)
		for lo < hi {
			mid := (lo + hi) / 2
			if seq[tails[mid]] < v {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		prev[i] = -1
		if lo > 0 {
			prev[i] = tails[lo-1]
		}
		if lo == len(tails) {
			tails = append(tails, i)
		} else {
			tails[lo] = i
		}
	}
	for i := tails[len(tails)-1]; i >= 0; i = prev[i] {
		in[i] = true
	}
	return in
}
