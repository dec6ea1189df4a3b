package handlers

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// TestRoomPagesCompiledAreTempl: the host's and the guest's pages as the
// app serves them, from the pages compiled at start (roomPages), are byte
// for byte the pages templ renders for the same request, under each
// configuration that shows on a page. The views tests hold the compiler to
// templ for a copy of roomPageOf; this holds the handlers' own page to it.
func TestRoomPagesCompiledAreTempl(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	for name, cfg := range map[string]Config{
		"passcode":         {HostPasscode: "open-sesame"},
		"sandbox, open":    {Sandbox: true, OpenHosting: true, RelayOrigin: "ws://127.0.0.1:9"},
		"public URL":       {PublicURL: "https://rooms.example", ModeratorCanUnmute: true, SecureCookies: true},
		"lobby grace, ttl": {LobbyGrace: time.Minute, InviteTTL: 48 * time.Hour},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg.SecretKey = []byte("compiled-page-test-key-0123456789abcdef")
			if cfg.InviteTTL == 0 {
				cfg.InviteTTL = time.Hour
			}
			deps := func() Deps {
				return Deps{Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }}
			}
			compiled := New(cfg, deps())
			if compiled.roomPages.moderator == nil || compiled.roomPages.guest == nil {
				t.Fatal("got a room page that did not compile")
			}
			viaTempl := New(cfg, deps())
			viaTempl.roomPages = roomPages{} // every page templ's way

			s := compiled.sign
			hs := newHostSession(now)
			hs.Rooms = []string{"Main_Office", "a-b_c"}
			inv := s.newInviteV("Main_Office", now.Add(time.Hour), 0)
			cookies := []*http.Cookie{
				{Name: csrfCookie, Value: s.seal("csrf", now.Add(csrfCookieTTL).Unix(), "browser-id")},
				{Name: hostCookie, Value: s.encodeHost(hs)},
				{Name: guestCookie, Value: s.seal("guest", now.Add(time.Hour).Unix(), "guest-id")},
			}
			q := url.Values{"room": {inv.Room}, "exp": {strconv.FormatInt(inv.Exp, 10)}, "sig": {inv.Sig}}
			for _, path := range []string{
				"/rooms/Main_Office",
				"/rooms/Main_Office?user=" + url.QueryEscape(`<Ann & "Bo">'`),
				"/rooms/a-b_c?user=%E2%80%A8",
				"/guest?" + q.Encode(),
				"/guest?" + q.Encode() + "&user=" + url.QueryEscape(`</script><b>x`),
			} {
				got, gotStatus := servePage(t, compiled, path, cookies)
				want, wantStatus := servePage(t, viaTempl, path, cookies)
				if gotStatus != http.StatusOK || wantStatus != http.StatusOK {
					t.Fatalf("%s: got status %d compiled, %d via templ; want 200", path, gotStatus, wantStatus)
				}
				if got != want {
					i := 0
					for i < min(len(got), len(want)) && got[i] == want[i] {
						i++
					}
					t.Errorf("%s: compiled page differs from templ's at byte %d:\ngot  %.160q\nwant %.160q", path, i, got[i:], want[i:])
				}
			}
		})
	}
}

func servePage(t *testing.T, h *Handlers, path string, cookies []*http.Cookie) (string, int) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "http://rooms.test"+path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := NewApp(h).Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), resp.StatusCode
}
