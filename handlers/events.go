package handlers

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/swrooms/swrooms/roster"
	"github.com/swrooms/swrooms/views"
)

// seatHeader carries the signed seat credential. A header, unlike a
// cookie, is never sent by a cross-site form, which makes the event post
// CSRF-safe without a token that a restart would invalidate.
const seatHeader = "X-Seat"

// Headers of the roster's wire format (roster/WIRE.md).
const (
	// snapshotHeader tells the island to send a fresh member list: the
	// server has no list for this seat (a restart, another instance), lost
	// events, or heard of a member it does not know.
	snapshotHeader = "X-Roster-Snapshot"
	// baseHeader is the roster version the page shows, as the island last
	// swapped it in; versionHeader the version the answer brings it to.
	baseHeader    = "X-Roster-Base"
	versionHeader = "X-Roster-Version"
	// renderHeader says whether the answer is the whole panel ("full") or
	// only out-of-band swaps of what changed since the base ("delta").
	renderHeader = "X-Roster-Render"
)

// roomEvents handles "POST /rooms/:room/events": applies a batch of wire
// events to the seat's roster and answers with what changed since the
// page's X-Roster-Base (a delta), or the whole roster panel, or 204 when
// the batch changed nothing and the page shows the seat's version (a
// replay: nothing to render); or 400 (malformed), 403 (no valid seat), 409
// (a newer join), 413 (too large), 422 (too many members), 429 (the seat
// posts too often, with Retry-After), 503 (server full).
func (h *Handlers) roomEvents(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	room := c.Params("room")
	st, err := h.roomSeat(c, room)
	if err != nil {
		return err
	}
	batch, err := roster.DecodeBytes(c.Body())
	switch {
	case errors.Is(err, roster.ErrTooLarge):
		return &userError{status: fiber.StatusRequestEntityTooLarge, title: "Too large", message: "The update was larger than this server accepts.", cause: err}
	case err != nil:
		return &userError{status: fiber.StatusBadRequest, title: "Bad update", message: "The participant update could not be read.", cause: err}
	}
	if n := batch.Ignored(); n > 0 {
		h.log.DebugContext(c.UserContext(), "ignored roster events", "room", room, "count", n)
	}
	r, d, err := h.roster.Apply(c.UserContext(), roster.SeatKey{Room: room, Seat: st.ID}, batch)
	var tooOften *roster.RateError
	switch {
	case errors.As(err, &tooOften):
		// A page posts one batch at a time, far below the limit; the island
		// keeps the events and resends them after Retry-After.
		return &userError{status: fiber.StatusTooManyRequests, title: "Too many updates", message: "This page sent participant updates faster than this server accepts. They will be sent again shortly.", cause: err, retryAfter: tooOften.RetryAfter}
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
	if err := h.noteSeatEvents(c.UserContext(), room, st, batch, r); err != nil {
		return err
	}
	if r.NeedsSnapshot {
		c.Set(snapshotHeader, "needed")
	}
	version := strconv.FormatUint(r.Version, 10)
	c.Set(versionHeader, version)
	base := c.Get(baseHeader)
	if r.Version == d.Base && base == version {
		// A replay for a page that already shows this version: nothing to
		// render, however often it comes. A page showing anything else
		// (a resend after a lost answer) still gets the whole panel below.
		return c.SendStatus(fiber.StatusNoContent)
	}
	moderator := st.Role == views.RoleModerator
	// A delta is only right for a page that shows the version it is
	// computed from; any other page (a second request in flight, a reload,
	// a restarted server) gets the whole panel.
	if !d.Full && base != "" && base == strconv.FormatUint(d.Base, 10) {
		c.Set(renderHeader, "delta")
		ch := rosterChange(r, d, moderator)
		if moderator {
			askable, err := h.askable(c.UserContext(), room)
			if err != nil {
				return err
			}
			unmuteButtons(h.cfg.ModeratorCanUnmute, askable, ch.Replaced)
			for i := range ch.Inserted {
				ch.Inserted[i].Row = markRow(h.cfg.ModeratorCanUnmute, askable, ch.Inserted[i].Row)
			}
		}
		return h.render(c, fiber.StatusOK, "Participants", views.RosterDelta(ch))
	}
	c.Set(renderHeader, "full")
	v := rosterView(r, moderator)
	if moderator {
		askable, err := h.askable(c.UserContext(), room)
		if err != nil {
			return err
		}
		unmuteButtons(h.cfg.ModeratorCanUnmute, askable, v.Members)
	}
	return h.render(c, fiber.StatusOK, "Participants", views.RosterPanel(v))
}

// unmuteButtons marks moderators' rows for the buttons that turn a
// microphone or camera on: forced (MODERATOR_CAN_UNMUTE), or asked of
// members whose page is known (askable, on any instance); none otherwise
// (a bot, a page that has not said who it is), since nobody could be
// asked.
func unmuteButtons(forced bool, askable map[string]bool, rows []views.MemberRow) {
	for i := range rows {
		rows[i] = markRow(forced, askable, rows[i])
	}
}

func markRow(forced bool, askable map[string]bool, row views.MemberRow) views.MemberRow {
	row.ForcedUnmute = forced
	row.Askable = askable[row.ID]
	return row
}

// askable is the set of room's members whose page is known.
func (h *Handlers) askable(ctx context.Context, room string) (map[string]bool, error) {
	ms, err := h.rooms.Members(ctx, room)
	if err != nil {
		return nil, fmt.Errorf("members of %q: %w", room, err)
	}
	out := make(map[string]bool, len(ms))
	for _, m := range ms {
		out[m] = true
	}
	return out, nil
}

// noteSeatEvents learns from a batch what the room's live state needs,
// asking it only for batches that carry something: which member a seat's
// page is (room.joined, members.snapshot), that it left (room.left), and,
// from a moderator's page, that a member left the call (member.left),
// which revokes that member's seat, and any seat refused as its rival (one
// of them lied about being it), and ends their streams: Remove goes
// through the SDK alone, and a seat whose member left has no call to chat
// in (a rejoin takes a new seat).
func (h *Handlers) noteSeatEvents(ctx context.Context, room string, st seat, batch roster.Batch, r roster.Roster) error {
	moderator := st.Role == views.RoleModerator
	var self bool
	var left []string
	for _, e := range batch.Events {
		switch e.Name {
		case "room.joined", "members.snapshot", "room.left", "room.ended":
			self = true
		case "member.left":
			if moderator && e.MemberID() != "" {
				left = append(left, e.MemberID())
			}
		}
	}
	var tell []string
	switch {
	case self && r.Left:
		if err := h.rooms.SeatLeft(ctx, room, st.ID); err != nil {
			return fmt.Errorf("seat left %q: %w", room, err)
		}
	case self && r.SelfID != "":
		news, err := h.rooms.SeatIsMember(ctx, room, st.ID, r.SelfID)
		if err == nil && news {
			tell, err = h.rooms.Moderators(ctx, room, h.wall())
		}
		if err != nil {
			return fmt.Errorf("seat member in %q: %w", room, err)
		}
	}
	for _, m := range left {
		ids, err := h.rooms.RevokeMember(ctx, room, m, st.ID, h.wall())
		if err != nil {
			return fmt.Errorf("removal in %q: %w", room, err)
		}
		for _, id := range ids {
			if err := h.endSeat(room, id); err != nil {
				return err
			}
		}
	}
	if len(tell) > 0 {
		return h.pushAskable(ctx, room, r.SelfID, tell)
	}
	return nil
}

// pushAskable sends the moderators' pages (seats mods) member's row anew,
// now with its ask buttons: their rosters may show the member from before
// its page said who it is. A page whose roster does not have the member
// yet gets nothing: the row it inserts later has the buttons.
func (h *Handlers) pushAskable(ctx context.Context, room, member string, mods []string) error {
	askable := map[string]bool{member: true}
	for _, mod := range mods {
		r, ok, err := h.roster.Get(ctx, roster.SeatKey{Room: room, Seat: mod})
		if err != nil || !ok || r.Left {
			continue
		}
		for _, m := range r.Members {
			if m.ID == member {
				row := markRow(h.cfg.ModeratorCanUnmute, askable, memberRow(m, r.SelfID))
				if err := h.publish(ctx, room, targetSeat(mod), evRosterRows, views.RosterDelta(views.RosterChange{Controls: true, Replaced: []views.MemberRow{row}})); err != nil {
					return err
				}
				break
			}
		}
	}
	return nil
}

// rosterChange translates the store's delta into the rows to swap; only
// the changed rows are built.
func rosterChange(r roster.Roster, d roster.Delta, moderator bool) views.RosterChange {
	v := views.RosterChange{
		Controls:     moderator && !r.Left,
		Deleted:      d.Deleted,
		Count:        r.Count,
		CountChanged: d.CountChanged,
		Room:         roomState(r.Room),
		RoomChanged:  d.RoomChanged,
	}
	for _, i := range d.Replaced {
		v.Replaced = append(v.Replaced, memberRow(r.Members[i], r.SelfID))
	}
	for _, i := range d.Inserted {
		in := views.RowInsert{Row: memberRow(r.Members[i], r.SelfID)}
		if i+1 < len(r.Members) {
			in.Before = r.Members[i+1].ID
		}
		v.Inserted = append(v.Inserted, in)
	}
	return v
}

// rosterView translates the store's roster into the view's rows.
func rosterView(r roster.Roster, moderator bool) views.Roster {
	v := views.Roster{
		Moderator: moderator,
		Joined:    true,
		Count:     r.Count,
		Left:      r.Left,
		Room:      roomState(r.Room),
		Members:   make([]views.MemberRow, 0, len(r.Members)),
	}
	for _, m := range r.Members {
		v.Members = append(v.Members, memberRow(m, r.SelfID))
	}
	return v
}

func roomState(r roster.Room) views.RoomState {
	return views.RoomState{Layout: r.Layout, Locked: r.Locked, Recording: r.Recording, HideVideoMuted: r.HideVideoMuted}
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
