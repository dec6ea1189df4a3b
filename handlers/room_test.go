package handlers_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/swrooms/swrooms/handlers"
	"github.com/swrooms/swrooms/signalwire/swtest"
)

var (
	wantGuest = []string{
		"room.self.audio_mute", "room.self.audio_unmute", "room.self.video_mute", "room.self.video_unmute",
		"room.self.deaf", "room.self.undeaf", "room.self.set_input_volume", "room.self.set_output_volume",
		"room.self.set_input_sensitivity", "room.self.raisehand", "room.self.lowerhand", "room.self.screenshare",
	}
	// Moderators ask before unmuting others: no member unmute permissions
	// unless MODERATOR_CAN_UNMUTE (TestModeratorTokensAskUnlessForcedUnmuteIsConfigured).
	wantModerator = append(slices.Clone(wantGuest),
		"room.member.audio_mute", "room.member.video_mute",
		"room.member.remove", "room.member.lowerhand", "room.list_available_layouts", "room.set_layout",
		"room.lock", "room.unlock", "room.recording", "room.hide_video_muted", "room.show_video_muted")
)

type tokenAnswer struct {
	Token, Seat, Role, User, Error string
}

func (e *testEnv) token(room string, body map[string]any) (*http.Response, tokenAnswer) {
	e.t.Helper()
	resp, raw := e.postJSON("/rooms/"+room+"/token", body)
	var a tokenAnswer
	if err := json.Unmarshal([]byte(raw), &a); err != nil {
		e.t.Fatalf("token answer %q: %v", raw, err)
	}
	return resp, a
}

func guestInvite(t testing.TB, e *testEnv, room string) url.Values {
	t.Helper()
	doc := e.host(room, "Host")
	href, _ := testid(doc, "invite-link").Attr("href")
	u, err := url.Parse(href)
	if err != nil || !u.IsAbs() {
		t.Fatalf("got invite %q, want an absolute URL", href)
	}
	return u.Query()
}

func sortedEqual(got, want []string) bool {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w)
}

func TestModeratorToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openHosting)
	e.host("Mod", "Ann")
	e.fake.ResetCalls()
	resp, a := e.token("Mod", map[string]any{"user": " Ann "})
	if resp.StatusCode != http.StatusOK || a.Role != "moderator" || a.Seat == "" {
		t.Fatalf("got %d %+v, want a moderator token", resp.StatusCode, a.Role)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("got Cache-Control %q, want no-store", got)
	}
	calls := e.fake.Calls()
	if len(calls) != 1 || calls[0].Method != "POST" || calls[0].Path != "/api/video/room_tokens" {
		t.Fatalf("got calls %+v, want exactly one POST /room_tokens and no POST /rooms", calls)
	}
	body := calls[0].Body
	if body["user_name"] != "Ann" || body["auto_create_room"] != false || body["join_as"] != "member" || body["room_name"] != "Mod" {
		t.Errorf("got token request %v", body)
	}
	claims, err := swtest.DecodeToken(a.Token)
	if err != nil {
		t.Fatal(err)
	}
	if !sortedEqual(claims.Permissions, wantModerator) {
		t.Errorf("got permissions %v, want %v", claims.Permissions, wantModerator)
	}
	if strings.Contains(e.logs.String(), a.Token) {
		t.Errorf("the room token appears in the log")
	}
}

func TestGuestToken(t *testing.T) {
	t.Parallel()
	host := newEnv(t, openHosting)
	inv := guestInvite(t, host, "Guests")
	guest := host.another()
	resp, doc := guest.get("/guest?" + inv.Encode() + "&user=Gus")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("got %d, want the guest page", resp.StatusCode)
	}
	if got, _ := testid(doc, "room-page").Attr("data-role"); got != "guest" {
		t.Errorf("got role %q, want guest", got)
	}
	if testid(doc, "invite-link").Length() != 0 {
		t.Errorf("a guest page shows the invite link")
	}
	doc.Find("[data-action]").Each(func(_ int, s *goquery.Selection) {
		if a, _ := s.Attr("data-action"); !strings.HasPrefix(a, "self-") {
			t.Errorf("got data-action %q on a guest page", a)
		}
	})
	host.fake.ResetCalls()
	_, a := guest.token("Guests", map[string]any{"user": "Gus", "invite": inviteBody(inv), "video_muted": true})
	if a.Role != "guest" {
		t.Fatalf("got %+v, want a guest token", a.Error)
	}
	claims, err := swtest.DecodeToken(a.Token)
	if err != nil {
		t.Fatal(err)
	}
	if !sortedEqual(claims.Permissions, wantGuest) {
		t.Errorf("got permissions %v, want %v", claims.Permissions, wantGuest)
	}
	if !claims.JoinVideoMuted || claims.JoinAudioMuted {
		t.Errorf("got join muted audio=%v video=%v, want video only", claims.JoinAudioMuted, claims.JoinVideoMuted)
	}
	if n := len(host.fake.CallsTo("POST", "/api/video/rooms")); n != 0 {
		t.Errorf("the guest route created %d rooms", n)
	}
}

func TestForbidden(t *testing.T) {
	t.Parallel()
	host := newEnv(t, openHosting)
	inv := guestInvite(t, host, "Locked")
	stranger := host.another()
	exp, _ := strconv.ParseInt(inv.Get("exp"), 10, 64)

	t.Run("no host capability gives 403 on the moderator page", func(t *testing.T) {
		resp, doc := stranger.get("/rooms/Locked")
		if resp.StatusCode != http.StatusForbidden || testid(doc, "error-message").Text() == "" {
			t.Errorf("got %d, want a 403 page", resp.StatusCode)
		}
	})
	t.Run("no host capability gives 403 on the token endpoint", func(t *testing.T) {
		resp, a := stranger.token("Locked", map[string]any{"user": "Eve"})
		if resp.StatusCode != http.StatusForbidden || a.Token != "" || a.Error == "" {
			t.Errorf("got %d %+v, want 403 with a message", resp.StatusCode, a.Error)
		}
	})
	tampered := []struct {
		name string
		mod  func(url.Values)
	}{
		{"another room", func(v url.Values) { v.Set("room", "Other") }},
		{"a later expiry", func(v url.Values) { v.Set("exp", strconv.FormatInt(exp+3600, 10)) }},
		{"a changed signature", func(v url.Values) { v.Set("sig", flipFirst(v.Get("sig"))) }},
		{"no signature", func(v url.Values) { v.Del("sig") }},
		{"an expiry with a leading zero", func(v url.Values) { v.Set("exp", "0"+v.Get("exp")) }},
	}
	for _, tt := range tampered {
		t.Run("an invite with "+tt.name+" gives 403", func(t *testing.T) {
			v := url.Values{}
			for k, vs := range inv {
				v[k] = slices.Clone(vs)
			}
			tt.mod(v)
			resp, doc := stranger.get("/guest?" + v.Encode())
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("got %d, want 403", resp.StatusCode)
			}
			if msg := testid(doc, "error-message").Text(); !strings.Contains(msg, "ask the host for a new invite link") && !strings.Contains(msg, "Ask the host for a new invite link") {
				t.Errorf("got %q", msg)
			}
		})
	}
	t.Run("an invite for another room gives no token for this one", func(t *testing.T) {
		resp, _ := stranger.token("Other", map[string]any{"user": "Eve", "invite": inviteBody(inv)})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("got %d, want 403", resp.StatusCode)
		}
	})
	t.Run("a token request without CSRF token is refused", func(t *testing.T) {
		resp, _ := stranger.do(http.MethodPost, "/rooms/Locked/token", strings.NewReader(`{"user":"Eve"}`), "Content-Type", "application/json", "Accept", "application/json")
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("got %d, want 403", resp.StatusCode)
		}
	})
}

func TestExpiredInvite(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openHosting)
	inv := guestInvite(t, e, "Soon")
	exp, _ := strconv.ParseInt(inv.Get("exp"), 10, 64)
	if d := time.Until(time.Unix(exp, 0)); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("got an invite valid for %v, want INVITE_TTL (1h)", d)
	}
	later := newEnvAt(t, time.Unix(exp, 0).Add(time.Second))
	resp, _ := later.get("/guest?" + inv.Encode())
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("got %d for an expired invite, want 403", resp.StatusCode)
	}
}

func TestInviteUsesPublicURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openHosting, func(c *handlers.Config) { c.PublicURL = "https://meet.example.com" })
	doc := e.host("Pub", "Ann")
	href, _ := testid(doc, "invite-link").Attr("href")
	if !strings.HasPrefix(href, "https://meet.example.com/guest?") {
		t.Errorf("got %q, want it under PUBLIC_URL", href)
	}
}

// flipFirst changes the first character, whatever it is.
func flipFirst(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

func TestHostOnOwnInviteGetsAGuestToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openHosting)
	inv := guestInvite(t, e, "Mine")
	e.get("/guest?" + inv.Encode())
	_, a := e.token("Mine", map[string]any{"user": "Host", "invite": inviteBody(inv)})
	if a.Role != "guest" {
		t.Errorf("got role %q, want guest: the invite decides", a.Role)
	}
}

func TestTokensAreRateLimitedPerClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openHosting, func(c *handlers.Config) { c.Limits.JoinsPerAddress = 30 })
	e.host("Busy", "Ann")
	var last *http.Response
	var a tokenAnswer
	for i := 0; i < 31; i++ {
		last, a = e.token("Busy", map[string]any{"user": "Ann"})
	}
	if last.StatusCode != http.StatusTooManyRequests || !strings.Contains(a.Error, "Wait a minute") {
		t.Errorf("got %d %q after 31 joins in a minute, want 429 with advice", last.StatusCode, a.Error)
	}
	if n := len(e.fake.CallsTo("POST", "/api/video/room_tokens")); n != 30 {
		t.Errorf("got %d token requests to SignalWire, want 30", n)
	}
}

func TestForwardedHeadersAreBelievedOnlyFromTrustedProxies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		proxies []string
		want    string
	}{
		{"no trusted proxy: the request's own scheme and host", nil, "http://rooms.test/guest?"},
		{"a trusted proxy: its scheme and host", []string{"0.0.0.0/0"}, "https://meet.example.org/guest?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, openHosting, func(c *handlers.Config) { c.TrustedProxies = tt.proxies })
			resp, _ := e.post("/rooms", url.Values{"room": {"Proxied"}, "user": {"Ann"}})
			_, doc := e.get(resp.Header.Get("Location"), "X-Forwarded-Proto", "https", "X-Forwarded-Host", "meet.example.org")
			if got, _ := testid(doc, "invite-link").Attr("href"); !strings.HasPrefix(got, tt.want) {
				t.Errorf("got %q, want it to start with %q", got, tt.want)
			}
		})
	}
}
