package handlers_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/swrooms/swrooms/handlers"
)

// Streams need a real connection: app.Test waits for the whole response.

// sseEvent is one parsed server-sent event.
type sseEvent struct{ ID, Name, Data string }

// sseClient reads one stream; events and comments (heartbeats) arrive on
// their channels, and done closes when the stream ends.
type sseClient struct {
	resp     *http.Response
	events   chan sseEvent
	comments chan string
	done     chan struct{}
}

// serve runs e's app on a loopback port until the test ends.
func serve(t *testing.T, e *testEnv) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.app.Listener(ln)
	t.Cleanup(func() { _ = e.app.ShutdownWithTimeout(2 * time.Second) })
	return "http://" + ln.Addr().String()
}

// openSSE connects to base+path; lastID, when set, is sent as
// Last-Event-ID. It fails the test unless the answer is a 200 stream.
func openSSE(t *testing.T, base, path, lastID string) *sseClient {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		resp.Body.Close()
		t.Fatalf("stream: got %d %q, want 200 text/event-stream", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	c := &sseClient{resp: resp, events: make(chan sseEvent, 1000), comments: make(chan string, 1000), done: make(chan struct{})}
	t.Cleanup(c.close)
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev sseEvent
		var data []string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Name != "" || len(data) > 0 {
					ev.Data = strings.Join(data, "\n")
					c.events <- ev
				}
				ev, data = sseEvent{}, nil
			case strings.HasPrefix(line, ":"):
				c.comments <- line
			case strings.HasPrefix(line, "id: "):
				ev.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.Name = line[7:]
			case strings.HasPrefix(line, "data: "):
				data = append(data, line[6:])
			}
		}
	}()
	return c
}

func (c *sseClient) close() { c.resp.Body.Close() }

// next waits up to 5 s for the next event named name, skipping others.
func (c *sseClient) next(t *testing.T, name string) sseEvent {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev := <-c.events:
			if ev.Name == name {
				return ev
			}
		case <-c.done:
			t.Fatalf("stream ended before a %q event", name)
		case <-deadline:
			t.Fatalf("got no %q event in 5 s", name)
		}
	}
}

// none fails if an event named name arrives within d.
func (c *sseClient) none(t *testing.T, name string, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case ev := <-c.events:
			if ev.Name == name {
				t.Fatalf("got a %q event %q, want none", name, ev.Data)
			}
		case <-deadline:
			return
		}
	}
}

// streamPath asks for a stream URL with a seat (X-Seat) or lobby ticket
// (X-Lobby) header.
func (e *testEnv) streamPath(room, header, value string) string {
	e.t.Helper()
	resp, body := e.postJSON("/rooms/"+room+"/stream-ticket", map[string]any{}, header, value)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("stream-ticket: got %d %s", resp.StatusCode, body)
	}
	var a struct{ URL string }
	if err := json.Unmarshal([]byte(body), &a); err != nil || !strings.Contains(a.URL, "ticket=") {
		e.t.Fatalf("stream-ticket: got %q, want a URL with a ticket", body)
	}
	return a.URL
}

// chat posts a message as the island's htmx form does.
func (e *testEnv) chat(room, seat, msg string) (*http.Response, string) {
	e.t.Helper()
	if e.csrf == "" {
		e.get("/")
	}
	form := url.Values{"message": {msg}}
	return e.do(http.MethodPost, "/rooms/"+room+"/chat", strings.NewReader(form.Encode()),
		"Content-Type", "application/x-www-form-urlencoded", "HX-Request", "true", "X-Csrf-Token", e.csrf, "X-Seat", seat)
}

func fastStreams(c *handlers.Config) {
	c.OpenHosting, c.HostPasscode = true, ""
	c.StreamHeartbeat = 50 * time.Millisecond
	c.WriteTimeout = 300 * time.Millisecond
	c.LobbyGrace = 150 * time.Millisecond
}

func TestStreamRefusesMissingForgedAndExpiredTickets(t *testing.T) {
	t.Parallel()
	now := time.Now()
	clock := &now
	e := newEnvClock(t, func() time.Time { return *clock }, openHosting)
	seat := joined(t, e, "R")
	good := e.streamPath("R", "X-Seat", seat)
	u, _ := url.Parse(good)
	ticket := u.Query().Get("ticket")
	other := e.another()
	other.host("S", "bob")
	for name, path := range map[string]string{
		"no ticket":        "/rooms/R/stream",
		"forged":           "/rooms/R/stream?ticket=" + url.QueryEscape(ticket[:len(ticket)-3]+"AAA"),
		"another room's":   "/rooms/S/stream?ticket=" + url.QueryEscape(ticket),
		"a seat as ticket": "/rooms/R/stream?ticket=" + url.QueryEscape(seat),
	} {
		resp, _ := e.do(http.MethodGet, path, nil)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: got %d, want 403", name, resp.StatusCode)
		}
	}
	later := now.Add(6 * time.Minute)
	clock = &later
	resp, _ := e.do(http.MethodGet, good, nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("expired ticket: got %d, want 403", resp.StatusCode)
	}
	if strings.Contains(e.logs.String(), ticket) || strings.Contains(e.logs.String(), "ticket=") {
		t.Errorf("the log holds a stream ticket: %s", e.logs.String())
	}
}

func TestStreamDeliversChatAndReplaysAfterLastEventID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastStreams)
	base := serve(t, e)
	seat := joined(t, e, "R")
	s := openSSE(t, base, e.streamPath("R", "X-Seat", seat), "")
	s.next(t, "chat-history")
	if resp, body := e.chat("R", seat, "first"); resp.StatusCode != http.StatusOK {
		t.Fatalf("chat: got %d %s", resp.StatusCode, body)
	}
	first := s.next(t, "chat")
	if !strings.Contains(first.Data, "first") || first.ID == "" {
		t.Fatalf("got %+v, want the message with an id", first)
	}
	s.close()
	e.chat("R", seat, "second")
	e.chat("R", seat, "third")
	again := openSSE(t, base, e.streamPath("R", "X-Seat", seat), first.ID)
	for _, want := range []string{"second", "third"} {
		if ev := again.next(t, "chat"); !strings.Contains(ev.Data, want) {
			t.Errorf("replay: got %q, want %q", ev.Data, want)
		}
	}
	again.none(t, "chat-history", 200*time.Millisecond)
}

func TestStreamHeartbeatsAndOutlivesTheWriteTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastStreams) // WriteTimeout 300 ms, heartbeat 50 ms
	base := serve(t, e)
	seat := joined(t, e, "R")
	s := openSSE(t, base, e.streamPath("R", "X-Seat", seat), "")
	time.Sleep(1200 * time.Millisecond) // four write timeouts
	if n := len(s.comments); n < 5 {
		t.Errorf("got %d heartbeats in 1.2 s, want one every 50 ms", n)
	}
	e.chat("R", seat, "still here")
	if ev := s.next(t, "chat"); !strings.Contains(ev.Data, "still here") {
		t.Errorf("got %q after the write timeout, want the message", ev.Data)
	}
}

func TestShutdownClosesStreams(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastStreams)
	base := serve(t, e)
	seat := joined(t, e, "R")
	s := openSSE(t, base, e.streamPath("R", "X-Seat", seat), "")
	s.next(t, "chat-history")
	go e.app.ShutdownWithContext(context.Background())
	select {
	case <-s.done:
	case <-time.After(3 * time.Second):
		t.Fatal("the stream stayed open during shutdown")
	}
}
