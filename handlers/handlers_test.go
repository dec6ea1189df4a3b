package handlers_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gofiber/fiber/v2"

	"github.com/swrooms/swrooms/handlers"
	"github.com/swrooms/swrooms/roster"
	"github.com/swrooms/swrooms/signalwire"
	"github.com/swrooms/swrooms/signalwire/swtest"
)

const (
	projectKey = "proj-test"
	apiToken   = "PT-handlers-test-token"
	secretKey  = "handlers-test-secret-key-of-at-least-32-bytes"
	origin     = "http://rooms.test"
)

// testEnv is the app over a fake SignalWire, driven like a browser: a
// cookie jar and the CSRF token of the last page.
type testEnv struct {
	t    testing.TB
	app  *fiber.App
	fake *swtest.Fake
	jar  *cookiejar.Jar
	csrf string
	logs *strings.Builder
}

func newEnv(t testing.TB, mod ...func(*handlers.Config)) *testEnv {
	t.Helper()
	return newEnvClock(t, time.Now, mod...)
}

// newEnvAt is an app whose clock stands still at now.
func newEnvAt(t testing.TB, now time.Time, mod ...func(*handlers.Config)) *testEnv {
	t.Helper()
	return newEnvClock(t, func() time.Time { return now }, mod...)
}

func newEnvClock(t testing.TB, now func() time.Time, mod ...func(*handlers.Config)) *testEnv {
	t.Helper()
	fake, srv := swtest.NewServer(projectKey, apiToken)
	t.Cleanup(srv.Close)
	client, err := signalwire.NewClient(srv.URL, projectKey, apiToken,
		signalwire.WithRetry(2, time.Millisecond, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	cfg := handlers.Config{
		SecretKey:    []byte(secretKey),
		HostPasscode: "open-sesame",
		InviteTTL:    time.Hour,
		MaxMembers:   5,
	}
	for _, m := range mod {
		m(&cfg)
	}
	logs := &strings.Builder{}
	status := handlers.NewStatus()
	status.SetReady()
	h := handlers.New(cfg, handlers.Deps{
		Video:  client,
		Roster: roster.NewMemoryStore(roster.Limits{}),
		Log:    slog.New(slog.NewTextHandler(logs, nil)),
		Status: status,
		Now:    now,
	})
	return &testEnv{t: t, app: handlers.NewApp(h), fake: fake, jar: newJar(), logs: logs}
}

func openHosting(c *handlers.Config) { c.OpenHosting = true; c.HostPasscode = "" }

// do sends a request with the jar's cookies and keeps the ones it sets.
func (e *testEnv) do(method, path string, body io.Reader, header ...string) (*http.Response, string) {
	e.t.Helper()
	req := httptest.NewRequest(method, origin+path, body)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	u, _ := url.Parse(origin + path)
	for _, c := range e.jar.Cookies(u) {
		req.AddCookie(c)
	}
	resp, err := e.app.Test(req, -1)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	e.jar.SetCookies(u, resp.Cookies())
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(b), apiToken) {
		e.t.Errorf("%s %s: the API token appears in the response", method, path)
	}
	return resp, string(b)
}

func (e *testEnv) get(path string, header ...string) (*http.Response, *goquery.Document) {
	e.t.Helper()
	resp, body := e.do(http.MethodGet, path, nil, header...)
	doc := parse(e.t, body)
	if v, ok := doc.Find(`input[name="_csrf"]`).Attr("value"); ok {
		e.csrf = v
	}
	if v, ok := doc.Find("body").Attr("hx-headers"); ok {
		var m map[string]string
		if json.Unmarshal([]byte(v), &m) == nil && m["X-Csrf-Token"] != "" {
			e.csrf = m["X-Csrf-Token"]
		}
	}
	return resp, doc
}

// post sends a form the way a browser does, with the page's CSRF token.
func (e *testEnv) post(path string, form url.Values, header ...string) (*http.Response, *goquery.Document) {
	e.t.Helper()
	if e.csrf == "" {
		e.get("/")
	}
	form.Set("_csrf", e.csrf)
	header = append([]string{"Content-Type", "application/x-www-form-urlencoded"}, header...)
	resp, body := e.do(http.MethodPost, path, strings.NewReader(form.Encode()), header...)
	return resp, parse(e.t, body)
}

// postJSON is what the island sends.
func (e *testEnv) postJSON(path string, v any, header ...string) (*http.Response, string) {
	e.t.Helper()
	if e.csrf == "" {
		e.get("/")
	}
	b, _ := json.Marshal(v)
	header = append([]string{"Content-Type", "application/json", "Accept", "application/json", "X-Csrf-Token", e.csrf}, header...)
	return e.do(http.MethodPost, path, strings.NewReader(string(b)), header...)
}

func parse(t testing.TB, body string) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func testid(doc *goquery.Document, id string) *goquery.Selection {
	return doc.Find(`[data-testid="` + id + `"]`)
}

// host starts a room as a host and returns the room page.
func (e *testEnv) host(room, user string) *goquery.Document {
	e.t.Helper()
	resp, doc := e.post("/rooms", url.Values{"room": {room}, "user": {user}, "passcode": {"open-sesame"}})
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("POST /rooms: got %d, want 303; page: %s", resp.StatusCode, testid(doc, "error-message").Text()+testid(doc, "field-error").Text())
	}
	_, page := e.get(resp.Header.Get("Location"))
	return page
}

// another is a second browser on the same app and fake: its own cookies.
func (e *testEnv) another() *testEnv {
	return &testEnv{t: e.t, app: e.app, fake: e.fake, jar: newJar(), logs: e.logs}
}

// inviteBody is the invite part of a guest's token request, as the island
// sends it from the link's query.
func inviteBody(inv url.Values) map[string]any {
	exp, _ := strconv.ParseInt(inv.Get("exp"), 10, 64)
	return map[string]any{"room": inv.Get("room"), "exp": exp, "sig": inv.Get("sig")}
}

func newJar() *cookiejar.Jar {
	j, _ := cookiejar.New(nil)
	return j
}
