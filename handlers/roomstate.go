package handlers

import (
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/swrooms/swrooms/push"
)

// Broker is what the handlers need of the push channel: fan-out of a
// room's events to its open streams, and replay of recent ones after a
// reconnect. push.Memory is one (this process only); a shared one lets
// several instances serve one room.
type Broker interface {
	Publish(room string, ev push.Event) (push.Event, error)
	Subscribe(room string, targets []string, lastID string) (*push.Subscription, error)
}

var _ Broker = (*push.Memory)(nil)

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
	maxLobby       = 300   // guests waiting at once
	maxAdmitted    = 2_000 // lobby entries remembered as admitted or denied
	maxBlocked     = 1_000 // blocked browsers and names
	maxSeats       = 2_000 // seats whose name and browser are remembered
	chatHistoryLen = 200
)

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
}

// seatInfo is who took a seat: the name shown in chat and the guest's
// browser identity ("" for a moderator), for blocks.
type seatInfo struct {
	Name    string
	Role    string
	GuestID string
}

// lobbyEntry is a guest waiting to be let in. streams counts the guest's
// open streams; gen changes on every connect and disconnect, so a grace
// timer knows whether it is still the latest.
type lobbyEntry struct {
	ID      string
	Name    string
	GuestID string
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
	c, err := lru.New[string, *liveRoom](maxLiveRooms)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &liveRooms{rooms: c}
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
	}
	l.rooms.Add(room, r)
	return r
}

// blockKey compares names as people read them.
func blockKey(name string) string { return strings.ToLower(strings.Join(strings.Fields(name), " ")) }

// isBlocked reports whether a guest browser or name is blocked; r.mu is held.
func (r *liveRoom) isBlocked(guestID, name string) bool {
	return (guestID != "" && r.blockedGuests[guestID]) || r.blockedNames[blockKey(name)]
}

// seated remembers who took a seat; r.mu is held. Past maxSeats the map
// starts again: the oldest seats are long gone, and a forgotten seat only
// loses its chat name and its block target.
func (r *liveRoom) seated(id string, s seatInfo) {
	if len(r.seats) >= maxSeats {
		r.seats = map[string]seatInfo{}
	}
	r.seats[id] = s
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
	if len(r.decided) >= maxAdmitted {
		r.decided = map[string]bool{}
	}
	r.decided[e.ID] = admitted
	return e
}
