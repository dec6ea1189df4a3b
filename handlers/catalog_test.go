package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// badValues are what a hostile client puts in any field.
var badValues = map[string]string{
	"empty":         "",
	"huge":          strings.Repeat("A", 200_000),
	"control":       "Ann\x00\x07\x1b[2J",
	"invalid UTF-8": "Ann\xff\xfe\xc0",
	"XSS":           `"><script>alert(1)</script><img src=x onerror=alert(1)>`,
	"path tricks":   "../../etc/passwd%2e%2e%2f..\\..",
	"bidi":          "Ann\u202egnp.exe",
}

// TestBadInputCatalog sends every bad value to every route and field, and
// wrong methods and content types: each answer is a 4xx with a message
// (or, for a value that is merely odd, such as a name that looks like
// HTML, a page that shows it escaped), never a 5xx; and a refused request
// never asks SignalWire to change anything.
func TestBadInputCatalog(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openHosting)
	inv := guestInvite(t, e, "Cat")
	e.get("/rooms/Cat")
	e.fake.ResetCalls()

	// changes counts SignalWire calls that change state, so that a request
	// refused with a 4xx can be shown to have changed nothing.
	changes := func() int {
		n := 0
		for _, c := range e.fake.Calls() {
			if c.Method != "GET" {
				n++
			}
		}
		return n
	}
	before := changes()
	check := func(t *testing.T, what string, resp *http.Response, body string) {
		t.Helper()
		if after := changes(); resp.StatusCode >= 400 && after != before {
			t.Errorf("%s: got %d, and SignalWire's state changed", what, resp.StatusCode)
		}
		before = changes()
		if resp.StatusCode >= 500 {
			t.Errorf("%s: got %d, want no 5xx", what, resp.StatusCode)
		}
		if resp.StatusCode >= 400 && resp.StatusCode != http.StatusUnprocessableEntity && !strings.Contains(body, "error") {
			t.Errorf("%s: got %d without a message: %.200q", what, resp.StatusCode, body)
		}
		if strings.Contains(body, "<script>alert(1)") {
			t.Errorf("%s: the XSS payload came back unescaped", what)
		}
	}
	for name, v := range badValues {
		// A request line past Fiber's 4 KB header buffer never reaches the
		// app (a real server answers 431), so URLs carry the first 500 bytes.
		q := url.QueryEscape(v[:min(len(v), 500)])
		pv := url.PathEscape(v[:min(len(v), 500)])
		for _, path := range []string{
			"/?room=" + q + "&user=" + q,
			"/rooms/" + pv,
			"/rooms/" + pv + "/gone",
			"/guest?room=" + q + "&exp=" + q + "&sig=" + q + "&user=" + q,
			"/guest?" + inv.Encode() + "&user=" + q,
			"/guest?" + inv.Encode() + "&room=" + q, // a duplicate parameter
			"/rooms/live?x=" + q,
		} {
			resp, body := e.do("GET", path, nil)
			check(t, name+" GET "+path[:min(len(path), 60)], resp, body)
		}
		for _, form := range []url.Values{
			{"room": {v}, "user": {"Ann"}},
			{"room": {"Ok"}, "user": {v}},
			{"room": {"Ok", v}, "user": {"Ann", v}}, // duplicates
			{"room": {"Ok"}, "user": {"Ann"}, "passcode": {v}},
		} {
			resp, doc := e.post("/rooms", form)
			html, _ := doc.Html()
			check(t, name+" POST /rooms", resp, html)
			if name != "path tricks" && name != "XSS" && resp.StatusCode == http.StatusSeeOther && (form.Get("room") == v || form.Get("user") == v) {
				t.Errorf("%s POST /rooms: got 303 for a bad value", name)
			}
			resp, doc = e.post("/rooms/validate", form, "HX-Request", "true")
			html, _ = doc.Html()
			check(t, name+" POST /rooms/validate", resp, html)
		}
		for _, body := range []map[string]any{
			{"user": v},
			{"user": "Ann", "invite": map[string]any{"room": v, "exp": 1, "sig": v}},
		} {
			for _, room := range []string{"Cat", pv} {
				resp, raw := e.postJSON("/rooms/"+room+"/token", body)
				check(t, name+" POST token", resp, raw)
			}
		}
		for _, tail := range []string{"/events", "/join-failed"} {
			resp, raw := e.do("POST", "/rooms/Cat"+tail, strings.NewReader(v), "Content-Type", "application/json", "X-Seat", v[:min(len(v), 500)])
			check(t, name+" POST "+tail, resp, raw)
		}
	}
	// Wrong methods and content types on every route.
	for _, path := range []string{"/", "/rooms", "/rooms/validate", "/rooms/live", "/rooms/Cat", "/rooms/Cat/token", "/rooms/Cat/events", "/rooms/Cat/join-failed", "/rooms/Cat/gone", "/guest"} {
		for _, m := range []string{"PUT", "DELETE", "PATCH", "POST", "GET"} {
			for ct, payload := range map[string]string{
				"text/plain":                        `room=Cat&user=Ann`,
				"multipart/form-data; boundary=x":   "--x\r\nContent-Disposition: form-data; name=\"room\"\r\n\r\nCat\r\n--x--\r\n",
				"application/json":                  `{"room":"Cat","user":"Ann"}`,
				"application/x-www-form-urlencoded": `{"room":"Cat","user":"Ann"}`,
			} {
				resp, body := e.do(m, path, strings.NewReader(payload), "Content-Type", ct)
				check(t, m+" "+path+" "+ct, resp, body)
			}
		}
	}
}
