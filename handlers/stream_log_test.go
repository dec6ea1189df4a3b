package handlers_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swrooms/swrooms/handlers"
	"github.com/swrooms/swrooms/internal/proctest"
	"github.com/swrooms/swrooms/roomstate"
	"github.com/swrooms/swrooms/roster"
	"github.com/swrooms/swrooms/signalwire"
	"github.com/swrooms/swrooms/signalwire/swtest"
)

// leaseFailing is the memory room state whose leases fail while down is
// set, as Redis's do when Redis stops answering mid-stream.
type leaseFailing struct {
	*roomstate.Memory
	down atomic.Bool
}

var errLeaseDown = errors.New("redis room lease: connection refused")

func (r *leaseFailing) Lease(ctx context.Context, room string, l roomstate.Lease, now time.Time) (roomstate.Change, error) {
	if r.down.Load() {
		return roomstate.Change{}, errLeaseDown
	}
	return r.Memory.Lease(ctx, room, l, now)
}

func (r *leaseFailing) EndLease(ctx context.Context, room string, l roomstate.Lease, now time.Time) (roomstate.Change, error) {
	if r.down.Load() {
		return roomstate.Change{}, errLeaseDown
	}
	return r.Memory.EndLease(ctx, room, l, now)
}

// TestStreamLogLinesCarryTheRequestID: a stream is one long request, and
// what its heartbeat and its end log (a lease Redis did not renew) belongs
// to that request, so it carries the stream's request_id like every other
// log line of a request.
func TestStreamLogLinesCarryTheRequestID(t *testing.T) {
	t.Parallel()
	rooms := &leaseFailing{Memory: roomstate.NewMemory(roomstate.Limits{})}
	e, logw := newEnvLogged(t, rooms)
	base := serve(t, e)

	seat := joined(t, e, "R") // a moderator: its stream holds a lease
	s := openSSE(t, base, e.streamPath("R", "X-Seat", seat), "")
	id := s.resp.Header.Get("X-Request-ID")
	if id == "" {
		t.Fatal("the stream's answer has no X-Request-ID")
	}
	s.next(t, "chat-history")
	rooms.down.Store(true)
	waitLog(t, logw, `msg="stream heartbeat"`)
	s.close()
	waitLog(t, logw, `msg="stream end"`)

	for l := range strings.Lines(logw.String()) {
		if !strings.Contains(l, `msg="stream heartbeat"`) && !strings.Contains(l, `msg="stream end"`) {
			continue
		}
		if !strings.Contains(l, "request_id="+id) {
			t.Errorf("got %q, want request_id=%s (the stream's)", strings.TrimSpace(l), id)
		}
	}
}

// newEnvLogged is an app over rooms with fast streams whose log is wrapped
// as main wraps it (request ids added), and that log.
func newEnvLogged(t *testing.T, rooms handlers.RoomStates) (*testEnv, *proctest.Buffer) {
	t.Helper()
	fake, srv := swtest.NewServer(projectKey, apiToken)
	t.Cleanup(srv.Close)
	client, err := signalwire.NewClient(srv.URL, projectKey, apiToken, signalwire.WithRetry(2, time.Millisecond, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	cfg := handlers.Config{SecretKey: []byte(secretKey), InviteTTL: time.Hour, MaxMembers: 5}
	fastStreams(&cfg)
	logw := &proctest.Buffer{}
	status := handlers.NewStatus()
	status.SetReady()
	h := handlers.New(cfg, handlers.Deps{
		Video: client, Roster: roster.NewMemoryStore(roster.Limits{}),
		Log:    handlers.LogRequestIDs(slog.New(slog.NewTextHandler(logw, nil))),
		Status: status, Rooms: rooms,
	})
	return &testEnv{t: t, app: handlers.NewApp(h), fake: fake, jar: newJar(), logs: &strings.Builder{}}, logw
}

// waitLog waits up to 5 s for a line containing marker.
func waitLog(t *testing.T, logs *proctest.Buffer, marker string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), marker) {
		if time.Now().After(deadline) {
			t.Fatalf("no log line with %s in 5 s:\n%s", marker, logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestARequestFastHTTPCannotReadGetsARequestIDToo: a request refused
// before any middleware ran (headers larger than the server reads) is
// still answered and logged, by the error handler alone; its answer and
// its log line carry a request id like every other request's.
func TestARequestFastHTTPCannotReadGetsARequestIDToo(t *testing.T) {
	t.Parallel()
	e, logw := newEnvLogged(t, nil)
	base := serve(t, e)
	req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 16<<10))
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("got %d, want 431", resp.StatusCode)
	}
	id := resp.Header.Get("X-Request-ID")
	if id == "" {
		t.Error("the 431 has no X-Request-ID")
	}
	if l := logLineWith(t, logw.String(), "status=431"); id == "" || !strings.Contains(l, "request_id="+id) {
		t.Errorf("got %q, want request_id=%s", l, id)
	}
}

// logLineWith is the one log line containing marker.
func logLineWith(t *testing.T, logs, marker string) string {
	t.Helper()
	var found []string
	for l := range strings.Lines(logs) {
		if strings.Contains(l, marker) {
			found = append(found, strings.TrimSpace(l))
		}
	}
	if len(found) != 1 {
		t.Fatalf("got %d log lines with %s, want 1; logs:\n%s", len(found), marker, logs)
	}
	return found[0]
}
