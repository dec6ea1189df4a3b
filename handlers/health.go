package handlers

import (
	"strings"
	"sync/atomic"

	"github.com/gofiber/fiber/v2"
)

// healthz handles "GET /healthz": 200 while the process serves.
func (h *Handlers) healthz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.SendString("ok")
}

// readyz handles "GET /readyz": 200 once SignalWire has answered and, with
// REDIS_URL, while Redis answers; else 503 with one line per problem, so
// that a load balancer sends no one to an instance that would fail them.
func (h *Handlers) readyz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	var problems []string
	if !h.status.Ready() {
		msg := "waiting for SignalWire"
		if space := h.status.Rejected(); space != "" {
			msg = "SignalWire rejected the project key or token for " + space
		}
		problems = append(problems, msg)
	}
	if h.redis != nil && !h.redis.Up() {
		problems = append(problems, "cannot reach "+h.redis.name)
	}
	if len(problems) > 0 {
		return c.Status(fiber.StatusServiceUnavailable).SendString(strings.Join(problems, "\n"))
	}
	return c.SendString("ready")
}

// Dependency is what a background check last saw of a service the app
// needs besides SignalWire (Redis, with REDIS_URL): /readyz answers 503
// while it is down. It starts down, as not yet checked. Safe for
// concurrent use.
type Dependency struct {
	name string
	up   atomic.Bool
}

// NewDependency returns a dependency called name ("Redis"), down until Set.
func NewDependency(name string) *Dependency { return &Dependency{name: name} }

// Set records whether the dependency answered its last check, and
// reports whether that changed what was recorded before.
func (d *Dependency) Set(up bool) (changed bool) { return d.up.Swap(up) != up }

// Up reports whether the dependency answered its last check.
func (d *Dependency) Up() bool { return d.up.Load() }
