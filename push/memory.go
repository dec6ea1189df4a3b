package push

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Memory is a broker in process memory, safe for concurrent use. mu
// guards the room index, so it is golang-lru's simplelru, which has no
// lock of its own.
type Memory struct {
	lim    Limits
	mu     sync.Mutex
	rooms  *simplelru.LRU[string, *room] // guarded by mu
	epoch  func() string
	closed bool
}

// NewMemory returns an empty broker. epoch names a room's event sequence;
// nil means a random one per room, so that IDs from another process or an
// evicted room never match.
func NewMemory(lim Limits, epoch func() string) *Memory {
	lim = lim.withDefaults()
	if epoch == nil {
		epoch = randomEpoch
	}
	m := &Memory{lim: lim, epoch: epoch}
	rooms, err := simplelru.NewLRU[string, *room](lim.Rooms, func(_ string, r *room) { r.closeAll() })
	if err != nil {
		panic(err) // only for a size below 1, excluded above
	}
	m.rooms = rooms
	return m
}

type room struct {
	mu     sync.Mutex
	epoch  string
	seq    uint64
	ring   []Event // oldest first, at most Limits.Replay
	subs   map[*subscriber]struct{}
	closed bool
}

// room returns the room's state, creating it; nil after Close.
func (m *Memory) room(name string) *room {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	r, ok := m.rooms.Get(name)
	if !ok {
		r = &room{epoch: m.epoch(), subs: map[*subscriber]struct{}{}}
		m.rooms.Add(name, r)
	}
	return r
}

// Publish gives ev the room's next ID, keeps it for replay and hands it to
// every subscriber whose targets include ev.Target. A subscriber whose
// buffer is full is cut off rather than slowing the others. It returns the
// event as sent, with its ID.
func (m *Memory) Publish(roomName string, ev Event) (Event, error) {
	r := m.room(roomName)
	if r == nil {
		return ev, ErrClosed
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	ev.ID = r.lastID()
	if len(r.ring) == m.lim.Replay {
		copy(r.ring, r.ring[1:])
		r.ring = r.ring[:len(r.ring)-1]
	}
	r.ring = append(r.ring, ev)
	for s := range r.subs {
		if s.wants(ev.Target) && !s.offer(ev) {
			r.drop(s)
		}
	}
	return ev, nil
}

// Subscribe opens a subscription to the room's events for the given
// targets (for example "all", "seat:ID"). lastID is the client's
// Last-Event-ID, "" for a first connection (no replay, no gap).
func (m *Memory) Subscribe(roomName string, targets []string, lastID string) (*Subscription, error) {
	r := m.room(roomName)
	if r == nil {
		return nil, ErrClosed
	}
	s := &subscriber{targets: targets, ch: make(chan Event, m.lim.Buffer)}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	sub := &Subscription{C: s.ch}
	if r.seq > 0 {
		sub.LastID = r.lastID()
	}
	if lastID != "" {
		sub.Missed, sub.Gap = r.since(lastID, s)
	}
	r.subs[s] = struct{}{}
	sub.close = func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.drop(s)
	}
	return sub, nil
}

// lastID is the ID of the room's newest event, "<epoch>-<seq>", which
// since parses; r.mu is held.
func (r *room) lastID() string {
	return r.epoch + "-" + strconv.FormatUint(r.seq, 10)
}

// since returns the kept events after id for s; gap when id is not of this
// epoch, is ahead of it, or is older than what is kept.
func (r *room) since(id string, s *subscriber) ([]Event, bool) {
	epoch, seqText, ok := strings.Cut(id, "-")
	seq, err := strconv.ParseUint(seqText, 10, 64)
	if !ok || err != nil || epoch != r.epoch || seq > r.seq {
		return nil, true
	}
	if seq == r.seq {
		return nil, false
	}
	oldest := r.seq - uint64(len(r.ring)) + 1
	if seq+1 < oldest {
		return nil, true
	}
	var out []Event
	for _, ev := range r.ring[seq+1-oldest:] {
		if s.wants(ev.Target) {
			out = append(out, ev)
		}
	}
	return out, false
}

// drop ends s; r.mu is held.
func (r *room) drop(s *subscriber) {
	delete(r.subs, s)
	s.end()
}

func (r *room) closeAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for s := range r.subs {
		r.drop(s)
	}
}

// Close ends every subscription (their streams close, so clients reconnect,
// to another instance during a deploy) and refuses new ones.
func (m *Memory) Close() {
	m.mu.Lock()
	m.closed = true
	rooms := m.rooms.Values()
	m.mu.Unlock()
	for _, r := range rooms {
		r.closeAll()
	}
}

// randomEpoch is 8 random hex digits: no "-", so IDs split cleanly.
func randomEpoch() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}
