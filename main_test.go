package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swrooms/swrooms/internal/browsertest"
	"github.com/swrooms/swrooms/internal/proctest"
	"github.com/swrooms/swrooms/signalwire/swtest"
)

// TestMain starts one browser for the whole binary; tests open tabs.
func TestMain(m *testing.M) { browsertest.Main(m) }

// testApp is a running instance of the real run(), on a loopback port.
type testApp struct {
	URL  string
	Logs *proctest.Buffer
	// Fake is the fake SignalWire API the app talks to; nil in sandbox
	// mode, where run() starts its own.
	Fake   *swtest.Fake
	cancel context.CancelFunc
	done   chan error
}

// Test credentials for the fake API. They are fake, but the suite still
// checks that they never reach a log or a page.
const (
	testProjectKey = "test-project-4f2a"
	testAPIToken   = "PTtest-secret-token-9c1e7d"
	testSecretKey  = "test-secret-key-that-is-at-least-32-bytes-long"
)

// startApp runs the app with environ (plus ADDR on a free loopback port)
// and stops it when the test ends.
func startApp(t *testing.T, environ []string, opts ...runOption) *testApp {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	app := &testApp{Logs: &proctest.Buffer{}, cancel: cancel, done: make(chan error, 1)}
	addrc := make(chan string, 1)
	environ = append([]string{"ADDR=" + nextLoopback() + ":0"}, environ...)
	opts = append(opts, withOnListen(func(a string) { addrc <- a }))
	go func() { app.done <- run(ctx, []string{"swrooms", "-env-file="}, environ, app.Logs, opts...) }()
	select {
	case addr := <-addrc:
		app.URL = "http://" + addr
	case err := <-app.done:
		cancel()
		t.Fatalf("run exited before listening: %v\nlogs:\n%s", err, app.Logs)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatalf("run did not listen within 10s\nlogs:\n%s", app.Logs)
	}
	t.Cleanup(func() { app.stop(t) })
	return app
}

// halt stops run() as a restart does, and keeps its result for the stop
// in startApp's cleanup; the browser keeps its page.
func (a *testApp) halt(t *testing.T) {
	t.Helper()
	a.cancel()
	select {
	case err := <-a.done:
		a.done <- err
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop within 10s")
	}
}

func (a *testApp) stop(t *testing.T) {
	t.Helper()
	a.cancel()
	select {
	case err := <-a.done:
		if err != nil {
			t.Errorf("run returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("run did not stop within 10s")
	}
	for _, secret := range []string{testAPIToken, testSecretKey} {
		if strings.Contains(a.Logs.String(), secret) {
			t.Errorf("a secret appeared in the logs")
		}
	}
}

// startSandboxApp runs the app with no credentials: sandbox mode.
func startSandboxApp(t *testing.T, environ ...string) *testApp {
	t.Helper()
	return startApp(t, environ)
}

// fakeConfig starts a fake SignalWire API on loopback and returns the
// configuration that points the app at it, with open hosting.
func fakeConfig(t *testing.T) ([]string, *swtest.Fake) {
	t.Helper()
	fake := swtest.New(testProjectKey, testAPIToken)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return []string{
		"SIGNALWIRE_PROJECT_KEY=" + testProjectKey,
		"SIGNALWIRE_TOKEN=" + testAPIToken,
		"SIGNALWIRE_SPACE=" + srv.URL,
		"SECRET_KEY=" + testSecretKey,
		"OPEN_HOSTING=true",
	}, fake
}

// startFakeApp runs the app with real configuration against a fake
// SignalWire on loopback (REST API and relay), so that pages run the
// vendored SDK against the relay. Hosting is open unless environ sets
// HOST_PASSCODE.
func startFakeApp(t *testing.T, environ ...string) *testApp {
	t.Helper()
	env, fake := fakeConfig(t)
	for _, e := range environ {
		if strings.HasPrefix(e, "HOST_PASSCODE=") {
			env = slices.DeleteFunc(env, func(v string) bool { return v == "OPEN_HOSTING=true" })
		}
	}
	app := startApp(t, append(env, environ...))
	app.Fake = fake
	return app
}

// get fetches a path of the app with an optional header pair list.
func (a *testApp) get(t *testing.T, path string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, a.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// loopbackHosts counts the addresses handed to test apps.
var loopbackHosts atomic.Uint32

// nextLoopback gives each app its own loopback address. Browsers scope
// cookies by host, not port, so apps of parallel tests sharing 127.0.0.1
// would overwrite each other's CSRF and host cookies in the one browser.
func nextLoopback() string {
	n := loopbackHosts.Add(1)
	return fmt.Sprintf("127.0.%d.%d", 1+n/250, 1+n%250)
}
