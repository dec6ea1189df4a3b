package handlers

import (
	"context"
	"crypto/subtle"
	"fmt"
	"github.com/a-h/templ"
	"math/rand/v2"
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/swrooms/swrooms/signalwire"
	"github.com/swrooms/swrooms/views"
)

// home handles "GET /": the room picker, prefilled from ?room= and ?user=
// as in the original demo.
func (h *Handlers) home(c *fiber.Ctx) error {
	_, isHost := h.lastingHostSession(c)
	p := h.picker(c, isHost)
	p.Room, p.User = "Main_Office", fmt.Sprintf("user_%04d", rand.IntN(10000))
	if r := c.Query("room"); r != "" {
		p.Room, _ = normalizeRoom(r)
	}
	if u := c.Query("user"); u != "" {
		p.User, _ = normalizeUser(u)
	}
	p.LobbyOff = c.Query("lobby") == "off"
	return h.render(c, fiber.StatusOK, "Start a room", views.Home(p))
}

// picker is the form's frame for this browser: a passcode is asked only
// when hosting is closed and the browser holds no host session.
func (h *Handlers) picker(c *fiber.Ctx, isHost bool) views.Picker {
	return views.Picker{
		NeedPasscode: !h.cfg.OpenHosting && h.cfg.HostPasscode != "" && !isHost,
		OpenHosting:  h.cfg.OpenHosting,
		IsHost:       isHost,
		CSRFToken:    csrfToken(c),
		Errors:       views.FieldErrors{},
	}
}

// validateField handles "POST /rooms/validate": the message for the one
// field being typed in, swapped in place by htmx.
func (h *Handlers) validateField(c *fiber.Ctx) error {
	var field, msg string
	// htmx names the field that changed; a form posts every field, so
	// without the header the first present one would answer for all.
	switch trigger := c.Get("HX-Trigger-Name"); {
	case trigger == "room" || (trigger == "" && c.Request().PostArgs().Has("room")):
		field = "room"
		_, msg = normalizeRoom(c.FormValue("room"))
	case trigger == "user" || (trigger == "" && c.Request().PostArgs().Has("user")):
		field = "user"
		_, msg = normalizeUser(c.FormValue("user"))
	default:
		return badRequest("Nothing to check: send a room or user field.")
	}
	return h.render(c, fiber.StatusOK, "Check", views.FieldError(field, msg))
}

// createRoom handles "POST /rooms": redirect to the room, or the form with
// problems (422). It makes sure the room exists on SignalWire and grants
// this browser the host capability for it.
func (h *Handlers) createRoom(c *fiber.Ctx) error {
	hs, isHost := h.lastingHostSession(c)
	p := h.picker(c, isHost)
	var room, user string
	room, p.Errors["room"] = normalizeRoom(c.FormValue("room"))
	user, p.Errors["user"] = normalizeUser(c.FormValue("user"))
	p.Room, p.User = room, user
	p.LobbyOff = c.FormValue("lobby") == ""

	if p.NeedPasscode {
		given := c.FormValue("passcode")
		if subtle.ConstantTimeCompare([]byte(given), []byte(h.cfg.HostPasscode)) != 1 {
			p.Errors["passcode"] = "That passcode is not right."
			if given == "" {
				p.Errors["passcode"] = "Enter the host passcode."
			}
		}
	}
	if !isHost {
		hs = newHostSession(h.now())
	}
	if p.Errors["room"] != "" || p.Errors["user"] != "" || p.Errors["passcode"] != "" {
		return h.render(c, fiber.StatusUnprocessableEntity, "Start a room", h.pickerFormOrPage(c, p))
	}

	if err := h.ensureRoom(c.UserContext(), room); err != nil {
		return withAction(err, "/?room="+url.QueryEscape(room)+"&user="+url.QueryEscape(user), "Try again")
	}
	if err := h.setLobby(c.UserContext(), room, !p.LobbyOff); err != nil {
		return err
	}
	h.setHostSession(c, hs.with(room))
	return h.redirect(c, "/rooms/"+url.PathEscape(room)+"?user="+url.QueryEscape(user))
}

// pickerFormOrPage: htmx swaps just the form; a plain post gets the page.
func (h *Handlers) pickerFormOrPage(c *fiber.Ctx, p views.Picker) templ.Component {
	if isFragment(c) {
		return views.PickerForm(p)
	}
	return views.Home(p)
}

// ensureRoom creates the room once; later hosts of a known room cost no
// SignalWire call.
func (h *Handlers) ensureRoom(ctx context.Context, room string) error {
	known, err := h.knownRooms.Known(ctx, room)
	if err != nil {
		return err
	}
	if known {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.SignalWireTimeout)
	defer cancel()
	if _, err := h.video.EnsureRoom(ctx, signalwire.CreateRoomParams{
		Name: room, DisplayName: room, MaxMembers: h.cfg.MaxMembers,
	}); err != nil {
		return fmt.Errorf("ensure room %q: %w", room, err)
	}
	return h.knownRooms.Add(ctx, room)
}

// liveFor says how long a session has run, in words that need no time
// zone: the server's clock is not the reader's.
func liveFor(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just started"
	case d < time.Hour:
		return fmt.Sprintf("live for %d min", int(d.Minutes()))
	default:
		return fmt.Sprintf("live for %d h %d min", int(d.Hours()), int(d.Minutes())%60)
	}
}
