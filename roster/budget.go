package roster

import (
	"container/heap"
	"unsafe"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// The byte budget (Limits.MaxBytes) is kept by accounting: each seat
// carries an estimate of the heap it holds, recomputed whenever a batch
// changes it, and the store keeps the sums per room and in all. Counting
// seats instead would let one seat of 300 long-named devices weigh as much
// as 70 seats of a small meeting.

// Sizes behind the estimate, in bytes, for 64-bit Go;
// TestCostEstimateFollowsTheHeap holds them to the measured heap.
const (
	// memberBytes is one member in a seat's map: a slot of key and value,
	// times the slots a Go map keeps per entry (at most 7/8 full, and half
	// that after it doubles: about two).
	memberBytes = (16 + int64(unsafe.Sizeof(member{}))) * 2
	// rowBytes is one row of what the page shows (shownRows).
	rowBytes = int64(unsafe.Sizeof(rowSig{}))
	// seatBytes is a seat with few members: the seat, its post limiter,
	// its entries in the store's index and its room's, its share of its
	// room's index, and its map's first group of 8 slots.
	seatBytes = 1792
)

// stringBytes is what the heap holds for a string of n bytes: Go rounds
// small allocations up to a size class, about 16 bytes apart.
func stringBytes(n int) int64 { return int64(n+15) &^ 15 }

// cost estimates the bytes a seat with state s holds under key between
// requests. Strings shared with the package (interned types) cost nothing;
// the copies a batch makes while it applies are transient and not counted.
func (s *seatState) cost(key SeatKey) int64 {
	n := seatBytes + stringBytes(len(key.Room)) + stringBytes(len(key.Seat)) +
		stringBytes(len(s.epoch)) + stringBytes(len(s.selfID)) + stringBytes(len(s.room.Layout)) +
		int64(cap(s.shown.rows))*rowBytes
	for _, e := range s.retired {
		n += 16 + stringBytes(len(e))
	}
	for _, m := range s.members {
		n += memberBytes + stringBytes(len(m.id)) + stringBytes(len(m.name)) + stringBytes(len(m.parentID))
		switch m.typ {
		case TypeMember, TypeScreen, TypeDevice: // interned by patch
		default:
			n += stringBytes(len(m.typ))
		}
	}
	return n
}

// roomSeats are the seats of one room, least recently used first, and the
// bytes they hold by the estimate.
type roomSeats struct {
	name  string
	seats *simplelru.LRU[string, *seat] // by seat id
	bytes int64
	at    int // index in MemoryStore.byBytes
}

// roomHeap orders rooms by bytes, largest first (container/heap), so that
// the room that takes most of the budget is the one that gives way.
type roomHeap []*roomSeats

func (h roomHeap) Len() int           { return len(h) }
func (h roomHeap) Less(i, j int) bool { return h[i].bytes > h[j].bytes }
func (h roomHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].at, h[j].at = i, j
}
func (h *roomHeap) Push(x any) {
	r := x.(*roomSeats)
	r.at = len(*h)
	*h = append(*h, r)
}
func (h *roomHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	r.at = -1
	return r
}

// addSeat indexes a new seat for key, after making room for it: in its
// room, whose least recently used seat goes when the room holds
// seatsPerRoom; and in the budget, for a seat without members. It is
// called with s.mu held; ErrFull when even that does not fit.
func (s *MemoryStore) addSeat(key SeatKey, st *seat) error {
	if r := s.rooms[key.Room]; r != nil && r.seats.Len() >= s.lim.seatsPerRoom() {
		oldest, _, _ := r.seats.GetOldest()
		s.seats.Remove(SeatKey{Room: key.Room, Seat: oldest})
	}
	cost := st.state.cost(key)
	if !s.reserve(cost, nil) {
		return ErrFull
	}
	r := s.rooms[key.Room] // looked up again: making room may have emptied it
	if r == nil {
		seats, err := simplelru.NewLRU[string, *seat](maxLRUSize, nil)
		if err != nil {
			panic(err) // unreachable: the size is positive
		}
		r = &roomSeats{name: key.Room, seats: seats}
		s.rooms[key.Room] = r
		heap.Push(&s.byBytes, r)
	}
	r.seats.Add(key.Seat, st)
	s.seats.Add(key, st)
	s.addBytes(r, st, cost)
	return nil
}

// charge brings the estimate of st, a seat under key, to cost, evicting
// other seats when it grows past the budget; false, with nothing changed,
// when it cannot fit. A seat evicted meanwhile costs nothing. Called with
// s.mu held.
func (s *MemoryStore) charge(key SeatKey, st *seat, cost int64) bool {
	if st.gone.Load() {
		return true
	}
	if grow := cost - st.cost; grow > 0 && !s.reserve(grow, st) {
		return false
	}
	s.addBytes(s.rooms[key.Room], st, cost)
	return true
}

func (s *MemoryStore) addBytes(r *roomSeats, st *seat, cost int64) {
	d := cost - st.cost
	st.cost = cost
	s.bytes += d
	r.bytes += d
	heap.Fix(&s.byBytes, r.at)
}

// reserve evicts seats until n more bytes fit in the budget, and reports
// whether they do; keep, the seat asking, is never evicted.
//
// The room holding the most bytes gives up its least recently used seat
// first. A room flooded through one invite link is the largest there is,
// so the flood pays for itself; the people of other rooms keep their
// seats. In normal use the budget is never reached (see DefaultMaxBytes),
// and a seat evicted anyway recovers with a snapshot at its next post.
func (s *MemoryStore) reserve(n int64, keep *seat) bool {
	for s.bytes+n > s.lim.MaxBytes {
		victim, ok := s.victim(keep)
		if !ok {
			return false
		}
		s.seats.Remove(victim)
	}
	return true
}

// victim picks the seat reserve evicts: the least recently used seat of the
// largest room, or when that room holds only keep, of the next largest.
func (s *MemoryStore) victim(keep *seat) (SeatKey, bool) {
	h := s.byBytes
	order := make([]*roomSeats, 0, 2)
	if len(h) > 0 {
		order = append(order, h[0])
	}
	switch { // the second largest is one of the root's children
	case len(h) > 2 && h[2].bytes > h[1].bytes:
		order = append(order, h[2])
	case len(h) > 1:
		order = append(order, h[1])
	}
	for _, r := range order {
		id, st, ok := r.seats.GetOldest()
		if !ok {
			continue
		}
		if st == keep {
			if r.seats.Len() == 1 {
				continue
			}
			r.seats.Get(id) // keep is in use right now: make it the newest
			id, _, _ = r.seats.GetOldest()
		}
		return SeatKey{Room: r.name, Seat: id}, true
	}
	return SeatKey{}, false
}

// forget is the index's eviction callback, for every way a seat leaves:
// expiry, a full room, the budget, a failed first batch. Called with s.mu
// held.
func (s *MemoryStore) forget(key SeatKey, st *seat) {
	st.gone.Store(true)
	r := s.rooms[key.Room]
	s.addBytes(r, st, 0)
	r.seats.Remove(key.Seat)
	if r.seats.Len() == 0 {
		heap.Remove(&s.byBytes, r.at)
		delete(s.rooms, key.Room)
	}
}
