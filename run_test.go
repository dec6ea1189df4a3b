package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/swrooms/swrooms/public"
	"github.com/swrooms/swrooms/signalwire/swtest"
)

func TestRunServesHealthzAndStopsOnCancel(t *testing.T) {
	t.Parallel()
	app := startSandboxApp(t)
	resp := app.get(t, "/healthz")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("got status %d, want 200", resp.StatusCode)
	}
	if !strings.Contains(app.Logs.String(), app.URL[len("http://"):]) {
		t.Errorf("got logs %q, want them to name the real address %s", app.Logs, app.URL)
	}
	start := time.Now()
	app.cancel()
	select {
	case err := <-app.done:
		if err != nil {
			t.Errorf("got %v, want a clean exit", err)
		}
		app.done <- nil // for the cleanup
	case <-time.After(shutdownTimeout + time.Second):
		t.Fatalf("run did not return within %v of cancel", shutdownTimeout)
	}
	if d := time.Since(start); d > shutdownTimeout {
		t.Errorf("shutdown took %v, want under %v", d, shutdownTimeout)
	}
}

func TestRunFailsAtOnceOnABusyPort(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = run(ctx, []string{"swrooms", "-env-file="}, []string{"ADDR=" + ln.Addr().String()}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "listen on") {
		t.Errorf("got %v, want a listen error", err)
	}
}

func TestRunRejectsBadConfigurationWithoutPrintingSecrets(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), []string{"swrooms", "-env-file="},
		[]string{"SIGNALWIRE_SPACE=example.signalwire.com", "SIGNALWIRE_TOKEN=" + testAPIToken}, io.Discard)
	if err == nil {
		t.Fatal("got no error, want a configuration error")
	}
	if !strings.Contains(err.Error(), "SIGNALWIRE_PROJECT_KEY") {
		t.Errorf("got %q, want it to name SIGNALWIRE_PROJECT_KEY", err)
	}
	if strings.Contains(err.Error(), testAPIToken) {
		t.Errorf("got %q, which prints the token", err)
	}
}

func TestReadyzWaitsForSignalWire(t *testing.T) {
	t.Parallel()
	app := startFakeApp(t)
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp := app.get(t, "/readyz")
		if resp.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d from /readyz, want 200 once the fake answered", resp.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(app.Fake.CallsTo("GET", "/api/video/rooms")); n != 1 {
		t.Errorf("got %d startup checks, want 1", n)
	}
}

func TestRejectedCredentialsShowOnePageAndStayUnready(t *testing.T) {
	t.Parallel()
	fake, srv := swtest.NewServer(testProjectKey, "another-token")
	_ = fake
	t.Cleanup(srv.Close)
	app := startApp(t, []string{
		"SIGNALWIRE_PROJECT_KEY=" + testProjectKey, "SIGNALWIRE_TOKEN=" + testAPIToken,
		"SIGNALWIRE_SPACE=" + srv.URL, "SECRET_KEY=" + testSecretKey, "OPEN_HOSTING=true",
	})
	host := strings.TrimPrefix(srv.URL, "http://")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(app.Logs.String(), "SignalWire rejected the project key or token for "+host) {
		if time.Now().After(deadline) {
			t.Fatalf("got logs %q, want the rejection line", app.Logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if resp := app.get(t, "/readyz"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("got /readyz %d, want 503", resp.StatusCode)
	}
	resp := app.get(t, "/")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "rejected the project key or token") {
		t.Errorf("got %d %q, want the 503 page saying the credentials were rejected", resp.StatusCode, body)
	}
}

// TestRunExitsCleanlyOnSIGTERM sends the process a real SIGTERM. It is not
// parallel: the top-level parallel tests wait until it is done, so no other
// run() sees the signal.
func TestRunExitsCleanlyOnSIGTERM(t *testing.T) {
	app := startSandboxApp(t)
	app.get(t, "/healthz")
	start := time.Now()
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-app.done:
		if err != nil {
			t.Errorf("got %v, want a clean exit", err)
		}
		app.done <- nil
	case <-time.After(shutdownTimeout + time.Second):
		t.Fatal("run did not return after SIGTERM")
	}
	if d := time.Since(start); d > shutdownTimeout {
		t.Errorf("shutdown took %v, want under %v", d, shutdownTimeout)
	}
}

// TestEveryPageLoadsOnlyTheVendoredSDK loads every page, in sandbox mode
// and with credentials: the only SDK a page loads is the vendored file,
// byte for byte as its SHA256SUMS entry, and nothing else the app serves
// under /public defines the SDK's global.
func TestEveryPageLoadsOnlyTheVendoredSDK(t *testing.T) {
	t.Parallel()
	sums := vendorSums(t)
	_, srv := swtest.NewServer(testProjectKey, testAPIToken)
	t.Cleanup(srv.Close)
	modes := map[string]func() *testApp{
		"sandbox": func() *testApp { return startSandboxApp(t) },
		"credentials": func() *testApp {
			return startApp(t, []string{
				"SIGNALWIRE_PROJECT_KEY=" + testProjectKey, "SIGNALWIRE_TOKEN=" + testAPIToken,
				"SIGNALWIRE_SPACE=" + srv.URL, "SECRET_KEY=" + testSecretKey, "OPEN_HOSTING=true",
			})
		},
	}
	for mode, start := range modes {
		t.Run(mode, func(t *testing.T) {
			app := start()
			pages := everyPage(t, app)
			for name, page := range pages {
				sdk := 0
				for _, src := range page.scripts {
					body := fetch(t, app.URL+src, http.StatusOK)
					file := path.Base(strings.SplitN(src, "?", 2)[0])
					switch {
					case strings.HasPrefix(src, "/public/vendor/"):
						if got := fmt.Sprintf("%x", sha256.Sum256(body)); got != sums[file] {
							t.Errorf("%s page: %s has SHA-256 %s, want %s from SHA256SUMS", name, src, got, sums[file])
						}
						if file == "signalwire-js-3.30.0.umd.js" {
							sdk++
						}
					case strings.HasPrefix(src, "/public/js/"):
						if definesSDK.Match(body) {
							t.Errorf("%s page: %s defines the SignalWire global", name, src)
						}
					default:
						t.Errorf("%s page loads %s, want only /public/vendor/ and /public/js/ scripts", name, src)
					}
				}
				if want := map[bool]int{true: 1, false: 0}[page.room]; sdk != want {
					t.Errorf("%s page loads the vendored SDK %d times, want %d (scripts %q)", name, sdk, want, page.scripts)
				}
			}
			// Whatever a page might name, /public serves the embedded files
			// only; none of them but the vendored SDK defines its global.
			err := fs.WalkDir(public.FS(), ".", func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") {
					return err
				}
				body := fetch(t, app.URL+"/public/"+p, http.StatusOK)
				if p != "vendor/signalwire-js-3.30.0.umd.js" && definesSDK.Match(body) {
					t.Errorf("/public/%s defines the SignalWire global", p)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// definesSDK matches a script that defines the SDK's global as the UMD
// bundle does (`.SignalWire={}`) or an object property would
// (`SignalWire: {...}`), but not one that only reads it.
var definesSDK = regexp.MustCompile(`\bSignalWire\s*(:|=[^=])`)

// page is one page's script sources; room pages must load the SDK.
type page struct {
	scripts []string
	room    bool
}

// everyPage fetches each page the app renders as a browser would reach
// it: the picker, the moderator page (after starting a room), the guest
// page (from its invite link, in a fresh browser), and the error pages.
func everyPage(t *testing.T, app *testApp) map[string]page {
	t.Helper()
	host := newBrowser()
	pages := map[string]page{}
	doc := getDoc(t, host, app.URL+"/", http.StatusOK)
	pages["picker"] = page{scripts: scriptSrcs(doc)}
	csrf, _ := doc.Find(`input[name="_csrf"]`).Attr("value")
	resp, err := host.PostForm(app.URL+"/rooms", url.Values{"room": {"Every_Page"}, "user": {"Ann"}, "_csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	room, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/rooms/Every_Page" {
		t.Fatalf("starting a room: %d at %s, %v", resp.StatusCode, resp.Request.URL, err)
	}
	pages["moderator"] = page{scripts: scriptSrcs(room), room: true}
	invite, ok := room.Find(`[data-testid="invite-link"]`).Attr("href")
	if !ok {
		t.Fatal("no invite link on the moderator page")
	}
	if strings.HasPrefix(invite, "/") {
		invite = app.URL + invite
	}
	pages["guest"] = page{scripts: scriptSrcs(getDoc(t, newBrowser(), invite, http.StatusOK)), room: true}
	pages["not a host"] = page{scripts: scriptSrcs(getDoc(t, newBrowser(), app.URL+"/rooms/Every_Page", http.StatusForbidden))}
	pages["bad invite"] = page{scripts: scriptSrcs(getDoc(t, newBrowser(), app.URL+"/guest?room=Every_Page&exp=1&sig=x", http.StatusForbidden))}
	pages["not found"] = page{scripts: scriptSrcs(getDoc(t, newBrowser(), app.URL+"/nowhere", http.StatusNotFound))}
	return pages
}

// newBrowser is an HTTP client with its own cookies.
func newBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

func getDoc(t *testing.T, c *http.Client, u string, status int) *goquery.Document {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != status {
		t.Fatalf("GET %s: %d, want %d", u, resp.StatusCode, status)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func scriptSrcs(doc *goquery.Document) []string {
	var out []string
	doc.Find("script[src]").Each(func(_ int, s *goquery.Selection) {
		out = append(out, s.AttrOr("src", ""))
	})
	return out
}

func fetch(t *testing.T, u string, status int) []byte {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != status {
		t.Fatalf("GET %s: %d, %v; want %d", u, resp.StatusCode, err, status)
	}
	return body
}

// vendorSums reads public/vendor/SHA256SUMS: file name to hex digest.
func vendorSums(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("public", "vendor", "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			sums[f[1]] = f[0]
		}
	}
	if sums["signalwire-js-3.30.0.umd.js"] == "" {
		t.Fatalf("SHA256SUMS has no entry for the SDK: %q", b)
	}
	return sums
}
