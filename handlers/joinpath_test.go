package handlers

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// The join path's encoders write out what a library would build; these
// hold them to the library's answer.

func FuzzInviteURLIsValuesEncoding(f *testing.F) {
	f.Add("Main_Office", int64(1796007320), "xW3z0q5K-_", 0)
	f.Add("a b&c=d", int64(-1), "+/=", 7)
	f.Fuzz(func(t *testing.T, room string, exp int64, sig string, v int) {
		inv := invite{Room: room, Exp: exp, Sig: sig, V: v}
		q := url.Values{"room": {room}, "exp": {strconv.FormatInt(exp, 10)}, "sig": {sig}}
		if v > 0 {
			q.Set("v", strconv.Itoa(v))
		}
		if got, want := string(appendInviteURL(nil, inv)), "/guest?"+q.Encode(); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}

func TestRoomURLs(t *testing.T) {
	token, events, joinFailed := roomURLs("Main_Office")
	for _, c := range [][2]string{{token, "/rooms/Main_Office/token"}, {events, "/rooms/Main_Office/events"}, {joinFailed, "/rooms/Main_Office/join-failed"}} {
		if c[0] != c[1] {
			t.Errorf("got %q, want %q", c[0], c[1])
		}
	}
}

// openBySplit is open as it was written first, with strings.Split: the
// reference the in-place parser must agree with.
func openBySplit(s signer, v, purpose string, n int, now time.Time) ([]string, int64, bool) {
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

func FuzzOpenAgreesWithSplit(f *testing.F) {
	s := newSigner([]byte("fuzz-secret-key-fuzz-secret-key-0123"))
	now := time.Unix(1_800_000_000, 0)
	for n := 1; n <= maxSealFields; n++ {
		fields := []string{"a", "b.c", "", "d"}[:n]
		f.Add(s.seal("p", now.Add(time.Hour).Unix(), fields...), n)
	}
	f.Add(s.seal("p", now.Add(time.Hour).Unix(), "x", "y"), 1)
	f.Add(s.seal("p", now.Add(-time.Hour).Unix(), "x"), 1)
	f.Add("..", 1)
	f.Fuzz(func(t *testing.T, v string, n int) {
		n = 1 + (n&0xff)%maxSealFields
		got, gotExp, gotOK := s.open(v, "p", n, now)
		want, wantExp, wantOK := openBySplit(s, v, "p", n, now)
		if gotOK != wantOK || gotExp != wantExp || (gotOK && strings.Join(got[:n], ".") != strings.Join(want, ".")) {
			t.Errorf("open(%q, %d) = %q %d %v, want %q %d %v", v, n, got, gotExp, gotOK, want, wantExp, wantOK)
		}
	})
}

func TestPageTokenIsExpiryDotSignature(t *testing.T) {
	s := newSigner([]byte("0123456789abcdef0123456789abcdef"))
	exp := time.Unix(1_800_000_000, 0)
	e := strconv.FormatInt(exp.Unix(), 10)
	if got, want := s.pageToken("browser-id", exp), e+"."+s.sign("csrf-page", "browser-id", e); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !s.checkPageToken(s.pageToken("browser-id", exp), "browser-id", exp.Add(-time.Second)) {
		t.Error("got a fresh page token refused")
	}
}

func TestInviteSignatureCoversTheVersion(t *testing.T) {
	s := newSigner([]byte("0123456789abcdef0123456789abcdef"))
	now := time.Unix(1_800_000_000, 0)
	for _, v := range []int{0, 1, 12} {
		inv := s.newInviteV("R", now.Add(time.Hour), v)
		want := s.sign("invite", "R", strconv.FormatInt(inv.Exp, 10))
		if v > 0 {
			want = s.sign("invite", "R", strconv.FormatInt(inv.Exp, 10), strconv.Itoa(v))
		}
		if inv.Sig != want {
			t.Errorf("v%d: got signature %q, want %q", v, inv.Sig, want)
		}
		if _, ok := s.checkInviteV("R", strconv.FormatInt(inv.Exp, 10), inv.Sig, strconv.Itoa(v), now); !ok {
			t.Errorf("v%d: got its own invite refused", v)
		}
		if _, ok := s.checkInviteV("R", strconv.FormatInt(inv.Exp, 10), inv.Sig, strconv.Itoa(v+1), now); ok {
			t.Errorf("v%d: got the invite accepted as version %d", v, v+1)
		}
	}
}

// FuzzTokenResponseJSON: the token answer is what encoding/json makes of
// it, byte for byte (HTML escaping included).
func FuzzTokenResponseJSON(f *testing.F) {
	f.Add("eyJ.eyJ.sig", "R.moderator.abc.1.sig", "moderator", "Ann")
	f.Add("\xff", "<&>", "\u2028", "\"\\\x00\x1f")
	f.Fuzz(func(t *testing.T, token, seat, role, user string) {
		r := tokenResponse{Token: token, Seat: seat, Role: role, User: user}
		want, _ := json.Marshal(r)
		if got := r.appendJSON(nil); !bytes.Equal(got, want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	})
}

// FuzzVaryOnIsVary: varyOn leaves the Vary header as Fiber's c.Vary does.
func FuzzVaryOnIsVary(f *testing.F) {
	for _, s := range [][2]string{{"", "HX-Request"}, {"Cookie", "HX-Request"}, {"HX-Request", "HX-Request"}, {"Cookie, HX-Request", "HX-Request"},
		{"HX-Request, Cookie", "HX-Request"}, {"A, HX-Request, B", "HX-Request"}, {"A,HX-Request", "HX-Request"}, {"XHX-Request", "HX-Request"}} {
		f.Add(s[0], s[1])
	}
	app := fiber.New()
	f.Fuzz(func(t *testing.T, have, field string) {
		if field == "" || strings.ContainsAny(have+field, "\r\n") {
			return
		}
		vary := func(add func(c *fiber.Ctx)) string {
			c := app.AcquireCtx(&fasthttp.RequestCtx{})
			defer app.ReleaseCtx(c)
			if have != "" {
				c.Set(fiber.HeaderVary, have)
			}
			add(c)
			return string(c.Response().Header.Peek(fiber.HeaderVary))
		}
		got := vary(func(c *fiber.Ctx) { varyOn(c, field) })
		want := vary(func(c *fiber.Ctx) { c.Vary(field) })
		if got != want {
			t.Errorf("Vary %q + %q: got %q, want %q", have, field, got, want)
		}
	})
}

// FuzzExpiresText: the invite's expiry reads as time.Format writes it.
func FuzzExpiresText(f *testing.F) {
	f.Add(int64(1796007320))
	f.Add(int64(0))
	f.Add(int64(-62135596800))
	f.Add(int64(253402300799))
	f.Fuzz(func(t *testing.T, sec int64) {
		tm := time.Unix(sec, 0)
		if got, want := expiresText(tm), tm.UTC().Format("2 Jan 2006 15:04 MST"); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}
