// Package roster keeps each viewer's live list of room members, built from
// the SignalWire SDK events that the browser island forwards to the server.
//
// The island normalises what the SDK hands it into one wire format (see
// WIRE.md and Decode) and posts batches of events; a Store applies them per
// seat (one viewer's join) and returns the Roster the view renders, with a
// Delta that says which rows changed since the version the page shows. The
// browser holds no roster state of its own, so the store must survive the
// usual failures of that channel:
//
//   - Partial objects: a member or room object changes only the fields it
//     carries. A member list (room.joined with members, members.snapshot)
//     says who is in the room and nothing about fields it leaves out.
//   - Unknown members: an update or talking event for a member the seat does
//     not know makes no row; it sets Roster.NeedsSnapshot, since the seat
//     missed that member's arrival.
//   - Replays: within an epoch, events with a seq already applied are
//     skipped, so a retried or duplicated batch changes nothing.
//   - Reordering: the events of a batch apply in seq order, whatever order
//     they arrive in; a seq lower than one already applied is stale.
//   - Loss and restarts: a seat with no state, a new epoch, a gap in seq or
//     a room.joined without members sets Roster.NeedsSnapshot until a member
//     list is applied; the island answers it with the result of getMembers()
//     as a members.snapshot event.
//   - Rejoins: a new epoch starts an empty roster; batches from the last few
//     replaced epochs fail with ErrStaleEpoch.
//
// Each batch is atomic: if it fails, the seat is as it was.
//
// Two stores hold the seats, bounded by the same Limits and held to the same
// contract (contract_test.go): MemoryStore in this process, the default for
// one instance, and RedisStore in Redis, shared by every instance behind a
// load balancer; its doc lists its keys (all under swr:roster:).
package roster

import (
	"cmp"
	"maps"
	"math/rand/v2"
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
	// SelfID is the viewer's own member id (from room.joined, or the
	// member_id of members.snapshot).
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
	// NeedsSnapshot asks the island to send a fresh member list (a
	// members.snapshot event): the store has no list for this epoch, events
	// were lost, or an event named a member the seat does not know. It stays
	// set until a member list arrives.
	NeedsSnapshot bool
	// Version changes whenever the seat's state changes. A new seat (after a
	// restart, an eviction or on another instance) starts at a random value
	// below 2^52, so that a page's version never matches a seat that does not
	// hold what the page shows, and JavaScript numbers hold it exactly.
	Version uint64
}

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
	// shown is what the roster at version looks like row by row, so that
	// the next batch can tell the page which rows changed (see Delta).
	shown shownRows
}

// newSeatState is the state of a seat that has seen no batch; its version
// is random (see Roster.Version).
func newSeatState() seatState {
	return seatState{version: rand.Uint64N(1 << 52)}
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
	return c // shown is replaced whole, never changed in place
}

// apply applies b to s in seq order, skipping events already applied in this
// epoch, and reports whether a member list was among them. On error s is
// left half-applied: callers apply to a clone.
func (s *seatState) apply(b Batch, now time.Time, capacity int) (list bool, err error) {
	if s.epoch != b.Epoch {
		if slices.Contains(s.retired, b.Epoch) {
			return false, ErrStaleEpoch
		}
		if s.epoch != "" {
			// A rejoin: the old epoch's roster describes a session that is
			// gone, so start empty rather than show stale rows.
			retired := append(s.retired, s.epoch)
			if len(retired) > retiredEpochs {
				retired = retired[len(retired)-retiredEpochs:]
			}
			*s = seatState{retired: retired, version: s.version, tick: s.tick, shown: s.shown}
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
		list = list || e.list
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
	if people > capacity || devices > capacity {
		return false, ErrTooManyMembers
	}
	return list, nil
}

func (s *seatState) applyEvent(e *Event, now time.Time) {
	switch e.kind {
	case kindJoined:
		s.left = false
		s.selfID = e.selfID
		s.patchRoom(e.room)
		if !e.list {
			// room.joined without members (optional in the SDK's types)
			// says nothing about who is here: keep the rows and ask.
			s.needSnap = true
		}
	case kindSnapshot:
		if e.selfID != "" {
			// The island adds member_id so that a seat the server lost (a
			// restart) still knows which row is the viewer's own.
			s.selfID = e.selfID
		}
	case kindAdd:
		m, ok := s.members[e.member.id]
		if !ok {
			m = member{id: e.member.id, typ: TypeMember, joinedAt: now}
		}
		m.patch(&e.member, s.tick, now)
		s.members[m.id] = m
	case kindUpdate, kindTalking:
		// Only member.joined and member lists make rows: an update for a
		// member this seat does not know (it left, or the seat missed its
		// arrival) would make a nameless row, so ask for a list instead.
		m, ok := s.members[e.member.id]
		if !ok {
			s.needSnap = true
			return
		}
		// Keyed by the id the member already holds: Go replaces a string
		// key on assignment, and the batch's copy would double its bytes.
		m.patch(&e.member, s.tick, now)
		s.members[m.id] = m
	case kindLeft:
		delete(s.members, e.member.id)
	case kindRoom:
		s.patchRoom(e.room)
	case kindRecording:
		s.room.Recording = e.flag
	case kindSelfLeft:
		s.left = true
	}
	if e.list {
		s.mergeList(e.members, now)
		s.needSnap = false
	}
}

// mergeList applies a member list: members not in it are removed, members
// in it are merged, so known members keep the fields the list leaves out
// and new members start with every flag false.
func (s *seatState) mergeList(ps []memberPatch, now time.Time) {
	next := make(map[string]member, len(ps))
	for i := range ps {
		p := &ps[i]
		m, ok := next[p.id] // a list naming a member twice merges both
		if !ok {
			if m, ok = s.members[p.id]; !ok {
				m = member{id: p.id, typ: TypeMember, joinedAt: now}
			}
		}
		m.patch(p, s.tick, now)
		next[m.id] = m
	}
	s.members = next
}

// patch sets the fields p carries.
func (m *member) patch(p *memberPatch, tick uint64, now time.Time) {
	if p.has.has(fName) {
		m.name = p.name
	}
	if p.has.has(fParentID) {
		m.parentID = p.parentID
	}
	if p.has.has(fType) && p.typ != "" {
		m.typ = internType(p.typ)
	}
	setIf(&m.audioMuted, p.audioMuted, p.has.has(fAudioMuted))
	setIf(&m.videoMuted, p.videoMuted, p.has.has(fVideoMuted))
	setIf(&m.deaf, p.deaf, p.has.has(fDeaf))
	setIf(&m.visible, p.visible, p.has.has(fVisible))
	setIf(&m.talking, p.talking, p.has.has(fTalking))
	if p.has.has(fHand) {
		switch {
		case p.hand && !m.handRaised:
			m.handRaised, m.handTick, m.handRaisedAt = true, tick, now
		case !p.hand:
			m.handRaised, m.handTick, m.handRaisedAt = false, 0, time.Time{}
		}
	}
}

// internType returns the package's copy of a known member type, so that a
// seat's members share three strings instead of holding one each.
func internType(t string) string {
	switch t {
	case TypeMember:
		return TypeMember
	case TypeScreen:
		return TypeScreen
	case TypeDevice:
		return TypeDevice
	}
	return t
}

func (s *seatState) patchRoom(p roomPatch) {
	if p.has.has(fLayout) {
		s.room.Layout = p.layout
	}
	setIf(&s.room.Locked, p.locked, p.has.has(fLocked))
	setIf(&s.room.Recording, p.recording, p.has.has(fRecording))
	setIf(&s.room.HideVideoMuted, p.hideVideoMuted, p.has.has(fHideVideoMuted))
}

func setIf[T any](dst *T, v T, ok bool) {
	if ok {
		*dst = v
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
