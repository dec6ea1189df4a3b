package handlers

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/csrf"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/gofiber/fiber/v2/middleware/recover"
)

// bodyLimit bounds every request body; the largest legitimate one is an
// event batch (roster.MaxBatchBytes), which the handler checks itself so
// that its 413 is a clear page.
const bodyLimit = 512 << 10

// plainBodies refuses a request body sent with a Content-Encoding other
// than identity (415). bodyLimit bounds a body as it arrives, but Fiber's
// c.Body decodes an encoded one with no bound: 512 KB of gzip is half a
// gigabyte decoded. Browsers never encode what they post, so no page of
// ours sends one.
func plainBodies(c *fiber.Ctx) error {
	enc := c.Request().Header.Peek(fiber.HeaderContentEncoding)
	if len(enc) == 0 || strings.EqualFold(strings.TrimSpace(string(enc)), "identity") || len(c.Request().Body()) == 0 {
		return c.Next()
	}
	return &userError{status: fiber.StatusUnsupportedMediaType, title: "Not accepted",
		message: "This server reads request bodies only as they are, not compressed."}
}

// NewApp builds the Fiber app: settings, middleware and the whole HTTP
// surface in one place.
func NewApp(h *Handlers) *fiber.App {
	app := fiber.New(fiber.Config{
		// Immutable copies every string Fiber hands out, so room and user
		// names can outlive the request (caches, roster, logs).
		Immutable: true,
		// Room names are case-sensitive on SignalWire, so routes are too:
		// "/rooms/Live" is a room, "/rooms/live" the live list.
		CaseSensitive:           true,
		BodyLimit:               bodyLimit,
		ReadTimeout:             15 * time.Second,
		WriteTimeout:            h.cfg.WriteTimeout, // 30 s; streams move their own deadline (stream.go)
		IdleTimeout:             120 * time.Second,
		ErrorHandler:            h.handleError,
		DisableStartupMessage:   true,
		EnableTrustedProxyCheck: true, // without it Fiber believes X-Forwarded-* from anyone
		TrustedProxies:          h.cfg.TrustedProxies,
		ProxyHeader:             fiber.HeaderXForwardedFor,
		// A room page (15.5 KB) and its headers (1.5 KB) leave in one
		// write: with fasthttp's 4 KB buffer they take two, and the second
		// write costs a page about a fifth of its CPU (issue 18). fasthttp
		// keeps the buffer as long as its connection stays open: 24 KB
		// for each browser's connection and stream, 20 KB more than before.
		WriteBufferSize: 24 << 10,
	})

	app.Use(requestIDs(newClientAddrs(h.cfg.TrustedProxies)))
	app.Use(h.observe) // runs the error handler, so that it sees the status sent
	app.Use(recover.New(recover.Config{EnableStackTrace: false}))
	app.Use(helmet.New(helmet.Config{
		ContentSecurityPolicy: contentSecurityPolicy(h.cfg.RelayOrigin),
		ReferrerPolicy:        "no-referrer",
		XFrameOptions:         "DENY", // as frame-ancestors 'none', for old browsers
		// Sent only on HTTPS requests: once a browser has seen the app over
		// TLS it never downgrades, which is what a camera page needs anyway.
		HSTSMaxAge:            180 * 24 * 3600,
		HSTSExcludeSubdomains: true,
		PermissionPolicy:      "camera=(self), microphone=(self), display-capture=(self), speaker-selection=(self)",
		// COEP require-corp buys nothing here and would block the SDK's
		// media elements in some browsers.
		CrossOriginEmbedderPolicy: "unsafe-none",
	}))
	app.Use(plainBodies)

	app.Get("/healthz", h.healthz)
	app.Get("/readyz", h.readyz)
	app.Get("/favicon.ico", h.favicon)
	app.Use("/public", h.static())

	app.Use(h.requireSignalWire)
	// Fiber's csrf keeps the browser's binding cookie and checks the
	// method and, over HTTPS, the Referer; the tokens pages carry are ours
	// (see csrf.go): each is bound to the cookie and lives csrfTTL from
	// the page's render, however often the cookie is renewed meanwhile.
	app.Use(csrf.New(csrf.Config{
		Extractor:      h.csrfExtractor,
		CookieName:     csrfCookie,
		CookieSameSite: "Lax",
		CookieHTTPOnly: true,
		CookieSecure:   h.cfg.SecureCookies,
		Expiration:     csrfCookieTTL,
		KeyGenerator:   h.newCSRFCookie,
		Storage:        csrfStorage{sign: h.sign, now: h.now},
		ContextKey:     csrfCookieKey,
		ErrorHandler:   h.csrfFailed,
		// Event posts and join-failure reports carry a signed seat
		// credential in a header, which a cross-site form cannot send, and
		// must survive a server restart.
		Next: isSeatPost,
	}))
	app.Use(h.csrfPageToken)

	addrs := newClientAddrs(h.cfg.TrustedProxies)

	app.Get("/", h.home)
	app.Get("/setup", h.setup)
	app.Post("/rooms/validate", h.validateField)
	// Counts failed posts only (a wrong passcode, typed again and again):
	// 10 at once, refilled at 10 a minute.
	failures := failedAttempts{budget: h.joins.hostFailures, addrs: addrs}
	app.Post("/rooms", failures.limit(h.tooManyAttempts), h.createRoom)
	app.Get("/rooms/live", h.liveRooms)
	app.Get("/rooms/:room", h.hostRoom)
	// Every token is a SignalWire POST, which the platform rate-limits for
	// the whole project: one address must not spend it for all. Keyed on
	// the address, never on a cookie, which any GET renews; sized so that
	// an office behind one NAT still joins (JOINS_PER_ADDRESS). The room's
	// budget is charged inside, once the join is authorised.
	app.Post("/rooms/:room/token", limitJoinsPerAddress(addrs, h.joins.perAddress), h.roomToken)
	app.Post("/rooms/:room/events", h.roomEvents)
	app.Post("/rooms/:room/join-failed", limitJoinsPerAddress(addrs, h.joins.joinFailures), h.joinFailed)
	app.Get("/rooms/:room/gone", h.roomGone)
	// Whether this server still honours the page's seat (seat.go).
	app.Get("/rooms/:room/seat", h.seatCheck)
	// Issue 16: the push channel and what it carries (stream.go, lobby.go,
	// chat.go, moderation.go).
	app.Get("/rooms/:room/stream", h.roomStream)
	app.Post("/rooms/:room/stream-ticket", h.streamTicket)
	// Knocks cost no SignalWire call, but each holds a place in the lobby:
	// counted per address like joins, and capped per address inside.
	app.Post("/rooms/:room/lobby", h.limitKnocks(addrs), h.knock)
	app.Post("/rooms/:room/lobby/:action", h.lobbyAction)
	app.Post("/rooms/:room/chat", h.postChat)
	app.Post("/rooms/:room/block", h.blockMember)
	app.Post("/rooms/:room/invite", h.revokeInvite)
	app.Post("/rooms/:room/ask-unmute", h.askUnmute)
	app.Post("/rooms/:room/ask-video-unmute", h.askUnmute)
	app.Post("/rooms/:room/unmute-answer", h.unmuteAnswer)
	app.Get("/guest", h.guestRoom)

	app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
	return app
}

// passcodeFailuresPerMinute is how many failed host attempts (a wrong
// passcode, a bad room name) one client address may make a minute.
const passcodeFailuresPerMinute = 10

// joinFailuresPerMinute bounds the lookups failed joins may cause per
// address; each failed join reports once.
const joinFailuresPerMinute = 30

// isSeatPost matches "POST /rooms/:room/events" and
// "POST /rooms/:room/join-failed" before routing, which is when the CSRF
// middleware must decide.
func isSeatPost(c *fiber.Ctx) bool {
	if c.Method() != fiber.MethodPost {
		return false
	}
	rest, ok := strings.CutPrefix(c.Path(), "/rooms/")
	if !ok {
		return false
	}
	room, tail, _ := strings.Cut(rest, "/")
	return room != "" && (tail == "events" || tail == "join-failed")
}

// contentSecurityPolicy allows only the app's own scripts and styles; the
// SDK talks to SignalWire over WebSocket and HTTPS. relayOrigin, when set,
// is one more origin the SDK may connect to: the relay of a SignalWire
// fake on loopback (see Config.RelayOrigin).
func contentSecurityPolicy(relayOrigin string) string {
	connect := "connect-src 'self' wss://*.signalwire.com https://*.signalwire.com"
	if relayOrigin != "" {
		connect += " " + relayOrigin
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; " +
		"img-src 'self' data: blob:; media-src 'self' blob: mediastream:; " + connect + "; " +
		"font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}
