package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/swrooms/swrooms/roomstate"
	"github.com/swrooms/swrooms/roster"
	"github.com/swrooms/swrooms/views"
)

// memberName is the name member memberID has in the viewer's roster; ""
// when that roster is gone or lacks the member.
func (h *Handlers) memberName(ctx context.Context, room, viewerSeat, memberID string) (string, error) {
	r, ok, err := h.roster.Get(ctx, roster.SeatKey{Room: room, Seat: viewerSeat})
	if err != nil {
		return "", fmt.Errorf("roster of %q: %w", room, err)
	}
	if !ok {
		return "", nil
	}
	for _, m := range r.Members {
		if m.ID == memberID {
			return m.Name, nil
		}
	}
	return "", nil
}

// blockMember handles "POST /rooms/:room/block" (form field member, a
// moderator's X-Seat): "Remove and block". The island removes the member
// through the SDK; this records the block, for the room's life: the
// guest's browser (its signed guest cookie, when its page is known) and
// the name the moderator sees. A blocked guest's knock lands on
// lobby-denied and its token request gets 403; the streams of its seats
// end on every instance. Answers a notice fragment; 403 without a
// moderator seat, 404 for a member neither known by page nor by name, 503
// when the room's state cannot be read.
func (h *Handlers) blockMember(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	room := c.Params("room")
	mod, err := h.moderatorSeat(c, room)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	member := c.FormValue("member")
	seatID, info, found, err := h.rooms.MemberSeat(ctx, room, member)
	if err != nil {
		return fmt.Errorf("member of %q: %w", room, err)
	}
	name, err := h.memberName(ctx, room, mod.ID, member)
	if err != nil {
		return err
	}
	if name == "" {
		name = info.Name
	}
	if name == "" && info.GuestID == "" {
		return &userError{status: fiber.StatusNotFound, title: "Not found", message: "That person is not in the call any more."}
	}
	if found && info.Role == views.RoleModerator {
		return &userError{status: fiber.StatusConflict, title: "A host", message: "Hosts cannot be blocked; remove them instead."}
	}
	b := roomstate.Block{GuestID: info.GuestID, NameKey: blockKey(name), Now: h.wall()}
	if found {
		b.Seat = seatID
	}
	done, err := h.rooms.Block(ctx, room, b)
	if err != nil {
		return fmt.Errorf("block in %q: %w", room, err)
	}
	for _, id := range done.Seats {
		if err := h.endSeat(room, id); err != nil {
			return err
		}
	}
	if err := h.signalDecided(ctx, room, done.Denied, done.Change); err != nil {
		return err
	}
	h.log.InfoContext(c.UserContext(), "blocked", "room", room, "member", member)
	return h.render(c, fiber.StatusOK, "Blocked", views.Notice(views.NoticeView{Kind: "blocked", Text: name + " was removed and cannot rejoin this meeting."}))
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
	ctx := c.UserContext()
	// Guests waiting with an older link would be refused a token once let
	// in: they are turned away now, told why.
	_, denied, ch, err := h.rooms.NewInvite(ctx, room, h.wall())
	if err != nil {
		return fmt.Errorf("new invite for %q: %w", room, err)
	}
	if err := h.signalDecided(ctx, room, denied, ch); err != nil {
		return err
	}
	h.log.InfoContext(c.UserContext(), "invite replaced", "room", room)
	link, err := h.inviteLink(c, room)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "Invite", views.InviteBox(views.InviteView{
		URL:     link,
		Expires: expiresText(h.now().Add(h.cfg.InviteTTL)),
		Room:    room,
	}))
}

// askUnmute handles "POST /rooms/:room/ask-unmute" and
// "POST /rooms/:room/ask-video-unmute" (form field member, a moderator's
// X-Seat): the member's page gets data-testid="unmute-request" over its
// stream, whichever instance it is on, and only that person's accept
// unmutes them. 204; 403 without a moderator seat; 404 when no page is
// known to be that member.
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
	seatID, _, ok, err := h.rooms.MemberSeat(ctx, room, c.FormValue("member"))
	if err != nil {
		return fmt.Errorf("member of %q: %w", room, err)
	}
	if !ok {
		return &userError{status: fiber.StatusNotFound, title: "Cannot ask", message: "That person's page cannot be asked; they can unmute themselves."}
	}
	from, err := h.seatName(ctx, room, mod.ID)
	if err != nil {
		return err
	}
	if err := h.publish(ctx, room, targetSeat(seatID), evUnmuteRequest, views.UnmuteRequest(views.UnmuteAsk{Room: room, Kind: kind, From: from})); err != nil {
		return err
	}
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
	ctx := c.UserContext()
	name, err := h.seatName(ctx, room, st.ID)
	if err != nil {
		return err
	}
	text := name + " turned on their " + what + "."
	if answer == "decline" {
		text = name + " declined to turn on their " + what + "."
	}
	if err := h.publish(ctx, room, targetModerators, evNotice, views.Notice(views.NoticeView{Kind: "unmute-" + answer, Text: text})); err != nil {
		return err
	}
	c.Status(fiber.StatusOK).Type("html", "utf-8")
	return nil
}

// seatName is the name a seat joined with, or a stand-in.
func (h *Handlers) seatName(ctx context.Context, room, seatID string) (string, error) {
	s, _, err := h.rooms.Seat(ctx, room, seatID)
	switch {
	case err != nil:
		return "", fmt.Errorf("seat in %q: %w", room, err)
	case s.Name == "":
		return "Someone", nil
	}
	return s.Name, nil
}
