// Package roster keeps each viewer's live list of room members, built from
// the SignalWire SDK events that the browser island forwards to the server.
//
// The island posts batches of events (see Decode for the wire format); a
// Store applies them per seat (one viewer's join) and returns the Roster the
// view renders. The browser holds no roster state of its own, so the store
// must survive the usual failures of that channel:
//
//   - Replays: within an epoch, events with a seq already applied are
//     skipped, so a retried or duplicated batch changes nothing.
//   - Reordering: the events of a batch apply in seq order, whatever order
//     they arrive in; a seq lower than one already applied is stale.
//   - Loss and restarts: a seat with no state, a new epoch, or a gap in seq
//     sets Roster.NeedsSnapshot until a snapshot (room.joined with members,
//     or memberList.updated) is applied; the island answers it by sending
//     the result of getMembers() as a memberList.updated event.
//   - Rejoins: a new epoch starts an empty roster; batches from the last few
//     replaced epochs fail with ErrStaleEpoch.
//
// Each batch is atomic: if it fails, the seat is as it was.
package roster

import (
	"cmp"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Member is one row of the roster as the view shows it.
type Member struct {
	ID   string
	Name string
	// Type is TypeMember, TypeScreen or TypeDevice; any other type a newer
	// SDK sends is shown like a device.
	Type     string
	ParentID string // set for screen shares and devices

	AudioMuted bool
	VideoMuted bool
	Deaf       bool
	Visible    bool
	Talking    bool
	HandRaised bool

	// HandRaisedAt is when this server saw the hand go up; zero when down.
	HandRaisedAt time.Time
	// JoinedAt is when this server first saw the member in this epoch.
	JoinedAt time.Time

	// Children are the member's screen shares and extra devices, sorted by
	// name case-insensitively, then by id.
	Children []Member
}

// Room is the room state the panel shows.
type Room struct {
	Layout         string
	Locked         bool
	Recording      bool
	HideVideoMuted bool
}

// Roster is one seat's view of its room.
type Roster struct {
	// SelfID is the viewer's own member id (from room.joined).
	SelfID string
	// Members are the rows: people first, sorted with raised hands first
	// (earliest first), then by name case-insensitively, then by id. After
	// them come screen shares and devices whose parent is not in the roster,
	// sorted by name then id; they stay visible rather than vanish because
	// their parent's row may only be missing for a moment (events after a
	// restart, before the snapshot), and a moderator may need to see them.
	Members []Member
	// Count is the number of people (rows of TypeMember); it counts neither
	// screen shares nor devices.
	Count int
	Room  Room
	// Left is set once the viewer's own session left or the room ended.
	Left bool
	// NeedsSnapshot asks the island to send a fresh member list (as a
	// memberList.updated event): the store has no snapshot for this epoch,
	// or events were lost. It stays set until a snapshot arrives.
	NeedsSnapshot bool
	// Version changes whenever the seat's state changes. It restarts when
	// the seat is evicted or the server restarts, so it is no cache
	// validator on its own.
	Version uint64
}

// ErrTooManyMembers reports a batch that would leave more people, or more
// screen shares and devices, than Limits.MaxMembersPerSeat; the batch is not
// applied.
var ErrTooManyMembers = errors.New("roster: the room has more members than this server can track")

// ErrStaleEpoch reports a batch from an epoch that a newer join of the same
// seat has replaced (a delayed request, or a second tab with the same seat).
// The batch is not applied (HTTP 409).
var ErrStaleEpoch = errors.New("roster: this page's session was replaced by a newer one")

// retiredEpochs is how many replaced epochs a seat remembers, so that a late
// batch from one of them cannot flip the seat back and forth.
const retiredEpochs = 4

// member is the stored form of a row; handTick orders hands raised within
// the same clock reading.
type member struct {
	id, name, typ, parentID                                    string
	audioMuted, videoMuted, deaf, visible, talking, handRaised bool
	handTick                                                   uint64
	handRaisedAt, joinedAt                                     time.Time
}

// seatState is the pure state machine behind a store: no locks, no clock of
// its own, so that any Store implementation can reuse it.
type seatState struct {
	epoch    string // "" until the first batch
	retired  []string
	lastSeq  uint64
	needSnap bool
	selfID   string
	members  map[string]member
	room     Room
	left     bool
	version  uint64
	tick     uint64 // counts applied events; orders raised hands
}

// pending reports whether b would change s, so that a replayed batch costs
// no copy.
func (s *seatState) pending(b Batch) bool {
	if s.epoch != b.Epoch {
		return true
	}
	for _, e := range b.Events {
		if e.Seq > s.lastSeq {
			return true
		}
	}
	return false
}

func (s *seatState) clone() seatState {
	c := *s
	c.retired = slices.Clone(s.retired)
	c.members = maps.Clone(s.members)
	return c
}

// apply applies b to s in seq order, skipping events already applied in this
// epoch. On error s is left half-applied: callers apply to a clone.
func (s *seatState) apply(b Batch, now time.Time, maxMembers int) error {
	if s.epoch != b.Epoch {
		if slices.Contains(s.retired, b.Epoch) {
			return ErrStaleEpoch
		}
		if s.epoch != "" {
			// A rejoin: the old epoch's roster describes a session that is
			// gone, so start empty rather than show stale rows.
			retired := append(s.retired, s.epoch)
			if len(retired) > retiredEpochs {
				retired = retired[len(retired)-retiredEpochs:]
			}
			*s = seatState{retired: retired, version: s.version, tick: s.tick}
		}
		s.epoch = b.Epoch
		s.needSnap = true
		s.version++
	}
	if s.members == nil {
		s.members = make(map[string]member)
	}

	events := make([]*Event, 0, len(b.Events))
	for i := range b.Events {
		if b.Events[i].Seq > s.lastSeq {
			events = append(events, &b.Events[i])
		}
	}
	slices.SortFunc(events, func(a, b *Event) int { return cmp.Compare(a.Seq, b.Seq) })
	applied := false
	for _, e := range events {
		if e.Seq <= s.lastSeq {
			continue // a duplicate seq in a hand-built batch
		}
		if s.lastSeq != 0 && e.Seq != s.lastSeq+1 {
			s.needSnap = true // events were lost
		}
		s.tick++
		s.applyEvent(e, now)
		s.lastSeq = e.Seq
		applied = true
	}
	if applied {
		s.version++
	}

	people, devices := 0, 0
	for _, m := range s.members {
		if m.typ == TypeMember {
			people++
		} else {
			devices++
		}
	}
	if people > maxMembers || devices > maxMembers {
		return ErrTooManyMembers
	}
	return nil
}

func (s *seatState) applyEvent(e *Event, now time.Time) {
	switch e.kind {
	case kindJoined:
		s.left = false
		if e.selfID != "" {
			s.selfID = e.selfID
		}
		s.room = Room{}
		s.patchRoom(e.room)
		if e.snapshot {
			s.replaceMembers(e.members, now)
		}
	case kindMemberList:
		if e.selfID != "" {
			s.selfID = e.selfID
		}
		s.replaceMembers(e.members, now)
	case kindUpsert:
		for _, p := range e.members {
			m, ok := s.members[p.id]
			if !ok {
				m = member{id: p.id, typ: TypeMember, joinedAt: now}
			}
			m.patch(p, s.tick, now)
			s.members[p.id] = m
		}
	case kindLeft:
		delete(s.members, e.memberID)
	case kindTalking:
		// Talking alone cannot create a row: its payload has no name.
		if m, ok := s.members[e.memberID]; ok && e.flag != nil {
			m.talking = *e.flag
			s.members[e.memberID] = m
		}
	case kindRoom:
		s.patchRoom(e.room)
	case kindRecording:
		if e.flag != nil {
			s.room.Recording = *e.flag
		}
	case kindSelfLeft:
		s.left = true
	}
	if e.snapshot {
		s.needSnap = false
	}
}

// replaceMembers installs a snapshot. Absent fields mean false, as in any
// full listing; join times and the order of hands already raised are kept
// for members the roster already knew.
func (s *seatState) replaceMembers(ps []memberPatch, now time.Time) {
	next := make(map[string]member, len(ps))
	for _, p := range ps {
		m := member{id: p.id, typ: TypeMember, joinedAt: now}
		if old, ok := s.members[p.id]; ok {
			m.joinedAt = old.joinedAt
			m.handRaised, m.handTick, m.handRaisedAt = old.handRaised, old.handTick, old.handRaisedAt
		}
		if p.hand == nil {
			p.hand = ptr(false)
		}
		m.patch(p, s.tick, now)
		next[p.id] = m
	}
	s.members = next
}

func (m *member) patch(p memberPatch, tick uint64, now time.Time) {
	set(&m.name, p.name)
	set(&m.parentID, p.parentID)
	if p.typ != nil && *p.typ != "" {
		m.typ = *p.typ
	}
	set(&m.audioMuted, p.audioMuted)
	set(&m.videoMuted, p.videoMuted)
	set(&m.deaf, p.deaf)
	set(&m.visible, p.visible)
	set(&m.talking, p.talking)
	if p.hand != nil {
		switch {
		case *p.hand && !m.handRaised:
			m.handRaised, m.handTick, m.handRaisedAt = true, tick, now
		case !*p.hand:
			m.handRaised, m.handTick, m.handRaisedAt = false, 0, time.Time{}
		}
	}
}

func (s *seatState) patchRoom(p roomPatch) {
	set(&s.room.Layout, p.layout)
	set(&s.room.Locked, p.locked)
	set(&s.room.Recording, p.recording)
	set(&s.room.HideVideoMuted, p.hideVideoMuted)
}

func set[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// roster builds the view of s; it shares no memory with s.
func (s *seatState) roster() Roster {
	r := Roster{
		SelfID:        s.selfID,
		Room:          s.room,
		Left:          s.left,
		NeedsSnapshot: s.needSnap,
		Version:       s.version,
	}
	backing := make([]member, 0, len(s.members))
	for _, m := range s.members {
		backing = append(backing, m)
	}
	// Sorting pointers moves 8 bytes per swap instead of a whole member.
	people := make([]*member, 0, len(backing))
	var devices []*member
	for i := range backing {
		if backing[i].typ == TypeMember {
			people = append(people, &backing[i])
		} else {
			devices = append(devices, &backing[i])
		}
	}
	slices.SortFunc(people, compareMembers)
	slices.SortFunc(devices, compareNames)

	r.Members = make([]Member, 0, len(backing))
	row := make(map[string]int, len(people))
	for _, m := range people {
		row[m.id] = len(r.Members)
		r.Members = append(r.Members, m.view())
	}
	r.Count = len(people)
	orphans := devices[:0]
	for _, m := range devices {
		if i, ok := row[m.parentID]; ok {
			r.Members[i].Children = append(r.Members[i].Children, m.view())
		} else {
			orphans = append(orphans, m)
		}
	}
	for _, m := range orphans {
		r.Members = append(r.Members, m.view())
	}
	return r
}

func (m *member) view() Member {
	return Member{
		ID: m.id, Name: m.name, Type: m.typ, ParentID: m.parentID,
		AudioMuted: m.audioMuted, VideoMuted: m.videoMuted, Deaf: m.deaf,
		Visible: m.visible, Talking: m.talking, HandRaised: m.handRaised,
		HandRaisedAt: m.handRaisedAt, JoinedAt: m.joinedAt,
	}
}

// compareMembers orders raised hands first, earliest first, then names
// case-insensitively, then ids so that the order never depends on map order.
func compareMembers(a, b *member) int {
	if a.handRaised != b.handRaised {
		if a.handRaised {
			return -1
		}
		return 1
	}
	if a.handRaised {
		if c := cmp.Compare(a.handTick, b.handTick); c != 0 {
			return c
		}
	}
	return compareNames(a, b)
}

// compareNames orders names case-insensitively, then ids.
func compareNames(a, b *member) int {
	if c := compareFold(a.name, b.name); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

// compareFold compares s and t rune by rune in lower case without allocating,
// which matters because it runs for every pair the sort compares; most names
// are ASCII, which skips rune decoding.
func compareFold(s, t string) int {
	for s != "" && t != "" {
		if c1, c2 := s[0], t[0]; c1 < utf8.RuneSelf && c2 < utf8.RuneSelf {
			if c1 != c2 {
				if c := cmp.Compare(lowerASCII(c1), lowerASCII(c2)); c != 0 {
					return c
				}
			}
			s, t = s[1:], t[1:]
			continue
		}
		r1, n1 := utf8.DecodeRuneInString(s)
		r2, n2 := utf8.DecodeRuneInString(t)
		if r1 != r2 {
			if c := cmp.Compare(unicode.ToLower(r1), unicode.ToLower(r2)); c != 0 {
				return c
			}
		}
		s, t = s[n1:], t[n2:]
	}
	return cmp.Compare(len(s), len(t))
}

func lowerASCII(c byte) rune {
	if 'A' <= c && c <= 'Z' {
		c += 'a' - 'A'
	}
	return rune(c)
}
