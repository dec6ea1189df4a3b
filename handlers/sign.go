package handlers

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// signer makes and checks HMAC-SHA256 signatures with SECRET_KEY. Every
// signature names its purpose, so an invite can never pass for a cookie.
type signer struct{ key []byte }

// mac length-prefixes each part so that ("ab","c") and ("a","bc") differ.
func (s signer) mac(purpose string, parts ...string) []byte {
	m := hmac.New(sha256.New, s.key)
	var n [8]byte
	for _, p := range append([]string{purpose}, parts...) {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		m.Write(n[:])
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

func (s signer) sign(purpose string, parts ...string) string {
	return base64.RawURLEncoding.EncodeToString(s.mac(purpose, parts...))
}

// verify compares in constant time.
func (s signer) verify(sig, purpose string, parts ...string) bool {
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	return hmac.Equal(got, s.mac(purpose, parts...))
}

// seal joins fields, their expiry and a signature over all of them with
// ".", which no field may contain. Host cookies, seat credentials and CSRF
// tokens are all sealed values; open is their one parser.
func (s signer) seal(purpose string, exp int64, fields ...string) string {
	parts := append(append([]string{}, fields...), strconv.FormatInt(exp, 10))
	return strings.Join(parts, ".") + "." + s.sign(purpose, parts...)
}

// open checks a sealed value of n fields: its shape, its signature, then
// its expiry. It returns the fields and the expiry.
func (s signer) open(v, purpose string, n int, now time.Time) ([]string, int64, bool) {
	parts := strings.Split(v, ".")
	if len(parts) != n+2 || !s.verify(parts[n+1], purpose, parts[:n+1]...) {
		return nil, 0, false
	}
	exp, err := strconv.ParseInt(parts[n], 10, 64)
	if err != nil || now.Unix() >= exp {
		return nil, 0, false
	}
	return parts[:n], exp, true
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// invite is a signed guest link's parts.
type invite struct {
	Room string
	Exp  int64
	Sig  string
}

func (s signer) newInvite(room string, exp time.Time) invite {
	e := exp.Unix()
	return invite{Room: room, Exp: e, Sig: s.sign("invite", room, strconv.FormatInt(e, 10))}
}

// checkInvite takes the link's raw values; exp is checked as it was signed.
func (s signer) checkInvite(room, exp, sig string, now time.Time) (invite, bool) {
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || room == "" || !s.verify(sig, "invite", room, exp) {
		return invite{}, false
	}
	if strconv.FormatInt(e, 10) != exp || now.Unix() >= e {
		return invite{}, false
	}
	return invite{Room: room, Exp: e, Sig: sig}, true
}

// Host sessions. The cookie says "this browser proved it may host" and
// lists the rooms it started, so the moderator page and token need no
// server-side session store and survive restarts.
const (
	hostCookie   = "swr_host"
	hostTTL      = 12 * time.Hour
	maxHostRooms = 20
)

type hostSession struct {
	Exp   int64
	Rooms []string
}

func (hs hostSession) has(room string) bool {
	for _, r := range hs.Rooms {
		if r == room {
			return true
		}
	}
	return false
}

// with adds room, keeping the most recent maxHostRooms so the cookie stays
// well under browsers' size limits.
func (hs hostSession) with(room string) hostSession {
	rooms := []string{room}
	for _, r := range hs.Rooms {
		if r != room && len(rooms) < maxHostRooms {
			rooms = append(rooms, r)
		}
	}
	hs.Rooms = rooms
	return hs
}

func (s signer) encodeHost(hs hostSession) string {
	return s.seal("host", hs.Exp, strings.Join(hs.Rooms, ",")) // room names cannot hold a comma
}

func (s signer) decodeHost(v string, now time.Time) (hostSession, bool) {
	fields, exp, ok := s.open(v, "host", 1, now)
	if !ok {
		return hostSession{}, false
	}
	hs := hostSession{Exp: exp}
	if fields[0] != "" {
		hs.Rooms = strings.Split(fields[0], ",")
	}
	return hs, true
}

// hostSession returns the request's valid host session, if any.
func (h *Handlers) hostSession(c *fiber.Ctx) (hostSession, bool) {
	v := c.Cookies(hostCookie)
	if v == "" {
		return hostSession{}, false
	}
	return h.sign.decodeHost(v, h.now())
}

func (h *Handlers) setHostSession(c *fiber.Ctx, hs hostSession) {
	c.Cookie(&fiber.Cookie{
		Name:     hostCookie,
		Value:    h.sign.encodeHost(hs),
		Path:     "/",
		Expires:  time.Unix(hs.Exp, 0),
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
		Secure:   h.secure(c),
	})
}

func (h *Handlers) secure(c *fiber.Ctx) bool {
	return h.cfg.SecureCookies || c.Protocol() == "https"
}

// Seat credentials bind one join (room, role, seat id) for the event posts
// that follow it. They are signed, not stored, so a restarted server or
// another instance accepts them.
type seat struct {
	Room string
	Role string
	ID   string
	Exp  int64
}

const seatTTL = 12 * time.Hour

func (s signer) encodeSeat(st seat) string {
	return s.seal("seat", st.Exp, st.Room, st.Role, st.ID)
}

func (s signer) decodeSeat(v string, now time.Time) (seat, bool) {
	f, exp, ok := s.open(v, "seat", 3, now)
	if !ok {
		return seat{}, false
	}
	return seat{Room: f[0], Role: f[1], ID: f[2], Exp: exp}, true
}

// CSRF tokens are signed too (see csrfStorage): Fiber's csrf middleware
// checks the cookie against the header and asks its storage whether the
// token is known; a signature answers that without memory that grows with
// visitors or vanishes on restart.
const (
	csrfTTL        = 12 * time.Hour
	csrfContextKey = "csrf"
	csrfCookie     = "swr_csrf"
)

func (h *Handlers) newCSRFToken() string {
	return h.sign.seal("csrf", h.now().Add(csrfTTL).Unix(), randomID(16))
}

type csrfStorage struct {
	sign signer
	now  func() time.Time
}

func (s csrfStorage) Get(key string) ([]byte, error) {
	if _, _, ok := s.sign.open(key, "csrf", 1, s.now()); !ok {
		return nil, nil
	}
	return []byte{1}, nil
}

func (csrfStorage) Set(string, []byte, time.Duration) error { return nil }
func (csrfStorage) Delete(string) error                     { return nil }
func (csrfStorage) Reset() error                            { return nil }
func (csrfStorage) Close() error                            { return nil }

// csrfExtractor reads the token from the header htmx and the island send,
// or from the hidden field of a plain form post.
func csrfExtractor(c *fiber.Ctx) (string, error) {
	if t := c.Get("X-Csrf-Token"); t != "" {
		return t, nil
	}
	if t := c.FormValue("_csrf"); t != "" {
		return t, nil
	}
	return "", errCSRFMissing
}

var errCSRFMissing = fiber.NewError(fiber.StatusForbidden, "missing csrf token")

func csrfToken(c *fiber.Ctx) string {
	t, _ := c.Locals(csrfContextKey).(string)
	return t
}

func (h *Handlers) csrfFailed(c *fiber.Ctx, err error) error {
	return &userError{status: fiber.StatusForbidden, title: "Page expired",
		message:   "This page's security token is missing or expired. Reload the page and try again.",
		actionURL: "/", actionLabel: "Back to the room picker", cause: err}
}
