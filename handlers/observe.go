package handlers

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/requestid"
)

// Meter is what the handlers report to metrics: every request by route
// pattern, joins by role, push streams opened and closed, chat messages.
// metrics.Metrics is one; nil in Deps counts nothing. Calls are on the
// request's goroutine and must be quick.
type Meter interface {
	// Request counts a request answered with status after d; route is the
	// route pattern ("/rooms/:room"), or "other" when no route answered.
	Request(route, method string, status int, d time.Duration)
	// Join counts a room token handed out to role (views.RoleModerator,
	// views.RoleGuest).
	Join(role string)
	// StreamOpened and StreamClosed bracket one push stream.
	StreamOpened()
	StreamClosed()
	// ChatMessage counts a chat message posted.
	ChatMessage()
}

// noMeter counts nothing.
type noMeter struct{}

func (noMeter) Request(string, string, int, time.Duration) {}
func (noMeter) Join(string)                                {}
func (noMeter) StreamOpened()                              {}
func (noMeter) StreamClosed()                              {}
func (noMeter) ChatMessage()                               {}

// requestIDLocal is the key of the request id in the request's locals,
// where Fiber's requestid middleware puts it.
type requestIDLocal struct{}

// requestIDKey is the key of the request id in the request's context,
// where the logger finds it.
type requestIDKey struct{}

// maxRequestID bounds an X-Request-ID taken from a proxy: a UUID is 36
// characters, HAProxy's unique-id formats stay well under this.
const maxRequestID = 128

// requestIDs is Fiber's requestid middleware, believing an incoming
// X-Request-ID only from a trusted proxy (TRUSTED_PROXIES), and only when
// it is a short run of visible ASCII; anyone else's is replaced by a
// fresh id, so that a client cannot pose as another request in the logs.
// The id is echoed in the response's X-Request-ID.
func requestIDs(addrs clientAddrs) fiber.Handler {
	rid := requestid.New(requestid.Config{ContextKey: requestIDLocal{}})
	return func(c *fiber.Ctx) error {
		if v := c.Request().Header.Peek(fiber.HeaderXRequestID); len(v) > 0 && !(validRequestID(v) && addrs.peerTrusted(c)) {
			c.Request().Header.Del(fiber.HeaderXRequestID)
		}
		return rid(c)
	}
}

// peerTrusted reports whether the request's peer is a trusted proxy.
func (a clientAddrs) peerTrusted(c *fiber.Ctx) bool {
	if len(a.trusted) == 0 {
		return false
	}
	peer, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	return ok && a.isTrusted(peer)
}

func validRequestID(v []byte) bool {
	if len(v) > maxRequestID {
		return false
	}
	for _, b := range v {
		if b < 0x21 || b > 0x7e {
			return false
		}
	}
	return true
}

// observe puts the request id into the request's context, for every log
// line of the request, and reports the request to the Meter once it is
// answered. It runs the error handler itself, as Fiber's logger does, so
// that the status it reports is the one sent.
func (h *Handlers) observe(c *fiber.Ctx) error {
	start := time.Now()
	if id, ok := c.Locals(requestIDLocal{}).(string); ok {
		// From Background, not c.UserContext(): observe is the first to
		// set the request's context, and a RequestCtx served again
		// without a reset of its user values (the join benchmarks do
		// that) would otherwise wrap the last request's context, again
		// and again.
		c.SetUserContext(context.WithValue(context.Background(), requestIDKey{}, id))
	}
	if err := c.Next(); err != nil {
		if err := h.handleError(c, err); err != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	h.meter.Request(routeLabel(c), c.Method(), c.Response().StatusCode(), time.Since(start))
	return nil
}

// routeLabel is the route pattern that answered: bounded, unlike the
// path. A request that ends in a middleware mounted on "/" (a 404, a CSRF
// or credentials refusal before routing) is "other".
func routeLabel(c *fiber.Ctx) string {
	p := c.Route().Path
	if p == "/" && c.Path() != "/" {
		return "other"
	}
	return p
}

// requestID returns the id of the request ctx belongs to, or "".
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// LogRequestIDs returns l with request_id added to every record logged
// with a request's context (Logger.InfoContext(c.UserContext(), ...),
// LogAttrs(ctx, ...)), including the contexts derived from it that the
// SignalWire client logs with. Wrapping twice adds nothing.
func LogRequestIDs(l *slog.Logger) *slog.Logger {
	if l == nil {
		return nil
	}
	if _, ok := l.Handler().(requestIDHandler); ok {
		return l
	}
	return slog.New(requestIDHandler{l.Handler()})
}

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := requestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

// retryURL is where a "Try again" link on an error page of a GET goes:
// the same address, unless it could leave the site ("//host").
func retryURL(c *fiber.Ctx) string {
	u := c.OriginalURL()
	if !strings.HasPrefix(u, "/") || strings.HasPrefix(u, "//") || strings.HasPrefix(u, "/\\") {
		return "/"
	}
	return u
}

// LobbyWaiting counts the guests waiting in the lobbies (every
// instance's, with a shared store), for the swrooms_lobby_waiting gauge;
// the error is for a shared lobby that cannot be read.
func (h *Handlers) LobbyWaiting() (int, error) {
	return h.rooms.WaitingGuests(context.Background())
}
