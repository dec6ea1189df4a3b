package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

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
	inv, err := h.checkInvite(room, req.Invite.Room, strconv.FormatInt(req.Invite.Exp, 10), req.Invite.Sig, strconv.Itoa(req.Invite.V))
	if err != nil {
		return err
	}
	addr, _ := c.Locals(clientAddrKey).(string)
	user, problem := normalizeUser(req.User)
	if problem != "" {
		return &userError{status: fiber.StatusUnprocessableEntity, title: "Check your name", message: problem}
	}
	gid := h.guestID(c)
	ctx := c.UserContext()
	lr := h.rooms.get(room)
	lr.mu.Lock()
	defer lr.mu.Unlock()
	st := views.LobbyState{Room: room, Name: user}
	switch {
	case lr.isBlocked(gid, user):
		st.State = lobbyDenied
		return h.render(c, fiber.StatusForbidden, "Lobby", views.LobbyWaiting(st))
	case !lr.lobbyOn:
		id := randomID(12)
		lr.remember(id, true)
		st.State, st.Ticket = lobbyAdmitted, h.lobbyTicket(room, id)
		return h.render(c, fiber.StatusOK, "Lobby", views.LobbyWaiting(st))
	}
	e := lr.waitingGuest(gid)
	switch {
	case e != nil:
		// The same browser again (a reload, a second tab): one entry,
		// under the name it gives now; both pages follow its decision.
		e.Name, e.V = user, inv.V
		e.gen++
	case len(lr.waiting) >= maxLobby:
		return &userError{status: fiber.StatusServiceUnavailable, title: "Lobby full", message: "Too many people are waiting to get in. Try again in a minute.", retryAfter: time.Minute}
	case addr != "" && lr.waitingFrom(addr) >= h.joins.waitingPerAddress:
		return &userError{status: fiber.StatusTooManyRequests, title: "Too many waiting", message: "Too many people from your address are waiting to get in. Try again in a minute.", retryAfter: time.Minute}
	default:
		e = &lobbyEntry{ID: randomID(12), Name: user, GuestID: gid, Addr: addr, V: inv.V, Since: h.now()}
		lr.waiting = append(lr.waiting, e)
	}
	// Gone unless its stream opens within the grace, as after a close.
	if e.streams == 0 {
		h.leaveLobbyLater(room, e, e.gen)
	}
	h.publishLobby(ctx, room, lr)
	h.publish(ctx, room, targetModerators, evKnock, views.KnockNotice(user))
	st.State, st.Ticket = h.lobbyStatusOf(lr, e.ID), h.lobbyTicket(room, e.ID)
	st.StreamURL = h.streamURL(streamTicket{Room: room, Kind: streamLobby, ID: e.ID, Role: views.RoleGuest})
	return h.render(c, fiber.StatusOK, "Lobby", views.LobbyWaiting(st))
}

func (h *Handlers) lobbyTicket(room, id string) string {
	return h.sign.encodeLobbyTicket(lobbyTicket{Room: room, ID: id, Exp: h.now().Add(lobbyTicketTTL).Unix()})
}

// waitingGuest is the waiting entry of browser gid, or nil; lr.mu is held.
func (r *liveRoom) waitingGuest(gid string) *lobbyEntry {
	for _, e := range r.waiting {
		if e.GuestID == gid {
			return e
		}
	}
	return nil
}

// waitingFrom counts the waiting entries from client address addr; r.mu
// is held.
func (r *liveRoom) waitingFrom(addr string) int {
	n := 0
	for _, e := range r.waiting {
		if e.Addr == addr {
			n++
		}
	}
	return n
}

// lobbyStatusOf is what entry id's page shows; lr.mu is held.
func (h *Handlers) lobbyStatusOf(lr *liveRoom, id string) string {
	if admitted, ok := lr.decided[id]; ok {
		if admitted {
			return lobbyAdmitted
		}
		return lobbyDenied
	}
	if lr.moderators == 0 {
		return lobbyNoHost
	}
	return lobbyWaiting
}

// leaveLobbyLater takes e off the waiting list after LobbyGrace unless a
// stream of its opened meanwhile (gen moved on) or it was decided.
func (h *Handlers) leaveLobbyLater(room string, e *lobbyEntry, gen uint64) {
	time.AfterFunc(h.cfg.LobbyGrace, func() {
		lr := h.rooms.get(room)
		lr.mu.Lock()
		defer lr.mu.Unlock()
		if e.gen != gen || e.streams > 0 {
			return
		}
		if _, i := lr.entry(e.ID); i >= 0 {
			lr.waiting = append(lr.waiting[:i], lr.waiting[i+1:]...)
			h.publishLobby(context.Background(), room, lr)
		}
	})
}

// lobbyView is the moderators' lobby panel; lr.mu is held.
func (h *Handlers) lobbyView(room string, lr *liveRoom) views.Lobby {
	l := views.Lobby{Room: room, On: lr.lobbyOn}
	for _, e := range lr.waiting {
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

// publishLobby sends the moderators the lobby panel; lr.mu is held.
func (h *Handlers) publishLobby(ctx context.Context, room string, lr *liveRoom) {
	h.publish(ctx, room, targetModerators, evLobby, views.LobbyPanel(h.lobbyView(room, lr)))
}

// publishLobbyStatus tells every waiting guest whether a host is there;
// lr.mu is held.
func (h *Handlers) publishLobbyStatus(ctx context.Context, room string, lr *liveRoom) {
	for _, e := range lr.waiting {
		h.publish(ctx, room, targetLobby(e.ID), evLobbyStatus, views.LobbyStatus(views.LobbyState{Room: room, Name: e.Name, State: h.lobbyStatusOf(lr, e.ID)}))
	}
}

// decideEntry admits or denies the waiting entry at i and tells its page;
// lr.mu is held.
func (h *Handlers) decideEntry(ctx context.Context, room string, lr *liveRoom, i int, admit bool) {
	h.decideEntryAs(ctx, room, lr, i, views.LobbyState{State: map[bool]string{true: lobbyAdmitted, false: lobbyDenied}[admit]})
}

// decideEntryAs decides the waiting entry at i as st says (admitted or
// denied, and why) and tells its page; lr.mu is held.
func (h *Handlers) decideEntryAs(ctx context.Context, room string, lr *liveRoom, i int, st views.LobbyState) {
	e := lr.decide(i, st.State == lobbyAdmitted)
	st.Room, st.Name = room, e.Name
	h.publish(ctx, room, targetLobby(e.ID), evLobbyStatus, views.LobbyStatus(st))
}

// denyReplacedInvites turns away every waiting guest who knocked with an
// invite older than the room's current version, telling them the link was
// replaced; lr.mu is held.
func (h *Handlers) denyReplacedInvites(ctx context.Context, room string, lr *liveRoom) {
	changed := false
	for i := 0; i < len(lr.waiting); {
		if lr.waiting[i].V < lr.inviteVersion {
			h.decideEntryAs(ctx, room, lr, i, views.LobbyState{State: lobbyDenied, Replaced: true})
			changed = true
			continue
		}
		i++
	}
	if changed {
		h.publishLobby(ctx, room, lr)
	}
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
	lr := h.rooms.get(room)
	lr.mu.Lock()
	defer lr.mu.Unlock()
	switch action := c.Params("action"); action {
	case "admit", "deny":
		_, i := lr.entry(c.FormValue("guest"))
		if i < 0 {
			return &userError{status: fiber.StatusNotFound, title: "Not waiting", message: "That guest is no longer waiting."}
		}
		h.decideEntry(ctx, room, lr, i, action == "admit")
	case "admit-all", "off":
		for len(lr.waiting) > 0 {
			h.decideEntry(ctx, room, lr, 0, true)
		}
		lr.lobbyOn = lr.lobbyOn && action != "off"
	case "on":
		lr.lobbyOn = true
	default:
		return fiber.ErrNotFound
	}
	h.publishLobby(ctx, room, lr)
	return h.render(c, fiber.StatusOK, "Lobby", views.LobbyPanel(h.lobbyView(room, lr)))
}

// setLobby records the host's choice when starting a room.
func (h *Handlers) setLobby(room string, on bool) {
	lr := h.rooms.get(room)
	lr.mu.Lock()
	defer lr.mu.Unlock()
	lr.lobbyOn = on
}

// admitGuest decides whether a guest with a valid invite may have a room
// token now: never for a blocked browser or name; with the lobby on, only
// with the lobby ticket of an admitted entry. The error is a 403 saying so.
func (h *Handlers) admitGuest(c *fiber.Ctx, room, user, ticket string) error {
	gid := h.guestID(c)
	lr := h.rooms.get(room)
	lr.mu.Lock()
	defer lr.mu.Unlock()
	if lr.isBlocked(gid, user) {
		return forbidden("The host removed you from this meeting and you cannot rejoin it.", "", "")
	}
	if !lr.lobbyOn {
		return nil
	}
	if lt, ok := h.sign.decodeLobbyTicket(ticket, h.now()); ok && lt.Room == room && lr.decided[lt.ID] {
		return nil
	}
	return forbidden("The host has not let you in yet. Press Join to wait in the lobby.", "", "")
}

// seatTaken remembers who holds a new seat, for chat names and blocks.
func (h *Handlers) seatTaken(c *fiber.Ctx, st seat, user string) {
	gid := ""
	if st.Role == views.RoleGuest {
		gid = h.guestID(c)
	}
	lr := h.rooms.get(st.Room)
	lr.mu.Lock()
	defer lr.mu.Unlock()
	lr.seated(st.ID, seatInfo{Name: user, Role: st.Role, GuestID: gid})
}

// inviteVersion is the room's current invite key version.
func (h *Handlers) inviteVersion(room string) int {
	lr := h.rooms.get(room)
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return lr.inviteVersion
}

// checkInvite checks an invite's raw parts for room: 403 when it is not
// valid, expired or for another room; 403 saying so when a newer link
// replaced it.
func (h *Handlers) checkInvite(room, invRoom, exp, sig, v string) (invite, error) {
	if v == "0" {
		v = ""
	}
	inv, ok := h.sign.checkInviteV(invRoom, exp, sig, v, h.now())
	if !ok || inv.Room != room {
		return invite{}, forbidden("This invite link is not valid or has expired. Ask the host for a new invite link.", "", "")
	}
	if inv.V < h.inviteVersion(room) {
		return invite{}, inviteReplaced()
	}
	return inv, nil
}

// inviteReplaced answers an invite older than the room's "New invite link".
func inviteReplaced() error {
	return forbidden("This invite link was replaced by a newer one. Ask the host for the new link.", "", "")
}

// inviteLink is the room's current guest link, absolute.
func (h *Handlers) inviteLink(c *fiber.Ctx, room string) string {
	return h.baseURL(c) + inviteURL(h.sign.newInviteV(room, h.now().Add(h.cfg.InviteTTL), h.inviteVersion(room)))
}

// inviteQuery adds the version to a link's query when it has one.
func inviteQuery(q url.Values, inv invite) {
	if inv.V > 0 {
		q.Set("v", strconv.Itoa(inv.V))
	}
}
