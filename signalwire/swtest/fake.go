// Package swtest is a fake of SignalWire's Video REST API (/api/video) that
// behaves like the real one as documented by SignalWire (REST API reference, Video): Basic
// auth, the same paths, status codes and error bodies, validation,
// duplicate names, paging links, JWT-shaped room tokens and room sessions.
//
// A *Fake is an http.Handler. Tests usually start it with NewServer; sandbox
// mode serves it on a loopback listener of its own, with bots:
//
//	fake := swtest.New(key, token, swtest.WithBots(swtest.Bots{}))
//	ln, _ := net.Listen("tcp", "127.0.0.1:0")
//	go http.Serve(ln, fake)
//	client, _ := signalwire.NewClient("http://"+ln.Addr().String(), key, token)
//
// It records every call (Calls, CallsTo) for assertions such as "exactly one
// POST per join", and injects faults (Fail) such as 5xx, 429 with
// Retry-After, slow answers and dropped connections. It is safe for
// concurrent use and bounded in memory (see Limits): past a limit it answers
// 422 instead of growing, and it keeps only the most recent calls.
//
// The same handler serves SignalWire's relay at RelayPath: the WebSocket
// that the real @signalwire/js 3.30.0 joins rooms through, with WebRTC
// answered by pion (relay.go; RELAY.md lists every message and its
// source). The room tokens the fake issues name it in their "ch" header,
// so a page needs no configuration. Members join through it from browsers,
// or from Go with AddMembers, and GET /room_sessions follows them.
//
// The package imports only the standard library, the WebSocket and pion
// modules, and not the signalwire client, so that its tests pin it to the
// documentation rather than to the client it is meant to check.
package swtest

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"
)

// APIRoot is the path prefix of every route the fake serves.
const APIRoot = "/api/video"

// LiveSessionTTL is how long a session started by WithLiveSessionsFromTokens
// stays in progress after the last token issued for its room.
const LiveSessionTTL = 10 * time.Minute

// maxBody bounds request bodies; bigger ones get 400 like malformed JSON.
const maxBody = 1 << 20

// Limits bounds what a Fake stores. A zero field takes its default.
type Limits struct {
	Rooms    int // rooms at once (default 10,000); POST /rooms past it answers 422
	Sessions int // room sessions kept (default 10,000); the oldest are dropped
	Members  int // session members across all sessions (default 100,000)
	Calls    int // recorded calls kept (default 10,000); the oldest are dropped
	Tokens   int // issued tokens kept for IssuedTokens (default 10,000)
	// RelayConns bounds the relay's WebSocket connections at once (default
	// 1,000); past it the upgrade is refused with 503.
	RelayConns int
	// RelayConnectTimeout is how long a relay socket may stay open without
	// a successful signalwire.connect (default 10 s), which the SDK sends
	// first thing; an idle unauthenticated socket is then closed.
	RelayConnectTimeout time.Duration
}

func (l Limits) withDefaults() Limits {
	def := func(v, d int) int {
		if v <= 0 {
			return d
		}
		return v
	}
	timeout := l.RelayConnectTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return Limits{
		Rooms: def(l.Rooms, 10_000), Sessions: def(l.Sessions, 10_000),
		Members: def(l.Members, 100_000), Calls: def(l.Calls, 10_000),
		Tokens: def(l.Tokens, 10_000), RelayConns: def(l.RelayConns, 1_000),
		RelayConnectTimeout: timeout,
	}
}

// Option configures a Fake in New or NewServer.
type Option func(*Fake)

// WithDuplicateStatus sets the status of the answer to POST /rooms (and a
// rename by PUT) with a name that is taken. The default is 422 with an error
// on attribute "name", SignalWire's most likely answer; 409 covers the
// other plausible one. The body has the {"errors":[...]} shape either way.
func WithDuplicateStatus(status int) Option {
	return func(f *Fake) { f.dupStatus = status }
}

// WithLiveSessionsFromTokens makes every issued room token start (or extend)
// an in-progress session of its room with the token's user as a member, so
// that "rooms live now" shows something in sandbox mode where no browser
// reaches a real media server. A session ends LiveSessionTTL after the last
// token for its room.
func WithLiveSessionsFromTokens() Option {
	return func(f *Fake) { f.liveFromTokens = true }
}

// WithClock replaces time.Now, for tests of timestamps and session expiry.
func WithClock(now func() time.Time) Option {
	return func(f *Fake) { f.now = now }
}

// WithLimits changes the memory bounds (see Limits).
func WithLimits(l Limits) Option {
	return func(f *Fake) { f.limits = l.withDefaults() }
}

// Fake is the fake API. Create it with New or NewServer.
type Fake struct {
	projectKey, token string
	secret            []byte // signs room tokens
	dupStatus         int
	liveFromTokens    bool
	limits            Limits
	mux               *http.ServeMux

	mu           sync.Mutex
	now          func() time.Time
	rooms        []*room // creation order, for stable paging
	roomsByID    map[string]*room
	roomsByName  map[string]*room
	sessions     []*session // creation order
	sessionsByID map[string]*session
	memberCount  int
	calls        []Call
	tokens       []string
	faults       []*faultRule
	relay        relayState // the relay's rooms and connections (relay.go)
}

// New returns a Fake that accepts the given project key and API token.
func New(projectKey, token string, opts ...Option) *Fake {
	f := &Fake{
		projectKey:   projectKey,
		token:        token,
		secret:       randomBytes(32),
		dupStatus:    http.StatusUnprocessableEntity,
		limits:       Limits{}.withDefaults(),
		now:          time.Now,
		roomsByID:    map[string]*room{},
		roomsByName:  map[string]*room{},
		sessionsByID: map[string]*session{},
		relay:        newRelayState(),
	}
	for _, o := range opts {
		o(f)
	}
	m := http.NewServeMux()
	m.HandleFunc("POST "+APIRoot+"/rooms", f.createRoom)
	m.HandleFunc("GET "+APIRoot+"/rooms", f.listRooms)
	m.HandleFunc("GET "+APIRoot+"/rooms/{id}", f.getRoom)
	m.HandleFunc("PUT "+APIRoot+"/rooms/{id}", f.updateRoom)
	m.HandleFunc("DELETE "+APIRoot+"/rooms/{id}", f.deleteRoom)
	m.HandleFunc("POST "+APIRoot+"/room_tokens", f.createToken)
	m.HandleFunc("GET "+APIRoot+"/room_sessions", f.listSessions)
	m.HandleFunc("GET "+APIRoot+"/room_sessions/{id}", f.getSession)
	m.HandleFunc("GET "+APIRoot+"/room_sessions/{id}/members", f.listMembers)
	f.mux = m
	return f
}

// NewServer starts New(projectKey, token, opts...) on an httptest.Server
// (plain http on 127.0.0.1, which the client accepts because it is
// loopback). Point a client at srv.URL and Close the server when done:
//
//	fake, srv := swtest.NewServer("key", "token")
//	defer srv.Close()
//	client, _ := signalwire.NewClient(srv.URL, "key", "token")
func NewServer(projectKey, token string, opts ...Option) (*Fake, *httptest.Server) {
	f := New(projectKey, token, opts...)
	return f, httptest.NewServer(f)
}

// ServeHTTP answers one API request: record it, apply a matching fault,
// check Basic auth, then route.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == RelayPath {
		// The browser's WebSocket carries no Basic auth and is not an API
		// call: the relay authenticates with the room token instead, and
		// it is not recorded, so call counts stay about the REST API.
		f.serveRelay(w, r)
		return
	}
	raw, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	sw := &statusWriter{ResponseWriter: w}
	call := Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: recordBody(raw)}
	recorded := false
	recordOnce := func() {
		if !recorded {
			recorded = true
			call.Status = sw.status
			f.record(call)
		}
	}
	// Recording happens before the answer is flushed (the handler returns
	// first), so a client that has its answer finds its call recorded.
	defer recordOnce()

	if flt, ok := f.takeFault(r.Method, r.URL.Path); ok {
		if done := f.applyFault(sw, r, flt, recordOnce); done {
			return
		}
	}
	if !f.authorized(r) {
		writeError(sw, http.StatusUnauthorized, "Unauthorized")
		return
	}
	if readErr != nil {
		writeError(sw, http.StatusBadRequest, "Bad Request")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	if _, pattern := f.mux.Handler(r); pattern == "" || path.Clean(r.URL.Path) != r.URL.Path {
		// Unknown path or method: the API answers 404 with a JSON body, not
		// ServeMux's plain-text 404/405 or its redirect to a cleaned path.
		writeError(sw, http.StatusNotFound, "Not Found")
		return
	}
	f.mux.ServeHTTP(sw, r)
}

func (f *Fake) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	u := subtle.ConstantTimeCompare([]byte(user), []byte(f.projectKey))
	p := subtle.ConstantTimeCompare([]byte(pass), []byte(f.token))
	return u&p == 1
}

// statusWriter remembers the status for the call recorder.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (for Hangup).
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Call is one request the fake received. Path is the full path
// ("/api/video/rooms"); Body is the decoded JSON object (numbers as float64),
// nil when there was none or it was not an object; Status is what the fake
// answered (0 when it hung up or the client went away first).
type Call struct {
	Method string
	Path   string
	Query  url.Values
	Body   map[string]any
	Status int
}

func recordBody(raw []byte) map[string]any {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

func (f *Fake) record(c Call) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
	// Trim in batches so recording stays O(1) amortised.
	if len(f.calls) >= 2*f.limits.Calls {
		f.calls = append([]Call(nil), f.calls[len(f.calls)-f.limits.Calls:]...)
	}
}

// Calls returns the recorded calls, oldest first (at most Limits.Calls).
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	start := max(0, len(f.calls)-f.limits.Calls)
	return append([]Call(nil), f.calls[start:]...)
}

// CallsTo returns the recorded calls with this method and exact path. The
// path may be given with or without the "/api/video" prefix.
func (f *Fake) CallsTo(method, path string) []Call {
	path = fullPath(path)
	var out []Call
	for _, c := range f.Calls() {
		if c.Method == method && c.Path == path {
			out = append(out, c)
		}
	}
	return out
}

// ResetCalls forgets the recorded calls.
func (f *Fake) ResetCalls() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = nil
}

// fullPath adds the API root to a path given without it.
func fullPath(p string) string {
	if p == "" || strings.HasPrefix(p, APIRoot) {
		return p
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return APIRoot + p
}

// Fault describes a failure to inject with Fail.
type Fault struct {
	// Status answers with this status instead of handling the request; 0
	// handles it normally (after Delay).
	Status int
	// Body replaces the default body ({"error":"<status text>"}, or the
	// validation shape for 422). It is sent as is, so it may be malformed
	// JSON on purpose, even with Status 200.
	Body string
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter string
	// Delay waits this long before answering (or until the client gives up).
	Delay time.Duration
	// Count is how many requests the fault affects; 0 means all of them.
	Count int
	// Hangup closes the connection without answering (after Delay).
	Hangup bool
}

type faultRule struct {
	method, path string
	fault        Fault
	left         int // requests left; -1 forever
}

// Fail injects a fault into matching requests, before auth is checked.
// method "" or "*" matches any method. path matches that exact path and
// everything below it ("/api/video/rooms" also matches
// "/api/video/rooms/Main_Office"); it may omit the "/api/video" prefix, and
// "" matches every path. Faults match in the order they were added.
func (f *Fake) Fail(method, path string, flt Fault) {
	left := flt.Count
	if left <= 0 {
		left = -1
	}
	if method == "*" {
		method = ""
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, &faultRule{method: method, path: strings.TrimRight(fullPath(path), "/"), fault: flt, left: left})
}

// ClearFaults removes every injected fault.
func (f *Fake) ClearFaults() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = nil
}

func (f *Fake) takeFault(method, path string) (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, fr := range f.faults {
		if fr.method != "" && fr.method != method {
			continue
		}
		if fr.path != "" && path != fr.path && !strings.HasPrefix(path, fr.path+"/") {
			continue
		}
		if fr.left > 0 {
			fr.left--
			if fr.left == 0 {
				f.faults = append(f.faults[:i:i], f.faults[i+1:]...)
			}
		}
		return fr.fault, true
	}
	return Fault{}, false
}

// applyFault carries out flt and reports whether the request is answered.
// beforeHangup runs just before a Hangup closes the connection, so that the
// call is recorded before the client can notice.
func (f *Fake) applyFault(w *statusWriter, r *http.Request, flt Fault, beforeHangup func()) bool {
	if flt.Delay > 0 {
		t := time.NewTimer(flt.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true // the client gave up; nobody reads an answer
		}
	}
	if flt.Hangup {
		beforeHangup()
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
			return true
		}
		panic(http.ErrAbortHandler) // HTTP/2: abort the stream instead
	}
	if flt.Status == 0 {
		return false
	}
	if flt.RetryAfter != "" {
		w.Header().Set("Retry-After", flt.RetryAfter)
	}
	switch {
	case flt.Body != "":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(flt.Status)
		io.WriteString(w, flt.Body)
	case flt.Status == http.StatusUnprocessableEntity:
		var p problems
		p.add("", "Injected validation failure")
		writeProblems(w, flt.Status, p)
	default:
		writeError(w, flt.Status, http.StatusText(flt.Status))
	}
	return true
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeError answers with the {"error":"..."} shape of 400/401/404.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// newUUID returns a random (version 4) UUID like SignalWire's ids.
func newUUID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return b
}

// ts formats a time the way the API does (RFC 3339, UTC, seconds).
func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func tsPtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := ts(*t)
	return &s
}

// errNotFound is returned by the seeding helpers for unknown ids.
var errNotFound = errors.New("swtest: not found")
