package roster

import (
	"errors"
	"fmt"
	"time"

	"github.com/go-json-experiment/json"
)

// A seat's record is its seatState as compact JSON: one-letter keys, flags
// as bit sets, times as Unix nanoseconds, the type left out for people
// (most rows), and each shown row by the index of its member rather than
// its id, so that a 20-member seat takes about 2.5 KB. JSON rather than
// gob because a record is a value on its own (gob repeats its type
// description in every value) and an operator can read it in redis-cli.
//
// A record that does not decode (written by an incompatible version, or
// damaged) is treated as a seat the store does not hold: the next batch
// starts it afresh and asks for a snapshot, as after an eviction.

type seatRecord struct {
	Epoch    string         `json:"e"`
	Retired  []string       `json:"r,omitzero"`
	LastSeq  uint64         `json:"q,omitzero"`
	NeedSnap bool           `json:"n,omitzero"`
	SelfID   string         `json:"i,omitzero"`
	Members  []memberRecord `json:"m,omitzero"`
	Layout   string         `json:"y,omitzero"`
	Room     uint8          `json:"o,omitzero"` // flagLocked, flagRecording, flagHideVideoMuted
	Left     bool           `json:"l,omitzero"`
	Version  uint64         `json:"v"`
	Tick     uint64         `json:"t,omitzero"`
	Rows     []rowRecord    `json:"w,omitzero"`
	Count    int            `json:"c,omitzero"`
}

type memberRecord struct {
	ID       string `json:"i"`
	Name     string `json:"n,omitzero"`
	Type     string `json:"t,omitzero"` // "" for TypeMember
	ParentID string `json:"p,omitzero"`
	Flags    uint8  `json:"f,omitzero"` // flagAudioMuted to flagHandRaised
	HandTick uint64 `json:"h,omitzero"`
	HandAt   int64  `json:"a,omitzero"` // Unix nanoseconds
	JoinedAt int64  `json:"j,omitzero"`
}

// rowRecord is one shown row: Member indexes seatRecord.Members, unless ID
// is set (a row whose member the state no longer holds; unused today, as
// every stored state was just rendered, but cheap to keep exact).
type rowRecord struct {
	Member int    `json:"m,omitzero"`
	ID     string `json:"i,omitzero"`
	Sum    uint64 `json:"s"`
}

const (
	flagAudioMuted = 1 << iota
	flagVideoMuted
	flagDeaf
	flagVisible
	flagTalking
	flagHandRaised
)

const (
	flagLocked = 1 << iota
	flagRecording
	flagHideVideoMuted
)

func flagBits(flags ...bool) uint8 {
	var b uint8
	for i, on := range flags {
		if on {
			b |= 1 << i
		}
	}
	return b
}

// unixNano and fromUnixNano carry a time through a record; the zero time
// stays zero.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// encodeSeat returns the record of s.
func encodeSeat(s *seatState) ([]byte, error) {
	rec := seatRecord{
		Epoch: s.epoch, Retired: s.retired, LastSeq: s.lastSeq, NeedSnap: s.needSnap,
		SelfID: s.selfID, Layout: s.room.Layout,
		Room: flagBits(s.room.Locked, s.room.Recording, s.room.HideVideoMuted),
		Left: s.left, Version: s.version, Tick: s.tick, Count: s.shown.count,
		Members: make([]memberRecord, 0, len(s.members)),
	}
	at := make(map[string]int, len(s.members))
	for _, m := range s.members {
		at[m.id] = len(rec.Members)
		typ := m.typ
		if typ == TypeMember {
			typ = ""
		}
		rec.Members = append(rec.Members, memberRecord{
			ID: m.id, Name: m.name, Type: typ, ParentID: m.parentID,
			Flags:    flagBits(m.audioMuted, m.videoMuted, m.deaf, m.visible, m.talking, m.handRaised),
			HandTick: m.handTick, HandAt: unixNano(m.handRaisedAt), JoinedAt: unixNano(m.joinedAt),
		})
	}
	if len(s.shown.rows) > 0 {
		rec.Rows = make([]rowRecord, len(s.shown.rows))
		for i, r := range s.shown.rows {
			if j, ok := at[r.id]; ok {
				rec.Rows[i] = rowRecord{Member: j, Sum: r.sum}
			} else {
				rec.Rows[i] = rowRecord{ID: r.id, Sum: r.sum}
			}
		}
	}
	return json.Marshal(&rec)
}

var errBadRecord = errors.New("roster: a seat record does not decode")

// decodeSeat returns the state a record holds.
func decodeSeat(data []byte) (seatState, error) {
	var rec seatRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return seatState{}, fmt.Errorf("%w: %w", errBadRecord, err)
	}
	s := seatState{
		epoch: rec.Epoch, retired: rec.Retired, lastSeq: rec.LastSeq, needSnap: rec.NeedSnap,
		selfID: rec.SelfID, left: rec.Left, version: rec.Version, tick: rec.Tick,
		room: Room{Layout: rec.Layout, Locked: rec.Room&flagLocked != 0,
			Recording: rec.Room&flagRecording != 0, HideVideoMuted: rec.Room&flagHideVideoMuted != 0},
		members: make(map[string]member, len(rec.Members)),
		shown:   shownRows{count: rec.Count},
	}
	if s.epoch == "" {
		return seatState{}, fmt.Errorf("%w: no epoch", errBadRecord)
	}
	for _, m := range rec.Members {
		typ := TypeMember
		if m.Type != "" {
			typ = internType(m.Type)
		}
		f := m.Flags
		s.members[m.ID] = member{
			id: m.ID, name: m.Name, typ: typ, parentID: m.ParentID,
			audioMuted: f&flagAudioMuted != 0, videoMuted: f&flagVideoMuted != 0, deaf: f&flagDeaf != 0,
			visible: f&flagVisible != 0, talking: f&flagTalking != 0, handRaised: f&flagHandRaised != 0,
			handTick: m.HandTick, handRaisedAt: fromUnixNano(m.HandAt), joinedAt: fromUnixNano(m.JoinedAt),
		}
	}
	if len(rec.Rows) > 0 {
		s.shown.rows = make([]rowSig, len(rec.Rows))
		for i, r := range rec.Rows {
			id := r.ID
			if id == "" {
				if r.Member < 0 || r.Member >= len(rec.Members) {
					return seatState{}, fmt.Errorf("%w: row %d names member %d of %d", errBadRecord, i, r.Member, len(rec.Members))
				}
				id = rec.Members[r.Member].ID
			}
			s.shown.rows[i] = rowSig{id: id, sum: r.Sum}
		}
	}
	return s, nil
}
