package handlers

import (
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzNormalizeRoom: whatever a user types, an accepted room name is one
// SignalWire accepts.
func FuzzNormalizeRoom(f *testing.F) {
	for _, s := range []string{"Main Office", "Main_Office", "bad/name", "", "  a  b ", "<script>", "é", strings.Repeat("a", 101), "live"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		room, problem := normalizeRoom(in)
		if problem == "" && !validRoom(room) {
			t.Errorf("normalizeRoom(%q) accepted %q, which validRoom rejects", in, room)
		}
	})
}

// FuzzNormalizeUser: an accepted name is trimmed, valid UTF-8 and 1 to 100
// runes.
func FuzzNormalizeUser(f *testing.F) {
	for _, s := range []string{"Ann", " Ann ", "", "\x00", "\xff", strings.Repeat("é", 101), "<img src=x onerror=alert(1)>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		user, problem := normalizeUser(in)
		if problem != "" {
			return
		}
		if n := utf8.RuneCountInString(user); n < 1 || n > maxUserName || !utf8.ValidString(user) || strings.TrimSpace(user) != user {
			t.Errorf("normalizeUser(%q) accepted %q", in, user)
		}
	})
}

// FuzzSignedValues: no input makes a signed-value decoder panic, and none
// but the signer's own output passes.
func FuzzSignedValues(f *testing.F) {
	s := signer{key: []byte("fuzz-secret-key-fuzz-secret-key-0123")}
	now := time.Unix(1_800_000_000, 0)
	inv := s.newInvite("Main_Office", now.Add(time.Hour))
	host := s.encodeHost(hostSession{Exp: now.Add(time.Hour).Unix(), Rooms: []string{"a", "b"}})
	st := s.encodeSeat(seat{Room: "Main_Office", Role: "guest", ID: "abc", Exp: now.Add(time.Hour).Unix()})
	f.Add(inv.Room, strconv.FormatInt(inv.Exp, 10), inv.Sig)
	f.Add(host, "", "")
	f.Add(st, "", "")
	f.Add("", "", "")
	f.Add("a.b.c.d.e", "1", "x")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		if got, ok := s.checkInvite(a, b, c, now); ok && (got.Room != a || s.sign("invite", a, b) != c) {
			t.Errorf("checkInvite accepted a value it did not sign: %q %q %q", a, b, c)
		}
		if hs, ok := s.decodeHost(a, now); ok && s.encodeHost(hs) != a {
			t.Errorf("decodeHost accepted %q, which encodes back as %q", a, s.encodeHost(hs))
		}
		if st, ok := s.decodeSeat(a, now); ok && s.encodeSeat(st) != a {
			t.Errorf("decodeSeat accepted %q, which encodes back as %q", a, s.encodeSeat(st))
		}
		_, _ = csrfStorage{sign: s, now: func() time.Time { return now }}.Get(a)
	})
}

func TestSignerSeparatesPurposes(t *testing.T) {
	s := signer{key: []byte("0123456789abcdef0123456789abcdef")}
	if s.sign("invite", "ab", "c") == s.sign("invite", "a", "bc") {
		t.Errorf("got the same signature for different splits of the same bytes")
	}
	if s.sign("invite", "x") == s.sign("seat", "x") {
		t.Errorf("got the same signature for two purposes")
	}
	other := signer{key: []byte("another-key-another-key-another-k")}
	inv := s.newInvite("R", time.Now().Add(time.Hour))
	if _, ok := other.checkInvite(inv.Room, strconv.FormatInt(inv.Exp, 10), inv.Sig, time.Now()); ok {
		t.Errorf("got an invite accepted under another SECRET_KEY")
	}
}
