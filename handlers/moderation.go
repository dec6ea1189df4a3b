package handlers

import (
	"context"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/swrooms/swrooms/roster"
	"github.com/swrooms/swrooms/views"
)

// memberSeat finds the seat whose page is member memberID in the call (the
// member id each seat's page reported in room.joined), with what was
// recorded when it was taken; ok is false when no page of this process
// says it is that member (a bot, another instance, a page not yet posted,
// a page that left).
func (h *Handlers) memberSeat(room, memberID string) (string, seatInfo, bool) {
	lr := h.rooms.get(room)
	lr.mu.Lock()
	defer lr.mu.Unlock()
	id, ok := lr.members[memberID]
	if !ok {
		return "", seatInfo{}, false
	}
	return id, lr.seats[id], true
}

// memberName is the name member memberID has in the viewer's roster.
func (h *Handlers) memberName(ctx context.Context, room, viewerSeat, memberID string) string {
	r, ok, err := h.roster.Get(ctx, roster.SeatKey{Room: room, Seat: viewerSeat})
	if err != nil || !ok {
		return ""
	}
	for _, m := range r.Members {
		if m.ID == memberID {
			return m.Name
		}
	}
	return ""
}

// blockMember handles "POST /rooms/:room/block" (form field member, a
// moderator's X-Seat): "Remove and block". The island removes the member
// through the SDK; this records the block, for the room's life in this
// process: the guest's browser (its signed guest cookie, when its page is
// known here) and the name the moderator sees. A blocked guest's knock
// lands on lobby-denied and its token request gets 403. Answers a notice
// fragment; 403 without a moderator seat, 404 for a member neither known
// by page nor by name.
func (h *Handlers) blockMember(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	room := c.Params("room")
	mod, err := h.moderatorSeat(c, room)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	member := c.FormValue("member")
	seatID, info, found := h.memberSeat(room, member)
	name := h.memberName(ctx, room, mod.ID, member)
	if name == "" {
		name = info.Name
	}
	if name == "" && info.GuestID == "" {
		return &userError{status: fiber.StatusNotFound, title: "Not found", message: "That person is not in the call any more."}
	}
	if found && info.Role == views.RoleModerator {
		return &userError{status: fiber.StatusConflict, title: "A host", message: "Hosts cannot be blocked; remove them instead."}
	}
	lr := h.rooms.get(room)
	lr.mu.Lock()
	if len(lr.blockedGuests)+len(lr.blockedNames) < maxBlocked {
		if info.GuestID != "" {
			lr.blockedGuests[info.GuestID] = true
		}
		if name != "" {
			lr.blockedNames[blockKey(name)] = true
		}
	}
	if found {
		lr.revoke(seatID)
	}
	h.applyBlocks(ctx, room, lr)
	lr.mu.Unlock()
	h.log.Info("blocked", "room", room, "member", member)
	return h.render(c, fiber.StatusOK, "Blocked", views.Notice(views.NoticeView{Kind: "blocked", Text: name + " was removed and cannot rejoin this meeting."}))
}

// applyBlocks holds the room's blocks against what exists already: every
// guest seat of a blocked browser or name is revoked (its chat and streams
// end), and every waiting entry of one is denied; lr.mu is held.
func (h *Handlers) applyBlocks(ctx context.Context, room string, lr *liveRoom) {
	for id, s := range lr.seats {
		if s.Role != views.RoleModerator && lr.isBlocked(s.GuestID, s.Name) {
			lr.revoke(id)
		}
	}
	changed := false
	for i := 0; i < len(lr.waiting); {
		if e := lr.waiting[i]; lr.isBlocked(e.GuestID, e.Name) {
			h.decideEntry(ctx, room, lr, i, false)
			changed = true
			continue
		}
		i++
	}
	if changed {
		h.publishLobby(ctx, room, lr)
	}
}

// revokeInvite handles "POST /rooms/:room/invite" (a moderator's X-Seat,
// or the room's host session: the Invite popover works before Join too):
// "New invite link". The room's invite key version goes up, so every
// earlier link gets 403 saying it was replaced, guests waiting with one are
// denied (their page says the link was replaced), and the answer is the
// invite box with the new link (data-testid="invite-link").
func (h *Handlers) revokeInvite(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	room := c.Params("room")
	if _, err := h.moderatorSeat(c, room); err != nil && !h.isHostOf(c, room) {
		return err
	}
	lr := h.rooms.get(room)
	lr.mu.Lock()
	lr.inviteVersion++
	// Guests waiting with an older link would be refused a token once let
	// in: they are turned away now, told why.
	h.denyReplacedInvites(c.UserContext(), room, lr)
	lr.mu.Unlock()
	h.log.Info("invite replaced", "room", room)
	return h.render(c, fiber.StatusOK, "Invite", views.InviteBox(views.InviteView{
		URL:     h.inviteLink(c, room),
		Expires: h.now().Add(h.cfg.InviteTTL).UTC().Format("2 Jan 2006 15:04 MST"),
		Room:    room,
	}))
}

// askUnmute handles "POST /rooms/:room/ask-unmute" and
// "POST /rooms/:room/ask-video-unmute" (form field member, a moderator's
// X-Seat): the member's page gets data-testid="unmute-request" over its
// stream, and only that person's accept unmutes them. 204; 403 without a
// moderator seat; 404 when no page of this server is that member.
func (h *Handlers) askUnmute(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	room := c.Params("room")
	mod, err := h.moderatorSeat(c, room)
	if err != nil {
		return err
	}
	kind := "audio"
	if strings.HasSuffix(c.Path(), "/ask-video-unmute") {
		kind = "video"
	}
	ctx := c.UserContext()
	seatID, _, ok := h.memberSeat(room, c.FormValue("member"))
	if !ok {
		return &userError{status: fiber.StatusNotFound, title: "Cannot ask", message: "That person's page cannot be asked; they can unmute themselves."}
	}
	from := h.seatName(room, mod.ID)
	h.publish(ctx, room, targetSeat(seatID), evUnmuteRequest, views.UnmuteRequest(views.UnmuteAsk{Room: room, Kind: kind, From: from}))
	return c.SendStatus(fiber.StatusNoContent)
}

// unmuteAnswer handles "POST /rooms/:room/unmute-answer" (form fields
// kind audio|video and answer accept|decline, X-Seat): the moderators get
// a notice of the answer (the unmute itself is the person's own SDK call).
// Answers an empty fragment that clears the request; 403 without a seat;
// 400 for another answer.
func (h *Handlers) unmuteAnswer(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	room := c.Params("room")
	st, err := h.roomSeat(c, room)
	if err != nil {
		return err
	}
	answer, kind := c.FormValue("answer"), c.FormValue("kind")
	if (answer != "accept" && answer != "decline") || (kind != "audio" && kind != "video") {
		return badRequest("Answer accept or decline, for audio or video.")
	}
	what := map[string]string{"audio": "microphone", "video": "camera"}[kind]
	text := h.seatName(room, st.ID) + " turned on their " + what + "."
	if answer == "decline" {
		text = h.seatName(room, st.ID) + " declined to turn on their " + what + "."
	}
	h.publish(c.UserContext(), room, targetModerators, evNotice, views.Notice(views.NoticeView{Kind: "unmute-" + answer, Text: text}))
	c.Status(fiber.StatusOK).Type("html", "utf-8")
	return nil
}

// seatName is the name a seat joined with, or a stand-in.
func (h *Handlers) seatName(room, seatID string) string {
	lr := h.rooms.get(room)
	lr.mu.Lock()
	defer lr.mu.Unlock()
	if n := lr.seats[seatID].Name; n != "" {
		return n
	}
	return "Someone"
}
