package handlers

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// signer makes and checks HMAC-SHA256 signatures with SECRET_KEY. Every
// signature names its purpose, so an invite can never pass for a cookie.
// Build it with newSigner; a signer without a pool keys a new HMAC for
// every signature (tests build those).
type signer struct {
	key  []byte
	macs *macPool
}

func newSigner(key []byte) signer { return signer{key: key, macs: newMACPool(key)} }

// mac length-prefixes each part so that ("ab","c") and ("a","bc") differ.
func (s signer) mac(purpose string, parts ...string) [macSize]byte {
	if s.macs == nil {
		s.macs = newMACPool(s.key)
	}
	return s.macs.sum(purpose, parts...)
}

func (s signer) sign(purpose string, parts ...string) string {
	sum := s.mac(purpose, parts...)
	var b [64]byte
	return string(appendSig(b[:0], &sum))
}

// verify compares in constant time.
func (s signer) verify(sig, purpose string, parts ...string) bool {
	sum := s.mac(purpose, parts...)
	return equalSig(sig, &sum)
}

// seal joins fields, their expiry and a signature over all of them with
// ".", which no field may contain. Host cookies, seat credentials and CSRF
// tokens are all sealed values; open is their one parser.
func (s signer) seal(purpose string, exp int64, fields ...string) string {
	var e [20]byte
	parts := append(fields[:len(fields):len(fields)], string(strconv.AppendInt(e[:0], exp, 10)))
	sum := s.mac(purpose, parts...)
	n := 1 + base64.RawURLEncoding.EncodedLen(macSize)
	for _, p := range parts {
		n += len(p) + 1
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = append(append(b, p...), '.')
	}
	return string(appendSig(b, &sum))
}

// maxSealFields is the most fields a sealed value has: a stream
// ticket's four.
const maxSealFields = 4

// sealFields are a sealed value's fields; open fills the first n.
type sealFields [maxSealFields]string

// open checks a sealed value of n fields: its shape, its signature, then
// its expiry. It returns the fields and the expiry. The value is cut in
// place: no slice is made for its parts.
func (s signer) open(v, purpose string, n int, now time.Time) (sealFields, int64, bool) {
	parts, sig, ok := cutSeal(v, n)
	if !ok || !s.verify(sig, purpose, parts[:n+1]...) {
		return sealFields{}, 0, false
	}
	exp, err := strconv.ParseInt(parts[n], 10, 64)
	if err != nil || now.Unix() >= exp {
		return sealFields{}, 0, false
	}
	var f sealFields
	copy(f[:], parts[:n])
	return f, exp, true
}

// cutSeal cuts a sealed value of n fields at its dots: the fields and the
// expiry, then the signature. It checks the shape only.
func cutSeal(v string, n int) (parts [maxSealFields + 1]string, sig string, ok bool) {
	if n > maxSealFields {
		return parts, "", false
	}
	for k := 0; k <= n; k++ {
		i := strings.IndexByte(v, '.')
		if i < 0 {
			return parts, "", false
		}
		parts[k], v = v[:i], v[i+1:]
	}
	return parts, v, strings.IndexByte(v, '.') < 0
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// invite is a signed guest link's parts. V is the room's invite key
// version when the link was made: "New invite link" raises the room's
// version, and links of an older one are refused. Version 0 is signed
// without it, as links were before versions existed.
type invite struct {
	Room string
	Exp  int64
	Sig  string
	V    int
}

func (s signer) newInvite(room string, exp time.Time) invite { return s.newInviteV(room, exp, 0) }

func (s signer) newInviteV(room string, exp time.Time, v int) invite {
	e := exp.Unix()
	var b [20]byte
	sum := s.inviteMAC(room, string(strconv.AppendInt(b[:0], e, 10)), v)
	var sig [64]byte
	return invite{Room: room, Exp: e, Sig: string(appendSig(sig[:0], &sum)), V: v}
}

// inviteMAC is the signature of an invite: over its room and expiry, and
// its version when it has one.
func (s signer) inviteMAC(room, exp string, v int) [macSize]byte {
	if v == 0 {
		return s.mac("invite", room, exp)
	}
	var ver [20]byte
	return s.mac("invite", room, exp, string(strconv.AppendInt(ver[:0], int64(v), 10)))
}

// checkInvite takes the link's raw values; exp is checked as it was signed.
func (s signer) checkInvite(room, exp, sig string, now time.Time) (invite, bool) {
	return s.checkInviteV(room, exp, sig, "", now)
}

// checkInviteV is checkInvite for a link that may carry a version (v, ""
// or "0" for none). It checks the signature, not whether the version is
// still the room's current one.
func (s signer) checkInviteV(room, exp, sig, v string, now time.Time) (invite, bool) {
	ver := 0
	if v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || strconv.Itoa(n) != v {
			return invite{}, false
		}
		ver = n
	}
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || room == "" {
		return invite{}, false
	}
	if sum := s.inviteMAC(room, exp, ver); !equalSig(sig, &sum) {
		return invite{}, false
	}
	if strconv.FormatInt(e, 10) != exp || now.Unix() >= e {
		return invite{}, false
	}
	return invite{Room: room, Exp: e, Sig: sig, V: ver}, true
}

// Host sessions. The cookie says "this browser proved it may host" and
// lists the rooms it started, so the moderator page and token need no
// server-side session store and survive restarts.
//
// A session is renewed whenever it is used (a room page, a token, a new
// room) to hostIdleTTL from then, but never past hostMaxAge from the
// passcode; and a room page is rendered only while its session has
// pageLife left, so that every page keeps working that long.
const (
	hostCookie   = "swr_host"
	hostIdleTTL  = 24 * time.Hour
	hostMaxAge   = 7 * 24 * time.Hour
	pageLife     = 12 * time.Hour
	maxHostRooms = 20
)

type hostSession struct {
	Exp   int64 // Unix seconds; renewed on use
	Born  int64 // Unix seconds of the passcode; Born+hostMaxAge is the end
	Rooms []string
}

// newHostSession starts a session at now.
func newHostSession(now time.Time) hostSession {
	return hostSession{Born: now.Unix(), Exp: now.Add(hostIdleTTL).Unix()}
}

// renewed extends the session to hostIdleTTL from now, within its limit.
func (hs hostSession) renewed(now time.Time) hostSession {
	hs.Exp = min(now.Add(hostIdleTTL).Unix(), hs.Born+int64(hostMaxAge/time.Second))
	return hs
}

// lasts reports whether the session can back a page rendered now for
// pageLife: otherwise the host proves the passcode again first.
func (hs hostSession) lasts(now time.Time) bool {
	return now.Add(pageLife).Unix() <= hs.Born+int64(hostMaxAge/time.Second)
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
	// room names cannot hold a comma or a dot
	return s.seal("host", hs.Exp, strings.Join(hs.Rooms, ","), strconv.FormatInt(hs.Born, 10))
}

func (s signer) decodeHost(v string, now time.Time) (hostSession, bool) {
	fields, exp, ok := s.open(v, "host", 2, now)
	if !ok {
		// A cookie from before sessions were renewed: rooms and a 12 h
		// expiry, its start 12 h before that.
		if f, e, old := s.open(v, "host", 1, now); old {
			fields, exp, ok = sealFields{f[0], strconv.FormatInt(e-int64(12*time.Hour/time.Second), 10)}, e, true
		}
	}
	if !ok {
		return hostSession{}, false
	}
	born, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil || born > now.Unix() || now.Unix() >= born+int64(hostMaxAge/time.Second) {
		return hostSession{}, false
	}
	hs := hostSession{Exp: exp, Born: born}
	if fields[0] != "" {
		hs.Rooms = strings.Split(fields[0], ",")
	}
	return hs, true
}

// hostSession returns the request's valid host session, if any.
func (h *Handlers) hostSession(c *fiber.Ctx) (hostSession, bool) {
	return h.hostSessionAt(c, h.now())
}

// hostSessionAt is hostSession at now, for a handler that reads the clock
// once.
func (h *Handlers) hostSessionAt(c *fiber.Ctx, now time.Time) (hostSession, bool) {
	v := c.Cookies(hostCookie)
	if v == "" {
		return hostSession{}, false
	}
	return h.sign.decodeHost(v, now)
}

// lastingHostSession is hostSession for rendering a host's page or
// starting a room: only a session with pageLife left counts.
func (h *Handlers) lastingHostSession(c *fiber.Ctx) (hostSession, bool) {
	return h.lastingHostSessionAt(c, h.now())
}

func (h *Handlers) lastingHostSessionAt(c *fiber.Ctx, now time.Time) (hostSession, bool) {
	hs, ok := h.hostSessionAt(c, now)
	if !ok || !hs.lasts(now) {
		return hostSession{}, false
	}
	return hs, true
}

// renewSlack is how far a cookie's expiry may lag behind a fresh one's
// before a request renews it. Signing and sending a cookie on every page
// and join cost about a tenth of a page's CPU; within renewSlack of the
// last renewal the browser's cookie is kept. So an idle lifetime (the host
// session's hostIdleTTL, the CSRF binding's csrfCookieTTL) runs from the
// last renewal, which is at most renewSlack before the last use.
const renewSlack = 5 * time.Minute

// stale reports whether a cookie expiring at exp should be renewed now to
// a new expiry of fresh.
func stale(exp, fresh int64) bool {
	return fresh-exp > int64(renewSlack/time.Second)
}

// renewHostSessionAt renews a used session's cookie, unless it was renewed
// within renewSlack (or has reached hostMaxAge, where it cannot grow).
func (h *Handlers) renewHostSessionAt(c *fiber.Ctx, hs hostSession, now time.Time) {
	if stale(hs.Exp, hs.renewed(now).Exp) {
		h.setHostSessionAt(c, hs, now)
	}
}

// setHostSession renews hs and sends it.
func (h *Handlers) setHostSession(c *fiber.Ctx, hs hostSession) {
	h.setHostSessionAt(c, hs, h.now())
}

func (h *Handlers) setHostSessionAt(c *fiber.Ctx, hs hostSession, now time.Time) {
	hs = hs.renewed(now)
	h.setCookie(c, hostCookie, h.sign.encodeHost(hs), time.Unix(hs.Exp, 0))
}

// setCookie sends one of the app's signed cookies: for the whole site,
// out of scripts' reach, not on cross-site subrequests, and Secure on
// HTTPS (or when SecureCookies says a proxy terminates TLS).
func (h *Handlers) setCookie(c *fiber.Ctx, name, value string, expires time.Time) {
	c.Cookie(&fiber.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		Expires:  expires,
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

// seatTTL matches csrfTTL: a page joined as soon as it renders posts its
// events for as long as the page itself works.
const seatTTL = 24 * time.Hour

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
