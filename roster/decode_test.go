package roster

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ev renders one wire event; data is raw JSON ("" leaves it out).
func ev(seq uint64, name, data string) string {
	if data == "" {
		return fmt.Sprintf(`{"seq":%d,"name":%q}`, seq, name)
	}
	return fmt.Sprintf(`{"seq":%d,"name":%q,"data":%s}`, seq, name, data)
}

// body renders a batch of wire events.
func body(epoch string, events ...string) string {
	return fmt.Sprintf(`{"epoch":%q,"events":[%s]}`, epoch, strings.Join(events, ","))
}

func TestDecode(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	many := make([]string, MaxBatchEvents+1)
	for i := range many {
		many[i] = ev(uint64(i+1), "member.talking", `{"member":{"id":"a","talking":true}}`)
	}
	tests := []struct {
		name    string
		body    string
		wantErr error
		check   func(t *testing.T, b Batch)
	}{
		{
			name: "room.joined decodes its self id, room and member list",
			body: body("e1", ev(1, "room.joined", `{"member_id":"a","room":{"layout_name":"2x2","locked":true},
				"members":[{"id":"a","name":"Al","type":"member","audio_muted":true,"handraised":true}]}`)),
			check: func(t *testing.T, b Batch) {
				e := b.Events[0]
				if e.kind != kindJoined || !e.list || e.selfID != "a" || len(e.members) != 1 {
					t.Fatalf("got kind %d list %v self %q members %d", e.kind, e.list, e.selfID, len(e.members))
				}
				m := e.members[0]
				if m.name != "Al" || !m.audioMuted || !m.hand || m.has.has(fParentID) || m.has.has(fVideoMuted) {
					t.Errorf("got member %+v", m)
				}
				if e.room.layout != "2x2" || !e.room.locked || e.room.has.has(fRecording) {
					t.Errorf("got room %+v", e.room)
				}
			},
		},
		{
			name: "room.joined without members is no member list",
			body: body("e1", ev(1, "room.joined", `{"member_id":"a","room":{}}`)),
			check: func(t *testing.T, b Batch) {
				if e := b.Events[0]; e.list || e.members != nil {
					t.Errorf("got list %v members %v, want none", e.list, e.members)
				}
			},
		},
		{
			name: "an empty members array is a member list",
			body: body("e1", ev(1, "members.snapshot", `{"members":[]}`)),
			check: func(t *testing.T, b Batch) {
				if e := b.Events[0]; !e.list || e.kind != kindSnapshot || e.selfID != "" {
					t.Errorf("got list %v kind %d self %q", e.list, e.kind, e.selfID)
				}
			},
		},
		{
			name: "a partial member carries only its fields",
			body: body("e1", ev(1, "member.updated", `{"member":{"id":"a","handraised":false}}`)),
			check: func(t *testing.T, b Batch) {
				m := b.Events[0].member
				if m.has != 1<<fID|1<<fHand || m.hand {
					t.Errorf("got member %+v", m)
				}
			},
		},
		{
			name: "data may come before the name",
			body: `{"epoch":"e","events":[{"data":{"member":{"id":"a","name":"Al"}},"seq":1,"name":"member.joined"}]}`,
			check: func(t *testing.T, b Batch) {
				if e := b.Events[0]; e.kind != kindAdd || e.member.name != "Al" {
					t.Errorf("got kind %d member %+v", e.kind, e.member)
				}
			},
		},
		{
			name: "escaped strings and keys decode",
			body: body("e1", ev(1, "member.joined", `{"member":{"\u0069d":"a","name":"Ada \"A\" \u00e9\ud83d\ude00"}}`)),
			check: func(t *testing.T, b Batch) {
				if m := b.Events[0].member; m.id != "a" || m.name != `Ada "A" é😀` {
					t.Errorf("got member %+v", m)
				}
			},
		},
		{
			name: "recording events set the flag",
			body: body("e1", ev(1, "recording.started", `{}`), ev(2, "recording.updated", `{"state":"paused"}`),
				ev(3, "recording.updated", `{"state":"completed"}`), ev(4, "recording.ended", "")),
			check: func(t *testing.T, b Batch) {
				for i, want := range []bool{true, true, false, false} {
					if e := b.Events[i]; e.kind != kindRecording || e.flag != want {
						t.Errorf("event %d: got kind %d flag %v, want %v", i+1, e.kind, e.flag, want)
					}
				}
			},
		},
		{
			name: "unknown event names are kept for their seq and counted as ignored, whatever their data",
			body: body("e1", ev(1, "media.connected", ""), ev(2, "member.promoted", `{"member_id":"a","x":[1,-2.5e3,null,{"y":"\n"}]}`),
				ev(3, "memberList.updated", `{"members":[{"id":"a","handRaised":true}]}`),
				ev(4, "member.updated.handraised", `null`), ev(5, "member.left", `{"member":{"id":"a"}}`)),
			check: func(t *testing.T, b Batch) {
				if len(b.Events) != 5 || b.Ignored() != 4 {
					t.Errorf("got %d events, %d ignored, want 5 and 4", len(b.Events), b.Ignored())
				}
			},
		},
		{
			name: "room.left without data is accepted",
			body: body("e1", ev(1, "room.left", ""), ev(2, "room.left", `{"reason":"x"}`), ev(3, "room.ended", `{}`)),
			check: func(t *testing.T, b Batch) {
				for _, e := range b.Events {
					if e.kind != kindSelfLeft {
						t.Errorf("got kind %d, want self left", e.kind)
					}
				}
			},
		},
		{
			name: "a name of 100 multi-byte characters is accepted",
			body: body("e1", ev(1, "member.joined", `{"member":{"id":"a","name":"`+strings.Repeat("é", MaxNameRunes)+`"}}`)),
		},
		{
			name:  "an empty batch is accepted",
			body:  ` {"epoch":"e1","events":[]} `,
			check: func(t *testing.T, b Batch) {},
		},
		{name: "invalid JSON is malformed", body: `{"epoch":"e1","events":[`, wantErr: ErrMalformed},
		{name: "trailing data is malformed", body: `{"epoch":"e1","events":[]} {}`, wantErr: ErrMalformed},
		{name: "a batch that is not an object is malformed", body: `[]`, wantErr: ErrMalformed},
		{name: "a batch without an epoch is malformed", body: `{"events":[]}`, wantErr: ErrMalformed},
		{name: "a batch without events is malformed", body: `{"epoch":"e"}`, wantErr: ErrMalformed},
		{name: "an unknown key in the batch is malformed", body: `{"epoch":"e","events":[],"pad":1}`, wantErr: ErrMalformed},
		{name: "an epoch over 64 bytes is malformed", body: body(long(65)), wantErr: ErrMalformed},
		{name: "a seq of the wrong type is malformed", body: `{"epoch":"e","events":[{"seq":"1","name":"room.left"}]}`, wantErr: ErrMalformed},
		{name: "a negative seq is malformed", body: `{"epoch":"e","events":[{"seq":-1,"name":"room.left"}]}`, wantErr: ErrMalformed},
		{name: "a fractional seq is malformed", body: `{"epoch":"e","events":[{"seq":1.5,"name":"room.left"}]}`, wantErr: ErrMalformed},
		{name: "a seq with an exponent is malformed", body: `{"epoch":"e","events":[{"seq":1e2,"name":"room.left"}]}`, wantErr: ErrMalformed},
		{name: "a seq over 64 bits is malformed", body: `{"epoch":"e","events":[{"seq":18446744073709551616,"name":"room.left"}]}`, wantErr: ErrMalformed},
		{name: "a missing seq is malformed", body: `{"epoch":"e","events":[{"name":"room.left"}]}`, wantErr: ErrMalformed},
		{name: "seq zero is malformed", body: body("e", ev(0, "room.left", "")), wantErr: ErrMalformed},
		{name: "a seq used twice is malformed", body: body("e", ev(1, "room.left", ""), ev(1, "room.ended", "")), wantErr: ErrMalformed},
		{name: "an event without a name is malformed", body: `{"epoch":"e","events":[{"seq":1}]}`, wantErr: ErrMalformed},
		{name: "an unknown key in an event is malformed", body: `{"epoch":"e","events":[{"seq":1,"name":"room.left","at":1}]}`, wantErr: ErrMalformed},
		{name: "an event name over 100 bytes is malformed", body: body("e", ev(1, long(101), "")), wantErr: ErrMalformed},
		{name: "a boolean of the wrong type is malformed", body: body("e", ev(1, "member.updated", `{"member":{"id":"a","audio_muted":"yes"}}`)), wantErr: ErrMalformed},
		{name: "null for a boolean is malformed", body: body("e", ev(1, "member.updated", `{"member":{"id":"a","audio_muted":null}}`)), wantErr: ErrMalformed},
		{name: "null for a name is malformed", body: body("e", ev(1, "member.joined", `{"member":{"id":"a","name":null}}`)), wantErr: ErrMalformed},
		{name: "a camelCase member key is malformed", body: body("e", ev(1, "member.updated", `{"member":{"id":"a","audioMuted":true}}`)), wantErr: ErrMalformed},
		{name: "handRaised is not handraised", body: body("e", ev(1, "member.updated", `{"member":{"id":"a","handRaised":true}}`)), wantErr: ErrMalformed},
		{name: "a key given twice is malformed", body: body("e", ev(1, "member.updated", `{"member":{"id":"a","talking":true,"talking":false}}`)), wantErr: ErrMalformed},
		{name: "an SDK field the wire leaves out is malformed", body: body("e", ev(1, "member.updated", `{"member":{"id":"a","updated":["talking"]}}`)), wantErr: ErrMalformed},
		{name: "an unknown key in data is malformed", body: body("e", ev(1, "member.joined", `{"member":{"id":"a"},"room_id":"r"}`)), wantErr: ErrMalformed},
		{name: "room_session instead of room is malformed", body: body("e", ev(1, "room.joined", `{"member_id":"a","room_session":{"members":[]}}`)), wantErr: ErrMalformed},
		{name: "a camelCase room key is malformed", body: body("e", ev(1, "room.updated", `{"room":{"layoutName":"2x2"}}`)), wantErr: ErrMalformed},
		{name: "data of the wrong type is malformed", body: body("e", ev(1, "member.joined", `[1,2]`)), wantErr: ErrMalformed},
		{name: "null data of a known event is malformed", body: body("e", ev(1, "room.ended", `null`)), wantErr: ErrMalformed},
		{name: "member.joined without a member is malformed", body: body("e", ev(1, "member.joined", `{}`)), wantErr: ErrMalformed},
		{name: "member.talking without talking is malformed", body: body("e", ev(1, "member.talking", `{"member":{"id":"a"}}`)), wantErr: ErrMalformed},
		{name: "a member without an id is malformed", body: body("e", ev(1, "member.left", `{"member":{"name":"x"}}`)), wantErr: ErrMalformed},
		{name: "an empty member id is malformed", body: body("e", ev(1, "member.left", `{"member":{"id":""}}`)), wantErr: ErrMalformed},
		{name: "a member id over 64 bytes is malformed", body: body("e", ev(1, "member.left", `{"member":{"id":"`+long(65)+`"}}`)), wantErr: ErrMalformed},
		{name: "a parent id over 64 bytes is malformed", body: body("e", ev(1, "member.joined", `{"member":{"id":"s","parent_id":"`+long(65)+`"}}`)), wantErr: ErrMalformed},
		{name: "a type over 32 bytes is malformed", body: body("e", ev(1, "member.joined", `{"member":{"id":"s","type":"`+long(33)+`"}}`)), wantErr: ErrMalformed},
		{name: "a self id over 64 bytes is malformed", body: body("e", ev(1, "room.joined", `{"room":{},"member_id":"`+long(65)+`"}`)), wantErr: ErrMalformed},
		{name: "a member name over 100 characters is malformed", body: body("e", ev(1, "member.joined", `{"member":{"id":"a","name":"`+long(101)+`"}}`)), wantErr: ErrMalformed},
		{name: "a name that is not UTF-8 is malformed", body: body("e", ev(1, "member.joined", "{\"member\":{\"id\":\"a\",\"name\":\"\xff\"}}")), wantErr: ErrMalformed},
		{name: "a control character in a string is malformed", body: body("e", ev(1, "member.joined", "{\"member\":{\"id\":\"a\",\"name\":\"a\nb\"}}")), wantErr: ErrMalformed},
		{name: "a layout name over 100 characters is malformed", body: body("e", ev(1, "layout.changed", `{"layout_name":"`+long(101)+`"}`)), wantErr: ErrMalformed},
		{name: "room.joined without a room is malformed", body: body("e", ev(1, "room.joined", `{"member_id":"a"}`)), wantErr: ErrMalformed},
		{name: "room.joined without a member id is malformed", body: body("e", ev(1, "room.joined", `{"room":{}}`)), wantErr: ErrMalformed},
		{name: "members.snapshot without members is malformed", body: body("e", ev(1, "members.snapshot", `{}`)), wantErr: ErrMalformed},
		{name: "an unknown recording state is malformed", body: body("e", ev(1, "recording.updated", `{"state":"stopped"}`)), wantErr: ErrMalformed},
		{name: "data of recording.started with keys is malformed", body: body("e", ev(1, "recording.started", `{"state":"recording"}`)), wantErr: ErrMalformed},
		{name: "invalid JSON in an unknown event's data is malformed", body: body("e", ev(1, "x", `{"a":01}`)), wantErr: ErrMalformed},
		{name: "deeply nested unknown data is malformed", body: body("e", ev(1, "x", strings.Repeat("[", 100)+strings.Repeat("]", 100))), wantErr: ErrMalformed},
		{name: "more than 200 events is malformed", body: body("e", many...), wantErr: ErrMalformed},
		{name: "a body over the size limit is too large", body: body("e", ev(1, "x", `"`+long(MaxBatchBytes)+`"`)), wantErr: ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := DecodeBytes([]byte(tt.body))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got error %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				// The handler logs these messages: no Go type names.
				for _, leak := range []string{"Go ", "wire", "struct", "json:", "uint64", "*", "{"} {
					if strings.Contains(err.Error(), leak) {
						t.Errorf("error %q mentions %q", err, leak)
					}
				}
				return
			}
			if !json.Valid([]byte(tt.body)) {
				t.Errorf("accepted a body that is not JSON")
			}
			if tt.check != nil {
				tt.check(t, b)
			}
		})
	}
}

func TestDecodeNamesTheOffendingField(t *testing.T) {
	tests := []struct{ body, want string }{
		{body("e", ev(1, "room.left", ""), ev(2, "member.updated", `{"member":{"id":"a","audio_muted":"yes"}}`)),
			`roster: malformed event batch: event 2 ("member.updated", seq 2): data.member.audio_muted must be a boolean, not a string`},
		{body("e", ev(7, "member.updated", `{"member":{"id":"a","audioMuted":true}}`)),
			`roster: malformed event batch: event 1 ("member.updated", seq 7): data.member has the unknown key "audioMuted"`},
		{body("e", ev(1, "members.snapshot", `{"members":[{"id":"a"},{"name":"b"}]}`)),
			`roster: malformed event batch: event 1 ("members.snapshot", seq 1): data.members[1].id is missing`},
		{body("e", ev(1, "room.joined", `{"member_id":"a","room":{"locked":1}}`)),
			`roster: malformed event batch: event 1 ("room.joined", seq 1): data.room.locked must be a boolean, not a number`},
	}
	for _, tt := range tests {
		_, err := DecodeBytes([]byte(tt.body))
		if err == nil || err.Error() != tt.want {
			t.Errorf("got %v\nwant %s", err, tt.want)
		}
	}
}

// endless is a body that never ends, like a hostile client's stream.
type endless struct{ read int }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	e.read += len(p)
	return len(p), nil
}

func TestDecodeReadsAtMostTheLimit(t *testing.T) {
	r := &endless{}
	if _, err := Decode(r); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	if r.read > MaxBatchBytes+64<<10 {
		t.Errorf("read %d bytes, want about %d", r.read, MaxBatchBytes)
	}
}

func TestDecodeReportsReadErrors(t *testing.T) {
	boom := errors.New("connection reset")
	_, err := Decode(io.MultiReader(strings.NewReader(`{"epoch":`), iotestErr{boom}))
	if !errors.Is(err, boom) || errors.Is(err, ErrMalformed) {
		t.Errorf("got %v, want the read error", err)
	}
}

type iotestErr struct{ err error }

func (r iotestErr) Read([]byte) (int, error) { return 0, r.err }

func TestDecodeDoesNotAliasTheBody(t *testing.T) {
	raw := []byte(body("e1", ev(1, "member.joined", `{"member":{"id":"a","name":"Al"}}`)))
	b, err := DecodeBytes(raw)
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		raw[i] = 'z'
	}
	if got := b.Events[0].member.name; got != "Al" {
		t.Errorf("got name %q after reusing the body, want %q", got, "Al")
	}
}

// TestSampleBatchesDecode keeps testdata/batches, one wire-format batch of
// each kind of event, valid; testdata/fuzz/FuzzDecode has a seed made of each.
func TestSampleBatchesDecode(t *testing.T) {
	files, err := filepath.Glob("testdata/batches/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample batches: %v", err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(bytes.NewReader(raw)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
