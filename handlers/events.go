package handlers

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/swrooms/swrooms/roster"
	"github.com/swrooms/swrooms/views"
)

// seatHeader carries the signed seat credential. A header, unlike a
// cookie, is never sent by a cross-site form, which makes the event post
// CSRF-safe without a token that a restart would invalidate.
const seatHeader = "X-Seat"

// snapshotHeader tells the island to send a fresh member list: the server
// has no snapshot for this seat (a restart, another instance) or lost
// events.
const snapshotHeader = "X-Roster-Snapshot"

// roomEvents handles "POST /rooms/:room/events": applies a batch of SDK
// events to the seat's roster and answers with the roster panel, or 400
// (malformed), 403 (no valid seat), 413 (too large), 503 (server full).
func (h *Handlers) roomEvents(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	room := c.Params("room")
	st, ok := h.sign.decodeSeat(c.Get(seatHeader), h.now())
	if !ok || st.Room != room {
		return forbidden("This call's credentials are missing or expired. Reload the page and join again.", "", "")
	}
	batch, err := roster.DecodeBytes(c.Body())
	switch {
	case errors.Is(err, roster.ErrTooLarge):
		return &userError{status: fiber.StatusRequestEntityTooLarge, title: "Too large", message: "The update was larger than this server accepts.", cause: err}
	case err != nil:
		return &userError{status: fiber.StatusBadRequest, title: "Bad update", message: "The participant update could not be read.", cause: err}
	}
	r, err := h.roster.Apply(c.UserContext(), roster.SeatKey{Room: room, Seat: st.ID}, batch)
	switch {
	case errors.Is(err, roster.ErrFull):
		return &userError{status: fiber.StatusServiceUnavailable, title: "Server busy", message: "This server is tracking as many calls as it can. The call goes on; the participant list will catch up.", cause: err}
	case errors.Is(err, roster.ErrTooManyMembers):
		return &userError{status: fiber.StatusUnprocessableEntity, title: "Too many participants", message: "This room has more participants than the list can show.", cause: err}
	case errors.Is(err, roster.ErrMalformed):
		return &userError{status: fiber.StatusBadRequest, title: "Bad update", message: "The participant update could not be read.", cause: err}
	case errors.Is(err, roster.ErrStaleEpoch):
		return &userError{status: fiber.StatusConflict, title: "Joined elsewhere", message: "This page's call was replaced by a newer one. Reload the page to rejoin.", cause: err}
	case err != nil:
		return fmt.Errorf("apply events: %w", err)
	}
	if r.NeedsSnapshot {
		c.Set(snapshotHeader, "needed")
	}
	return h.render(c, fiber.StatusOK, "Participants", views.RosterPanel(rosterView(r, st.Role == views.RoleModerator)))
}

// rosterView translates the store's roster into the view's rows.
func rosterView(r roster.Roster, moderator bool) views.Roster {
	v := views.Roster{
		Moderator: moderator,
		Joined:    true,
		Count:     r.Count,
		Left:      r.Left,
		Room: views.RoomState{
			Layout:         r.Room.Layout,
			Locked:         r.Room.Locked,
			Recording:      r.Room.Recording,
			HideVideoMuted: r.Room.HideVideoMuted,
		},
		Members: make([]views.MemberRow, 0, len(r.Members)),
	}
	for _, m := range r.Members {
		v.Members = append(v.Members, memberRow(m, r.SelfID))
	}
	return v
}

func memberRow(m roster.Member, selfID string) views.MemberRow {
	row := views.MemberRow{
		ID: m.ID, Name: m.Name, Type: m.Type, Self: m.ID == selfID,
		AudioMuted: m.AudioMuted, VideoMuted: m.VideoMuted,
		Talking: m.Talking, HandRaised: m.HandRaised,
	}
	for _, d := range m.Children {
		row.Children = append(row.Children, memberRow(d, selfID))
	}
	return row
}
