package handlers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/swrooms/swrooms/handlers"
	"github.com/swrooms/swrooms/signalwire/swtest"
)

func TestPagesAsFullPageAndAsFragment(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openHosting)
	room := e.host("Pages", "Ann")
	invite, _ := testid(room, "invite-link").Attr("href")
	u, _ := url.Parse(invite)
	guestPath := "/guest?" + u.RawQuery

	pages := []struct {
		name, path, marker string
		status             int
	}{
		{"room picker", "/", "room-picker", 200},
		{"moderator room", "/rooms/Pages", "room-page", 200},
		{"guest room", guestPath, "room-page", 200},
		{"live rooms", "/rooms/live", "", 200},
		{"not found", "/nope", "error-message", 404},
		{"moderator room of another host", "/rooms/Other", "error-message", 403},
	}
	for _, p := range pages {
		for _, htmx := range []bool{false, true} {
			name := p.name + " as a page"
			var hdr []string
			if htmx {
				name = p.name + " as an htmx fragment"
				hdr = []string{"HX-Request", "true"}
			}
			t.Run(name, func(t *testing.T) {
				resp, doc := e.get(p.path, hdr...)
				if resp.StatusCode != p.status {
					t.Fatalf("got %d, want %d", resp.StatusCode, p.status)
				}
				if got := resp.Header.Get("Vary"); !strings.Contains(got, "HX-Request") {
					t.Errorf("got Vary %q, want HX-Request in it", got)
				}
				hasLayout := doc.Find("header.site-header").Length() == 1
				if hasLayout == htmx {
					t.Errorf("got layout=%v, want %v", hasLayout, !htmx)
				}
				if p.marker != "" && testid(doc, p.marker).Length() == 0 {
					t.Errorf("got no %q element", p.marker)
				}
				csp := resp.Header.Get("Content-Security-Policy")
				for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'"} {
					if !strings.Contains(csp, want) {
						t.Errorf("got CSP %q, want %q", csp, want)
					}
				}
				if strings.Contains(csp, "unsafe-inline") {
					t.Errorf("got CSP %q, want no unsafe-inline", csp)
				}
				if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
					t.Errorf("got nosniff %q, referrer %q", resp.Header.Get("X-Content-Type-Options"), resp.Header.Get("Referrer-Policy"))
				}
			})
		}
	}
}

func TestPickerPrefillAndDefaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, doc := e.get("/")
	if got, _ := testid(doc, "room-input").Attr("value"); got != "Main_Office" {
		t.Errorf("got room %q, want Main_Office", got)
	}
	if got, _ := testid(doc, "user-input").Attr("value"); !regexp.MustCompile(`^user_\d{4}$`).MatchString(got) {
		t.Errorf("got user %q, want user_NNNN", got)
	}
	if testid(doc, "passcode-input").Length() != 1 {
		t.Errorf("got no passcode field, want one when HOST_PASSCODE is set")
	}
	_, doc = e.get("/?room=Team+Sync&user=Bob")
	if got, _ := testid(doc, "room-input").Attr("value"); got != "Team_Sync" {
		t.Errorf("got room %q, want Team_Sync", got)
	}
	if got, _ := testid(doc, "user-input").Attr("value"); got != "Bob" {
		t.Errorf("got user %q, want Bob", got)
	}
}

func TestOpenHostingWarnsAndAsksNoPasscode(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openHosting)
	_, doc := e.get("/")
	if testid(doc, "open-hosting-warning").Length() != 1 {
		t.Errorf("got no open hosting warning")
	}
	if testid(doc, "passcode-input").Length() != 0 {
		t.Errorf("got a passcode field, want none")
	}
}

func TestInlineValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name  string
		field string
		value string
		want  string
	}{
		{"a slash in a room name", "room", "bad/name", "only letters"},
		{"spaces in a room name are fine", "room", "Main Office", ""},
		{"an empty room name", "room", "", "Enter a room name"},
		{"a room name of 101 characters", "room", strings.Repeat("a", 101), "at most 100"},
		{"an empty user name", "user", "   ", "Enter your name"},
		{"a user name of 100 runes", "user", strings.Repeat("é", 100), ""},
		{"a user name of 101 runes", "user", strings.Repeat("é", 101), "at most 100"},
		{"a control character in a user name", "user", "Ann\x07", "printable"},
		{"the reserved room name live", "room", "live", "reserved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, doc := e.post("/rooms/validate", url.Values{tt.field: {tt.value}}, "HX-Request", "true")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("got %d, want 200", resp.StatusCode)
			}
			msg := doc.Find(`[data-testid="field-error"][data-field="` + tt.field + `"]`)
			if msg.Length() != 1 {
				t.Fatalf("got %d field-error elements, want 1", msg.Length())
			}
			if got := msg.Text(); (tt.want == "" && got != "") || !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCreateRoom(t *testing.T) {
	t.Parallel()
	t.Run("a plain form post redirects with 303 to the room", func(t *testing.T) {
		e := newEnv(t)
		resp, _ := e.post("/rooms", url.Values{"room": {"Main Office"}, "user": {"Ann"}, "passcode": {"open-sesame"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("got %d, want 303", resp.StatusCode)
		}
		if got := resp.Header.Get("Location"); got != "/rooms/Main_Office?user=Ann" {
			t.Errorf("got Location %q, want /rooms/Main_Office?user=Ann", got)
		}
		posts := e.fake.CallsTo("POST", "/api/video/rooms")
		if len(posts) != 1 {
			t.Fatalf("got %d room creations, want 1", len(posts))
		}
		if got := posts[0].Body["max_members"]; got != float64(5) {
			t.Errorf("got max_members %v, want 5 from MAX_MEMBERS", got)
		}
	})
	t.Run("an htmx post gets 204 with HX-Redirect", func(t *testing.T) {
		e := newEnv(t)
		resp, _ := e.post("/rooms", url.Values{"room": {"Lobby"}, "user": {"Ann"}, "passcode": {"open-sesame"}}, "HX-Request", "true")
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("HX-Redirect") != "/rooms/Lobby?user=Ann" {
			t.Errorf("got %d with HX-Redirect %q, want 204 to /rooms/Lobby?user=Ann", resp.StatusCode, resp.Header.Get("HX-Redirect"))
		}
	})
	t.Run("invalid input is a 422 with the form and its messages", func(t *testing.T) {
		e := newEnv(t)
		resp, doc := e.post("/rooms", url.Values{"room": {"no/slashes"}, "user": {""}, "passcode": {"open-sesame"}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("got %d, want 422", resp.StatusCode)
		}
		if got := doc.Find(`[data-field="room"]`).Text(); !strings.Contains(got, "only letters") {
			t.Errorf("got room message %q", got)
		}
		if got := doc.Find(`[data-field="user"]`).Text(); !strings.Contains(got, "Enter your name") {
			t.Errorf("got user message %q", got)
		}
		if n := len(e.fake.CallsTo("POST", "/api/video/rooms")); n != 0 {
			t.Errorf("got %d room creations, want none", n)
		}
	})
	t.Run("an htmx post with problems gets the bare form", func(t *testing.T) {
		e := newEnv(t)
		resp, doc := e.post("/rooms", url.Values{"room": {"a b/c"}, "user": {"Ann"}, "passcode": {"open-sesame"}}, "HX-Request", "true")
		if resp.StatusCode != http.StatusUnprocessableEntity || doc.Find("header.site-header").Length() != 0 || testid(doc, "room-picker").Length() != 1 {
			t.Errorf("got %d, want 422 with the form only", resp.StatusCode)
		}
	})
	t.Run("a second host of the same room works and the room is created once", func(t *testing.T) {
		e := newEnv(t)
		e.host("Shared", "Ann")
		other := e.another()
		other.host("Shared", "Bob")
		if n := len(e.fake.CallsTo("POST", "/api/video/rooms")); n != 1 {
			t.Errorf("got %d room creations, want 1", n)
		}
	})
	t.Run("an existing room on SignalWire is reused", func(t *testing.T) {
		e := newEnv(t)
		if _, err := e.fake.SeedRoom(swtest.Room{Name: "Existing"}); err != nil {
			t.Fatal(err)
		}
		e.host("Existing", "Ann")
	})
	t.Run("a SignalWire 500 on create shows the error page", func(t *testing.T) {
		e := newEnv(t)
		e.fake.Fail("POST", "/api/video/rooms", swtest.Fault{Status: 500})
		resp, doc := e.post("/rooms", url.Values{"room": {"Broken"}, "user": {"Ann"}, "passcode": {"open-sesame"}})
		if resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("got %d, want 502", resp.StatusCode)
		}
		msg := testid(doc, "error-message").Text()
		if !strings.Contains(msg, "SignalWire") || strings.Contains(msg, "{") {
			t.Errorf("got %q, want a sentence about SignalWire and no raw JSON", msg)
		}
		if got, _ := testid(doc, "error-action").Attr("href"); got != "/?room=Broken&user=Ann" {
			t.Errorf("got retry link %q, want one that keeps the form's values", got)
		}
	})
	t.Run("a SignalWire failure on an htmx post shows in the flash area", func(t *testing.T) {
		e := newEnv(t)
		e.fake.Fail("POST", "/api/video/rooms", swtest.Fault{Status: 503})
		resp, doc := e.post("/rooms", url.Values{"room": {"Broken"}, "user": {"Ann"}, "passcode": {"open-sesame"}}, "HX-Request", "true")
		if resp.StatusCode != http.StatusBadGateway || resp.Header.Get("HX-Retarget") != "#flash" {
			t.Errorf("got %d retargeted to %q, want 502 into #flash", resp.StatusCode, resp.Header.Get("HX-Retarget"))
		}
		if doc.Find("header.site-header").Length() != 0 || testid(doc, "error-message").Length() != 1 {
			t.Errorf("got a full page or no message, want the message fragment")
		}
	})
	t.Run("SignalWire rate limiting shows a 503 that says to wait", func(t *testing.T) {
		e := newEnv(t)
		e.fake.Fail("POST", "/api/video/rooms", swtest.Fault{Status: 429})
		resp, doc := e.post("/rooms", url.Values{"room": {"Busy"}, "user": {"Ann"}, "passcode": {"open-sesame"}})
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(testid(doc, "error-message").Text(), "slow down") {
			t.Errorf("got %d %q", resp.StatusCode, testid(doc, "error-message").Text())
		}
	})
	t.Run("SignalWire not answering in time shows a 503 page", func(t *testing.T) {
		e := newEnv(t, func(c *handlers.Config) { c.SignalWireTimeout = 50 * time.Millisecond })
		e.fake.Fail("POST", "/api/video/rooms", swtest.Fault{Delay: time.Second})
		resp, doc := e.post("/rooms", url.Values{"room": {"Slow"}, "user": {"Ann"}, "passcode": {"open-sesame"}})
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("got %d (%q), want 503", resp.StatusCode, testid(doc, "error-message").Text())
		}
	})
}

func TestPasscodeGate(t *testing.T) {
	t.Parallel()
	t.Run("a wrong passcode is a 422 and creates nothing", func(t *testing.T) {
		e := newEnv(t)
		resp, doc := e.post("/rooms", url.Values{"room": {"R"}, "user": {"Ann"}, "passcode": {"guess"}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("got %d, want 422", resp.StatusCode)
		}
		if got := doc.Find(`[data-field="passcode"]`).Text(); !strings.Contains(got, "not right") {
			t.Errorf("got %q", got)
		}
		if n := len(e.fake.CallsTo("POST", "/api/video/rooms")); n != 0 {
			t.Errorf("got %d room creations, want none", n)
		}
	})
	t.Run("a correct passcode grants a host session that is not asked again", func(t *testing.T) {
		e := newEnv(t)
		e.host("First", "Ann")
		_, doc := e.get("/")
		if testid(doc, "passcode-input").Length() != 0 {
			t.Errorf("got a passcode field for a host, want none")
		}
		if testid(doc, "live-rooms").Length() != 1 {
			t.Errorf("got no live rooms for a host")
		}
		resp, _ := e.post("/rooms", url.Values{"room": {"Second"}, "user": {"Ann"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("got %d, want 303 without a passcode", resp.StatusCode)
		}
		for _, c := range e.jar.Cookies(mustURL(origin)) {
			if c.Name == "swr_host" && strings.Contains(c.Value, "open-sesame") {
				t.Errorf("the cookie holds the passcode")
			}
		}
	})
	t.Run("wrong attempts are rate limited", func(t *testing.T) {
		e := newEnv(t)
		var last int
		for i := 0; i < 12; i++ {
			resp, _ := e.post("/rooms", url.Values{"room": {"R"}, "user": {"Ann"}, "passcode": {"guess"}})
			last = resp.StatusCode
		}
		if last != http.StatusTooManyRequests {
			t.Errorf("got %d after 12 wrong attempts, want 429", last)
		}
		resp, _ := e.post("/rooms", url.Values{"room": {"R"}, "user": {"Ann"}, "passcode": {"open-sesame"}})
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("got %d for a right passcode while limited, want 429", resp.StatusCode)
		}
	})
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openHosting)
	e.get("/")
	e.csrf = "forged.1.x"
	resp, doc := e.post("/rooms", url.Values{"room": {"R"}, "user": {"Ann"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("got %d, want 403 for a forged token", resp.StatusCode)
	}
	if !strings.Contains(testid(doc, "error-message").Text(), "Reload") {
		t.Errorf("got %q, want advice to reload", testid(doc, "error-message").Text())
	}
}

func TestEscaping(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openHosting)
	_, doc := e.get("/?room=%3Cscript%3E&user=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
	// The picker's own module (a src) is fine; a name must not become a script.
	if doc.Find("main script:not([src])").Length() != 0 {
		t.Errorf("got a script element from a name")
	}
	if got, _ := testid(doc, "user-input").Attr("value"); got != "<script>alert(1)</script>" {
		t.Errorf("got %q, want the name as text", got)
	}
	page := e.host("Esc", "<script>alert(1)</script>")
	if got, _ := testid(page, "prejoin-name").Attr("value"); got != "<script>alert(1)</script>" {
		t.Errorf("got %q, want the name as text", got)
	}
	if n := page.Find("script").Length(); n != 5 {
		t.Errorf("got %d script elements, want 5 (htmx, its SSE extension, config, SDK, island)", n)
	}
}

func mustURL(s string) *url.URL { u, _ := url.Parse(s); return u }

func TestCSPAllowsALoopbackRelayOnlyWhenConfigured(t *testing.T) {
	t.Parallel()
	for origin, want := range map[string]bool{"": false, "ws://127.0.0.1:4321": true} {
		e := newEnv(t, func(c *handlers.Config) { c.RelayOrigin = origin })
		resp, _ := e.get("/")
		csp := resp.Header.Get("Content-Security-Policy")
		if got := strings.Contains(csp, "ws://"); got != want {
			t.Errorf("RelayOrigin %q: CSP %q, want a ws:// origin: %v", origin, csp, want)
		}
		if want && !strings.Contains(csp, "connect-src 'self' wss://*.signalwire.com https://*.signalwire.com "+origin+";") {
			t.Errorf("RelayOrigin %q: CSP %q does not add it to connect-src", origin, csp)
		}
	}
}
