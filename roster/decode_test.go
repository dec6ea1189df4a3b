package roster

import (
	"bytes"
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
			name: "a room.joined snapshot decodes its snake_case members and self id",
			body: body("e1", ev(1, "room.joined", `{"room_session":{"name":"r","layout_name":"2x2","locked":true,
				"members":[{"id":"a","name":"Al","type":"member","audio_muted":true,"handraised":true,"parent_id":null}]},
				"member_id":"a","call_id":"c"}`)),
			check: func(t *testing.T, b Batch) {
				e := b.Events[0]
				if e.kind != kindJoined || !e.snapshot || e.selfID != "a" || len(e.members) != 1 {
					t.Fatalf("got kind %d snapshot %v self %q members %d", e.kind, e.snapshot, e.selfID, len(e.members))
				}
				m := e.members[0]
				if *m.name != "Al" || !*m.audioMuted || !*m.hand || m.parentID != nil || m.videoMuted != nil {
					t.Errorf("got member %+v", m)
				}
				if *e.room.layout != "2x2" || !*e.room.locked {
					t.Errorf("got room %+v", e.room)
				}
			},
		},
		{
			name: "camelCase member fields decode like snake_case ones",
			body: body("e1", ev(1, "member.joined", `{"member":{"id":"s","name":"screen","type":"screen",
				"parentId":"a","audioMuted":true,"videoMuted":true,"handRaised":true}}`)),
			check: func(t *testing.T, b Batch) {
				m := b.Events[0].members[0]
				if *m.parentID != "a" || !*m.audioMuted || !*m.videoMuted || !*m.hand || *m.typ != "screen" {
					t.Errorf("got member %+v", m)
				}
			},
		},
		{
			name: "per-field update variants decode as upserts",
			body: body("e1", ev(1, "member.updated.audioMuted", `{"member":{"id":"a","audio_muted":true}}`),
				ev(2, "member.updated.handraised", `{"member":{"id":"a","handraised":true}}`)),
			check: func(t *testing.T, b Batch) {
				for _, e := range b.Events {
					if e.kind != kindUpsert {
						t.Errorf("event %q: got kind %d, want upsert", e.Name, e.kind)
					}
				}
			},
		},
		{
			name: "unknown event names are kept for their seq and counted as ignored",
			body: body("e1", ev(1, "media.connected", ""), ev(2, "member.promoted", `{"member_id":"a"}`),
				ev(3, "member.left", `{"member":{"id":"a"}}`)),
			check: func(t *testing.T, b Batch) {
				if len(b.Events) != 3 || b.Ignored() != 2 {
					t.Errorf("got %d events, %d ignored, want 3 and 2", len(b.Events), b.Ignored())
				}
			},
		},
		{
			name: "room.left without data is accepted",
			body: body("e1", ev(1, "room.left", "")),
			check: func(t *testing.T, b Batch) {
				if b.Events[0].kind != kindSelfLeft {
					t.Errorf("got kind %d, want self left", b.Events[0].kind)
				}
			},
		},
		{
			name: "a name of 100 multi-byte characters is accepted",
			body: body("e1", ev(1, "member.joined", `{"member":{"id":"a","name":"`+strings.Repeat("é", MaxNameRunes)+`"}}`)),
		},
		{
			name:  "an empty batch is accepted",
			body:  `{"epoch":"e1","events":[]}`,
			check: func(t *testing.T, b Batch) {},
		},
		{name: "invalid JSON is malformed", body: `{"epoch":"e1","events":[`, wantErr: ErrMalformed},
		{name: "a batch that is not an object is malformed", body: `[]`, wantErr: ErrMalformed},
		{name: "a batch without an epoch is malformed", body: `{"events":[]}`, wantErr: ErrMalformed},
		{name: "an epoch over 64 bytes is malformed", body: body(long(65)), wantErr: ErrMalformed},
		{name: "a seq of the wrong type is malformed", body: `{"epoch":"e","events":[{"seq":"1","name":"room.left"}]}`, wantErr: ErrMalformed},
		{name: "a negative seq is malformed", body: `{"epoch":"e","events":[{"seq":-1,"name":"room.left"}]}`, wantErr: ErrMalformed},
		{name: "a fractional seq is malformed", body: `{"epoch":"e","events":[{"seq":1.5,"name":"room.left"}]}`, wantErr: ErrMalformed},
		{name: "a missing seq is malformed", body: `{"epoch":"e","events":[{"name":"room.left"}]}`, wantErr: ErrMalformed},
		{name: "seq zero is malformed", body: body("e", ev(0, "room.left", "")), wantErr: ErrMalformed},
		{name: "a seq used twice is malformed", body: body("e", ev(1, "room.left", ""), ev(1, "room.ended", "")), wantErr: ErrMalformed},
		{name: "an event without a name is malformed", body: `{"epoch":"e","events":[{"seq":1}]}`, wantErr: ErrMalformed},
		{name: "an event name over 100 bytes is malformed", body: body("e", ev(1, long(101), "")), wantErr: ErrMalformed},
		{name: "a boolean of the wrong type is malformed", body: body("e", ev(1, "member.updated", `{"member":{"id":"a","audio_muted":"yes"}}`)), wantErr: ErrMalformed},
		{name: "data of the wrong type is malformed", body: body("e", ev(1, "member.joined", `[1,2]`)), wantErr: ErrMalformed},
		{name: "member.joined without a member is malformed", body: body("e", ev(1, "member.joined", `{}`)), wantErr: ErrMalformed},
		{name: "a member without an id is malformed", body: body("e", ev(1, "member.left", `{"member":{"name":"x"}}`)), wantErr: ErrMalformed},
		{name: "a member id over 64 bytes is malformed", body: body("e", ev(1, "member.left", `{"member":{"id":"`+long(65)+`"}}`)), wantErr: ErrMalformed},
		{name: "a parent id over 64 bytes is malformed", body: body("e", ev(1, "member.joined", `{"member":{"id":"s","parentId":"`+long(65)+`"}}`)), wantErr: ErrMalformed},
		{name: "a self id over 64 bytes is malformed", body: body("e", ev(1, "room.joined", `{"room_session":{"members":[]},"member_id":"`+long(65)+`"}`)), wantErr: ErrMalformed},
		{name: "a member name over 100 characters is malformed", body: body("e", ev(1, "member.joined", `{"member":{"id":"a","name":"`+long(101)+`"}}`)), wantErr: ErrMalformed},
		{name: "a layout name over 100 characters is malformed", body: body("e", ev(1, "layout.changed", `{"layout":{"name":"`+long(101)+`"}}`)), wantErr: ErrMalformed},
		{name: "room.joined without a room session is malformed", body: body("e", ev(1, "room.joined", `{"member_id":"a"}`)), wantErr: ErrMalformed},
		{name: "memberList.updated without members is malformed", body: body("e", ev(1, "memberList.updated", `{}`)), wantErr: ErrMalformed},
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
				// The handler shows these messages: no Go type names.
				for _, leak := range []string{"Go ", "wire", "struct", "json:", "uint64", "*"} {
					if strings.Contains(err.Error(), leak) {
						t.Errorf("error %q mentions %q", err, leak)
					}
				}
				return
			}
			if tt.check != nil {
				tt.check(t, b)
			}
		})
	}
}

func TestDecodeNamesTheOffendingField(t *testing.T) {
	_, err := DecodeBytes([]byte(body("e", ev(1, "room.left", ""), ev(2, "member.updated", `{"member":{"id":"a","audio_muted":"yes"}}`))))
	want := `roster: malformed event batch: event 2: "member.updated" (seq 2): data is not valid: field "member.audio_muted" must be a boolean, not string`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
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
	if got := *b.Events[0].members[0].name; got != "Al" {
		t.Errorf("got name %q after reusing the body, want %q", got, "Al")
	}
}

// TestSampleBatchesDecode keeps testdata/batches, the real-shaped payloads the
// island forwards, valid; they are also the fuzz seeds.
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
