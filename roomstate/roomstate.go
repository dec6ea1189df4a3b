// Package roomstate keeps a room's live state while its call lasts: whether
// guests wait in a lobby, who waits and what was decided for them, who is
// blocked, the invite key version, the chat history, who holds which seat
// and which member each seat's page is, which seats were removed, and which
// streams are open (presence: "a host is in the call", "this guest is still
// on the lobby page").
//
// Memory keeps it in this process (one instance; a restart forgets it).
// Redis keeps it in Redis, shared by every instance behind a load balancer.
// Both implement the same operations with the same results (one contract
// test suite runs against both); each operation is atomic: a section under
// the room's lock in memory, one Lua script in Redis, so that no failure
// leaves a room half-written. (Redis runs a script whole whatever happens
// to the connection, but would keep what a script wrote before an error of
// its own: the scripts take only arguments this package formed, on keys
// that only they write, so nothing in them can fail midway.)
//
// # Presence
//
// Open streams are not counted per process: each moderator stream and each
// waiting guest's stream holds a lease (Lease) that its heartbeat renews
// and its close ends (EndLease). A lease runs until the time its holder
// gives (the handlers give heartbeat + lobby grace), so the streams of an
// instance that dies without closing them count for that long after their
// last renewal, and no longer. A waiting guest stays in the lobby while one
// of its streams holds a lease or its grace deadline (set by the knock and
// by the close of its last stream) is ahead; a host is in the call while a
// moderator lease is live. Sweep applies the time: it drops lapsed leases
// and entries and reports what changed (Change), exactly once across
// instances, so that one caller tells the room. Reads (Lobby, EntryState)
// leave out what has lapsed even before a sweep.
//
// The timing, with the handlers' heartbeat H (Config.StreamHeartbeat,
// 15 s) and lobby grace G (Config.LobbyGrace, 10 s), leases running H+G
// past each renewal:
//
//   - a guest who closes the lobby page leaves it G after its last stream
//     closed: a timer of the closing instance sweeps then; should that
//     instance die first, the next heartbeat of any moderator's or waiting
//     guest's stream of the room sweeps, within H more;
//   - a guest whose stream's instance is killed keeps waiting: its page
//     reconnects to another instance within seconds (EventSource's retry)
//     and takes a lease there. One that left meanwhile counts until its
//     old lease runs out, at most H+G after the kill, and is gone from the
//     lobby at the next heartbeat sweep, within H more (2H+G = 40 s at
//     worst);
//   - a host whose instance is killed still counts for at most H+G, so its
//     page's reconnect elsewhere takes over without guests seeing "no
//     host" in between; a host that is really gone is seen gone within
//     2H+G.
//
// The times come from the callers (the handlers' wall clock): instances
// sharing a Redis need clocks in step (NTP), as leases of seconds allow.
//
// # Redis keys
//
// Every key of a room R is "swr:room:{R}:<part>"; the braces make them one
// hash slot, so that a script may touch them all on a Redis Cluster too.
// Times are Unix milliseconds. Every write sets the expiry of what it
// writes; counts are bounded as in memory (Limits).
//
//	key part   type    what                                      expiry (from the last write)      bound
//	state      hash    lobby ("0" off; absent: on), host flag,   TTLs.Room                          3 fields
//	                   knock counter
//	invite     string  invite key version                         TTLs.Invite, also renewed by reads -
//	entries    hash    waiting entry id -> JSON                   lease + grace + a minute           Limits.Lobby
//	waiting    zset    waiting entry id -> grace deadline         as entries                         Limits.Lobby
//	decided    hash    entry id -> admitted|denied|replaced       TTLs.Decision                      Limits.Decided (then emptied)
//	leases     zset    "m|seat|stream" or "l|entry|stream" ->     the longest lease                  Limits.Leases
//	                   lease end
//	blocked    set     "g:<guest id>", "n:<name key>"             TTLs.Room                          Limits.Blocked
//	seats      hash    seat id -> JSON (name, role, guest, ...)   TTLs.Seat                          Limits.Seats (then emptied)
//	members    hash    member id -> seat id                       TTLs.Seat                          Limits.Seats
//	rivals     hash    member id -> seat ids refused it,          TTLs.Seat                          Limits.Rivals a member, Limits.Seats
//	                   space-separated                                                               members (then emptied; also with seats)
//	revoked    zset    seat id -> time of removal                 TTLs.Seat                          Limits.Revoked (oldest dropped)
//	chat       list    chat messages as JSON, oldest first        TTLs.Room                          Limits.Chat (LTRIM)
//	chatseq    string  the last chat message id                   TTLs.Room                          -
//
// The invite version's expiry is renewed whenever it is read to sign or
// check a link, so it outlives every link signed with it: once it expires,
// every link signed before its last bump has expired too, and counting
// again from 0 lets no replaced link back in.
package roomstate

import (
	"errors"
	"time"
)

// Roles of a seat, as the handlers name them.
const (
	RoleModerator = "moderator"
	RoleGuest     = "guest"
)

// Decision is what became of a lobby entry.
type Decision string

const (
	Admitted Decision = "admitted"
	Denied   Decision = "denied"
	// Replaced is a denial because the entry's invite link was replaced
	// by "New invite link".
	Replaced Decision = "replaced"
)

// Errors of the operations; Redis failures are *redisconn.UnavailableError.
var (
	// ErrNotWaiting: the lobby entry is not waiting (decided, or gone).
	ErrNotWaiting = errors.New("roomstate: not waiting")
	// ErrRevoked: the seat was removed from the call or its guest blocked.
	ErrRevoked = errors.New("roomstate: seat revoked")
)

// Entry is a guest waiting in the lobby: the browser (guest cookie id),
// client address and invite version it knocked with, and when it first
// knocked (Since, for "waited 3 min").
type Entry struct {
	ID      string
	Name    string
	NameKey string // the name as blocks compare it (handlers.blockKey)
	GuestID string
	Addr    string
	V       int
	Since   time.Time
}

// Knock is a guest asking to be let in. ID is the id a new entry gets (the
// caller draws it at random); Grace is how long the entry waits without a
// stream; PerAddress bounds the entries waiting from one Addr ("" counts
// none).
type Knock struct {
	ID, Name, NameKey, GuestID, Addr string
	V                                int
	PerAddress                       int
	Since                            time.Time // shown as waiting time
	Now                              time.Time // presence clock
	Grace                            time.Duration
}

// Outcome is what a knock led to.
type Outcome string

const (
	KnockBlocked  Outcome = "blocked"  // the browser or name is blocked
	KnockAdmitted Outcome = "admitted" // the lobby is off: Entry.ID is admitted at once
	KnockWaiting  Outcome = "waiting"  // Entry waits (new, or the browser's earlier entry)
	KnockFull     Outcome = "full"     // Limits.Lobby entries wait already
	KnockTooMany  Outcome = "too-many" // PerAddress entries from Addr wait already
)

// KnockResult is a knock's outcome, the entry, whether a host is in the
// call, and what the sweep before it changed.
type KnockResult struct {
	Outcome Outcome
	Entry   Entry
	Host    bool
	Change  Change
}

// Change is what an operation's sweep found: waiting entries left the
// lobby on their own (Lobby), or the host presence flipped (Host, to
// HostPresent). Only the caller whose operation made the change sees it.
type Change struct {
	Lobby       bool
	Host        bool
	HostPresent bool
}

// Lobby is the lobby as moderators see it: whether it is on and who waits,
// in knock order; Host says whether a host is in the call.
type Lobby struct {
	On      bool
	Waiting []Entry
	Host    bool
}

// EntryState is what a lobby entry's page shows: a Decision, or waiting
// (Waiting, with Host saying whether a host is in the call), or neither:
// the entry is gone.
type EntryState struct {
	Decision Decision
	Waiting  bool
	Host     bool
}

// Admission is what a guest's token request is checked against.
type Admission struct {
	Blocked  bool // the browser or name is blocked
	LobbyOn  bool
	Admitted bool // the entry named was admitted
}

// Lease kinds.
const (
	LeaseModerator = "m" // a moderator seat's stream: a host is in the call
	LeaseLobby     = "l" // a waiting guest's stream: the entry stays
)

// Lease is one open stream's presence: Kind, the seat or entry ID, the
// stream's own random id, and when it lapses unless renewed. Grace is, for
// a lobby stream's end, how long its entry then still waits.
type Lease struct {
	Kind, ID, Stream string
	Until            time.Time
	Grace            time.Duration
}

// Seat is who took a seat: the name shown in chat, the role, the guest's
// browser ("" for a moderator) and name key for blocks, and the member id
// its page reported ("" until it did).
type Seat struct {
	Name    string `json:"name"`
	Role    string `json:"role"`
	GuestID string `json:"gid"`
	NameKey string `json:"key"`
	Member  string `json:"member"`
}

// Heir reports whether seat next may take over a member from seat prev:
// both are a moderator's (hosts), or both a guest's from the same browser
// (the same non-empty GuestID), as when a page is reloaded and the SDK
// reattaches it to its call.
func Heir(prev, next Seat) bool {
	if prev.Role == RoleModerator && next.Role == RoleModerator {
		return true
	}
	return prev.Role == RoleGuest && next.Role == RoleGuest && prev.GuestID != "" && prev.GuestID == next.GuestID
}

// Block is "Remove and block": the browser and name to block (either may
// be empty) and the seat to revoke ("" for none).
type Block struct {
	GuestID, NameKey, Seat string
	Now                    time.Time
}

// Blocked is what a block did: the seats it revoked (the blocked one and
// every guest seat of a blocked browser or name), the waiting entries it
// denied, and its sweep's change.
type Blocked struct {
	Seats  []string
	Denied []Entry
	Change Change
}

// Post is a chat message to add: the seat posting it (refused with
// ErrRevoked when removed or blocked), its role, the author name to use
// when the seat is not known, the text and the time.
type Post struct {
	Seat, Role, Fallback, Text string
	At                         time.Time
}

// Message is a chat message as kept. IDs increase within a room and never
// go back, even when its history expires: the next is the greater of the
// last plus one and the time in milliseconds.
type Message struct {
	ID     uint64
	Author string
	Role   string
	At     time.Time
	Text   string
}

// Limits bound one room's state (and, in memory, the rooms kept); zero
// fields take their defaults.
type Limits struct {
	Rooms   int // memory: rooms kept, least recently used dropped (10,000)
	Lobby   int // entries waiting at once (500)
	Decided int // lobby decisions remembered, then forgotten all at once (2,000)
	Blocked int // blocked browsers and names (1,000)
	Seats   int // seats remembered, then forgotten all at once (2,000)
	Revoked int // removed seats remembered, oldest forgotten first (2,000)
	Chat    int // chat messages kept (200)
	Leases  int // open streams with presence (4,000)
	// HolderLeases bounds the open streams with presence of one seat or
	// lobby entry (4: a page and the reconnects of a flaky network): its
	// next stream ends the presence of its own soonest-ending one, so that
	// one ticket opening thousands of streams cannot push the host's
	// presence or other guests' places out past Leases.
	HolderLeases int
	// Rivals bounds the seats kept as rivals of one member (4): seats
	// whose claim to be that member was refused because another seat
	// holds it (Memory.SeatIsMember). An honest page is refused only when
	// it is a reload that cannot be told as one (a guest whose browser
	// cookie changed meanwhile), so a member has a rival mostly when some
	// page lies.
	Rivals int
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.Rooms, 10_000)
	def(&l.Lobby, 500)
	def(&l.Decided, 2_000)
	def(&l.Blocked, 1_000)
	def(&l.Seats, 2_000)
	def(&l.Revoked, 2_000)
	def(&l.Chat, 200)
	def(&l.Leases, 4_000)
	def(&l.HolderLeases, 4)
	def(&l.Rivals, 4)
	return l
}

// TTLs are how long Redis keeps what nothing writes any more; zero fields
// take their defaults. Memory keeps a room until it is the least recently
// used past Limits.Rooms, whatever these say.
type TTLs struct {
	// Invite is the life of an invite link (INVITE_TTL): the invite
	// version outlives every link signed with it. Default 24 h.
	Invite time.Duration
	// Seat is the life of a seat credential: seats, members and removals
	// are kept that long after the last was written. Default 24 h.
	Seat time.Duration
	// Decision is the life of a lobby ticket: an admission is kept that
	// long for the guest's token request. Default 24 h.
	Decision time.Duration
	// Room is how long the lobby switch, blocks and chat history stay
	// after their last change. Default 24 h.
	Room time.Duration
}

func (t TTLs) withDefaults() TTLs {
	def := func(v *time.Duration) {
		if *v <= 0 {
			*v = 24 * time.Hour
		}
	}
	def(&t.Invite)
	def(&t.Seat)
	def(&t.Decision)
	def(&t.Room)
	return t
}

// ms is t in Unix milliseconds, the resolution both implementations use.
func ms(t time.Time) int64 { return t.UnixMilli() }

// nextChatID is the id after last for a message at: never back, even after
// the history and its counter expired.
func nextChatID(last uint64, at time.Time) uint64 {
	return max(last+1, uint64(max(ms(at), 0)))
}
