package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/swrooms/swrooms/signalwire"
	"github.com/swrooms/swrooms/views"
)

// joinFailedRequest is the island's report of a join the SDK refused: the
// code and message of the SDK's error, for the log only.
type joinFailedRequest struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Actions the island takes after a failed join.
const (
	// joinRejoin: the room was missing and has been created again; fetch a
	// new token and join once more.
	joinRejoin = "rejoin"
	// joinRetry: the room exists, so the failure was something else (the
	// room is locked or full, the network); say so and let the user retry.
	joinRetry = "retry"
	// joinGone: the room no longer exists and this page may not create it;
	// go to Location.
	joinGone = "gone"
)

// joinFailedResponse tells the island what to do next: Action is one of
// joinRejoin, joinRetry or joinGone; Location is set for joinGone.
type joinFailedResponse struct {
	Action   string `json:"action"`
	Location string `json:"location,omitempty"`
}

// joinFailed handles "POST /rooms/:room/join-failed": after the SDK could
// not join, it looks the room up (GET /rooms/{name}, one SignalWire call,
// only on this failure path, so a normal join stays one call). SignalWire
// issues tokens for rooms that no longer exist when auto_create_room is
// false, and the app trusts its known-room cache for an hour, so a room
// deleted meanwhile shows up only here. A host's room is created again
// (rejoin); a guest is sent to a page that says the meeting is gone.
// Answers 200 with joinFailedResponse, or 403 without a valid seat for the
// room.
func (h *Handlers) joinFailed(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	room := c.Params("room")
	st, err := h.roomSeat(c, room)
	if err != nil {
		return err
	}
	var req joinFailedRequest
	if len(c.Body()) > 0 {
		// The report only feeds the log; a garbled one still gets an answer.
		_ = json.Unmarshal(c.Body(), &req)
	}
	h.log.InfoContext(c.UserContext(), "join failed", "room", room, "role", st.Role, "seat", st.ID, "code", truncate(req.Code, 40))

	ctx, cancel := context.WithTimeout(c.UserContext(), h.cfg.SignalWireTimeout)
	defer cancel()
	_, err = h.video.GetRoom(ctx, room)
	switch {
	case err == nil:
		return c.JSON(joinFailedResponse{Action: joinRetry})
	case !signalwire.IsNotFound(err):
		return fmt.Errorf("look up room %q after a failed join: %w", room, err)
	}
	if err := h.knownRooms.Forget(c.UserContext(), room); err != nil {
		return err
	}
	if st.Role != views.RoleModerator || !h.isHostOf(c, room) {
		return c.JSON(joinFailedResponse{Action: joinGone, Location: "/rooms/" + url.PathEscape(room) + "/gone"})
	}
	if err := h.ensureRoom(c.UserContext(), room); err != nil {
		return err
	}
	h.log.InfoContext(c.UserContext(), "room created again after a failed join", "room", room)
	return c.JSON(joinFailedResponse{Action: joinRejoin})
}

// roomGone handles "GET /rooms/:room/gone": the page a guest lands on when
// the meeting's room no longer exists (410), with the way forward.
func (h *Handlers) roomGone(c *fiber.Ctx) error {
	room := c.Params("room")
	if !validRoom(room) {
		return badRequest("That is not a valid room name. Room names use only letters, digits, _ and -.")
	}
	return &userError{
		status:  fiber.StatusGone,
		title:   "This meeting no longer exists",
		message: "The room " + room + " no longer exists, so this invite link cannot be used. Ask the host to start the meeting again and send you a new invite link.",
	}
}

// truncate cuts s to at most n bytes on a rune boundary, for log fields
// that come from the browser.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
