package handlers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/swrooms/swrooms/views"
)

// setup handles "GET /setup": how to set up a real SignalWire space, the
// README's steps served by the app itself, so the sandbox banner links to
// a page that exists wherever the app runs.
func (h *Handlers) setup(c *fiber.Ctx) error {
	return h.render(c, fiber.StatusOK, "Set up SignalWire", views.Setup(h.cfg.Sandbox))
}
