package browsertest

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

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

func TestTabsShareTheBrowser(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	a, b := NewTab(t), NewTab(t)
	a.Navigate(srv.URL + "/")
	b.Navigate(srv.URL + "/")
	// Same profile, so same-origin tabs can talk, as the simulator's rooms
	// need.
	b.Eval(`window.got = null; new BroadcastChannel("bt").onmessage = e => { window.got = e.data }`, nil)
	a.Eval(`new BroadcastChannel("bt").postMessage("hi")`, nil)
	b.WaitJS(`window.got === "hi"`)
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
