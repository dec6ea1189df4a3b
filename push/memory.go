// Package push fans a room's server-sent events out to the streams open on
// it and keeps the most recent ones, so that a stream reconnecting with
// Last-Event-ID gets what it missed. Memory is this process's broker; a
// shared one (Redis) can take its place behind the same methods.
package push

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Event is one server-sent event. ID is assigned by Publish: "<epoch>-<seq>",
// increasing within a room's epoch. Target says who receives it (see
// Subscribe); Name is the SSE event name and Data its payload (HTML, one or
// more lines).
type Event struct {
	ID     string
	Target string
	Name   string
	Data   string
}

// Subscription is one open stream's view of a room. Missed holds the events
// after the Last-Event-ID asked for (only those for the subscriber's
// targets); Gap says that ID could not be found (too old, another epoch, a
// restarted server), so the caller must send the current state instead. C
// delivers new events; it is closed when the subscriber falls behind (its
// buffer is full), Close is called or the broker closes: the stream then
// ends and its client reconnects with Last-Event-ID.
type Subscription struct {
	C      <-chan Event
	Missed []Event
	Gap    bool
	// LastID is the room's newest event ID when the subscription started
	// ("" for none): a Last-Event-ID for a stream that has seen nothing yet.
	LastID string
	close  func()
}

// Close ends the subscription; it may be called more than once.
func (s *Subscription) Close() {
	if s.close != nil {
		s.close()
	}
}

// ErrClosed is returned by Subscribe after Close.
var ErrClosed = errors.New("push: broker closed")

// Limits bound a Memory broker; zero fields take their defaults.
type Limits struct {
	// Rooms is how many rooms are kept (least recently used go first;
	// their open streams end and reconnect). Default 10,000.
	Rooms int
	// Replay is how many recent events a room keeps for reconnects.
	// Default 256.
	Replay int
	// Buffer is how many undelivered events a subscriber may have before
	// it is cut off. Default 64.
	Buffer int
}

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
	if lim.Rooms <= 0 {
		lim.Rooms = 10_000
	}
	if lim.Replay <= 0 {
		lim.Replay = 256
	}
	if lim.Buffer <= 0 {
		lim.Buffer = 64
	}
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

type subscriber struct {
	targets []string
	ch      chan Event
	done    bool
}

func (s *subscriber) wants(target string) bool {
	for _, t := range s.targets {
		if t == target {
			return true
		}
	}
	return false
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
		if !s.wants(ev.Target) {
			continue
		}
		select {
		case s.ch <- ev:
		default:
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
	if s.done {
		return
	}
	s.done = true
	delete(r.subs, s)
	close(s.ch)
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
