package browsertest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

func TestMain(m *testing.M) { Main(m) }

const testPage = `<!doctype html>
<html><head><title>t</title><link rel="icon" href="data:,"></head>
<body>
<p data-testid="greeting" class="x">  Hello  </p>
<ul><li>a</li><li>b</li></ul>
<button data-testid="add">add</button>
<script src="/app.js"></script>
</body></html>`

const testScript = `
document.querySelector('[data-testid="add"]').addEventListener('click', () => {
  setTimeout(() => {
    const li = document.createElement('li')
    li.textContent = 'c'
    document.querySelector('ul').append(li)
  }, 50)
})
window.fromInit = window.__init || 'missing'
`

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(testPage))
	})
	mux.HandleFunc("/app.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write([]byte(testScript))
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Seen", "yes")
		_, _ = io.Copy(w, r.Body)
	})
	mux.HandleFunc("/vendor/noisy.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write([]byte(`console.error("vendored noise")`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestTabHelpers(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	tab := NewTab(t)
	tab.InitScript(`window.__init = "from init script"`)
	tab.Navigate(srv.URL + "/")

	if got, want := tab.Text(`[data-testid="greeting"]`), "Hello"; got != want {
		t.Errorf("Text: got %q, want %q", got, want)
	}
	if got, want := tab.Attr(`[data-testid="greeting"]`, "class"), "x"; got != want {
		t.Errorf("Attr: got %q, want %q", got, want)
	}
	if got, want := tab.Attr(`[data-testid="greeting"]`, "id"), ""; got != want {
		t.Errorf("Attr of a missing attribute: got %q, want %q", got, want)
	}
	if got, want := tab.Count("li"), 2; got != want {
		t.Errorf("Count: got %d, want %d", got, want)
	}
	var fromInit string
	tab.Eval("window.fromInit", &fromInit)
	if want := "from init script"; fromInit != want {
		t.Errorf("InitScript: got %q, want %q", fromInit, want)
	}
	var sum int
	tab.Eval("Promise.resolve(40 + 2)", &sum)
	if sum != 42 {
		t.Errorf("Eval of a promise: got %d, want 42", sum)
	}
	tab.Eval("void 0", nil)

	tab.WaitVisible(`[data-testid="add"]`)
	tab.Click(`[data-testid="add"]`)
	tab.WaitCount("li", 3)
	tab.WaitJS(`document.querySelectorAll("li")[2].textContent === "c"`)
	tab.Run(chromedp.Click(chromedp.CSS(`[data-testid="add"]`)))
	tab.WaitCount("li", 4)

	shot := filepath.Join(t.TempDir(), "shots", "page.png")
	tab.Screenshot(shot)
	if fi, err := os.Stat(shot); err != nil || fi.Size() == 0 {
		t.Errorf("Screenshot: %v, %v", fi, err)
	}
}

func TestTabAllowsExpectedAndVendoredErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	tab := NewTab(t)
	tab.AllowConsoleError("expected failure")
	tab.Navigate(srv.URL + "/")
	tab.Eval(`console.error("an expected failure")`, nil)
	tab.Eval(`new Promise(r => { const s = document.createElement("script"); s.src = "/vendor/noisy.js"; s.onload = r; document.body.append(s) })`, nil)
}

func TestTabsAreSeparateParticipants(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	a, b := NewTab(t), NewTab(t)
	a.Navigate(srv.URL + "/")
	b.Navigate(srv.URL + "/")
	// Separate browser contexts: nothing one tab stores or broadcasts
	// reaches the other, as between two people's browsers.
	b.Eval(`window.got = null; new BroadcastChannel("bt").onmessage = e => { window.got = e.data }`, nil)
	a.Eval(`document.cookie = "who=a; path=/"; sessionStorage.setItem("k", "a"); localStorage.setItem("k", "a"); new BroadcastChannel("bt").postMessage("hi")`, nil)
	var seen struct {
		Cookie, Session, Local string
		Got                    any
	}
	// Give a message time to arrive before deciding none did.
	b.Eval(`new Promise(r => setTimeout(r, 300)).then(() => ({Cookie: document.cookie, Session: sessionStorage.getItem("k") || "", Local: localStorage.getItem("k") || "", Got: window.got}))`, &seen)
	if seen.Cookie != "" || seen.Session != "" || seen.Local != "" || seen.Got != nil {
		t.Errorf("tab b sees tab a's state: %+v", seen)
	}
	var own string
	a.Eval(`document.cookie`, &own)
	if own != "who=a" {
		t.Errorf("tab a's own cookie: got %q, want who=a", own)
	}
}

func TestRecordKeepsOnlyOurErrors(t *testing.T) {
	tab := &Tab{origins: map[string]bool{"http://127.0.0.1:5000": true}}
	tab.allowed = []string{"allowed one"}
	msgs := []chromedp.ConsoleMessage{
		{Type: chromedp.ConsoleError, Text: "ours", URL: "http://127.0.0.1:5000/js/app.js"},
		{Type: chromedp.ConsoleError, Text: "evaluated"},
		{Type: chromedp.ConsoleError, Text: "vendored", URL: "http://127.0.0.1:5000/vendor/sdk.js"},
		{Type: chromedp.ConsoleError, Text: "vendored under public", URL: "http://127.0.0.1:5000/public/vendor/sdk.js"},
		{Type: chromedp.ConsoleError, Text: "other origin", URL: "https://example.com/x.js"},
		{Type: chromedp.ConsoleWarning, Text: "a warning", URL: "http://127.0.0.1:5000/js/app.js"},
		{Type: chromedp.ConsoleException, Text: "Uncaught boom", URL: "https://example.com/x.js"},
		{Type: chromedp.ConsoleError, Text: "the allowed one", URL: "http://127.0.0.1:5000/js/app.js"},
	}
	for _, m := range msgs {
		tab.record(m)
	}
	want := []string{
		"error: ours (http://127.0.0.1:5000/js/app.js:1)",
		"error: evaluated",
		"exception: Uncaught boom (https://example.com/x.js:1)",
	}
	if len(tab.problems) != len(want) {
		t.Fatalf("got %q, want %q", tab.problems, want)
	}
	for i := range want {
		if tab.problems[i] != want[i] {
			t.Errorf("problem %d: got %q, want %q", i, tab.problems[i], want[i])
		}
	}
}

func TestInterceptRecordsAndRefuses(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	tab := NewTab(t)
	tab.Navigate(srv.URL + "/")
	tab.AllowConsoleError("Failed to load resource") // the refusals below
	// The second request is answered 503 by the test, the third dropped.
	ic := tab.Intercept("*/echo", func(n int, _ *network.Request) int {
		return map[int]int{2: http.StatusServiceUnavailable, 3: Drop}[n]
	})
	var got []string
	tab.Eval(`(async () => {
		const out = [];
		for (const body of ["one", "two", "three", "four"]) {
			try {
				const r = await fetch("/echo", {method: "POST", body});
				out.push(r.status + ":" + await r.text());
			} catch (e) { out.push("error") }
		}
		return out;
	})()`, &got)
	want := []string{"200:one", "503:refused by the test", "error", "200:four"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("page saw %q, want %q", got, want)
	}
	xs := ic.Exchanges()
	if len(xs) != 4 {
		t.Fatalf("got %d exchanges, want 4: %+v", len(xs), xs)
	}
	for i, x := range xs {
		wantBody := []string{"one", "two", "three", "four"}[i]
		if string(x.RequestBody) != wantBody {
			t.Errorf("exchange %d: request body %q, want %q", i, x.RequestBody, wantBody)
		}
	}
	if x := xs[0]; x.Status != 200 || string(x.ResponseBody) != "one" || x.Header["X-Seen"] != "yes" || x.Refused {
		t.Errorf("first exchange: %+v", x)
	}
	if x := xs[1]; x.Status != 503 || !x.Refused {
		t.Errorf("second exchange: %+v", x)
	}
	if x := xs[2]; x.Status != 0 || !x.Refused {
		t.Errorf("third exchange: %+v", x)
	}
}
