// Package push fans a room's server-sent events out to the streams open on
// it and keeps the most recent ones, so that a stream reconnecting with
// Last-Event-ID gets what it missed.
//
// Two brokers offer the same methods: Memory serves the streams of this
// process only; Redis shares every room's events among all the instances
// on one Redis, so that a page reconnecting to another instance misses
// nothing. Redis keys (all with an expiry):
//
//	swr:push:room:<room>      stream  a room's recent events, fields target, name, data; MAXLEN ~
//	                                  Limits.Replay+1 (approximate: Redis trims whole nodes, so up to
//	                                  about 100 more stay); expires RedisStreamTTL after its last publish
//	swr:push:wake:<instance>  stream  one entry that wakes an instance's reader when it takes up a room
//	                                  (<instance>: 16 random hex digits per broker); MAXLEN 1; expires an
//	                                  hour after the last wake-up
package push

import "errors"

// Event is one server-sent event. ID is assigned by Publish and is opaque
// to callers: increasing within a room, without spaces or line breaks, so
// usable as an SSE id ("<epoch>-<seq>" in Memory, Redis's stream entry id
// "<ms>-<seq>" in Redis). Target says who receives it (see Subscribe);
// Name is the SSE event name and Data its payload (HTML, one or more
// lines).
type Event struct {
	ID     string
	Target string
	Name   string
	Data   string
}

// Subscription is one open stream's view of a room. Missed holds the events
// after the Last-Event-ID asked for (only those for the subscriber's
// targets); Gap says that ID could not be found (malformed, too old,
// ahead of the room, another epoch, a restarted server or Redis), so the
// caller must send the current state instead. C delivers every event after
// LastID, in order, once; it is closed when the subscriber falls behind
// (its buffer is full), Close is called or the broker closes: the stream
// then ends and its client reconnects with Last-Event-ID.
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

// ErrClosed is returned by Subscribe and Publish after Close.
var ErrClosed = errors.New("push: broker closed")

// Limits bound a broker; zero fields take their defaults.
type Limits struct {
	// Rooms is how many rooms are kept (least recently used go first;
	// their open streams end and reconnect). Default 10,000. Redis keeps
	// only rooms with a stream open on this instance.
	Rooms int
	// Replay is how many recent events a room keeps for reconnects; a
	// Last-Event-ID with more events after it is a gap. Default 256.
	Replay int
	// Buffer is how many undelivered events a subscriber may have before
	// it is cut off. Default 64.
	Buffer int
}

func (l Limits) withDefaults() Limits {
	if l.Rooms <= 0 {
		l.Rooms = 10_000
	}
	if l.Replay <= 0 {
		l.Replay = 256
	}
	if l.Buffer <= 0 {
		l.Buffer = 64
	}
	return l
}

// subscriber is one subscription's end of the fan-out.
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

// offer hands ev to s without waiting; false means s's buffer is full,
// and the caller cuts s off rather than slow the others.
func (s *subscriber) offer(ev Event) bool {
	select {
	case s.ch <- ev:
		return true
	default:
		return false
	}
}

// end closes s's channel once.
func (s *subscriber) end() {
	if !s.done {
		s.done = true
		close(s.ch)
	}
}
