package roster

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
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

// MemberID is the member a member.joined, .updated, .left or .talking
// event is about; "" for other events.
func (e Event) MemberID() string { return e.member.id }

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

// The JSON itself is read by github.com/go-json-experiment/json (the basis
// of encoding/json/v2), whose defaults already match keys case-sensitively
// ("handRaised" is not "handraised"), refuse invalid UTF-8 and refuse a key
// given twice. What it leaves to us: refusing null (it reads null as the
// zero value), telling an absent key from a zero one (opt), the seq's shape
// and the bounds of strings.
var (
	// batchOptions read the batch and its events, whose data is kept raw
	// until the event's name is known. Duplicate names are allowed at this
	// level only so that an unknown event's data is taken as it is, any
	// JSON at all; opt refuses a key of the batch or an event given twice.
	batchOptions = json.JoinOptions(json.RejectUnknownMembers(true), jsontext.AllowDuplicateNames(true))
	// dataOptions read the data of an event the wire format defines.
	dataOptions = json.RejectUnknownMembers(true)
)

// maxUnknownDepth bounds the nesting of the data of unknown events, which
// nothing reads: a newer island has no reason to nest deeper.
const maxUnknownDepth = 64

// DecodeBytes decodes one batch as Decode does; the result does not alias
// body.
func DecodeBytes(body []byte) (Batch, error) {
	if len(body) > MaxBatchBytes {
		return Batch{}, ErrTooLarge
	}
	var w wireBatch
	if err := json.Unmarshal(body, &w, batchOptions); err != nil {
		return Batch{}, malformed(batchError(w.Events.v, err))
	}
	switch {
	case !w.Epoch.set:
		return Batch{}, malformed(errors.New("the batch has no epoch"))
	case !w.Events.set:
		return Batch{}, malformed(errors.New("the batch has no events"))
	case w.Epoch.v == "" || len(w.Epoch.v) > MaxIDBytes:
		return Batch{}, malformed(fmt.Errorf("the epoch must be 1 to %d bytes long", MaxIDBytes))
	case len(w.Events.v) > MaxBatchEvents:
		return Batch{}, malformed(fmt.Errorf("the batch has more than %d events", MaxBatchEvents))
	}
	b := Batch{Epoch: w.Epoch.v, Events: make([]Event, len(w.Events.v))}
	for i, we := range w.Events.v {
		e := &b.Events[i]
		e.Seq, e.Name = uint64(we.Seq.v), we.Name.v
		var err error
		switch {
		case !we.Seq.set:
			err = errors.New("seq is missing")
		case !we.Name.set:
			err = errors.New("name is missing")
		case e.Name == "" || len(e.Name) > maxEventNameBytes:
			err = fmt.Errorf("the name must be 1 to %d bytes long", maxEventNameBytes)
		default:
			err = e.decodeData(we.Data.in(body))
		}
		if err != nil {
			return Batch{}, malformed(eventError(i+1, *e, err))
		}
	}
	if err := checkSeqs(b.Events); err != nil {
		return Batch{}, malformed(err)
	}
	return b, nil
}

func malformed(err error) error {
	return fmt.Errorf("%w: %w", ErrMalformed, err)
}

// wireBatch and wireEvent are the batch and its events as sent.
type wireBatch struct {
	Epoch  opt[string]      `json:"epoch"`
	Events opt[[]wireEvent] `json:"events"`
}

// UnmarshalJSONFrom refuses null for the batch, which would read as {}.
func (b *wireBatch) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	type plain wireBatch
	return decodeObject(dec, (*plain)(b))
}

type wireEvent struct {
	Seq  opt[seqNumber] `json:"seq"`
	Name opt[string]    `json:"name"`
	Data rawData        `json:"data"`
}

// UnmarshalJSONFrom refuses null for an event, which would read as {}.
func (e *wireEvent) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	type plain wireEvent
	return decodeObject(dec, (*plain)(e))
}

// opt is a value that may be absent but is never null: set says whether
// its key was present.
type opt[T any] struct {
	v   T
	set bool
}

func (o *opt[T]) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if o.set { // only where batchOptions allow duplicate names
		return jsontext.ErrDuplicateName
	}
	if k := dec.PeekKind(); k == 'n' {
		return &problem{msg: "must be " + want(reflect.TypeFor[T]()) + ", not null"}
	}
	o.set = true
	return json.UnmarshalDecode(dec, &o.v)
}

// decodeObject decodes an object into v, refusing null.
func decodeObject(dec *jsontext.Decoder, v any) error {
	if dec.PeekKind() == 'n' {
		return &problem{msg: "must be an object, not null"}
	}
	return json.UnmarshalDecode(dec, v)
}

// seqNumber is a seq: a JSON integer from 1, without sign, fraction or
// exponent, that fits 64 bits.
type seqNumber uint64

func (s *seqNumber) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if k := dec.PeekKind(); k != '0' {
		return &problem{msg: "must be a positive integer, not " + kindName(k)}
	}
	raw, err := dec.ReadValue() // a valid JSON number
	if err != nil {
		return err
	}
	if bytes.ContainsAny(raw, "-.eE") {
		return &problem{msg: "must be a positive integer, without sign, fraction or exponent"}
	}
	n, err := strconv.ParseUint(string(raw), 10, 64)
	switch {
	case err != nil:
		return &problem{msg: "is too large"}
	case n == 0:
		return &problem{msg: "must be at least 1"}
	}
	*s = seqNumber(n)
	return nil
}

// rawData is where an event's data sits in the body: it is decoded once
// the event's name is known, since data may come before the name.
type rawData struct{ start, end int64 }

func (d *rawData) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if d.end != 0 {
		return jsontext.ErrDuplicateName
	}
	v, err := dec.ReadValue()
	d.end = dec.InputOffset()
	d.start = d.end - int64(len(v))
	return err
}

// in returns the data in body; absent data is {}.
func (d rawData) in(body []byte) []byte {
	if d.end == 0 {
		return []byte("{}")
	}
	return body[d.start:d.end]
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

// Data of the events the wire format defines, by name.
type (
	dataJoined struct {
		MemberID opt[string]        `json:"member_id"`
		Room     opt[roomPatch]     `json:"room"`
		Members  opt[[]memberPatch] `json:"members"`
	}
	dataSnapshot struct {
		MemberID opt[string]        `json:"member_id"`
		Members  opt[[]memberPatch] `json:"members"`
	}
	dataMember struct {
		Member opt[memberPatch] `json:"member"`
	}
	dataRoom struct {
		Room opt[roomPatch] `json:"room"`
	}
	dataLayout struct {
		LayoutName opt[string] `json:"layout_name"`
	}
	dataRecording struct {
		State opt[string] `json:"state"`
	}
	dataLeft struct {
		Reason opt[string] `json:"reason"`
	}
	dataEmpty struct{}
)

// decodeData decodes the event's data by its name and sets its kind and
// payload.
func (e *Event) decodeData(raw []byte) error {
	var err error
	switch e.Name {
	case "room.joined":
		var d dataJoined
		if err = unmarshalData(raw, &d); err == nil {
			e.kind, e.selfID, e.room, e.list, e.members = kindJoined, d.MemberID.v, d.Room.v, d.Members.set, d.Members.v
			err = cmp.Or(required("data.member_id", d.MemberID.set), required("data.room", d.Room.set), checkID("data.member_id", e.selfID))
		}
	case "members.snapshot":
		var d dataSnapshot
		if err = unmarshalData(raw, &d); err == nil {
			e.kind, e.selfID, e.list, e.members = kindSnapshot, d.MemberID.v, true, d.Members.v
			err = required("data.members", d.Members.set)
			if err == nil && d.MemberID.set {
				err = checkID("data.member_id", e.selfID)
			}
		}
	case "member.joined", "member.updated", "member.left", "member.talking":
		var d dataMember
		if err = unmarshalData(raw, &d); err == nil {
			e.kind, e.member = memberKind(e.Name), d.Member.v
			err = required("data.member", d.Member.set)
			if err == nil && e.kind == kindTalking {
				err = required("data.member.talking", e.member.has.has(fTalking))
			}
		}
	case "room.updated":
		var d dataRoom
		if err = unmarshalData(raw, &d); err == nil {
			e.kind, e.room = kindRoom, d.Room.v
			err = required("data.room", d.Room.set)
		}
	case "layout.changed":
		var d dataLayout
		if err = unmarshalData(raw, &d); err == nil {
			e.kind, e.room = kindRoom, roomPatch{has: 1 << fLayout, layout: d.LayoutName.v}
			err = cmp.Or(required("data.layout_name", d.LayoutName.set), checkName("data.layout_name", e.room.layout))
		}
	case "recording.started", "recording.ended":
		e.kind, e.flag = kindRecording, e.Name == "recording.started"
		err = unmarshalData(raw, &dataEmpty{})
	case "recording.updated":
		var d dataRecording
		if err = unmarshalData(raw, &d); err == nil {
			e.kind = kindRecording
			switch st := d.State.v; {
			case !d.State.set:
				err = required("data.state", false)
			case st == "recording" || st == "paused": // a paused recording still exists
				e.flag = true
			case st == "completed":
				e.flag = false
			default:
				err = fmt.Errorf("data.state must be recording, paused or completed, not %q", st)
			}
		}
	case "room.left":
		e.kind = kindSelfLeft
		err = unmarshalData(raw, &dataLeft{})
	case "room.ended":
		e.kind = kindSelfLeft
		err = unmarshalData(raw, &dataEmpty{})
	default:
		e.kind = kindIgnored
		err = checkDepth(raw)
	}
	return err
}

// memberKind is the kind of an event whose data is one member.
func memberKind(name string) kind {
	switch name {
	case "member.joined":
		return kindAdd
	case "member.updated":
		return kindUpdate
	case "member.left":
		return kindLeft
	}
	return kindTalking
}

// unmarshalData decodes the data of an event the wire format defines into
// v, a struct of opt fields.
func unmarshalData(raw []byte, v any) error {
	if k := jsontext.Value(raw).Kind(); k != '{' {
		return fmt.Errorf("data must be an object, not %s", kindName(k))
	}
	if err := json.Unmarshal(raw, v, dataOptions); err != nil {
		return explain("data", "data.", "", err)
	}
	return nil
}

// checkDepth refuses the data of an unknown event nested deeper than
// maxUnknownDepth; it was read as JSON with the batch already.
func checkDepth(raw []byte) error {
	dec := jsontext.NewDecoder(bytes.NewReader(raw), jsontext.AllowDuplicateNames(true))
	for {
		if _, err := dec.ReadToken(); err != nil {
			return nil // io.EOF: the data was valid JSON already
		}
		if dec.StackDepth() > maxUnknownDepth {
			return fmt.Errorf("data is nested more than %d levels deep", maxUnknownDepth)
		}
	}
}

// wireMember is a member object as sent, in the order of the f constants.
type wireMember struct {
	ID         opt[string] `json:"id"`
	Name       opt[string] `json:"name"`
	Type       opt[string] `json:"type"`
	ParentID   opt[string] `json:"parent_id"`
	AudioMuted opt[bool]   `json:"audio_muted"`
	VideoMuted opt[bool]   `json:"video_muted"`
	Deaf       opt[bool]   `json:"deaf"`
	Visible    opt[bool]   `json:"visible"`
	HandRaised opt[bool]   `json:"handraised"`
	Talking    opt[bool]   `json:"talking"`
}

// UnmarshalJSONFrom reads a member object: only id is required.
func (m *memberPatch) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	var w wireMember
	if err := decodeObject(dec, &w); err != nil {
		return err
	}
	*m = memberPatch{
		has: mask(w.ID.set, w.Name.set, w.Type.set, w.ParentID.set,
			w.AudioMuted.set, w.VideoMuted.set, w.Deaf.set, w.Visible.set, w.HandRaised.set, w.Talking.set),
		id: w.ID.v, name: w.Name.v, typ: w.Type.v, parentID: w.ParentID.v,
		audioMuted: w.AudioMuted.v, videoMuted: w.VideoMuted.v, deaf: w.Deaf.v,
		visible: w.Visible.v, hand: w.HandRaised.v, talking: w.Talking.v,
	}
	return cmp.Or(required("id", w.ID.set), checkID("id", m.id), checkName("name", m.name),
		checkBytes("type", m.typ, maxTypeBytes), checkBytes("parent_id", m.parentID, MaxIDBytes))
}

// wireRoom is a room object as sent, in the order of the f constants.
type wireRoom struct {
	LayoutName     opt[string] `json:"layout_name"`
	Locked         opt[bool]   `json:"locked"`
	Recording      opt[bool]   `json:"recording"`
	HideVideoMuted opt[bool]   `json:"hide_video_muted"`
}

// UnmarshalJSONFrom reads a room object: every key is optional.
func (r *roomPatch) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	var w wireRoom
	if err := decodeObject(dec, &w); err != nil {
		return err
	}
	*r = roomPatch{
		has:    mask(w.LayoutName.set, w.Locked.set, w.Recording.set, w.HideVideoMuted.set),
		layout: w.LayoutName.v, locked: w.Locked.v, recording: w.Recording.v, hideVideoMuted: w.HideVideoMuted.v,
	}
	return checkName("layout_name", r.layout)
}

// mask sets bit i for each present[i].
func mask(present ...bool) fieldMask {
	var m fieldMask
	for i, ok := range present {
		if ok {
			m |= 1 << i
		}
	}
	return m
}

// problem is what is wrong with a value, said of its key; the place is
// added from the position the JSON library reports (see explain).
type problem struct{ key, msg string }

func (p *problem) Error() string { return strings.TrimLeft(p.key+" "+p.msg, " ") }

func required(key string, present bool) error {
	if !present {
		return &problem{key: key, msg: "is missing"}
	}
	return nil
}

// checkID bounds a member id: 1 to MaxIDBytes bytes.
func checkID(key, s string) error {
	if s == "" || len(s) > MaxIDBytes {
		return &problem{key: key, msg: fmt.Sprintf("must be 1 to %d bytes long", MaxIDBytes)}
	}
	return nil
}

// checkName bounds a member or layout name: at most MaxNameRunes characters.
func checkName(key, s string) error {
	if utf8.RuneCountInString(s) > MaxNameRunes {
		return &problem{key: key, msg: fmt.Sprintf("is longer than %d characters", MaxNameRunes)}
	}
	return nil
}

func checkBytes(key, s string, max int) error {
	if len(s) > max {
		return &problem{key: key, msg: fmt.Sprintf("is longer than %d bytes", max)}
	}
	return nil
}

// batchError describes an error of the JSON library in the batch; an error
// inside an event names the event, with what events holds of it.
func batchError(events []wireEvent, err error) error {
	at := pointer(err)
	rest, ok := strings.CutPrefix(string(at), "/events/")
	if !ok {
		return explain("the batch", "", "", err)
	}
	idx, _, _ := strings.Cut(rest, "/")
	i, _ := strconv.Atoi(idx)
	var e Event
	if i < len(events) {
		e.Seq, e.Name = uint64(events[i].Seq.v), events[i].Name.v
	}
	return eventError(i+1, e, explain("the event", "", jsontext.Pointer("/events/"+idx), err))
}

// pointer returns where the JSON library places err.
func pointer(err error) jsontext.Pointer {
	var sem *json.SemanticError
	var syn *jsontext.SyntacticError
	switch {
	case errors.As(err, &syn):
		return syn.JSONPointer
	case errors.As(err, &sem):
		return sem.JSONPointer
	}
	return ""
}

// explain turns an error of the JSON library into a sentence that names
// the place of the fault within the value at base: whole for that value
// itself, else prefix and the path, as in data.members[1].id. These
// sentences reach users: they name keys, never Go types.
func explain(whole, prefix string, base jsontext.Pointer, err error) error {
	var sem *json.SemanticError
	var syn *jsontext.SyntacticError
	var p *problem
	var offset int64
	switch {
	case errors.As(err, &syn):
		offset = syn.ByteOffset
	case errors.As(err, &sem):
		offset = sem.ByteOffset
	}
	at := jsontext.Pointer(strings.TrimPrefix(string(pointer(err)), string(base)))
	place := func(at jsontext.Pointer) string {
		s := ""
		for tok := range at.Tokens() {
			switch _, err := strconv.Atoi(tok); {
			case err == nil:
				s += "[" + tok + "]"
			case s == "":
				s = tok
			default:
				s += "." + tok
			}
		}
		if s == "" {
			return whole
		}
		return prefix + s
	}
	switch {
	case errors.As(err, &p):
		if p.key != "" {
			at = at.AppendToken(p.key)
		}
		return fmt.Errorf("%s %s", place(at), p.msg)
	case errors.Is(err, jsontext.ErrDuplicateName):
		return fmt.Errorf("%s has the key %q twice", place(at.Parent()), at.LastToken())
	case errors.Is(err, json.ErrUnknownName):
		return fmt.Errorf("%s has the unknown key %q", place(at.Parent()), at.LastToken())
	case sem != nil && sem.JSONKind != 0 && sem.GoType != nil:
		return fmt.Errorf("%s must be %s, not %s", place(at), want(sem.GoType), kindName(sem.JSONKind))
	case syn != nil && strings.Contains(syn.Err.Error(), "UTF-8"): // the library exports no such error
		return fmt.Errorf("%s is not valid UTF-8", place(at))
	}
	return fmt.Errorf("invalid JSON near byte %d", offset)
}

// want names the JSON type a Go type is read from.
func want(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "an array"
	case reflect.Uint64:
		return "a positive integer"
	}
	return "an object"
}

// kindName names a kind of JSON value.
func kindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	return "invalid JSON"
}
