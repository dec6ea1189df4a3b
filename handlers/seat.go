package handlers

import "github.com/gofiber/fiber/v2"

// seatCheck handles "GET /rooms/:room/seat": 204 when the X-Seat header is
// a seat of this room this server still honours, else 403. The island asks
// it when a connection to the app broke (the stream, the SDK's socket), so
// that a server that restarted with another key (a sandbox's random one)
// ends the call on the page at once; no answer at all means the server is
// not up. It reads no body and calls nothing, so it is cheap to ask.
func (h *Handlers) seatCheck(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if _, err := h.roomSeat(c, c.Params("room")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
