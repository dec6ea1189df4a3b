package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/swrooms/swrooms/signalwire"
)

// redirectingAPI is a SignalWire API that answers everything with a 307 to
// another server on loopback (another port of the same host, which Go's
// http.Client would send the Authorization header to), and that server.
func redirectingAPI(t *testing.T) (space string, authSeen *atomic.Int32, reached *atomic.Int32) {
	t.Helper()
	authSeen, reached = &atomic.Int32{}, &atomic.Int32{}
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		if r.Header.Get("Authorization") != "" {
			authSeen.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"x","name":"Redirected","token":"from-elsewhere"}`)
	}))
	t.Cleanup(elsewhere.Close)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(api.Close)
	return api.URL, authSeen, reached
}

// Item 5: main.go's own http.Client used to replace the client's redirect
// guard, and a 307 took the credentials and the answer of another host.
func TestSignalWireClientAsWiredRefusesRedirects(t *testing.T) {
	t.Parallel()
	space, authSeen, reached := redirectingAPI(t)
	cfg, err := loadConfig(map[string]string{
		"SIGNALWIRE_PROJECT_KEY": testProjectKey, "SIGNALWIRE_TOKEN": testAPIToken,
		"SIGNALWIRE_SPACE": space, "SECRET_KEY": testSecretKey, "OPEN_HOSTING": "true",
	})
	if err != nil {
		t.Fatal(err)
	}
	client, err := newSignalWireClient(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := client.CreateRoomToken(context.Background(), signalwire.RoomTokenParams{RoomName: "R", UserName: "Ann"})
	if tok != "" || !signalwire.IsRedirect(err) {
		t.Errorf("got %q, %v; want no token and a redirect error", tok, err)
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("the other host got %d requests (%d with credentials)", n, authSeen.Load())
	}
}

// The same through the running app: the user gets a clear page, not the
// other host's answer.
func TestRunRefusesSignalWireRedirects(t *testing.T) {
	t.Parallel()
	space, authSeen, reached := redirectingAPI(t)
	app := startApp(t, []string{
		"SIGNALWIRE_PROJECT_KEY=" + testProjectKey, "SIGNALWIRE_TOKEN=" + testAPIToken,
		"SIGNALWIRE_SPACE=" + space, "SECRET_KEY=" + testSecretKey, "OPEN_HOSTING=true",
	})
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(app.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the picker")
	}
	resp, err = hc.PostForm(app.URL+"/rooms", url.Values{"room": {"Redirected"}, "user": {"Ann"}, "_csrf": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "redirect, which this app does not follow") {
		t.Errorf("got %d, want 502 saying the redirect was not followed", resp.StatusCode)
	}
	if strings.Contains(string(body), "from-elsewhere") {
		t.Errorf("the other host's answer reached the user")
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("the other host got %d requests (%d with credentials)", n, authSeen.Load())
	}
}
