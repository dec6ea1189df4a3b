package handlers

import (
	"bytes"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/swrooms/swrooms/views"
)

// render writes content as a full page, or as the bare fragment when htmx
// asked for one. It is the only place that reads htmx's request headers.
func (h *Handlers) render(c *fiber.Ctx, status int, title string, content templ.Component) error {
	varyOn(c, "HX-Request")
	c.Status(status).Type("html", "utf-8")
	if isFragment(c) {
		return content.Render(c.UserContext(), c.Response().BodyWriter())
	}
	return views.Layout(h.shell(c, title), content).Render(c.UserContext(), c.Response().BodyWriter())
}

// renderRoom writes a room page (p has a request's own values: room, user,
// invite, config) with its compiled template, or with templ for an htmx
// fragment. Every room page is private to its browser (no-store).
func (h *Handlers) renderRoom(c *fiber.Ctx, p views.RoomPage) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	t := h.roomPages.of(p.Role)
	if t == nil || isFragment(c) {
		full := h.roomPageOf(p.Role)(p.Room)
		full.User, full.InviteURL, full.InviteExpires, full.Config = p.User, p.InviteURL, p.InviteExpires, p.Config
		return h.render(c, fiber.StatusOK, p.Room, views.Room(full))
	}
	varyOn(c, "HX-Request")
	c.Status(fiber.StatusOK).Type("html", "utf-8")
	return t.Render(c.UserContext(), bodyWriter{c.Response()}, p)
}

// bodyWriter appends to a response's body; WriteString spares a string's
// copy into a byte slice first.
type bodyWriter struct{ r *fasthttp.Response }

func (w bodyWriter) Write(b []byte) (int, error) {
	w.r.AppendBody(b)
	return len(b), nil
}

func (w bodyWriter) WriteString(s string) (int, error) {
	w.r.AppendBodyString(s)
	return len(s), nil
}

// varyOn adds field to the answer's Vary header as c.Vary does (unless
// it is there already), without c.Vary's copies and concatenations.
func varyOn(c *fiber.Ctx, field string) {
	hdr := &c.Response().Header
	v := hdr.Peek(fiber.HeaderVary)
	if len(v) == 0 {
		hdr.Set(fiber.HeaderVary, field)
		return
	}
	if varies(v, field) {
		return
	}
	var buf [256]byte
	hdr.SetBytesV(fiber.HeaderVary, append(append(append(buf[:0], v...), ", "...), field...))
}

// varies reports whether the Vary value v already names field, by
// Fiber's rule: the whole value, the first item, the last one, or one
// between.
func varies(v []byte, field string) bool {
	for i := 0; i+len(field) <= len(v); i++ {
		j := bytes.Index(v[i:], []byte(field))
		if j < 0 {
			return false
		}
		i += j
		end := i + len(field)
		switch {
		case i == 0 && end == len(v), i == 0 && v[end] == ',':
			return true
		case i > 0 && v[i-1] == ' ' && (end == len(v) || v[end] == ','):
			return true
		}
	}
	return false
}

// isFragment: an htmx request wants a fragment, except a boosted link or a
// history restore, which replace the whole page.
func isFragment(c *fiber.Ctx) bool {
	return c.Get("HX-Request") == "true" && c.Get("HX-Boosted") == "" && c.Get("HX-History-Restore-Request") == ""
}

// redirect sends the browser to url after a form post: 303 for a plain
// post; for htmx, 204 with HX-Redirect, since the XHR would follow a 303
// silently and swap the target page into the form.
func (h *Handlers) redirect(c *fiber.Ctx, url string) error {
	varyOn(c, "HX-Request")
	if c.Get("HX-Request") == "true" {
		c.Set("HX-Redirect", url)
		return c.SendStatus(fiber.StatusNoContent)
	}
	return c.Redirect(url, fiber.StatusSeeOther)
}

func (h *Handlers) shell(c *fiber.Ctx, title string) views.Shell {
	return views.Shell{
		Title:       title,
		Sandbox:     h.cfg.Sandbox,
		CSRFToken:   csrfToken(c),
		Assets:      h.assets,
		OpenHosting: h.cfg.OpenHosting,
	}
}
