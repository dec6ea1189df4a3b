package roster

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"
)

// Limits of the wire format. The handler should refuse a larger body before it
// reads it; Decode enforces the same numbers so that no caller can forget.
const (
	// MaxBatchBytes is the largest batch body Decode accepts. A room.joined
	// snapshot of a full room (SignalWire allows 300 members) is about 60 KB
	// even when the island trims each member to the fields this package reads,
	// and about twice that with the SDK's full objects, so 64 KiB would refuse
	// legitimate joins.
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

// Ignored returns how many events of b the roster does not use (unknown names
// and known ones without roster meaning), for logs and metrics.
func (b Batch) Ignored() int {
	n := 0
	for _, e := range b.Events {
		if e.kind == kindIgnored {
			n++
		}
	}
	return n
}

// Event is one SDK event forwarded by the island. Its payload is kept in
// unexported fields: only Decode can produce one, so the store never sees an
// unchecked payload.
type Event struct {
	// Seq is the island's sequence number, 1 for the first event of an epoch.
	Seq uint64
	// Name is the SDK event name, e.g. "member.joined".
	Name string

	kind     kind
	members  []memberPatch // the snapshot, or the single member of an upsert
	snapshot bool          // members replaces the roster
	memberID string        // member.left, member.talking
	flag     *bool         // talking or recording state; nil when unknown
	selfID   string        // room.joined
	room     roomPatch
}

type kind uint8

const (
	kindIgnored    kind = iota
	kindJoined          // room.joined / room.subscribed: full snapshot
	kindMemberList      // memberList.updated: member snapshot
	kindUpsert          // member.joined, member.updated, member.updated.*
	kindLeft            // member.left
	kindTalking         // member.talking and its started/ended variants
	kindRoom            // room.updated, layout.changed
	kindRecording       // recording.started/updated/ended
	kindSelfLeft        // room.left, room.ended
)

// memberPatch holds the fields present in one member payload; nil means
// absent, which matters for member.updated (absent fields keep their value).
type memberPatch struct {
	id                                                   string
	name, typ, parentID                                  *string
	audioMuted, videoMuted, deaf, visible, hand, talking *bool
}

type roomPatch struct {
	layout                            *string
	locked, recording, hideVideoMuted *bool
}

// Decode reads one batch of at most MaxBatchBytes from r. The wire format is
// a JSON object:
//
//	{"epoch": "k3J9xQ2mPz", "events": [
//	  {"seq": 1, "name": "room.joined", "data": {...the SDK's payload...}},
//	  {"seq": 2, "name": "member.talking", "data": {"member": {"id": "...", "talking": true}}}]}
//
// epoch (required, at most MaxIDBytes) is a random id the island picks per
// join; seq (an integer from 1, unique in the batch) counts every event the
// island forwards in that epoch, unknown ones included, so that gaps show
// lost events. data is the SDK handler's argument as it was given, with
// member fields in snake_case or camelCase. At most MaxBatchEvents events;
// names and ids are bounded by MaxNameRunes and MaxIDBytes. Events the
// roster does not use are accepted and counted by Batch.Ignored; see
// testdata/batches for a sample of each event that is used.
//
// Decode returns ErrTooLarge for a body over the limit and an error wrapping
// ErrMalformed for anything else it refuses.
func Decode(r io.Reader) (Batch, error) {
	body, err := io.ReadAll(io.LimitReader(r, MaxBatchBytes+1))
	if err != nil {
		return Batch{}, fmt.Errorf("roster: read event batch: %w", err)
	}
	return DecodeBytes(body)
}

// DecodeBytes decodes one batch; the result does not alias body.
func DecodeBytes(body []byte) (Batch, error) {
	if len(body) > MaxBatchBytes {
		return Batch{}, ErrTooLarge
	}
	var w struct {
		Epoch  *string     `json:"epoch"`
		Events []wireEvent `json:"events"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return Batch{}, malformed("the batch is not valid: %s", describeJSON(err))
	}
	if w.Epoch == nil || *w.Epoch == "" {
		return Batch{}, malformed("the batch has no epoch")
	}
	if len(*w.Epoch) > MaxIDBytes {
		return Batch{}, malformed("the epoch is longer than %d bytes", MaxIDBytes)
	}
	if len(w.Events) > MaxBatchEvents {
		return Batch{}, malformed("the batch has %d events; at most %d are allowed", len(w.Events), MaxBatchEvents)
	}
	b := Batch{Epoch: *w.Epoch, Events: make([]Event, 0, len(w.Events))}
	seen := make(map[uint64]struct{}, len(w.Events))
	for i, we := range w.Events {
		e, err := decodeEvent(we)
		if err != nil {
			return Batch{}, malformed("event %d: %v", i+1, err)
		}
		if _, dup := seen[e.Seq]; dup {
			return Batch{}, malformed("event %d: seq %d appears twice", i+1, e.Seq)
		}
		seen[e.Seq] = struct{}{}
		b.Events = append(b.Events, e)
	}
	return b, nil
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

type wireEvent struct {
	Seq  *uint64         `json:"seq"`
	Name *string         `json:"name"`
	Data json.RawMessage `json:"data"`
}

// wireMember accepts both spellings the SDK uses: snake_case (room.joined and
// the js package's member events) and camelCase (its documented shape).
type wireMember struct {
	ID          *string `json:"id"`
	Name        *string `json:"name"`
	Type        *string `json:"type"`
	ParentID    *string `json:"parent_id"`
	ParentIDC   *string `json:"parentId"`
	AudioMuted  *bool   `json:"audio_muted"`
	AudioMutedC *bool   `json:"audioMuted"`
	VideoMuted  *bool   `json:"video_muted"`
	VideoMutedC *bool   `json:"videoMuted"`
	Deaf        *bool   `json:"deaf"`
	Visible     *bool   `json:"visible"`
	// encoding/json matches keys case-insensitively, so this also takes
	// "handRaised".
	HandRaised  *bool `json:"handraised"`
	HandRaisedS *bool `json:"hand_raised"`
	Talking     *bool `json:"talking"`
}

type wireRoomSession struct {
	Members         []wireMember `json:"members"`
	Locked          *bool        `json:"locked"`
	Recording       *bool        `json:"recording"`
	HideVideoMuted  *bool        `json:"hide_video_muted"`
	HideVideoMutedC *bool        `json:"hideVideoMuted"`
	LayoutName      *string      `json:"layout_name"`
	LayoutNameC     *string      `json:"layoutName"`
}

func decodeEvent(we wireEvent) (Event, error) {
	if we.Name == nil || *we.Name == "" {
		return Event{}, errors.New("the event has no name")
	}
	name := *we.Name
	if len(name) > maxEventNameBytes {
		return Event{}, fmt.Errorf("the event name is longer than %d bytes", maxEventNameBytes)
	}
	if we.Seq == nil || *we.Seq == 0 {
		return Event{}, fmt.Errorf("event %q has no seq (it starts at 1)", name)
	}
	e := Event{Seq: *we.Seq, Name: name}
	if err := e.decodeData(we.Data); err != nil {
		return Event{}, fmt.Errorf("%q (seq %d): %w", name, e.Seq, err)
	}
	return e, nil
}

// decodeData sets the event's kind and payload from its name and data.
func (e *Event) decodeData(data json.RawMessage) error {
	name := e.Name
	switch {
	case name == "room.joined" || name == "room.subscribed":
		var d struct {
			RoomSession  *wireRoomSession `json:"room_session"`
			RoomSessionC *wireRoomSession `json:"roomSession"`
			Room         *wireRoomSession `json:"room"`
			MemberID     *string          `json:"member_id"`
			MemberIDC    *string          `json:"memberId"`
		}
		if err := unmarshalData(data, &d); err != nil {
			return err
		}
		e.kind = kindJoined
		if err := e.setSelf(d.MemberID, d.MemberIDC); err != nil {
			return err
		}
		rs := firstSession(d.RoomSession, d.RoomSessionC, d.Room)
		if rs == nil {
			return errors.New("data.room_session is missing")
		}
		return e.setSession(rs)
	case name == "memberList.updated":
		// The SDK's event has no member_id; the island adds it when it
		// answers a snapshot request, so that a server which lost its state
		// (a restart) still knows which row is the viewer's own.
		var d struct {
			Members   []wireMember `json:"members"`
			MemberID  *string      `json:"member_id"`
			MemberIDC *string      `json:"memberId"`
		}
		if err := unmarshalData(data, &d); err != nil {
			return err
		}
		if d.Members == nil {
			return errors.New("data.members is missing")
		}
		if err := e.setSelf(d.MemberID, d.MemberIDC); err != nil {
			return err
		}
		e.kind = kindMemberList
		e.snapshot = true
		return e.setMembers(d.Members)
	case name == "member.joined" || name == "member.updated" || strings.HasPrefix(name, "member.updated."):
		// The per-field variants (member.updated.audioMuted, the deprecated
		// member.updated.audio_muted, ...) carry the same payload as
		// member.updated, so all of them are upserts of the fields present.
		m, err := decodeMember(data)
		if err != nil {
			return err
		}
		e.kind = kindUpsert
		e.members = []memberPatch{m}
		return nil
	case name == "member.left":
		m, err := decodeMember(data)
		if err != nil {
			return err
		}
		e.kind = kindLeft
		e.memberID = m.id
		return nil
	case name == "member.talking" || strings.HasPrefix(name, "member.talking."):
		m, err := decodeMember(data)
		if err != nil {
			return err
		}
		e.kind = kindTalking
		e.memberID = m.id
		switch name {
		case "member.talking":
			e.flag = m.talking
		case "member.talking.started", "member.talking.start":
			e.flag = ptr(true)
		case "member.talking.ended", "member.talking.stop":
			e.flag = ptr(false)
		default:
			e.kind = kindIgnored
		}
		return nil
	case name == "layout.changed":
		var d struct {
			Layout *struct {
				Name *string `json:"name"`
			} `json:"layout"`
			LayoutName  *string `json:"layout_name"`
			LayoutNameC *string `json:"layoutName"`
		}
		if err := unmarshalData(data, &d); err != nil {
			return err
		}
		e.kind = kindRoom
		l := first(d.LayoutName, d.LayoutNameC)
		if d.Layout != nil && d.Layout.Name != nil {
			l = d.Layout.Name
		}
		if err := checkName("layout name", l); err != nil {
			return err
		}
		e.room.layout = l
		return nil
	case name == "room.updated":
		var d struct {
			RoomSession  *wireRoomSession `json:"room_session"`
			RoomSessionC *wireRoomSession `json:"roomSession"`
			Room         *wireRoomSession `json:"room"`
		}
		if err := unmarshalData(data, &d); err != nil {
			return err
		}
		e.kind = kindRoom
		if rs := firstSession(d.RoomSession, d.RoomSessionC, d.Room); rs != nil {
			return e.setRoom(rs)
		}
		return nil
	case name == "recording.started":
		e.kind, e.flag = kindRecording, ptr(true)
		return nil
	case name == "recording.ended":
		e.kind, e.flag = kindRecording, ptr(false)
		return nil
	case name == "recording.updated":
		// The js SDK hands its RoomSessionRecording object to the handler;
		// the internal event nests it under "recording". Its state is
		// 'recording' | 'paused' | 'completed'; a paused recording still
		// exists, so it still shows as recording.
		var d struct {
			State     *string `json:"state"`
			Recording *struct {
				State *string `json:"state"`
			} `json:"recording"`
		}
		if err := unmarshalData(data, &d); err != nil {
			return err
		}
		st := d.State
		if d.Recording != nil && d.Recording.State != nil {
			st = d.Recording.State
		}
		e.kind = kindRecording
		if st != nil {
			switch *st {
			case "recording", "paused":
				e.flag = ptr(true)
			case "completed":
				e.flag = ptr(false)
			}
		}
		return nil
	case name == "room.left" || name == "room.ended":
		e.kind = kindSelfLeft
		return nil
	default:
		// Unknown names are tolerated so that a newer island (or a newer SDK
		// event it forwards) never breaks an older server.
		e.kind = kindIgnored
		return nil
	}
}

// setSelf takes the viewer's member id from member_id or memberId, when
// either is there.
func (e *Event) setSelf(ids ...*string) error {
	id := first(ids...)
	if id == nil {
		return nil
	}
	if err := checkID("member_id", *id); err != nil {
		return err
	}
	e.selfID = *id
	return nil
}

func (e *Event) setSession(rs *wireRoomSession) error {
	if err := e.setRoom(rs); err != nil {
		return err
	}
	if rs.Members == nil {
		// Without a member list room.joined still tells us who we are and
		// how the room looks, but it cannot replace the roster.
		return nil
	}
	e.snapshot = true
	return e.setMembers(rs.Members)
}

func (e *Event) setRoom(rs *wireRoomSession) error {
	l := first(rs.LayoutName, rs.LayoutNameC)
	if err := checkName("layout name", l); err != nil {
		return err
	}
	e.room = roomPatch{
		layout:         l,
		locked:         rs.Locked,
		recording:      rs.Recording,
		hideVideoMuted: first(rs.HideVideoMuted, rs.HideVideoMutedC),
	}
	return nil
}

func (e *Event) setMembers(ws []wireMember) error {
	e.members = make([]memberPatch, 0, len(ws))
	for i := range ws {
		m, err := ws[i].patch()
		if err != nil {
			return fmt.Errorf("member %d: %w", i+1, err)
		}
		e.members = append(e.members, m)
	}
	return nil
}

func decodeMember(data json.RawMessage) (memberPatch, error) {
	var d struct {
		Member *wireMember `json:"member"`
	}
	if err := unmarshalData(data, &d); err != nil {
		return memberPatch{}, err
	}
	if d.Member == nil {
		return memberPatch{}, errors.New("data.member is missing")
	}
	return d.Member.patch()
}

func (w *wireMember) patch() (memberPatch, error) {
	if w.ID == nil || *w.ID == "" {
		return memberPatch{}, errors.New("the member has no id")
	}
	if err := checkID("member id", *w.ID); err != nil {
		return memberPatch{}, err
	}
	if err := checkName("member name", w.Name); err != nil {
		return memberPatch{}, err
	}
	if w.Type != nil && len(*w.Type) > maxTypeBytes {
		return memberPatch{}, fmt.Errorf("the member type is longer than %d bytes", maxTypeBytes)
	}
	parent := first(w.ParentID, w.ParentIDC)
	if parent != nil {
		if err := checkID("parent id", *parent); err != nil {
			return memberPatch{}, err
		}
	}
	return memberPatch{
		id:         *w.ID,
		name:       w.Name,
		typ:        w.Type,
		parentID:   parent,
		audioMuted: first(w.AudioMuted, w.AudioMutedC),
		videoMuted: first(w.VideoMuted, w.VideoMutedC),
		deaf:       w.Deaf,
		visible:    w.Visible,
		hand:       first(w.HandRaised, w.HandRaisedS),
		talking:    w.Talking,
	}, nil
}

func checkID(what, id string) error {
	if len(id) > MaxIDBytes {
		return fmt.Errorf("the %s is longer than %d bytes", what, MaxIDBytes)
	}
	return nil
}

func checkName(what string, s *string) error {
	if s != nil && utf8.RuneCountInString(*s) > MaxNameRunes {
		return fmt.Errorf("the %s is longer than %d characters", what, MaxNameRunes)
	}
	return nil
}

// unmarshalData decodes an event's data; absent or null data decodes as an
// empty object, so each kind decides which fields it requires.
func unmarshalData(data json.RawMessage, v any) error {
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		return nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("data is not valid: %s", describeJSON(err))
	}
	return nil
}

// describeJSON turns encoding/json's errors, which name Go types, into a
// sentence about the JSON the user sent.
func describeJSON(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON near byte %d", syn.Offset)
	case errors.As(err, &typ):
		want := jsonKind(typ.Type)
		if typ.Field == "" {
			return fmt.Sprintf("expected %s, got %s", want, typ.Value)
		}
		return fmt.Sprintf("field %q must be %s, not %s", typ.Field, want, typ.Value)
	default:
		return "invalid JSON"
	}
}

func jsonKind(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a positive integer"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}

func first[T any](ps ...*T) *T {
	for _, p := range ps {
		if p != nil {
			return p
		}
	}
	return nil
}

func firstSession(ss ...*wireRoomSession) *wireRoomSession { return first(ss...) }

func ptr[T any](v T) *T { return &v }
