package roster

import (
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Limits of the wire format. The handler should refuse a larger body before it
// reads it; Decode enforces the same numbers so that no caller can forget.
const (
	// MaxBatchBytes is the largest batch body Decode accepts. A
	// members.snapshot of a full room (SignalWire allows 300 members) is
	// about 60 KB, so the island's own cap of 64 KiB per batch leaves no
	// margin; this limit leaves four times that.
	MaxBatchBytes = 256 << 10
	// MaxBatchEvents is the largest number of events in one batch.
	MaxBatchEvents = 200
	// MaxNameRunes bounds member and layout names; SignalWire's user_name
	// allows 100 characters.
	MaxNameRunes = 100
	// MaxIDBytes bounds member ids, parent ids and the epoch; SignalWire's
	// ids are 36-byte UUIDs.
	MaxIDBytes = 64

	maxEventNameBytes = 100
	maxTypeBytes      = 32
)

// ErrTooLarge reports a batch body over MaxBatchBytes (HTTP 413).
var ErrTooLarge = fmt.Errorf("roster: event batch is larger than %d KiB", MaxBatchBytes>>10)

// ErrMalformed reports a batch that is not the wire format (HTTP 400). Errors
// wrapping it carry a detail that is safe to show to the user: it names the
// offending event and field, never Go types or server state.
var ErrMalformed = errors.New("roster: malformed event batch")

// Member types as SignalWire names them. Screen shares and extra devices are
// shown under the member named by their parent id.
const (
	TypeMember = "member"
	TypeScreen = "screen"
	TypeDevice = "device"
)

// Batch is one decoded POST from the island: events in the order they were
// sent, with their payloads already validated.
type Batch struct {
	// Epoch names one join of one page; a new epoch restarts seq numbering.
	Epoch string
	// Events as sent; the store applies them in seq order.
	Events []Event
}

// Ignored returns how many events of b have a name the wire format does not
// define, for logs and metrics. They still count for seq.
func (b Batch) Ignored() int {
	n := 0
	for _, e := range b.Events {
		if e.kind == kindIgnored {
			n++
		}
	}
	return n
}

// Event is one event of the wire format. Its payload is kept in unexported
// fields: only Decode can produce one, so the store never sees an unchecked
// payload.
type Event struct {
	// Seq is the island's sequence number, 1 for the first event of an epoch.
	Seq uint64
	// Name is the event's name, e.g. "member.joined".
	Name string

	kind    kind
	member  memberPatch   // member.joined, .updated, .left, .talking
	members []memberPatch // the member list of room.joined or members.snapshot
	list    bool          // members is a member list (it may be empty)
	selfID  string        // room.joined, members.snapshot; "" when not said
	room    roomPatch     // room.joined, room.updated, layout.changed
	flag    bool          // recording on or off
}

type kind uint8

const (
	kindIgnored   kind = iota // a name the wire format does not define
	kindJoined                // room.joined
	kindSnapshot              // members.snapshot
	kindAdd                   // member.joined
	kindUpdate                // member.updated
	kindLeft                  // member.left
	kindTalking               // member.talking
	kindRoom                  // room.updated, layout.changed
	kindRecording             // recording.started, .updated, .ended
	kindSelfLeft              // room.left, room.ended
)

// Keys of a member object, in the order of the bits of fieldMask.
const (
	fID = iota
	fName
	fType
	fParentID
	fAudioMuted
	fVideoMuted
	fDeaf
	fVisible
	fHand
	fTalking
)

// fieldMask records which keys a member or room object carried: an absent
// key means "not said", which is what lets updates merge.
type fieldMask uint32

func (m fieldMask) has(f int) bool { return m&(1<<f) != 0 }

// memberPatch holds one member object: the fields present, per has.
type memberPatch struct {
	has                                                  fieldMask
	id, name, typ, parentID                              string
	audioMuted, videoMuted, deaf, visible, hand, talking bool
}

// Keys of a room object, in the order of the bits of fieldMask.
const (
	fLayout = iota
	fLocked
	fRecording
	fHideVideoMuted
)

type roomPatch struct {
	has                               fieldMask
	layout                            string
	locked, recording, hideVideoMuted bool
}

// Decode reads one batch of at most MaxBatchBytes from r and decodes it
// strictly as roster/WIRE.md describes the wire format, the island's
// contract with this package:
//
//	{"epoch": "k3J9xQ2mPz", "events": [
//	  {"seq": 1, "name": "room.joined", "data": {"member_id": "m1", "room": {"layout_name": "grid-responsive"}, "members": [{"id": "m1", "name": "Ada"}]}},
//	  {"seq": 2, "name": "member.updated", "data": {"member": {"id": "m1", "handraised": true}}}]}
//
// epoch is 1 to MaxIDBytes bytes; seq an integer from 1, unique in the batch;
// at most MaxBatchEvents events. The data of each event the format defines
// must have exactly its keys and types: a wrong type, a missing required key,
// an unknown key, a key given twice, null where a value is expected, or a
// string over its bound (MaxIDBytes, MaxNameRunes) is refused. data may be
// left out where every key is optional. Events with a name the format does
// not define are accepted with any data, ignored by the store and counted by
// Batch.Ignored, so that a newer island never breaks an older server. The
// island normalises what the SDK hands it into this format; the SDK's own
// shapes (camelCase keys, room_session, memberList.updated, ...) are refused
// or ignored here. testdata/batches holds a sample of every event.
//
// Decode returns ErrTooLarge for a body over the limit, the read error when
// r fails, and an error wrapping ErrMalformed for anything else it refuses.
func Decode(r io.Reader) (Batch, error) {
	body, err := io.ReadAll(io.LimitReader(r, MaxBatchBytes+1))
	if err != nil {
		return Batch{}, fmt.Errorf("roster: read event batch: %w", err)
	}
	return DecodeBytes(body)
}

// DecodeBytes decodes one batch as Decode does; the result does not alias
// body.
func DecodeBytes(body []byte) (Batch, error) {
	if len(body) > MaxBatchBytes {
		return Batch{}, ErrTooLarge
	}
	p := parser{buf: body}
	var b Batch
	seen, err := p.object(at{obj: "the batch", idx: -1}, []string{"epoch", "events"}, func(i int) error {
		var err error
		switch i {
		case 0:
			if b.Epoch, err = p.str(at{idx: -1, key: "epoch"}); err == nil && (b.Epoch == "" || len(b.Epoch) > MaxIDBytes) {
				err = fmt.Errorf("the epoch must be 1 to %d bytes long", MaxIDBytes)
			}
		case 1:
			b.Events = make([]Event, 0, 16)
			err = p.array(at{idx: -1, key: "events"}, func(i int) error {
				if i == MaxBatchEvents {
					return fmt.Errorf("the batch has more than %d events", MaxBatchEvents)
				}
				e, err := p.event(i + 1)
				b.Events = append(b.Events, e)
				return err
			})
		}
		return err
	})
	if err == nil {
		err = p.end()
	}
	switch {
	case err != nil:
		return Batch{}, malformed(err)
	case seen&1 == 0:
		return Batch{}, malformed(errors.New("the batch has no epoch"))
	case seen&2 == 0:
		return Batch{}, malformed(errors.New("the batch has no events"))
	}
	if err := checkSeqs(b.Events); err != nil {
		return Batch{}, malformed(err)
	}
	return b, nil
}

func malformed(err error) error {
	return fmt.Errorf("%w: %w", ErrMalformed, err)
}

// checkSeqs refuses a seq used twice in one batch; the store would keep only
// one of the two events, silently.
func checkSeqs(events []Event) error {
	if len(events) <= 16 { // a map costs more than comparing a flush's pairs
		for i := range events {
			for j := range i {
				if events[i].Seq == events[j].Seq {
					return fmt.Errorf("event %d: seq %d appears twice", i+1, events[i].Seq)
				}
			}
		}
		return nil
	}
	seen := make(map[uint64]struct{}, len(events))
	for i, e := range events {
		if _, dup := seen[e.Seq]; dup {
			return fmt.Errorf("event %d: seq %d appears twice", i+1, e.Seq)
		}
		seen[e.Seq] = struct{}{}
	}
	return nil
}

// event reads the n-th event object (from 1). data may come before name in
// the object; it is then read once the name is known.
func (p *parser) event(n int) (Event, error) {
	var e Event
	dataAt := -1
	seen, err := p.object(at{obj: "the event", idx: -1}, []string{"seq", "name", "data"}, func(i int) error {
		var err error
		switch i {
		case 0:
			e.Seq, err = p.seq(at{idx: -1, key: "seq"})
		case 1:
			if e.Name, err = p.str(at{idx: -1, key: "name"}); err == nil && (e.Name == "" || len(e.Name) > maxEventNameBytes) {
				err = fmt.Errorf("the name must be 1 to %d bytes long", maxEventNameBytes)
			}
		case 2:
			if e.Name == "" {
				dataAt = p.pos
				return p.skip(0)
			}
			return p.data(&e)
		}
		return err
	})
	switch {
	case err != nil:
		return e, eventError(n, e, err)
	case seen&1 == 0:
		return e, eventError(n, e, errors.New("seq is missing"))
	case seen&2 == 0:
		return e, eventError(n, e, errors.New("name is missing"))
	case seen&4 == 0:
		// No data: the same as {}, which fails for events that need keys.
		err = (&parser{buf: []byte("{}")}).data(&e)
	case dataAt >= 0:
		err = (&parser{buf: p.buf[:p.pos], pos: dataAt}).data(&e)
	}
	if err != nil {
		return e, eventError(n, e, err)
	}
	return e, nil
}

// eventError names the event in err: its place in the batch, and its name
// and seq once they were read.
func eventError(n int, e Event, err error) error {
	switch {
	case e.Name != "" && e.Seq != 0:
		return fmt.Errorf("event %d (%q, seq %d): %w", n, e.Name, e.Seq, err)
	case e.Name != "":
		return fmt.Errorf("event %d (%q): %w", n, e.Name, err)
	}
	return fmt.Errorf("event %d: %w", n, err)
}

// data reads the event's data by its name and sets its kind and payload.
func (p *parser) data(e *Event) error {
	data := at{obj: "data", idx: -1}
	switch e.Name {
	case "room.joined":
		e.kind = kindJoined
		seen, err := p.object(data, []string{"member_id", "room", "members"}, func(i int) error {
			switch i {
			case 0:
				return p.id(data.k("member_id"), &e.selfID)
			case 1:
				return p.room(data.k("room"), &e.room)
			default:
				e.list = true
				return p.memberList(&e.members)
			}
		})
		if err != nil {
			return err
		}
		return required(seen, "data.member_id", "data.room")
	case "members.snapshot":
		e.kind, e.list = kindSnapshot, true
		seen, err := p.object(data, []string{"members", "member_id"}, func(i int) error {
			if i == 0 {
				return p.memberList(&e.members)
			}
			return p.id(data.k("member_id"), &e.selfID)
		})
		if err != nil {
			return err
		}
		return required(seen, "data.members")
	case "member.joined", "member.updated", "member.left", "member.talking":
		switch e.Name {
		case "member.joined":
			e.kind = kindAdd
		case "member.updated":
			e.kind = kindUpdate
		case "member.left":
			e.kind = kindLeft
		default:
			e.kind = kindTalking
		}
		seen, err := p.object(data, []string{"member"}, func(int) error {
			return p.member(data.k("member"), &e.member)
		})
		if err != nil {
			return err
		}
		if err := required(seen, "data.member"); err != nil {
			return err
		}
		if e.kind == kindTalking && !e.member.has.has(fTalking) {
			return errors.New("data.member.talking is missing")
		}
		return nil
	case "room.updated":
		e.kind = kindRoom
		seen, err := p.object(data, []string{"room"}, func(int) error {
			return p.room(data.k("room"), &e.room)
		})
		if err != nil {
			return err
		}
		return required(seen, "data.room")
	case "layout.changed":
		e.kind = kindRoom
		seen, err := p.object(data, []string{"layout_name"}, func(int) error {
			e.room.has |= 1 << fLayout
			return p.name(data.k("layout_name"), &e.room.layout)
		})
		if err != nil {
			return err
		}
		return required(seen, "data.layout_name")
	case "recording.started", "recording.ended":
		e.kind, e.flag = kindRecording, e.Name == "recording.started"
		_, err := p.object(data, nil, nil)
		return err
	case "recording.updated":
		e.kind = kindRecording
		seen, err := p.object(data, []string{"state"}, func(int) error {
			st, err := p.str(data.k("state"))
			switch {
			case err != nil:
				return err
			case st == "recording" || st == "paused": // a paused recording still exists
				e.flag = true
			case st == "completed":
				e.flag = false
			default:
				return fmt.Errorf("data.state must be recording, paused or completed, not %q", st)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return required(seen, "data.state")
	case "room.left":
		e.kind = kindSelfLeft
		_, err := p.object(data, []string{"reason"}, func(int) error {
			if p.peek() != '"' {
				return p.typeError(data.k("reason"), "a string")
			}
			return p.skip(0)
		})
		return err
	case "room.ended":
		e.kind = kindSelfLeft
		_, err := p.object(data, nil, nil)
		return err
	default:
		e.kind = kindIgnored
		return p.skip(0)
	}
}

// required reports the first of keys (in the order the object's keys were
// declared) that seen lacks.
func required(seen uint32, keys ...string) error {
	for i, k := range keys {
		if seen&(1<<i) == 0 {
			return fmt.Errorf("%s is missing", k)
		}
	}
	return nil
}

// member reads a member object at path: only id is required.
func (p *parser) member(path at, m *memberPatch) error {
	keys := []string{fID: "id", fName: "name", fType: "type", fParentID: "parent_id",
		fAudioMuted: "audio_muted", fVideoMuted: "video_muted", fDeaf: "deaf", fVisible: "visible",
		fHand: "handraised", fTalking: "talking"}
	seen, err := p.object(path, keys, func(i int) error {
		var err error
		key := path.k(keys[i])
		switch i {
		case fID:
			err = p.id(key, &m.id)
		case fName:
			err = p.name(key, &m.name)
		case fType:
			if m.typ, err = p.str(key); err == nil && len(m.typ) > maxTypeBytes {
				err = fmt.Errorf("%v is longer than %d bytes", key, maxTypeBytes)
			}
		case fParentID:
			if m.parentID, err = p.str(key); err == nil && len(m.parentID) > MaxIDBytes {
				err = fmt.Errorf("%v is longer than %d bytes", key, MaxIDBytes)
			}
		case fAudioMuted:
			m.audioMuted, err = p.boolean(key)
		case fVideoMuted:
			m.videoMuted, err = p.boolean(key)
		case fDeaf:
			m.deaf, err = p.boolean(key)
		case fVisible:
			m.visible, err = p.boolean(key)
		case fHand:
			m.hand, err = p.boolean(key)
		case fTalking:
			m.talking, err = p.boolean(key)
		}
		return err
	})
	if err != nil {
		return err
	}
	m.has = fieldMask(seen)
	if !m.has.has(fID) {
		return fmt.Errorf("%v is missing", path.k("id"))
	}
	return nil
}

// memberList reads data.members.
func (p *parser) memberList(ms *[]memberPatch) error {
	*ms = make([]memberPatch, 0, 8)
	return p.array(at{obj: "data", idx: -1, key: "members"}, func(i int) error {
		var m memberPatch
		if err := p.member(at{obj: "data.members", idx: i}, &m); err != nil {
			return err
		}
		*ms = append(*ms, m)
		return nil
	})
}

// room reads a room object at path: every key is optional.
func (p *parser) room(path at, r *roomPatch) error {
	keys := []string{fLayout: "layout_name", fLocked: "locked", fRecording: "recording", fHideVideoMuted: "hide_video_muted"}
	seen, err := p.object(path, keys, func(i int) error {
		var err error
		key := path.k(keys[i])
		switch i {
		case fLayout:
			err = p.name(key, &r.layout)
		case fLocked:
			r.locked, err = p.boolean(key)
		case fRecording:
			r.recording, err = p.boolean(key)
		case fHideVideoMuted:
			r.hideVideoMuted, err = p.boolean(key)
		}
		return err
	})
	r.has = fieldMask(seen)
	return err
}

// id reads a member id: 1 to MaxIDBytes bytes.
func (p *parser) id(path at, dst *string) error {
	s, err := p.str(path)
	if err == nil && (s == "" || len(s) > MaxIDBytes) {
		err = fmt.Errorf("%v must be 1 to %d bytes long", path, MaxIDBytes)
	}
	*dst = s
	return err
}

// name reads a member or layout name: at most MaxNameRunes characters.
func (p *parser) name(path at, dst *string) error {
	s, err := p.str(path)
	if err == nil && utf8.RuneCountInString(s) > MaxNameRunes {
		err = fmt.Errorf("%v is longer than %d characters", path, MaxNameRunes)
	}
	*dst = s
	return err
}
