// Package browsertest runs browser tests against one headless Chromium per
// test binary, with a fresh tab per test.
//
// Call Main from TestMain, then NewTab in each test:
//
//	func TestMain(m *testing.M) { browsertest.Main(m) }
//
//	func TestJoin(t *testing.T) {
//		tab := browsertest.NewTab(t)
//		tab.Navigate(srv.URL + "/rooms/demo")
//		tab.Click(`[data-testid="join"]`)
//		tab.WaitCount(`[data-testid="member"]`, 4)
//	}
//
// A tab fails its test when the page throws an exception that nothing
// catches, or when the tested origin writes an error to the console (a
// console.error call, a failed request, a CSP violation); vendored scripts
// under /vendor/ or /public/vendor/ are exempt from the console rule.
// AllowConsoleError lets a test expect a specific error.
//
// Every helper stops the test with t.Fatal on failure, so call them from the
// test's own goroutine. Each call gets its own timeout (10 s by default, see
// SetTimeout). When Chromium is missing, NewTab skips the test, or fails it
// when the environment variable CI is set, so that CI cannot pass by
// skipping.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// DefaultTimeout bounds each helper call of a Tab unless SetTimeout changes it.
const DefaultTimeout = 10 * time.Second

// browser is the Chromium shared by the tests of one binary. NewTab only has
// a *testing.T, so Main leaves the browser here; it is written once, before
// m.Run starts any test, and only read afterwards.
var browser struct {
	ctx     context.Context // has run once: children open tabs on it
	missing string          // why there is no browser, when ctx is nil
	started bool            // Main ran
}

// Main starts Chromium, runs the tests and stops Chromium. Call it from
// TestMain. It exits the process with the tests' status.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	browser.started = true
	execPath, err := findChromium()
	if err != nil {
		browser.missing = err.Error()
		return m.Run()
	}
	dataDir, err := os.MkdirTemp("", "browsertest-")
	if err != nil {
		browser.missing = fmt.Sprintf("creating a user-data-dir: %v", err)
		return m.Run()
	}
	defer os.RemoveAll(dataDir)

	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(dataDir),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		// Synthetic camera and microphone, granted without a prompt, so
		// getUserMedia and device pickers work headless. device-count=2
		// gives two of each (cameras fake_device_0 and _1, microphones and
		// speakers "Fake Audio Input/Output 1" and "2" besides the
		// defaults), so that switching devices in a call is testable
		// (verified on Chromium 148; see TESTING.md).
		chromedp.Flag("use-fake-device-for-media-stream", "device-count=2"),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		// WebRTC to a relay fake on loopback: without this flag a machine
		// with only a loopback interface gathers no ICE candidates, and the
		// SDK's join never sends its offer.
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		// The SDK's video elements play without a click.
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	// The first call starts the browser and binds it to ctx, which therefore
	// carries no timeout; each tab derives its own timeouts later.
	if err := chromedp.Do(ctx); err != nil {
		browser.missing = fmt.Sprintf("starting %s: %v", execPath, err)
		return m.Run()
	}
	browser.ctx = ctx
	code := m.Run()

	stopCtx, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	_ = chromedp.Cancel(stopCtx)
	return code
}

// findChromium returns the browser to run: $CHROMIUM_PATH, else chromium on
// $PATH, else Debian's /usr/bin/chromium.
func findChromium() (string, error) {
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("CHROMIUM_PATH=%s: %w", p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, nil
	}
	const debian = "/usr/bin/chromium"
	if _, err := os.Stat(debian); err == nil {
		return debian, nil
	}
	return "", errors.New("chromium not found (apt-get install -y chromium, or set CHROMIUM_PATH)")
}

// Tab is one browser tab owned by one test.
type Tab struct {
	t       *testing.T
	ctx     context.Context // has run once, so timeouts derived from it are safe
	timeout time.Duration

	mu       sync.Mutex
	problems []string             // console errors and exceptions, checked at cleanup
	allowed  []string             // substrings of expected console errors
	origins  map[string]bool      // origins the tab navigated to
	flushed  map[string]chan bool // console markers awaited by flush
}

// NewTab opens a tab for the test and closes it when the test ends. At that
// point the test fails for each uncaught exception and each console error of
// the tested origin that AllowConsoleError did not allow.
//
// Each tab has a browser context of its own, like a separate browser
// profile: no cookies, storage or sessionStorage shared with other tabs, so
// two tabs are two participants (the SDK keeps reattach state per room in
// sessionStorage).
func NewTab(t *testing.T) *Tab {
	t.Helper()
	if !browser.started {
		t.Fatal("browsertest: call browsertest.Main(m) from TestMain before NewTab")
	}
	if browser.ctx == nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("browsertest: no browser and CI is set: %s", browser.missing)
		}
		t.Skipf("browsertest: no browser, skipping: %s", browser.missing)
	}

	ctx, cancel := chromedp.NewContext(browser.ctx, chromedp.WithNewBrowserContext())
	// The first call on a child context opens its tab; like the browser's,
	// it must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		t.Fatalf("browsertest: opening a tab: %v", err)
	}
	tab := &Tab{
		t:       t,
		ctx:     ctx,
		timeout: DefaultTimeout,
		origins: map[string]bool{},
		flushed: map[string]chan bool{},
	}
	// Subscribe before the first navigation so that no message is lost.
	messages := chromedp.Console(ctx)
	go tab.collect(messages)

	t.Cleanup(func() {
		tab.flush()
		tab.mu.Lock()
		for _, p := range tab.problems {
			t.Errorf("browsertest: page error: %s", p)
		}
		tab.mu.Unlock()
		closeCtx, stop := context.WithTimeout(ctx, 5*time.Second)
		defer stop()
		_ = chromedp.Cancel(closeCtx)
		cancel()
	})
	return tab
}

// flushMarker prefixes the console message that flush writes and awaits.
const flushMarker = "browsertest:flush:"

// collect records the console messages that should fail the test. It runs
// until the tab closes.
func (tab *Tab) collect(messages iter.Seq2[chromedp.ConsoleMessage, error]) {
	for m, err := range messages {
		if err != nil {
			return
		}
		if id, ok := strings.CutPrefix(m.Text, flushMarker); ok {
			tab.mu.Lock()
			if ch := tab.flushed[id]; ch != nil {
				close(ch)
				delete(tab.flushed, id)
			}
			tab.mu.Unlock()
			continue
		}
		tab.record(m)
	}
}

// record keeps m when it should fail the test.
func (tab *Tab) record(m chromedp.ConsoleMessage) {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	if m.Type != chromedp.ConsoleException {
		// Only errors count, and only our own: a vendored script may log
		// what it likes, and so may other origins.
		if m.Type != chromedp.ConsoleError || !tab.ours(m.URL) {
			return
		}
	}
	text := m.String()
	if m.URL != "" {
		text += " (" + m.URL + ":" + strconv.FormatInt(m.Line+1, 10) + ")"
	}
	for _, a := range tab.allowed {
		if strings.Contains(text, a) {
			return
		}
	}
	tab.problems = append(tab.problems, text)
}

// ours reports whether a console message from rawURL belongs to the tested
// origin and not to a vendored file. A message without a URL comes from code
// that the test evaluated or from an inline script, so it counts as ours.
func (tab *Tab) ours(rawURL string) bool {
	if rawURL == "" {
		return true
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return true
	}
	if !tab.origins[u.Scheme+"://"+u.Host] {
		return false
	}
	return !strings.HasPrefix(u.Path, "/vendor/") && !strings.HasPrefix(u.Path, "/public/vendor/")
}

// flush waits until the messages that the page wrote so far have been
// recorded, so the cleanup check sees them all. The console keeps order, so
// seeing a marker written now means every earlier message has arrived.
func (tab *Tab) flush() {
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	ch := make(chan bool)
	tab.mu.Lock()
	tab.flushed[id] = ch
	tab.mu.Unlock()
	ctx, cancel := context.WithTimeout(tab.ctx, 5*time.Second)
	defer cancel()
	js := "console.debug(" + strconv.Quote(flushMarker+id) + ")"
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](js)); err != nil {
		return // the page is gone; nothing more will arrive
	}
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

// AllowConsoleError stops console errors and exceptions whose text contains
// substr from failing the test.
func (tab *Tab) AllowConsoleError(substr string) {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	tab.allowed = append(tab.allowed, substr)
}

// SetTimeout changes the time limit of each later helper call.
func (tab *Tab) SetTimeout(d time.Duration) { tab.timeout = d }

// Context returns the tab's context for direct chromedp calls. It has no
// timeout; derive one with context.WithTimeout.
func (tab *Tab) Context() context.Context { return tab.ctx }

// Run runs the actions in order, each call bounded by the tab's timeout, and
// stops the test on the first error.
func (tab *Tab) Run(actions ...chromedp.Action[chromedp.Void]) {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, tab.timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tab.t.Fatalf("browsertest: %v", err)
	}
}

// Navigate loads rawURL and waits for its load event. Its origin becomes a
// tested origin for the console rule.
func (tab *Tab) Navigate(rawURL string) {
	tab.t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		tab.t.Fatalf("browsertest: navigate to %q: %v", rawURL, err)
	}
	tab.mu.Lock()
	tab.origins[u.Scheme+"://"+u.Host] = true
	tab.mu.Unlock()
	ctx, cancel := context.WithTimeout(tab.ctx, tab.timeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(rawURL)); err != nil {
		tab.t.Fatalf("browsertest: navigate to %s: %v", rawURL, err)
	}
}

// InitScript makes js run in every document the tab loads from now on, before
// the page's own scripts. Call it before Navigate, for example to record
// events or errors from the start.
func (tab *Tab) InitScript(js string) {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, tab.timeout)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument,
			page.AddScriptToEvaluateOnNewDocumentParams{Source: js})
		return err
	}))
	if err != nil {
		tab.t.Fatalf("browsertest: adding an init script: %v", err)
	}
}

// Eval evaluates the JavaScript expression, awaits it when it is a promise,
// and decodes its JSON value into out; out may be nil to ignore the value. A
// thrown exception or a rejected promise stops the test.
func (tab *Tab) Eval(js string, out any) {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, tab.timeout)
	defer cancel()
	if out == nil {
		_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](js, chromedp.EvalAwaitPromise))
		if err != nil {
			tab.t.Fatalf("browsertest: eval %s: %v", short(js), err)
		}
		return
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
	if err != nil {
		tab.t.Fatalf("browsertest: eval %s: %v", short(js), err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		tab.t.Fatalf("browsertest: eval %s: decoding %s: %v", short(js), short(string(raw)), err)
	}
}

// WaitVisible waits until the first element that matches the CSS selector is
// visible.
func (tab *Tab) WaitVisible(sel string) {
	tab.t.Helper()
	tab.run("wait for "+sel+" to be visible", chromedp.WaitVisible(chromedp.CSS(sel)))
}

// Click waits until the first element that matches the CSS selector is
// visible and clicks it.
//
// A page that swaps its HTML (htmx) may replace the element between the
// moment it is found and the click; the click then fails with "Could not
// find node". It is tried again on the new element, within the timeout.
func (tab *Tab) Click(sel string) {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, tab.timeout)
	defer cancel()
	for {
		err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel)))
		if err == nil {
			return
		}
		if !replaced(err) || ctx.Err() != nil {
			tab.t.Fatalf("browsertest: click %s: %v", sel, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// replaced reports whether err says the element went away between being
// found and being used: the page replaced it.
func replaced(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Could not find node with given id") || strings.Contains(msg, "Node is detached")
}

// Text returns the text content of the first element that matches the CSS
// selector, trimmed of surrounding space; it fails when nothing matches.
func (tab *Tab) Text(sel string) string {
	tab.t.Helper()
	var s *string
	tab.Eval(fmt.Sprintf(`(() => { const e = document.querySelector(%s); return e ? e.textContent.trim() : null })()`, quote(sel)), &s)
	if s == nil {
		tab.t.Fatalf("browsertest: text of %s: no element matches", sel)
	}
	return *s
}

// Attr returns the attribute of the first element that matches the CSS
// selector, or "" when the element has no such attribute; it fails when
// nothing matches.
func (tab *Tab) Attr(sel, name string) string {
	tab.t.Helper()
	var v struct {
		Found bool   `json:"found"`
		Value string `json:"value"`
	}
	tab.Eval(fmt.Sprintf(`(() => { const e = document.querySelector(%s); return {found: !!e, value: (e && e.getAttribute(%s)) || ""} })()`,
		quote(sel), quote(name)), &v)
	if !v.Found {
		tab.t.Fatalf("browsertest: attribute %s of %s: no element matches", name, sel)
	}
	return v.Value
}

// Count returns how many elements match the CSS selector now.
func (tab *Tab) Count(sel string) int {
	tab.t.Helper()
	var n int
	tab.Eval("document.querySelectorAll("+quote(sel)+").length", &n)
	return n
}

// WaitCount waits until exactly n elements match the CSS selector.
func (tab *Tab) WaitCount(sel string, n int) {
	tab.t.Helper()
	tab.poll(fmt.Sprintf("%d elements matching %s", n, sel),
		fmt.Sprintf("document.querySelectorAll(%s).length === %d", quote(sel), n),
		fmt.Sprintf("document.querySelectorAll(%s).length", quote(sel)))
}

// WaitJS waits until the JavaScript expression is truthy. The expression is
// evaluated again and again, so it should have no side effects.
func (tab *Tab) WaitJS(expr string) {
	tab.t.Helper()
	tab.poll(expr, expr, "")
}

// poll waits until expr is truthy. On timeout it reports what, and the value
// of the optional expression now, to make the failure readable.
func (tab *Tab) poll(what, expr, now string) {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, tab.timeout)
	defer cancel()
	// Polling on an interval rather than on animation frames keeps working in
	// a tab that the browser does not paint.
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void]("!!("+expr+")",
		chromedp.WithPollingInterval(20*time.Millisecond),
		chromedp.WithPollingTimeout(0)))
	if err == nil {
		return
	}
	msg := fmt.Sprintf("browsertest: waiting for %s: %v", what, err)
	if now != "" {
		vctx, vcancel := context.WithTimeout(tab.ctx, 2*time.Second)
		defer vcancel()
		if raw, verr := chromedp.Run(vctx, chromedp.Evaluate[[]byte](now)); verr == nil {
			msg += "; now " + string(raw)
		}
	}
	tab.t.Fatal(msg)
}

// Screenshot saves a PNG of the visible part of the page to path, creating
// its directory.
func (tab *Tab) Screenshot(path string) {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, tab.timeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tab.t.Fatalf("browsertest: screenshot: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tab.t.Fatalf("browsertest: screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tab.t.Fatalf("browsertest: screenshot: %v", err)
	}
}

// run runs one action with the tab's timeout and names it on failure.
func (tab *Tab) run(what string, a chromedp.Action[chromedp.Void]) {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, tab.timeout)
	defer cancel()
	if err := chromedp.Do(ctx, a); err != nil {
		tab.t.Fatalf("browsertest: %s: %v", what, err)
	}
}

// quote makes a JavaScript string literal; JSON strings are valid ones.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// short trims long scripts and values for error messages.
func short(s string) string {
	const max = 200
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
