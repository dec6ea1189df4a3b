package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/gofiber/fiber/v2"

	"github.com/swrooms/swrooms/internal/redisconn"
)

// unavailableApp is the app's error handling and request middleware in
// front of routes that fail as a Redis-backed store does.
func unavailableApp(t *testing.T, logs io.Writer) *fiber.App {
	t.Helper()
	h := New(Config{SecretKey: []byte("unavailable-test-secret-key-of-32-bytes")},
		Deps{Log: slog.New(slog.NewTextHandler(logs, nil))})
	app := fiber.New(fiber.Config{ErrorHandler: h.handleError})
	app.Use(requestIDs(newClientAddrs(nil)))
	app.Use(h.observe)
	app.Get("/rooms/:room/refused", func(c *fiber.Ctx) error {
		return fmt.Errorf("lobby of %q: %w", c.Params("room"), redisconn.Wrap("lobby knock", errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")))
	})
	app.Get("/rooms/:room/timeout", func(c *fiber.Ctx) error {
		// A Redis timeout is a deadline too, but not SignalWire's.
		return redisconn.Wrap("chat history", context.DeadlineExceeded)
	})
	return app
}

func TestUnavailableSharedStateIsA503PageNeverA500(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/rooms/Main_Office/refused", "/rooms/Main_Office/timeout"} {
		for _, fragment := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s htmx=%v", path, fragment), func(t *testing.T) {
				t.Parallel()
				var logs strings.Builder
				app := unavailableApp(t, &logs)
				req := httptest.NewRequest(http.MethodGet, path+"?x=1", nil)
				if fragment {
					req.Header.Set("HX-Request", "true")
				}
				resp, err := app.Test(req, -1)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				if resp.StatusCode != http.StatusServiceUnavailable {
					t.Fatalf("got status %d, want 503", resp.StatusCode)
				}
				if got := resp.Header.Get("Retry-After"); got != "5" {
					t.Errorf("got Retry-After %q, want 5", got)
				}
				doc, err := goquery.NewDocumentFromReader(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				if got := doc.Find(`[data-testid="error"] h1`).Text(); got != "Shared state unavailable" {
					t.Errorf("got title %q, want Shared state unavailable", got)
				}
				if msg := doc.Find(`[data-testid="error-message"]`).Text(); !strings.Contains(msg, "try again in a moment") {
					t.Errorf("got message %q, want it to say to try again in a moment", msg)
				}
				action, hasAction := doc.Find(`[data-testid="error-action"]`).Attr("href")
				isPage := doc.Find("html head title").Length() > 0
				switch {
				case fragment && (isPage || resp.Header.Get("HX-Retarget") != "#flash"):
					t.Errorf("htmx request: got a page or no retarget (%q), want a fragment for #flash", resp.Header.Get("HX-Retarget"))
				case fragment && hasAction:
					t.Errorf("htmx request: got action %q, want none (the page stays)", action)
				case !fragment && action != path+"?x=1":
					t.Errorf("page: got action %q, want a retry of %s?x=1", action, path)
				}
				id := resp.Header.Get("X-Request-ID")
				line := LogLine(t, logs.String(), `msg="request failed"`)
				for _, want := range []string{"level=ERROR", "status=503", "request_id=" + id, "redis "} {
					if !strings.Contains(line, want) {
						t.Errorf("got log line %q, want %q in it", line, want)
					}
				}
			})
		}
	}
}

func TestRetryURLStaysOnTheSite(t *testing.T) {
	t.Parallel()
	app := fiber.New()
	app.Use(func(c *fiber.Ctx) error { return c.SendString(retryURL(c)) })
	for raw, want := range map[string]string{
		"/rooms/A?x=1":        "/rooms/A?x=1",
		"//evil.example/path": "/",
		"/\\evil.example":     "/",
	} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path, req.RequestURI = raw, raw
		req.URL.RawQuery = ""
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != want {
			t.Errorf("retryURL for %q: got %q, want %q", raw, b, want)
		}
	}
}

// LogLine is the one line of logs containing marker (logged once).
// Exported for the external tests (package handlers_test) too.
func LogLine(t *testing.T, logs, marker string) string {
	t.Helper()
	var found []string
	for l := range strings.Lines(logs) {
		if strings.Contains(l, marker) {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("got %d log lines with %s, want 1 (logged once); logs:\n%s", len(found), marker, logs)
	}
	return found[0]
}
