package handlers

import (
	"strings"
	"sync"
	"time"
	"unicode"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/text/unicode/norm"

	"github.com/swrooms/swrooms/push"
	"github.com/swrooms/swrooms/views"
)

// Broker is what the handlers need of the push channel: fan-out of a
// room's events to its open streams, and replay of recent ones after a
// reconnect. push.Memory is one (this process only); a shared one lets
// several instances serve one room.
type Broker interface {
	Publish(room string, ev push.Event) (push.Event, error)
	Subscribe(room string, targets []string, lastID string) (*push.Subscription, error)
}

var (
	_ Broker = (*push.Memory)(nil)
	_ Broker = (*push.Redis)(nil)
)

// Event targets: who among a room's streams receives an event.
const (
	targetAll        = "all" // every page in the call
	targetModerators = "mod" // moderators' pages
)

func targetSeat(id string) string  { return "seat:" + id }
func targetLobby(id string) string { return "lobby:" + id }

// Bounds of one room's live state.
const (
	maxLiveRooms   = 10_000
	maxLobby       = 500   // guests waiting at once
	maxAdmitted    = 2_000 // lobby entries remembered as admitted or denied
	maxBlocked     = 1_000 // blocked browsers and names
	maxSeats       = 2_000 // seats whose name and browser are remembered
	maxRevoked     = 2_000 // seats removed from the call, remembered as such
	chatHistoryLen = 200
)

// maxLobbyPerAddress bounds one client address's waiting entries (fewer
// when JOINS_PER_ADDRESS is lower), so that maxLobby-maxLobbyPerAddress
// places always stay for everyone else: a 300-person office behind one
// NAT waits at once, and a flood from one address cannot fill the lobby.
// One browser (its guest cookie) waits once: a second knock takes over its
// entry. Knocks are counted per address on a JOINS_PER_ADDRESS budget of
// their own (limitKnocks).
const maxLobbyPerAddress = 300

// liveRoom is what the app remembers of a room while it lives, in this
// process's memory (a restart forgets it; README says so): whether guests
// wait in the lobby, who waits, who was admitted, denied or blocked, the
// invite key version, the chat history, and who holds which seat. mu
// also orders publishing against subscribing, so that a stream's
// snapshot and the events after it neither overlap nor leave a hole.
type liveRoom struct {
	mu            sync.Mutex
	lobbyOn       bool
	inviteVersion int
	waiting       []*lobbyEntry // in knock order
	decided       map[string]bool
	blockedGuests map[string]bool
	blockedNames  map[string]bool
	chat          []chatMessage
	chatSeq       uint64
	moderators    int // open moderator streams: a host is in the call
	seats         map[string]seatInfo
	// members finds a seat by the member id its page reported (room.joined):
	// the pages this process can ask, and the seat a removal revokes.
	members map[string]string
	// revoked are seats removed from the call (Remove, Remove and block):
	// their credential no longer chats, streams or renews a stream ticket.
	// Made on the first removal; the oldest forgotten past maxRevoked.
	revoked *lru.Cache[string, struct{}]
	// streams are the open streams of each seat, ended when it is revoked.
	streams map[string]map[*push.Subscription]struct{}
}

// seatInfo is who took a seat: the name shown in chat and the guest's
// browser identity ("" for a moderator), for blocks; SelfID is the member
// id its page reported, once it did.
type seatInfo struct {
	Name    string
	Role    string
	GuestID string
	SelfID  string
}

// lobbyEntry is a guest waiting to be let in, with the browser, client
// address (clientAddrs.key) and invite version it knocked with. streams
// counts the guest's open streams; gen changes on every connect and
// disconnect, so a grace timer knows whether it is still the latest.
type lobbyEntry struct {
	ID      string
	Name    string
	GuestID string
	Addr    string
	V       int
	Since   time.Time
	streams int
	gen     uint64
}

// liveRooms holds the rooms' live state, least recently used dropped past
// maxLiveRooms.
type liveRooms struct {
	mu    sync.Mutex
	rooms *lru.Cache[string, *liveRoom]
}

func newLiveRooms() *liveRooms {
	return &liveRooms{rooms: mustLRUOf[string, *liveRoom](maxLiveRooms)}
}

// get returns the room's state, creating it: a room this process has not
// seen (a restart, another instance) starts with the lobby on, the safe
// side until its host says otherwise.
func (l *liveRooms) get(room string) *liveRoom {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r, ok := l.rooms.Get(room); ok {
		return r
	}
	r := &liveRoom{
		lobbyOn:       true,
		decided:       map[string]bool{},
		blockedGuests: map[string]bool{},
		blockedNames:  map[string]bool{},
		seats:         map[string]seatInfo{},
		members:       map[string]string{},
		streams:       map[string]map[*push.Subscription]struct{}{},
	}
	l.rooms.Add(room, r)
	return r
}

// blockKey compares names as people read them, so that a blocked name
// cannot come back looking the same: compatibility forms folded (NFKC:
// fullwidth and mathematical letters, ligatures, non-breaking spaces),
// invisible characters dropped (default-ignorable and format characters:
// ZWJ, ZWNJ, word joiner, soft hyphen, variation selectors, bidi marks,
// overrides and isolates), case folded, spaces collapsed. Look-alikes from
// other scripts (Cyrillic "а" for Latin "a") still differ: the browser
// block catches the same browser under any name.
func blockKey(name string) string {
	var b strings.Builder
	for _, r := range norm.NFKC.String(name) {
		if isIgnorable(r) {
			continue
		}
		b.WriteRune(foldRune(r))
	}
	// Again: folding case can make what NFKC composes differently.
	return strings.Join(strings.Fields(norm.NFKC.String(b.String())), " ")
}

// isIgnorable is Unicode's Default_Ignorable_Code_Point, roughly: format
// characters (Cf), variation selectors and the other ignorables, which
// render as nothing.
func isIgnorable(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}

// foldRune is r's case folding: the smallest rune of its case orbit, so
// that "S", "s" and "ſ", or "Σ", "σ" and "ς", fold alike.
func foldRune(r rune) rune {
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	return m
}

// isBlocked reports whether a guest browser or name is blocked; r.mu is held.
func (r *liveRoom) isBlocked(guestID, name string) bool {
	return (guestID != "" && r.blockedGuests[guestID]) || r.blockedNames[blockKey(name)]
}

// seated remembers who took a seat; r.mu is held. Past maxSeats the map
// starts again: the oldest seats are long gone, and a forgotten seat only
// loses its chat name, its block target and its ask buttons.
func (r *liveRoom) seated(id string, s seatInfo) {
	if len(r.seats) >= maxSeats {
		r.seats = map[string]seatInfo{}
		r.members = map[string]string{}
	}
	r.seats[id] = s
}

// seatIsMember records that seat id's page is member memberID in the call,
// reporting whether that is news; r.mu is held.
func (r *liveRoom) seatIsMember(id, memberID string) bool {
	s, ok := r.seats[id]
	if !ok || s.SelfID == memberID || r.isRevoked(id) {
		return false // a seat from before a restart is not asked: its name is unknown
	}
	if s.SelfID != "" {
		delete(r.members, s.SelfID)
	}
	s.SelfID = memberID
	r.seats[id] = s
	r.members[memberID] = id
	return true
}

// moderatorStreams are the moderator seats with an open stream; r.mu is
// held.
func (r *liveRoom) moderatorStreams() []string {
	var out []string
	for id := range r.streams {
		if r.seats[id].Role == views.RoleModerator {
			out = append(out, id)
		}
	}
	return out
}

// seatLeft forgets which member seat id's page was: it left the call, so
// nobody can be asked there; r.mu is held.
func (r *liveRoom) seatLeft(id string) {
	if s, ok := r.seats[id]; ok && s.SelfID != "" && r.members[s.SelfID] == id {
		delete(r.members, s.SelfID)
	}
}

// isRevoked reports whether seat id may no longer chat or stream: it was
// removed from the call, or its browser or name is blocked now; r.mu is
// held.
func (r *liveRoom) isRevoked(id string) bool {
	if r.revoked != nil && r.revoked.Contains(id) {
		return true
	}
	s, ok := r.seats[id]
	return ok && s.Role != views.RoleModerator && r.isBlocked(s.GuestID, s.Name)
}

// revoke takes seat id out of the call for this server: its credential no
// longer chats, streams or renews a stream ticket, and its open streams
// end (a reconnect gets 403); r.mu is held.
func (r *liveRoom) revoke(id string) {
	if r.revoked == nil {
		r.revoked = mustLRUOf[string, struct{}](maxRevoked)
	}
	r.revoked.Add(id, struct{}{})
	r.seatLeft(id)
	for sub := range r.streams[id] {
		sub.Close()
	}
	delete(r.streams, id)
}

// streamOpened and streamEnded track a seat's open streams; r.mu is held.
func (r *liveRoom) streamOpened(id string, sub *push.Subscription) {
	if r.streams[id] == nil {
		r.streams[id] = map[*push.Subscription]struct{}{}
	}
	r.streams[id][sub] = struct{}{}
}

func (r *liveRoom) streamEnded(id string, sub *push.Subscription) {
	delete(r.streams[id], sub)
	if len(r.streams[id]) == 0 {
		delete(r.streams, id)
	}
}

func mustLRUOf[K comparable, V any](n int) *lru.Cache[K, V] {
	c, err := lru.New[K, V](n)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return c
}

func (r *liveRoom) entry(id string) (*lobbyEntry, int) {
	for i, e := range r.waiting {
		if e.ID == id {
			return e, i
		}
	}
	return nil, -1
}

// decide takes an entry off the waiting list as admitted or denied; r.mu
// is held.
func (r *liveRoom) decide(i int, admitted bool) *lobbyEntry {
	e := r.waiting[i]
	r.waiting = append(r.waiting[:i], r.waiting[i+1:]...)
	r.remember(e.ID, admitted)
	return e
}

// remember records lobby entry id as admitted or denied, starting afresh
// past maxAdmitted; r.mu is held.
func (r *liveRoom) remember(id string, admitted bool) {
	if len(r.decided) >= maxAdmitted {
		r.decided = map[string]bool{}
	}
	r.decided[id] = admitted
}
