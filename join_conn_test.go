package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/swrooms/swrooms/signalwire/swtest"
)

var pageCSRF = regexp.MustCompile(`"csrf":"([^"]+)"`)

// TestJoinMakesOneSignalWireCallOnAReusedConnection runs the app as wired
// in production (main.go's pooled transport) against a fake that counts
// the connections it accepts: every join is exactly one SignalWire call,
// and it travels on a connection an earlier call opened.
func TestJoinMakesOneSignalWireCallOnAReusedConnection(t *testing.T) {
	t.Parallel()
	fake, srv, conns := swtest.NewCountingServer(testProjectKey, testAPIToken)
	t.Cleanup(srv.Close)
	app := startApp(t, []string{
		"SIGNALWIRE_PROJECT_KEY=" + testProjectKey, "SIGNALWIRE_TOKEN=" + testAPIToken,
		"SIGNALWIRE_SPACE=" + srv.URL, "SECRET_KEY=" + testSecretKey, "OPEN_HOSTING=true",
	})
	waitForReady(t, app)

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	body := func(resp *http.Response, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 400 {
			t.Fatalf("%s %s: got %d", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode)
		}
		return string(b)
	}
	m := csrfField.FindStringSubmatch(body(browser.Get(app.URL + "/")))
	if m == nil {
		t.Fatal("no CSRF token on the picker")
	}
	body(browser.PostForm(app.URL+"/rooms", url.Values{"room": {"Reuse"}, "user": {"Ann"}, "_csrf": {m[1]}}))

	for i := range 3 {
		tok := pageCSRF.FindStringSubmatch(body(browser.Get(app.URL + "/rooms/Reuse?user=Ann")))
		if tok == nil {
			t.Fatal("no CSRF token on the moderator page")
		}
		calls, opened := len(fake.Calls()), conns.Accepted()
		req, _ := http.NewRequest(http.MethodPost, app.URL+"/rooms/Reuse/token", strings.NewReader(`{"user":"Ann"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Csrf-Token", tok[1])
		if !strings.Contains(body(browser.Do(req)), `"seat"`) {
			t.Fatalf("join %d: no seat in the answer", i+1)
		}
		got := fake.Calls()[calls:]
		if len(got) != 1 || got[0].Method != http.MethodPost || got[0].Path != "/api/video/room_tokens" {
			t.Errorf("join %d: got SignalWire calls %+v, want exactly one POST /room_tokens", i+1, got)
		}
		if n := conns.Accepted() - opened; n != 0 {
			t.Errorf("join %d: opened %d new connections to SignalWire, want 0 (the pooled one reused)", i+1, n)
		}
	}
	if n := conns.Accepted(); n != 1 {
		t.Errorf("got %d connections to SignalWire for the startup check, a room and 3 joins, want 1", n)
	}
}

// waitForReady polls /readyz until the startup check has reached the fake,
// so that its connection is open and idle before the test counts.
func waitForReady(t *testing.T, app *testApp) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(app.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the app was not ready within 10 s")
}
