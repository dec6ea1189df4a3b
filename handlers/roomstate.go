package handlers

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/swrooms/swrooms/push"
	"github.com/swrooms/swrooms/roomstate"
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

// RoomStates is what the handlers need of the rooms' live state: the
// lobby and who waits in it, which streams are open (presence leases),
// who holds which seat and which member its page is, removals and
// blocks, the invite key version, and the chat history. Each method is
// one atomic step. roomstate.Memory keeps it in this process (the
// default); roomstate.Redis shares it between instances, and its errors
// are *redisconn.UnavailableError when Redis is out of reach (the error
// handler says so on a 503 page). Times named now are the presence clock
// (Handlers.wall); see the roomstate package for what each method does.
type RoomStates interface {
	SetLobby(ctx context.Context, room string, on bool) error
	Knock(ctx context.Context, room string, k roomstate.Knock) (roomstate.KnockResult, error)
	Lobby(ctx context.Context, room string, now time.Time) (roomstate.Lobby, error)
	Decide(ctx context.Context, room, id string, d roomstate.Decision, now time.Time) (roomstate.Entry, roomstate.Change, error)
	AdmitAll(ctx context.Context, room string, closeLobby bool, now time.Time) ([]roomstate.Entry, roomstate.Change, error)
	EntryState(ctx context.Context, room, id string, now time.Time) (roomstate.EntryState, error)
	Admission(ctx context.Context, room, guestID, nameKey, id string) (roomstate.Admission, error)

	Lease(ctx context.Context, room string, l roomstate.Lease, now time.Time) (roomstate.Change, error)
	EndLease(ctx context.Context, room string, l roomstate.Lease, now time.Time) (roomstate.Change, error)
	Sweep(ctx context.Context, room string, now time.Time) (roomstate.Change, error)
	Moderators(ctx context.Context, room string, now time.Time) ([]string, error)

	TakeSeat(ctx context.Context, room, id string, s roomstate.Seat) error
	Seat(ctx context.Context, room, id string) (roomstate.Seat, bool, error)
	SeatIsMember(ctx context.Context, room, id, member string) (bool, error)
	SeatLeft(ctx context.Context, room, id string) error
	MemberSeat(ctx context.Context, room, member string) (string, roomstate.Seat, bool, error)
	Members(ctx context.Context, room string) ([]string, error)
	Revoked(ctx context.Context, room, id string) (bool, error)
	RevokeMember(ctx context.Context, room, member, except string, now time.Time) ([]string, error)
	Block(ctx context.Context, room string, b roomstate.Block) (roomstate.Blocked, error)

	InviteVersion(ctx context.Context, room string) (int, error)
	NewInvite(ctx context.Context, room string, now time.Time) (int, []roomstate.Entry, roomstate.Change, error)

	Chat(ctx context.Context, room string, p roomstate.Post) (roomstate.Message, error)
	ChatHistory(ctx context.Context, room string) ([]roomstate.Message, error)
	// WaitingGuests counts the guests waiting in every room's lobby.
	WaitingGuests(ctx context.Context) (int, error)
}

var (
	_ RoomStates = (*roomstate.Memory)(nil)
	_ RoomStates = (*roomstate.Redis)(nil)
)

// maxLobbyPerAddress bounds one client address's waiting entries (fewer
// when JOINS_PER_ADDRESS is lower), so that places always stay for
// everyone else (roomstate.Limits.Lobby is 500): a 300-person office
// behind one NAT waits at once, and a flood from one address cannot fill
// the lobby. One browser (its guest cookie) waits once: a second knock
// takes over its entry. Knocks are counted per address on a
// JOINS_PER_ADDRESS budget of their own (limitKnocks).
const maxLobbyPerAddress = 300

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

// evEnd is an internal event, never written to a page: the streams of the
// seat it targets end, on whichever instance they are (the seat was
// removed from the call; a reconnect gets 403).
const evEnd = "swr-end"

// endSeat ends seat id's open streams everywhere.
func (h *Handlers) endSeat(room, id string) error {
	return h.send(room, push.Event{Target: targetSeat(id), Name: evEnd})
}

// announce tells the room what a presence sweep changed: the moderators
// get the lobby anew when waiting guests left it, and every waiting guest
// its status when a host arrived or the last one left.
func (h *Handlers) announce(ctx context.Context, room string, ch roomstate.Change) error {
	if ch.Lobby {
		if err := h.signalLobby(room); err != nil {
			return err
		}
	}
	if !ch.Host {
		return nil
	}
	l, err := h.rooms.Lobby(ctx, room, h.wall())
	if err != nil {
		return fmt.Errorf("lobby of %q: %w", room, err)
	}
	for _, e := range l.Waiting {
		if err := h.signalStatus(room, e.ID); err != nil {
			return err
		}
	}
	return nil
}

// sweepLater sweeps room's presence after d (a lobby grace) and tells the
// room what changed: the timely path; heartbeats of the room's streams
// sweep too, on every instance, should this one die first.
func (h *Handlers) sweepLater(room string, d time.Duration) {
	time.AfterFunc(d, func() {
		ctx := context.Background()
		ch, err := h.rooms.Sweep(ctx, room, h.wall())
		if err == nil {
			err = h.announce(ctx, room, ch)
		}
		if err != nil {
			h.log.Warn("lobby sweep", "room", room, "err", err)
		}
	})
}
