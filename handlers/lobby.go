package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/swrooms/swrooms/push"
	"github.com/swrooms/swrooms/roomstate"
	"github.com/swrooms/swrooms/views"
)

// Lobby states a guest's page shows (views.LobbyState.State).
const (
	lobbyWaiting  = "waiting"  // a moderator is in the call and can let them in
	lobbyNoHost   = "no-host"  // no moderator is in the call yet
	lobbyAdmitted = "admitted" // ask for a token with the lobby ticket now
	lobbyDenied   = "denied"   // refused or blocked
)

// knockRequest is the guest page's Join: its name and the invite it came
// with.
type knockRequest struct {
	User   string        `json:"user"`
	Invite *views.Invite `json:"invite"`
}

// knock handles "POST /rooms/:room/lobby": a guest with a valid invite
// presses Join. It answers the lobby fragment (views.LobbyWaiting) whose
// data-lobby-state says what the page does next: "admitted" at once when
// the lobby is off (the ticket then carries the guest to a token),
// "waiting" or "no-host" with a stream URL while the guest waits, or
// "denied" (403) for a blocked browser or name. 403 for a bad or replaced
// invite, 422 for a bad name, 429 past the knocks of the client's
// address (limitKnocks) or its share of the lobby, 503 when the lobby is
// full. A second knock from the same browser takes over its waiting entry
// (one entry per browser). No SignalWire call: a waiting guest costs none.
func (h *Handlers) knock(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	room := c.Params("room")
	var req knockRequest
	if err := json.Unmarshal(c.Body(), &req); err != nil || req.Invite == nil {
		return badRequest("The join request could not be read. Reload the page and try again.")
	}
	ctx := c.UserContext()
	inv, err := h.checkInvite(ctx, room, req.Invite.Room, strconv.FormatInt(req.Invite.Exp, 10), req.Invite.Sig, strconv.Itoa(req.Invite.V))
	if err != nil {
		return err
	}
	addr, _ := c.Locals(clientAddrKey).(string)
	user, problem := normalizeUser(req.User)
	if problem != "" {
		return &userError{status: fiber.StatusUnprocessableEntity, title: "Check your name", message: problem}
	}
	res, err := h.rooms.Knock(ctx, room, roomstate.Knock{
		ID: randomID(12), Name: user, NameKey: blockKey(user), GuestID: h.guestID(c), Addr: addr, V: inv.V,
		PerAddress: h.joins.waitingPerAddress, Since: h.now(), Now: h.wall(), Grace: h.cfg.LobbyGrace,
	})
	if err != nil {
		return fmt.Errorf("knock: %w", err)
	}
	if err := h.announce(ctx, room, res.Change); err != nil {
		return err
	}
	st := views.LobbyState{Room: room, Name: user}
	switch res.Outcome {
	case roomstate.KnockBlocked:
		st.State = lobbyDenied
		return h.render(c, fiber.StatusForbidden, "Lobby", views.LobbyWaiting(st))
	case roomstate.KnockAdmitted:
		st.State, st.Ticket = lobbyAdmitted, h.lobbyTicket(room, res.Entry.ID)
		return h.render(c, fiber.StatusOK, "Lobby", views.LobbyWaiting(st))
	case roomstate.KnockFull:
		return &userError{status: fiber.StatusServiceUnavailable, title: "Lobby full", message: "Too many people are waiting to get in. Try again in a minute.", retryAfter: time.Minute}
	case roomstate.KnockTooMany:
		return &userError{status: fiber.StatusTooManyRequests, title: "Too many waiting", message: "Too many people from your address are waiting to get in. Try again in a minute.", retryAfter: time.Minute}
	}
	// Gone unless a stream of its holds it by then, as after a close.
	h.sweepLater(room, h.cfg.LobbyGrace)
	if err := h.signalLobby(room); err != nil {
		return err
	}
	if err := h.publish(ctx, room, targetModerators, evKnock, views.KnockNotice(user)); err != nil {
		return err
	}
	st.State, st.Ticket = waitingState(res.Host), h.lobbyTicket(room, res.Entry.ID)
	st.StreamURL = h.streamURL(streamTicket{Room: room, Kind: streamLobby, ID: res.Entry.ID, Role: views.RoleGuest})
	return h.render(c, fiber.StatusOK, "Lobby", views.LobbyWaiting(st))
}

func (h *Handlers) lobbyTicket(room, id string) string {
	return h.sign.encodeLobbyTicket(lobbyTicket{Room: room, ID: id, Exp: h.now().Add(lobbyTicketTTL).Unix()})
}

// waitingState is a waiting guest's state: whether a host can let them in.
func waitingState(host bool) string {
	if host {
		return lobbyWaiting
	}
	return lobbyNoHost
}

// lobbyStatus is what a lobby entry's page shows.
func lobbyStatus(room string, st roomstate.EntryState) views.LobbyState {
	v := views.LobbyState{Room: room, State: waitingState(st.Host)}
	switch st.Decision {
	case roomstate.Admitted:
		v.State = lobbyAdmitted
	case roomstate.Denied:
		v.State = lobbyDenied
	case roomstate.Replaced:
		v.State, v.Replaced = lobbyDenied, true
	}
	return v
}

// lobbyView is the moderators' lobby panel.
func (h *Handlers) lobbyView(room string, lobby roomstate.Lobby) views.Lobby {
	l := views.Lobby{Room: room, On: lobby.On}
	for _, e := range lobby.Waiting {
		l.Guests = append(l.Guests, views.LobbyGuest{ID: e.ID, Name: e.Name, Waiting: waitedFor(h.now().Sub(e.Since))})
	}
	return l
}

func waitedFor(d time.Duration) string {
	if d < time.Minute {
		return "just now"
	}
	return fmt.Sprintf("%d min", int(d.Minutes()))
}

// signalLobby tells the moderators' streams that the lobby changed; each
// renders it as it is when the signal arrives (stream.go), so that panels
// from several instances, published in any order, end on the latest.
func (h *Handlers) signalLobby(room string) error {
	return h.send(room, push.Event{Target: targetModerators, Name: evLobby})
}

// signalStatus tells entry id's page that its status changed; its stream
// renders the status as it is then, as signalLobby's do.
func (h *Handlers) signalStatus(room, id string) error {
	return h.send(room, push.Event{Target: targetLobby(id), Name: evLobbyStatus})
}

// signalDecided tells the pages of decided entries, and the room what the
// operation's sweep changed (announce); the moderators hear once that the
// lobby changed, whether by the decisions or the sweep: each signal costs
// every moderator stream a read of the lobby.
func (h *Handlers) signalDecided(ctx context.Context, room string, es []roomstate.Entry, ch roomstate.Change) error {
	for _, e := range es {
		if err := h.signalStatus(room, e.ID); err != nil {
			return err
		}
	}
	ch.Lobby = ch.Lobby || len(es) > 0
	return h.announce(ctx, room, ch)
}

// roomSeat authorises a page in the call: a seat credential (X-Seat) of
// the room, else 403.
func (h *Handlers) roomSeat(c *fiber.Ctx, room string) (seat, error) {
	st, ok := h.sign.decodeSeat(c.Get(seatHeader), h.now())
	if !ok || st.Room != room {
		return seat{}, forbidden("This call's credentials are missing or expired. Reload the page and join again.", "", "")
	}
	return st, nil
}

// moderatorSeat authorises a moderator's action: a seat credential
// (X-Seat) of the room with the moderator role, else 403.
func (h *Handlers) moderatorSeat(c *fiber.Ctx, room string) (seat, error) {
	st, ok := h.sign.decodeSeat(c.Get(seatHeader), h.now())
	if !ok || st.Room != room || st.Role != views.RoleModerator {
		return seat{}, forbidden("Only the room's moderators can do that. Reload the page and join again.", "", "")
	}
	return st, nil
}

// lobbyAction handles "POST /rooms/:room/lobby/{admit,deny,admit-all,on,off}"
// for moderators (X-Seat): admit or deny the guest of form field guest,
// admit everyone waiting, or turn the lobby on or off (off admits everyone
// waiting). It answers the lobby panel, which the other moderators get
// over their streams; 403 without a moderator seat, 404 for a guest no
// longer waiting.
func (h *Handlers) lobbyAction(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	room := c.Params("room")
	if _, err := h.moderatorSeat(c, room); err != nil {
		return err
	}
	ctx := c.UserContext()
	var decided []roomstate.Entry
	var ch roomstate.Change
	var err error
	switch action := c.Params("action"); action {
	case "admit", "deny":
		d := map[bool]roomstate.Decision{true: roomstate.Admitted, false: roomstate.Denied}[action == "admit"]
		var e roomstate.Entry
		e, ch, err = h.rooms.Decide(ctx, room, c.FormValue("guest"), d, h.wall())
		if errors.Is(err, roomstate.ErrNotWaiting) {
			return &userError{status: fiber.StatusNotFound, title: "Not waiting", message: "That guest is no longer waiting."}
		}
		decided = []roomstate.Entry{e}
	case "admit-all", "off":
		decided, ch, err = h.rooms.AdmitAll(ctx, room, action == "off", h.wall())
	case "on":
		err = h.rooms.SetLobby(ctx, room, true)
	default:
		return fiber.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("lobby %s: %w", c.Params("action"), err)
	}
	// Every action changes the lobby (or "on" may): its moderators hear.
	ch.Lobby = true
	if err := h.signalDecided(ctx, room, decided, ch); err != nil {
		return err
	}
	l, err := h.rooms.Lobby(ctx, room, h.wall())
	if err != nil {
		return fmt.Errorf("lobby of %q: %w", room, err)
	}
	return h.render(c, fiber.StatusOK, "Lobby", views.LobbyPanel(h.lobbyView(room, l)))
}

// setLobby records the host's choice when starting a room.
func (h *Handlers) setLobby(ctx context.Context, room string, on bool) error {
	if err := h.rooms.SetLobby(ctx, room, on); err != nil {
		return fmt.Errorf("lobby of %q: %w", room, err)
	}
	return nil
}

// admitGuest decides whether a guest with a valid invite may have a room
// token now: never for a blocked browser or name; with the lobby on, only
// with the lobby ticket of an admitted entry. The error is a 403 saying so.
func (h *Handlers) admitGuest(c *fiber.Ctx, room, user, ticket string) error {
	id := ""
	if lt, ok := h.sign.decodeLobbyTicket(ticket, h.now()); ok && lt.Room == room {
		id = lt.ID
	}
	a, err := h.rooms.Admission(c.UserContext(), room, h.guestID(c), blockKey(user), id)
	switch {
	case err != nil:
		return fmt.Errorf("admission to %q: %w", room, err)
	case a.Blocked:
		return forbidden("The host removed you from this meeting and you cannot rejoin it.", "", "")
	case !a.LobbyOn || a.Admitted:
		return nil
	}
	return forbidden("The host has not let you in yet. Press Join to wait in the lobby.", "", "")
}

// seatTaken remembers who holds a new seat, for chat names and blocks.
func (h *Handlers) seatTaken(c *fiber.Ctx, st seat, user string) error {
	gid := ""
	if st.Role == views.RoleGuest {
		gid = h.guestID(c)
	}
	if err := h.rooms.TakeSeat(c.UserContext(), st.Room, st.ID, roomstate.Seat{Name: user, Role: st.Role, GuestID: gid, NameKey: blockKey(user)}); err != nil {
		return fmt.Errorf("seat in %q: %w", st.Room, err)
	}
	return nil
}

// inviteVersion is the room's current invite key version.
func (h *Handlers) inviteVersion(ctx context.Context, room string) (int, error) {
	v, err := h.rooms.InviteVersion(ctx, room)
	if err != nil {
		return 0, fmt.Errorf("invite version of %q: %w", room, err)
	}
	return v, nil
}

// checkInvite checks an invite's raw parts for room: 403 when it is not
// valid, expired or for another room; 403 saying so when a newer link
// replaced it.
func (h *Handlers) checkInvite(ctx context.Context, room, invRoom, exp, sig, v string) (invite, error) {
	if v == "0" {
		v = ""
	}
	inv, ok := h.sign.checkInviteV(invRoom, exp, sig, v, h.now())
	if !ok || inv.Room != room {
		return invite{}, forbidden("This invite link is not valid or has expired. Ask the host for a new invite link.", "", "")
	}
	current, err := h.inviteVersion(ctx, room)
	if err != nil {
		return invite{}, err
	}
	if inv.V < current {
		return invite{}, inviteReplaced()
	}
	return inv, nil
}

// inviteReplaced answers an invite older than the room's "New invite link".
func inviteReplaced() error {
	return forbidden("This invite link was replaced by a newer one. Ask the host for the new link.", "", "")
}

// inviteLink is the room's current guest link, absolute.
func (h *Handlers) inviteLink(c *fiber.Ctx, room string) (string, error) {
	v, err := h.inviteVersion(c.UserContext(), room)
	if err != nil {
		return "", err
	}
	return h.guestLink(c, h.sign.newInviteV(room, h.now().Add(h.cfg.InviteTTL), v)), nil
}
