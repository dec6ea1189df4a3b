package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestForgedCSRFCookieGetsANewBinding: a page opened with a binding
// cookie that is forged or expired gets a new binding, and its token works
// with that one only. The page's token is made from the cookie Fiber's
// csrf hands on, which must be the new one.
func TestForgedCSRFCookieGetsANewBinding(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	u, _ := url.Parse(origin + "/")
	old := newEnvAt(t, now.Add(-31*24*time.Hour), openHosting)
	old.get("/")
	expired := csrfCookieOf(t, old)

	fresh := newEnvAt(t, now, openHosting)
	fresh.get("/")
	id, rest, _ := strings.Cut(csrfCookieOf(t, fresh), ".")
	for name, bad := range map[string]string{
		"forged":  strings.Repeat("0", len(id)) + "." + rest, // another id under the first one's signature
		"expired": expired,
	} {
		t.Run(name, func(t *testing.T) {
			e := fresh.another()
			e.jar.SetCookies(u, []*http.Cookie{{Name: "swr_csrf", Value: bad}})
			e.get("/")
			got := csrfCookieOf(t, e)
			if got == bad {
				t.Fatalf("got the %s cookie kept", name)
			}
			if resp, _ := e.post("/rooms", url.Values{"room": {"R_" + name}, "user": {"Ann"}}); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("got %d for the page's token with the new cookie, want 303", resp.StatusCode)
			}
			e.jar.SetCookies(u, []*http.Cookie{{Name: "swr_csrf", Value: bad}})
			if resp, _ := e.post("/rooms", url.Values{"room": {"S_" + name}, "user": {"Ann"}}); resp.StatusCode != http.StatusForbidden {
				t.Errorf("got %d for the page's token with the %s cookie, want 403", resp.StatusCode, name)
			}
		})
	}
}

func csrfCookieOf(t *testing.T, e *testEnv) string {
	t.Helper()
	u, _ := url.Parse(origin + "/")
	for _, c := range e.jar.Cookies(u) {
		if c.Name == "swr_csrf" {
			return c.Value
		}
	}
	t.Fatal("no swr_csrf cookie")
	return ""
}
