package handlers

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// CSRF protection has two parts, both signed so that nothing is stored:
//
//   - the cookie swr_csrf holds a random browser id, sealed as
//     "<id>.<exp>.<sig>". It is HttpOnly and renewed on use (csrfCookieTTL
//     from the last renewal, at most renewSlack before the last use): it
//     is what binds a page's token to this browser.
//   - each page carries a token "<exp>.<sig>" signed over the browser id
//     and an expiry csrfTTL after the page was rendered. Forms post it in
//     _csrf, htmx and the island in X-Csrf-Token. It is never renewed, so
//     csrfTTL is the absolute limit of a page, and it stays valid that long
//     whatever other pages the browser opens meanwhile (they get tokens of
//     their own for the same id).
//
// Fiber's csrf middleware insists that the token sent equals the cookie;
// csrfExtractor checks our page token against the cookie and hands Fiber
// the cookie's own value when it matches.
const (
	// csrfTTL is how long a rendered page's token works: a meeting's page
	// must keep working for 12 h, with room to spare.
	csrfTTL = 24 * time.Hour
	// csrfCookieTTL is how long an unused browser binding lasts; a
	// request renews it once it has aged renewSlack.
	csrfCookieTTL = 30 * 24 * time.Hour

	csrfCookie     = "swr_csrf"
	csrfContextKey = "csrf"        // Locals: the page token views render (*pageTokenFor)
	csrfCookieKey  = "csrf-cookie" // Locals: the cookie's value, set by Fiber's csrf
	csrfIDKey      = "csrf-id"     // Locals: the browser id csrfExtractor found in that cookie
	csrfExpKey     = "csrf-exp"    // Locals: and that cookie's expiry (int64)
)

// newCSRFCookie is Fiber's KeyGenerator: a fresh browser binding.
func (h *Handlers) newCSRFCookie() string {
	return h.sign.seal("csrf", h.now().Add(csrfCookieTTL).Unix(), randomID(16))
}

// csrfID opens a binding cookie and returns its browser id.
func (s signer) csrfID(cookie string, now time.Time) (string, bool) {
	id, _, ok := s.csrfBinding(cookie, now)
	return id, ok
}

// csrfBinding opens a binding cookie and returns its browser id and expiry.
func (s signer) csrfBinding(cookie string, now time.Time) (string, int64, bool) {
	f, exp, ok := s.open(cookie, "csrf", 1, now)
	if !ok {
		return "", 0, false
	}
	return f[0], exp, true
}

// checkedCSRFBinding reads the browser id and expiry of a binding cookie
// that this request has already opened or made. Fiber's csrf puts under
// csrfCookieKey only such a value: on a GET the browser's cookie once
// csrfStorage.Get has opened it (signature and expiry), else a new one
// newCSRFCookie sealed; on a post the cookie csrfExtractor opened. So its
// signature is not checked a second time. TestForgedCSRFCookieGetsANewBinding
// holds a forged or expired cookie to a new binding.
func checkedCSRFBinding(cookie string) (string, int64, bool) {
	parts, _, ok := cutSeal(cookie, 1)
	if !ok {
		return "", 0, false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	return parts[0], exp, err == nil
}

// pageToken is the token a page rendered now carries.
func (s signer) pageToken(id string, exp time.Time) string {
	var b [20 + 1 + 43]byte // an expiry, '.', a signature: one string made
	t := strconv.AppendInt(b[:0], exp.Unix(), 10)
	sum := s.mac("csrf-page", id, string(t))
	return string(appendSig(append(t, '.'), &sum))
}

// checkPageToken reports whether tok was made for browser id and has not
// expired.
func (s signer) checkPageToken(tok, id string, now time.Time) bool {
	e, sig, ok := strings.Cut(tok, ".")
	if !ok {
		return false
	}
	exp, err := strconv.ParseInt(e, 10, 64)
	if err != nil || strconv.FormatInt(exp, 10) != e || now.Unix() >= exp {
		return false
	}
	return s.verify(sig, "csrf-page", id, e)
}

// csrfPageToken runs after Fiber's csrf: it renews the binding cookie
// (same id, a new expiry) and makes the token this request's page will
// carry.
func (h *Handlers) csrfPageToken(c *fiber.Ctx) error {
	cookie, _ := c.Locals(csrfCookieKey).(string)
	now := h.now()
	// A post's cookie was opened by csrfExtractor a moment ago; Fiber's csrf
	// accepted the post only if it was this very value.
	id, ok := c.Locals(csrfIDKey).(string)
	exp, _ := c.Locals(csrfExpKey).(int64)
	if !ok {
		if id, exp, ok = checkedCSRFBinding(cookie); !ok {
			return c.Next() // routes that skip CSRF (seat posts) have no cookie value
		}
	}
	// Renewed when it has aged renewSlack (sign.go); until then Fiber's
	// csrf sends the browser's own value back.
	if fresh := now.Add(csrfCookieTTL); stale(exp, fresh.Unix()) {
		h.setCookie(c, csrfCookie, h.sign.seal("csrf", fresh.Unix(), id), fresh)
	}
	// Signed when a page asks for it: a token post or an event answer has
	// no use for one.
	c.Locals(csrfContextKey, &pageTokenFor{sign: h.sign, id: id, exp: now.Add(csrfTTL)})
	return c.Next()
}

// pageTokenFor makes the page token of one request once, on first use.
type pageTokenFor struct {
	sign signer
	id   string
	exp  time.Time
	tok  string
}

func (p *pageTokenFor) token() string {
	if p.tok == "" {
		p.tok = p.sign.pageToken(p.id, p.exp)
	}
	return p.tok
}

// csrfStorage answers Fiber's "is this token known?" for the binding
// cookie: a valid seal is known. Nothing is stored, so the answer survives
// restarts and is the same on every instance.
type csrfStorage struct {
	sign signer
	now  func() time.Time
}

func (s csrfStorage) Get(key string) ([]byte, error) {
	if _, ok := s.sign.csrfID(key, s.now()); !ok {
		return nil, nil
	}
	return []byte{}, nil // known: Fiber tests for nil; an empty slice allocates nothing
}

func (csrfStorage) Set(string, []byte, time.Duration) error { return nil }
func (csrfStorage) Delete(string) error                     { return nil }
func (csrfStorage) Reset() error                            { return nil }
func (csrfStorage) Close() error                            { return nil }

// csrfExtractor reads the page token from the header htmx and the island
// send, or from the hidden field of a plain form post, and checks it
// against the binding cookie. On success it returns the cookie's value,
// which is what Fiber's csrf then compares with the cookie.
func (h *Handlers) csrfExtractor(c *fiber.Ctx) (string, error) {
	tok := c.Get("X-Csrf-Token")
	if tok == "" {
		tok = c.FormValue("_csrf")
	}
	if tok == "" {
		return "", errCSRFMissing
	}
	cookie := c.Cookies(csrfCookie)
	id, exp, ok := h.sign.csrfBinding(cookie, h.now())
	if !ok || !h.sign.checkPageToken(tok, id, h.now()) {
		return "", errCSRFInvalid
	}
	c.Locals(csrfIDKey, id)
	c.Locals(csrfExpKey, exp)
	return cookie, nil
}

var (
	errCSRFMissing = fiber.NewError(fiber.StatusForbidden, "missing csrf token")
	errCSRFInvalid = fiber.NewError(fiber.StatusForbidden, "csrf token expired or not this browser's")
)

// csrfToken is the token the page being rendered carries.
func csrfToken(c *fiber.Ctx) string {
	if p, ok := c.Locals(csrfContextKey).(*pageTokenFor); ok {
		return p.token()
	}
	return ""
}

func (h *Handlers) csrfFailed(c *fiber.Ctx, err error) error {
	return &userError{status: fiber.StatusForbidden, title: "Page expired",
		message:   "This page's security token is missing or expired. Reload the page and try again.",
		actionURL: "/", actionLabel: "Back to the room picker", cause: err}
}
