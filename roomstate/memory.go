package roomstate

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Memory keeps rooms' live state in this process, safe for concurrent use:
// one lock per room, each operation under it. Rooms past Limits.Rooms are
// forgotten least recently used first.
type Memory struct {
	lim   Limits
	mu    sync.Mutex
	rooms *simplelru.LRU[string, *room] // guarded by mu
}

// NewMemory returns an empty store.
func NewMemory(lim Limits) *Memory {
	lim = lim.withDefaults()
	rooms, err := simplelru.NewLRU[string, *room](lim.Rooms, nil)
	if err != nil {
		panic(err) // only for a size below 1, excluded by the defaults
	}
	return &Memory{lim: lim, rooms: rooms}
}

// room is one room's state; mu guards all of it.
type room struct {
	mu            sync.Mutex
	lobbyOff      bool // a new room's lobby is on: the safe side
	host          bool // the presence flag, for reporting its changes
	knocks        uint64
	inviteVersion int
	waiting       []*entry // in knock order
	decided       map[string]Decision
	leases        map[string]lease
	blocked       map[string]bool // "g:<guest id>", "n:<name key>"
	seats         map[string]Seat
	members       map[string]string
	rivals        map[string][]string // member -> seats whose claim was refused
	revoked       *simplelru.LRU[string, struct{}]
	chat          []Message
	chatSeq       uint64
}

type entry struct {
	Entry
	deadline int64 // ms: waits until then without a lease
}

type lease struct {
	kind, id string
	until    int64 // ms
}

// room returns the room's state, locked; the caller unlocks it.
func (m *Memory) room(name string) *room {
	m.mu.Lock()
	r, ok := m.rooms.Get(name)
	if !ok {
		r = &room{
			decided: map[string]Decision{},
			leases:  map[string]lease{},
			blocked: map[string]bool{},
			seats:   map[string]Seat{},
			members: map[string]string{},
			rivals:  map[string][]string{},
		}
		m.rooms.Add(name, r)
	}
	m.mu.Unlock()
	r.mu.Lock()
	return r
}

// sweep drops lapsed leases and entries and updates the host flag.
func (r *room) sweep(now int64) Change {
	live := map[string]bool{}
	mods := 0
	for k, l := range r.leases {
		switch {
		case l.until <= now:
			delete(r.leases, k)
		case l.kind == LeaseModerator:
			mods++
		default:
			live[l.id] = true
		}
	}
	var ch Change
	r.waiting = slices.DeleteFunc(r.waiting, func(e *entry) bool {
		gone := e.deadline <= now && !live[e.ID]
		ch.Lobby = ch.Lobby || gone
		return gone
	})
	ch.HostPresent = mods > 0
	ch.Host = ch.HostPresent != r.host
	r.host = ch.HostPresent
	return ch
}

// alive reports which waiting entries have not lapsed and whether a host
// is in the call, without changing anything.
func (r *room) alive(now int64) (func(*entry) bool, bool) {
	live := map[string]bool{}
	host := false
	for _, l := range r.leases {
		if l.until > now {
			host = host || l.kind == LeaseModerator
			live[l.id] = live[l.id] || l.kind == LeaseLobby
		}
	}
	return func(e *entry) bool { return e.deadline > now || live[e.ID] }, host
}

func (r *room) isBlocked(guestID, nameKey string) bool {
	return (guestID != "" && r.blocked["g:"+guestID]) || r.blocked["n:"+nameKey]
}

func (r *room) isRevoked(id string) bool {
	if r.revoked != nil && r.revoked.Contains(id) {
		return true
	}
	s, ok := r.seats[id]
	return ok && s.Role != RoleModerator && r.isBlocked(s.GuestID, s.NameKey)
}

// remember records a decision, starting afresh past lim.Decided.
func (r *room) remember(lim Limits, id string, d Decision) {
	if _, ok := r.decided[id]; !ok && len(r.decided) >= lim.Decided {
		r.decided = map[string]Decision{}
	}
	r.decided[id] = d
}

func (r *room) seatLeft(id string) {
	if s, ok := r.seats[id]; ok && s.Member != "" && r.members[s.Member] == id {
		delete(r.members, s.Member)
	}
}

func (r *room) revoke(lim Limits, id string) {
	if r.revoked == nil {
		r.revoked, _ = simplelru.NewLRU[string, struct{}](lim.Revoked, nil)
	}
	r.revoked.Add(id, struct{}{})
	r.seatLeft(id)
}

// soonest is the key of the lease ending first among those pick selects,
// ties to the smaller key (Redis's order of equal scores), and how many
// pick selects.
func (r *room) soonest(pick func(lease) bool) (string, int) {
	first, n := "", 0
	for k, v := range r.leases {
		if !pick(v) {
			continue
		}
		n++
		if f := r.leases[first]; first == "" || v.until < f.until || (v.until == f.until && k < first) {
			first = k
		}
	}
	return first, n
}

// decide takes the entries for which pick is true off the waiting list
// with the decision it gives.
func (r *room) decide(lim Limits, pick func(*entry) (Decision, bool)) []Entry {
	var out []Entry
	r.waiting = slices.DeleteFunc(r.waiting, func(e *entry) bool {
		d, ok := pick(e)
		if ok {
			r.remember(lim, e.ID, d)
			out = append(out, e.Entry)
		}
		return ok
	})
	return out
}

// SetLobby turns room's lobby on or off.
func (m *Memory) SetLobby(_ context.Context, name string, on bool) error {
	r := m.room(name)
	defer r.mu.Unlock()
	r.lobbyOff = !on
	return nil
}

// Knock lets a guest in at once (lobby off), refuses it (blocked, full, too
// many from its address), or adds it to the waiting list, taking over the
// entry its browser already has.
func (m *Memory) Knock(_ context.Context, name string, k Knock) (KnockResult, error) {
	r := m.room(name)
	defer r.mu.Unlock()
	now := ms(k.Now)
	res := KnockResult{Change: r.sweep(now)}
	res.Host = res.Change.HostPresent
	switch {
	case r.isBlocked(k.GuestID, k.NameKey):
		res.Outcome = KnockBlocked
		return res, nil
	case r.lobbyOff:
		r.remember(m.lim, k.ID, Admitted)
		res.Outcome, res.Entry = KnockAdmitted, Entry{ID: k.ID, Name: k.Name, NameKey: k.NameKey, GuestID: k.GuestID, Addr: k.Addr, V: k.V, Since: k.Since}
		return res, nil
	}
	from := 0
	var e *entry
	for _, w := range r.waiting {
		if k.GuestID != "" && w.GuestID == k.GuestID {
			e = w
		}
		if k.Addr != "" && w.Addr == k.Addr {
			from++
		}
	}
	switch {
	case e != nil:
		e.Name, e.NameKey, e.V = k.Name, k.NameKey, k.V
	case len(r.waiting) >= m.lim.Lobby:
		res.Outcome = KnockFull
		return res, nil
	case k.Addr != "" && from >= k.PerAddress:
		res.Outcome = KnockTooMany
		return res, nil
	default:
		r.knocks++
		e = &entry{Entry: Entry{ID: k.ID, Name: k.Name, NameKey: k.NameKey, GuestID: k.GuestID, Addr: k.Addr, V: k.V, Since: k.Since}}
		r.waiting = append(r.waiting, e)
	}
	e.deadline = now + k.Grace.Milliseconds()
	res.Outcome, res.Entry = KnockWaiting, e.Entry
	return res, nil
}

// Lobby is the lobby switch and who waits, leaving out lapsed entries.
func (m *Memory) Lobby(_ context.Context, name string, now time.Time) (Lobby, error) {
	r := m.room(name)
	defer r.mu.Unlock()
	ok, host := r.alive(ms(now))
	l := Lobby{On: !r.lobbyOff, Host: host}
	for _, e := range r.waiting {
		if ok(e) {
			l.Waiting = append(l.Waiting, e.Entry)
		}
	}
	return l, nil
}

// Decide admits or denies waiting entry id; ErrNotWaiting when it is not.
func (m *Memory) Decide(_ context.Context, name, id string, d Decision, now time.Time) (Entry, Change, error) {
	r := m.room(name)
	defer r.mu.Unlock()
	ch := r.sweep(ms(now))
	out := r.decide(m.lim, func(e *entry) (Decision, bool) { return d, e.ID == id })
	if len(out) == 0 {
		return Entry{}, ch, ErrNotWaiting
	}
	return out[0], ch, nil
}

// AdmitAll admits everyone waiting, and turns the lobby off when
// closeLobby is true.
func (m *Memory) AdmitAll(_ context.Context, name string, closeLobby bool, now time.Time) ([]Entry, Change, error) {
	r := m.room(name)
	defer r.mu.Unlock()
	ch := r.sweep(ms(now))
	out := r.decide(m.lim, func(*entry) (Decision, bool) { return Admitted, true })
	r.lobbyOff = r.lobbyOff || closeLobby
	return out, ch, nil
}

// EntryState is what entry id's page shows.
func (m *Memory) EntryState(_ context.Context, name, id string, now time.Time) (EntryState, error) {
	r := m.room(name)
	defer r.mu.Unlock()
	ok, host := r.alive(ms(now))
	if d, decided := r.decided[id]; decided {
		return EntryState{Decision: d, Host: host}, nil
	}
	for _, e := range r.waiting {
		if e.ID == id && ok(e) {
			return EntryState{Waiting: true, Host: host}, nil
		}
	}
	return EntryState{Host: host}, nil
}

// Admission reports whether a guest's browser or name is blocked, whether
// the lobby is on, and whether entry id ("" for none) was admitted.
func (m *Memory) Admission(_ context.Context, name, guestID, nameKey, id string) (Admission, error) {
	r := m.room(name)
	defer r.mu.Unlock()
	return Admission{
		Blocked:  r.isBlocked(guestID, nameKey),
		LobbyOn:  !r.lobbyOff,
		Admitted: id != "" && r.decided[id] == Admitted,
	}, nil
}

// Lease opens or renews a stream's presence, then sweeps.
func (m *Memory) Lease(_ context.Context, name string, l Lease, now time.Time) (Change, error) {
	r := m.room(name)
	defer r.mu.Unlock()
	key := l.Kind + "|" + l.ID + "|" + l.Stream
	if _, ok := r.leases[key]; !ok {
		// The holder's own soonest-ending stream gives way first.
		own := func(v lease) bool { return v.kind == l.Kind && v.id == l.ID }
		switch first, n := r.soonest(own); {
		case n >= m.lim.HolderLeases:
			delete(r.leases, first)
		case len(r.leases) >= m.lim.Leases:
			first, _ = r.soonest(func(lease) bool { return true })
			delete(r.leases, first)
		}
	}
	r.leases[key] = lease{kind: l.Kind, id: l.ID, until: ms(l.Until)}
	return r.sweep(ms(now)), nil
}

// EndLease ends a stream's presence: a waiting entry left without a
// stream waits l.Grace more; then it sweeps.
func (m *Memory) EndLease(_ context.Context, name string, l Lease, now time.Time) (Change, error) {
	r := m.room(name)
	defer r.mu.Unlock()
	t := ms(now)
	delete(r.leases, l.Kind+"|"+l.ID+"|"+l.Stream)
	if l.Kind == LeaseLobby {
		others := false
		for _, o := range r.leases {
			others = others || (o.kind == LeaseLobby && o.id == l.ID && o.until > t)
		}
		for _, e := range r.waiting {
			if e.ID == l.ID && !others {
				e.deadline = t + l.Grace.Milliseconds()
			}
		}
	}
	return r.sweep(t), nil
}

// Sweep drops what has lapsed by now and reports the change.
func (m *Memory) Sweep(_ context.Context, name string, now time.Time) (Change, error) {
	r := m.room(name)
	defer r.mu.Unlock()
	return r.sweep(ms(now)), nil
}

// Moderators are the moderator seats with a live stream.
func (m *Memory) Moderators(_ context.Context, name string, now time.Time) ([]string, error) {
	r := m.room(name)
	defer r.mu.Unlock()
	var out []string
	for _, l := range r.leases {
		if l.kind == LeaseModerator && l.until > ms(now) && !slices.Contains(out, l.id) {
			out = append(out, l.id)
		}
	}
	slices.Sort(out)
	return out, nil
}

// TakeSeat remembers who holds seat id; past Limits.Seats the seats start
// again (the oldest are long gone; a forgotten seat only loses its chat
// name, its block target and its ask buttons).
func (m *Memory) TakeSeat(_ context.Context, name, id string, s Seat) error {
	r := m.room(name)
	defer r.mu.Unlock()
	if len(r.seats) >= m.lim.Seats {
		r.seats, r.members, r.rivals = map[string]Seat{}, map[string]string{}, map[string][]string{}
	}
	r.seats[id] = s
	return nil
}

// Seat is what was recorded of seat id.
func (m *Memory) Seat(_ context.Context, name, id string) (Seat, bool, error) {
	r := m.room(name)
	defer r.mu.Unlock()
	s, ok := r.seats[id]
	return s, ok, nil
}

// SeatIsMember records that seat id's page is member in the call,
// reporting whether that is news (false for an unknown or revoked seat).
// A member moves to a new seat only from one of the same person, as far
// as seats tell (Heir: any host's seat, or a guest seat of the same
// browser): the SDK reattaches a reloaded page to its call, member id and
// all, under the new seat of its new token. The old seat keeps its Member
// field, harmlessly: the members map no longer points to it. Another seat's claim is a page naming
// someone else's member id, and is refused (false). Which of the two lies
// cannot be told, so the refused seat is kept as a rival (at most
// Limits.Rivals a member, and as many members as Limits.Seats), and
// RevokeMember revokes it too.
func (m *Memory) SeatIsMember(_ context.Context, name, id, member string) (bool, error) {
	r := m.room(name)
	defer r.mu.Unlock()
	s, ok := r.seats[id]
	if !ok || s.Member == member || r.isRevoked(id) {
		return false, nil
	}
	if other, ok := r.members[member]; ok && other != id && !Heir(r.seats[other], s) {
		rs := r.rivals[member]
		if rs == nil && len(r.rivals) >= m.lim.Seats {
			r.rivals = map[string][]string{}
		}
		if len(rs) < m.lim.Rivals && !slices.Contains(rs, id) {
			r.rivals[member] = append(rs, id)
		}
		return false, nil
	}
	r.seatLeft(id)
	s.Member = member
	r.seats[id] = s
	r.members[member] = id
	return true, nil
}

// SeatLeft forgets which member seat id's page was.
func (m *Memory) SeatLeft(_ context.Context, name, id string) error {
	r := m.room(name)
	defer r.mu.Unlock()
	r.seatLeft(id)
	return nil
}

// MemberSeat finds the seat whose page is member.
func (m *Memory) MemberSeat(_ context.Context, name, member string) (string, Seat, bool, error) {
	r := m.room(name)
	defer r.mu.Unlock()
	id, ok := r.members[member]
	if !ok {
		return "", Seat{}, false, nil
	}
	return id, r.seats[id], true, nil
}

// Members are the member ids whose page is known.
func (m *Memory) Members(_ context.Context, name string) ([]string, error) {
	r := m.room(name)
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.members))
	for k := range r.members {
		out = append(out, k)
	}
	slices.Sort(out)
	return out, nil
}

// Revoked reports whether seat id was removed, or its guest is blocked.
func (m *Memory) Revoked(_ context.Context, name, id string) (bool, error) {
	r := m.room(name)
	defer r.mu.Unlock()
	return r.isRevoked(id), nil
}

// RevokeMember removes the seat whose page is member and the seats whose
// claim on it was refused (SeatIsMember), but for seat except (a
// moderator's own), returning the seats removed, the holder first.
func (m *Memory) RevokeMember(_ context.Context, name, member, except string, _ time.Time) ([]string, error) {
	r := m.room(name)
	defer r.mu.Unlock()
	var out []string
	if id, ok := r.members[member]; ok && id != except {
		out = append(out, id)
	}
	for _, id := range r.rivals[member] {
		if id != except && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	delete(r.rivals, member)
	for _, id := range out {
		r.revoke(m.lim, id)
	}
	return out, nil
}

// Block records a block (while fewer than Limits.Blocked are recorded),
// revokes b.Seat and every guest seat of a blocked browser or name, and
// denies every waiting entry of one.
func (m *Memory) Block(_ context.Context, name string, b Block) (Blocked, error) {
	r := m.room(name)
	defer r.mu.Unlock()
	var out Blocked
	out.Change = r.sweep(ms(b.Now))
	if len(r.blocked) < m.lim.Blocked {
		if b.GuestID != "" {
			r.blocked["g:"+b.GuestID] = true
		}
		if b.NameKey != "" {
			r.blocked["n:"+b.NameKey] = true
		}
	}
	if b.Seat != "" {
		r.revoke(m.lim, b.Seat)
		out.Seats = append(out.Seats, b.Seat)
	}
	for id, s := range r.seats {
		if id != b.Seat && s.Role != RoleModerator && r.isBlocked(s.GuestID, s.NameKey) {
			r.revoke(m.lim, id)
			out.Seats = append(out.Seats, id)
		}
	}
	slices.Sort(out.Seats)
	out.Denied = r.decide(m.lim, func(e *entry) (Decision, bool) { return Denied, r.isBlocked(e.GuestID, e.NameKey) })
	return out, nil
}

// InviteVersion is the room's invite key version (0 for none yet).
func (m *Memory) InviteVersion(_ context.Context, name string) (int, error) {
	r := m.room(name)
	defer r.mu.Unlock()
	return r.inviteVersion, nil
}

// NewInvite raises the invite key version and denies, as Replaced, every
// entry waiting with an older one.
func (m *Memory) NewInvite(_ context.Context, name string, now time.Time) (int, []Entry, Change, error) {
	r := m.room(name)
	defer r.mu.Unlock()
	ch := r.sweep(ms(now))
	r.inviteVersion++
	out := r.decide(m.lim, func(e *entry) (Decision, bool) { return Replaced, e.V < r.inviteVersion })
	return r.inviteVersion, out, ch, nil
}

// Chat adds p to the history, the oldest dropped past Limits.Chat;
// ErrRevoked for a removed or blocked seat.
func (m *Memory) Chat(_ context.Context, name string, p Post) (Message, error) {
	r := m.room(name)
	defer r.mu.Unlock()
	if r.isRevoked(p.Seat) {
		return Message{}, ErrRevoked
	}
	author := r.seats[p.Seat].Name
	if author == "" {
		author = p.Fallback
	}
	r.chatSeq = nextChatID(r.chatSeq, p.At)
	msg := Message{ID: r.chatSeq, Author: author, Role: p.Role, At: time.UnixMilli(ms(p.At)), Text: p.Text}
	if len(r.chat) >= m.lim.Chat {
		r.chat = slices.Delete(r.chat, 0, len(r.chat)-m.lim.Chat+1)
	}
	r.chat = append(r.chat, msg)
	return msg, nil
}

// ChatHistory is the kept messages, oldest first.
func (m *Memory) ChatHistory(_ context.Context, name string) ([]Message, error) {
	r := m.room(name)
	defer r.mu.Unlock()
	return slices.Clone(r.chat), nil
}

// WaitingGuests counts the guests waiting in every room's lobby, for the
// swrooms_lobby_waiting gauge; lapsed entries count until a sweep.
func (m *Memory) WaitingGuests(context.Context) (int, error) {
	m.mu.Lock()
	rooms := m.rooms.Values()
	m.mu.Unlock()
	n := 0
	for _, r := range rooms {
		r.mu.Lock()
		n += len(r.waiting)
		r.mu.Unlock()
	}
	return n, nil
}
