package handlers

import "github.com/gofiber/fiber/v2"

// healthz handles "GET /healthz": 200 while the process serves.
func (h *Handlers) healthz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.SendString("ok")
}

// readyz handles "GET /readyz": 200 once SignalWire has answered, else 503.
func (h *Handlers) readyz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if !h.status.Ready() {
		msg := "waiting for SignalWire"
		if space := h.status.Rejected(); space != "" {
			msg = "SignalWire rejected the project key or token for " + space
		}
		return c.Status(fiber.StatusServiceUnavailable).SendString(msg)
	}
	return c.SendString("ready")
}
