package handlers

import (
	"time"

	"github.com/gofiber/fiber/v2"
)

// Stream tickets. EventSource sends no headers, so a stream is authorised
// by a ticket in its URL: short-lived (a URL may end up in a proxy's log
// or the browser's history, which the app itself never writes it to) and
// bound to one seat, or to one lobby entry for a waiting guest. The
// island asks for a fresh one (POST .../stream-ticket) before the old one
// runs out, so a reconnect always has a valid ticket.
const streamTicketTTL = 5 * time.Minute

// Kinds of stream subscriber.
const (
	streamSeat  = "seat"  // a page in the call, by its seat id
	streamLobby = "lobby" // a guest waiting in the lobby, by entry id
)

// streamTicket is what a stream URL's ticket grants: Room's events for
// the seat or lobby entry ID; Role is the seat's role (lobby: guest).
type streamTicket struct {
	Room, Kind, ID, Role string
	Exp                  int64
}

func (s signer) encodeStreamTicket(t streamTicket) string {
	return s.seal("stream", t.Exp, t.Room, t.Kind, t.ID, t.Role)
}

func (s signer) decodeStreamTicket(v string, now time.Time) (streamTicket, bool) {
	f, exp, ok := s.open(v, "stream", 4, now)
	if !ok || (f[1] != streamSeat && f[1] != streamLobby) {
		return streamTicket{}, false
	}
	return streamTicket{Room: f[0], Kind: f[1], ID: f[2], Role: f[3], Exp: exp}, true
}

// Lobby tickets name one lobby entry; they are handed to the guest's page
// at the knock and carried by its token request once admitted. Whether
// the entry is admitted is the server's state, never the ticket's, so no
// admission (and no room token) ever travels over the stream.
const (
	lobbyHeader    = "X-Lobby"
	lobbyTicketTTL = 24 * time.Hour
)

type lobbyTicket struct {
	Room, ID string
	Exp      int64
}

func (s signer) encodeLobbyTicket(t lobbyTicket) string {
	return s.seal("lobby", t.Exp, t.Room, t.ID)
}

func (s signer) decodeLobbyTicket(v string, now time.Time) (lobbyTicket, bool) {
	f, exp, ok := s.open(v, "lobby", 2, now)
	if !ok {
		return lobbyTicket{}, false
	}
	return lobbyTicket{Room: f[0], ID: f[1], Exp: exp}, true
}

// Guest identity: a signed, HttpOnly cookie naming a guest's browser, so
// that "Remove and block" keeps that browser out of the room for the
// room's life.
const (
	guestCookie   = "swr_guest"
	guestCookieTT = 30 * 24 * time.Hour
)

// guestID returns the browser's guest identity, setting a new cookie when
// it has none (or a forged or expired one).
func (h *Handlers) guestID(c *fiber.Ctx) string {
	if f, _, ok := h.sign.open(c.Cookies(guestCookie), "guest", 1, h.now()); ok {
		return f[0]
	}
	id := randomID(12)
	exp := h.now().Add(guestCookieTT)
	h.setCookie(c, guestCookie, h.sign.seal("guest", exp.Unix(), id), exp)
	return id
}
