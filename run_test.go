package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

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

// TestSimulatedSDKIsNeverServedWithRealCredentials: with credentials and
// no test seam, pages load the vendored SDK and the simulator is a 404.
func TestSimulatedSDKIsNeverServedWithRealCredentials(t *testing.T) {
	t.Parallel()
	_, srv := swtest.NewServer(testProjectKey, testAPIToken)
	t.Cleanup(srv.Close)
	app := startApp(t, []string{
		"SIGNALWIRE_PROJECT_KEY=" + testProjectKey, "SIGNALWIRE_TOKEN=" + testAPIToken,
		"SIGNALWIRE_SPACE=" + srv.URL, "SECRET_KEY=" + testSecretKey, "OPEN_HOSTING=true",
	})
	if resp := app.get(t, "/public/js/swsim.js"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("got %d for the simulator, want 404", resp.StatusCode)
	}
	if resp := app.get(t, "/public/vendor/signalwire-js-3.30.0.umd.js"); resp.StatusCode != http.StatusOK ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("got %d %q for the real SDK, want 200 cached for good", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	sandbox := startSandboxApp(t)
	if resp := sandbox.get(t, "/public/js/swsim.js"); resp.StatusCode != http.StatusOK {
		t.Errorf("got %d for the simulator in sandbox mode, want 200", resp.StatusCode)
	}
}
