// Package signalwire is swrooms' client for SignalWire's Video REST API
// (https://<space>/api/video): rooms, room tokens and room sessions.
//
// It wraps one dependency so that the rest of swrooms never builds a URL,
// reads an error body or decides about retries. The API token stays inside
// the Client: it is sent only to the configured origin (paging links to any
// other host are not followed), and no error string or log line carries it,
// the Basic auth header, a room token or a request body.
//
// Every call takes a context and gets a timeout of its own per attempt;
// 429 and 5xx answers (and transport failures of GETs) are retried with
// bounded, jittered exponential backoff. Answers from SignalWire come back as
// *APIError; everything else (timeouts, refused connections, malformed JSON)
// as *TransportError, which matches ErrTransport with errors.Is.
package signalwire

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Defaults used by NewClient when no option says otherwise.
const (
	DefaultTimeout     = 10 * time.Second       // per attempt, on top of the caller's context
	DefaultMaxAttempts = 4                      // first try plus three retries
	DefaultBaseDelay   = 200 * time.Millisecond // first backoff ceiling
	DefaultMaxDelay    = 5 * time.Second        // backoff ceiling
	DefaultMaxPages    = 50                     // pages followed by List* when MaxPages is 0
	maxPageSize        = 1000                   // documented maximum of page_size
	maxRetryAfter      = time.Minute            // longer Retry-After answers are not waited for
	maxErrorBody       = 64 << 10               // bytes of an error body we read
	maxResponseBody    = 8 << 20                // bytes of a success body we read (1000 rooms fit)
	maxPooledBody      = 64 << 10               // larger read buffers (long room lists) are not kept
	apiRoot            = "/api/video"           // appended to the space
	userAgent          = "swrooms-signalwire/1" // identifies us in SignalWire's logs
)

// Client calls the Video REST API of one SignalWire space. It is safe for
// concurrent use. Create it with NewClient.
type Client struct {
	base        *url.URL // API root, e.g. https://example.signalwire.com/api/video
	baseURL     string   // base.String() without a trailing slash, for joining paths
	tokensURL   *url.URL // POST /room_tokens, parsed once: every join asks it
	space       string   // host of base, for log lines and messages
	headers     headers  // holds the Authorization header: never printed (see String)
	http        *http.Client
	timeout     time.Duration
	maxAttempts int
	baseDelay   time.Duration
	maxDelay    time.Duration
	log         *slog.Logger
	now         func() time.Time
	budget      *rate.Limiter // nil: no cap on calls a second (see WithCallBudget)
	observe     Observer      // nil: nobody watches (see WithObserver)
	bodies      sync.Pool     // *bytes.Buffer: success bodies are read into one

	baseOverride string // set by WithBaseURL, parsed by NewClient
}

// String describes the client without its credentials; it exists so that
// fmt's %v and %+v never print the API token held inside.
func (c *Client) String() string { return "signalwire.Client{space: " + c.space + "}" }

// GoString is String for %#v, for the same reason.
func (c *Client) GoString() string { return c.String() }

// Option configures a Client in NewClient.
type Option func(*Client) error

// WithHTTPClient makes the Client send its requests through hc, for example
// one with a pooled transport. The Client uses a copy of hc whose
// CheckRedirect refuses every redirect, whatever hc says: the credentials
// go with each request, so a redirect must never take them elsewhere. The
// Client adds its own per-attempt timeout.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("signalwire: WithHTTPClient: nil *http.Client")
		}
		c.http = hc
		return nil
	}
}

// WithCallBudget caps the calls this Client makes to perSecond a second,
// with bursts of up to burst (each attempt counts, retries included). A
// call made while the budget is spent fails at once with a *BudgetError
// saying when to try again, instead of queueing: SignalWire limits POSTs
// for the whole project, and a page that waits on a queue helps nobody.
func WithCallBudget(perSecond float64, burst int) Option {
	return func(c *Client) error {
		if perSecond <= 0 || burst < 1 {
			return errors.New("signalwire: WithCallBudget: need perSecond > 0 and burst >= 1")
		}
		c.budget = rate.NewLimiter(rate.Limit(perSecond), burst)
		return nil
	}
}

// WithBaseURL sets the API root directly (for example
// "http://127.0.0.1:8089/api/video" for a local fake); nothing is appended to
// it, and the space argument of NewClient may then be empty. The same scheme
// rule applies: https, or http for a loopback host only.
func WithBaseURL(raw string) Option {
	return func(c *Client) error {
		if strings.TrimSpace(raw) == "" {
			return errors.New("signalwire: WithBaseURL: empty URL")
		}
		c.baseOverride = raw
		return nil
	}
}

// WithTimeout bounds each attempt of each call (default 10s). The caller's
// context still bounds the call as a whole, retries included.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d <= 0 {
			return errors.New("signalwire: WithTimeout: timeout must be positive")
		}
		c.timeout = d
		return nil
	}
}

// WithRetry sets how often a retryable failure is tried in total
// (maxAttempts >= 1; 1 disables retries) and the backoff: the n-th wait is
// drawn uniformly from [0, min(maxDelay, baseDelay*2^(n-1))] ("full jitter"),
// unless the answer carried Retry-After.
func WithRetry(maxAttempts int, baseDelay, maxDelay time.Duration) Option {
	return func(c *Client) error {
		if maxAttempts < 1 {
			return errors.New("signalwire: WithRetry: maxAttempts must be at least 1")
		}
		if baseDelay < 0 || maxDelay < baseDelay {
			return errors.New("signalwire: WithRetry: need 0 <= baseDelay <= maxDelay")
		}
		c.maxAttempts, c.baseDelay, c.maxDelay = maxAttempts, baseDelay, maxDelay
		return nil
	}
}

// WithLogger makes the Client log each attempt (method, path, status,
// attempt, duration) at debug level and retries at info/warn. Bodies, query
// values and credentials are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) error {
		if l == nil {
			return errors.New("signalwire: WithLogger: nil *slog.Logger")
		}
		c.log = l
		return nil
	}
}

// Observer is told of every request the Client sends: endpoint is a fixed
// name per REST call ("create_room", "get_room", "list_rooms",
// "room_token", "list_room_sessions", "list_session_members"; "other" for
// anything else), status the HTTP status of the answer (0 when none came:
// a timeout, a refused connection), d the time the attempt took. Each
// retry is a request of its own. It runs on the caller's goroutine, so it
// must be quick; metrics count with it.
type Observer func(endpoint string, status int, d time.Duration)

// WithObserver makes the Client report every request to o (nil: none).
func WithObserver(o Observer) Option {
	return func(c *Client) error {
		c.observe = o
		return nil
	}
}

// NewClient returns a Client for the given space, authenticating with the
// project key and API token (HTTP Basic auth).
//
// space is either a bare host ("example.signalwire.com", meaning
// https://example.signalwire.com) or a base URL with a scheme, used as given;
// either way "/api/video" is appended unless the URL already ends with it.
// Plain http is accepted only for loopback hosts (127.0.0.0/8, ::1,
// localhost), so the token never crosses a network unencrypted.
//
// The error for an empty or invalid value names the value, never the token.
func NewClient(space, projectKey, token string, opts ...Option) (*Client, error) {
	c := &Client{
		timeout:     DefaultTimeout,
		maxAttempts: DefaultMaxAttempts,
		baseDelay:   DefaultBaseDelay,
		maxDelay:    DefaultMaxDelay,
		log:         slog.New(slog.DiscardHandler),
		now:         time.Now,
		bodies:      sync.Pool{New: func() any { return new(bytes.Buffer) }},
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	// The API never redirects; refusing redirects keeps the Authorization
	// header from following one (even a same-host https→http hop). A copy,
	// so that the caller's client is left as it was, and so that no option
	// given after this can put a permissive CheckRedirect back.
	hc := http.Client{}
	if c.http != nil {
		hc = *c.http
	}
	hc.CheckRedirect = refuseRedirect
	c.http = &hc

	if strings.TrimSpace(projectKey) == "" {
		return nil, errors.New("signalwire: project key is empty")
	}
	if strings.ContainsAny(projectKey, ":") || hasControl(projectKey) || strings.TrimSpace(projectKey) != projectKey {
		return nil, errors.New("signalwire: project key contains invalid characters (':', spaces or control characters)")
	}
	if strings.TrimSpace(token) == "" {
		return nil, errors.New("signalwire: API token is empty")
	}
	if hasControl(token) || strings.TrimSpace(token) != token {
		return nil, errors.New("signalwire: API token contains spaces or control characters")
	}
	// Encoded once rather than on every call.
	c.headers = newHeaders("Basic " + base64.StdEncoding.EncodeToString([]byte(projectKey+":"+token)))

	var err error
	if c.baseOverride != "" {
		c.base, err = parseBaseURL(c.baseOverride, false)
	} else {
		c.base, err = parseSpace(space)
	}
	if err != nil {
		return nil, err
	}
	c.baseURL = strings.TrimRight(c.base.String(), "/")
	c.space = c.base.Host
	if c.tokensURL, err = c.endpoint("/room_tokens", nil); err != nil {
		return nil, err
	}
	return c, nil
}

// refuseRedirect makes http.Client hand a 3xx back as the answer; do turns
// it into an *APIError without reading the body elsewhere.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Space returns the host the client talks to (for example
// "example.signalwire.com"), for messages such as "SignalWire rejected the
// project key or token for SPACE".
func (c *Client) Space() string { return c.space }

// CheckSpace reports whether NewClient would accept space, so that
// configuration can list a bad SIGNALWIRE_SPACE with its other problems.
func CheckSpace(space string) error {
	_, err := parseSpace(space)
	return err
}

// parseSpace turns SIGNALWIRE_SPACE into the API root URL.
func parseSpace(space string) (*url.URL, error) {
	s := strings.TrimSpace(space)
	if s == "" {
		return nil, errors.New("signalwire: space is empty (want a host such as example.signalwire.com)")
	}
	if strings.Contains(s, "://") {
		return parseBaseURL(s, true)
	}
	// A bare host: anything beyond host[:port] (a path, credentials, a query)
	// is a mistake we report rather than guess around.
	u, err := url.Parse("https://" + s)
	if err != nil || u.Host != s || u.Hostname() == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(s, "/@?# ") {
		return nil, errors.New("signalwire: space is not a valid host (want a host such as example.signalwire.com or an https:// URL)")
	}
	u.Path = apiRoot
	return u, nil
}

// parseBaseURL checks a URL with a scheme. With appendRoot, "/api/video" is
// added unless the path already ends with it.
func parseBaseURL(raw string, appendRoot bool) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		// url's error quotes the input; the input might hold credentials.
		return nil, errors.New("signalwire: base URL is not a valid URL")
	}
	if u.User != nil {
		return nil, errors.New("signalwire: base URL must not contain credentials")
	}
	if u.Hostname() == "" {
		return nil, errors.New("signalwire: base URL has no host")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, fmt.Errorf("signalwire: base URL for %s must not have a query or fragment", u.Host)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !IsLoopback(u.Hostname()) {
			return nil, fmt.Errorf("signalwire: base URL for %s must use https (http is allowed only for loopback hosts)", u.Host)
		}
	default:
		return nil, fmt.Errorf("signalwire: base URL for %s must use https", u.Host)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	if appendRoot && !strings.HasSuffix(u.Path, apiRoot) {
		u.Path += apiRoot
	}
	return u, nil
}

// IsLoopback reports whether host (a URL's Hostname, no port) names this
// machine: localhost or an address in 127.0.0.0/8 or ::1, the only hosts
// a base URL may reach over plain http (a local fake).
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// endpoint builds the URL of an API path (already escaped, starting with
// "/") with the given query.
func (c *Client) endpoint(escapedPath string, q url.Values) (*url.URL, error) {
	u, err := url.Parse(c.baseURL + escapedPath)
	if err != nil {
		return nil, fmt.Errorf("signalwire: build URL for %s: invalid path", cleanText(escapedPath))
	}
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	return u, nil
}

// newRequest is the one request builder: it encodes body as JSON and sets
// auth and content headers. The request carries no context; do gives each
// attempt its own. It is built from u itself, not from u's string parsed
// again, and u is not changed: a URL the Client keeps may be passed.
func (c *Client) newRequest(method string, u *url.URL, body any) (*http.Request, error) {
	hdr := c.headers.get
	if body != nil {
		hdr = c.headers.send
	}
	req := &http.Request{
		Method: method, URL: u, Host: u.Host,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: hdr.Clone(), // the request's own: a transport may add to it
	}
	if body == nil {
		return req, nil
	}
	b, err := encodeBody(body)
	if err != nil {
		// The error text may quote a value; keep only the type's complaint.
		return nil, fmt.Errorf("signalwire: %s %s: encode request body: unsupported value (%T)", method, cleanText(c.relPath(u)), err)
	}
	// As http.NewRequest does for a *bytes.Reader: a length, and a way to
	// read the body again for each attempt.
	req.ContentLength = int64(len(b))
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return req, nil
}

// headers are every request's headers, made once: auth (as
// req.SetBasicAuth would set it), Accept and User-Agent, and for a request
// with a body its Content-Type. Its String and GoString methods redact, so
// that printing a value that embeds it shows no secret.
type headers struct{ get, send http.Header }

func (headers) String() string   { return "[redacted]" }
func (headers) GoString() string { return "[redacted]" }

func newHeaders(auth string) headers {
	h := headers{get: http.Header{}}
	h.get.Set("Authorization", auth)
	h.get.Set("Accept", "application/json")
	h.get.Set("User-Agent", userAgent)
	h.send = h.get.Clone()
	h.send.Set("Content-Type", "application/json")
	return h
}

// jsonAppender is a request body that writes its own JSON, without
// encoding/json's reflection; ok false leaves it to encoding/json.
type jsonAppender interface {
	appendJSON(b []byte) (out []byte, ok bool)
}

func encodeBody(body any) ([]byte, error) {
	if a, ok := body.(jsonAppender); ok {
		if b, ok := a.appendJSON(make([]byte, 0, 1024)); ok { // a moderator's token request is about 700 bytes
			return b, nil
		}
	}
	return json.Marshal(body)
}

// bodyDecoder is an answer that reads its own JSON when it has the shape
// SignalWire sends, and leaves any other shape to encoding/json.
type bodyDecoder interface {
	decodeBody(body []byte) error
}

func decodeBody(body []byte, out any) error {
	if d, ok := out.(bodyDecoder); ok {
		return d.decodeBody(body)
	}
	return json.Unmarshal(body, out)
}

// relPath is the part of u below the API root ("/rooms/Main_Office"), which
// is what errors and logs show.
func (c *Client) relPath(u *url.URL) string {
	p := u.EscapedPath()
	if rel, ok := strings.CutPrefix(p, c.base.EscapedPath()); ok && c.base.EscapedPath() != "" {
		if rel == "" {
			return "/"
		}
		return rel
	}
	return p
}

// do is the one place a request is sent. It retries 429 and 5xx answers
// (and transport failures of GETs) with backoff, and decodes a 2xx JSON
// answer into out unless out is nil.
func (c *Client) do(ctx context.Context, req *http.Request, out any) error {
	method, path := req.Method, cleanText(c.relPath(req.URL))
	var lastErr error
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return &TransportError{Method: method, Path: path, Err: err}
		}
		if c.budget != nil {
			if r := c.budget.Reserve(); r.Delay() > 0 {
				r.Cancel() // not spent: the call is not made
				if lastErr != nil {
					return lastErr // a retry that cannot be afforded: report the failure itself
				}
				return &BudgetError{Method: method, Path: path, RetryAfter: r.Delay()}
			}
		}
		start := time.Now()
		status, err := c.attempt(ctx, req, method, path, out)
		if c.observe != nil {
			c.observe(endpointName(method, path), status, time.Since(start))
		}
		// Built only when someone reads it: the attributes cost a few
		// allocations on every call.
		if c.log.Enabled(ctx, slog.LevelDebug) {
			attrs := []slog.Attr{
				slog.String("method", method), slog.String("path", path),
				slog.Int("status", status), slog.Int("attempt", attempt),
				slog.Duration("duration", time.Since(start)),
			}
			if err != nil {
				attrs = append(attrs, slog.String("err", err.Error())) // safe: see APIError.Error, TransportError.Error
			}
			c.log.LogAttrs(ctx, slog.LevelDebug, "signalwire request", attrs...)
		}
		if err == nil {
			return nil
		}
		lastErr = err
		if !c.retryable(ctx, method, err) {
			return err
		}
		if attempt >= c.maxAttempts {
			c.log.LogAttrs(ctx, slog.LevelWarn, "signalwire giving up",
				slog.String("method", method), slog.String("path", path),
				slog.Int("status", status), slog.Int("attempts", attempt))
			return err
		}
		wait, ok := c.backoff(attempt, err)
		if !ok {
			return err // Retry-After longer than we are willing to wait
		}
		if dl, has := ctx.Deadline(); has && time.Now().Add(wait).After(dl) {
			// Waiting would outlive the caller; answer now with what we know.
			return err
		}
		c.log.LogAttrs(ctx, slog.LevelInfo, "signalwire retry",
			slog.String("method", method), slog.String("path", path),
			slog.Int("status", status), slog.Int("attempt", attempt),
			slog.Duration("wait", wait))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return &TransportError{Method: method, Path: path, Err: ctx.Err()}
		case <-t.C:
		}
	}
}

// endpointName names the REST call of method and path (below the API
// root, escaped) for an Observer: a fixed set of names, whatever room or
// session the path names.
func endpointName(method, path string) string {
	rest, _ := strings.CutPrefix(path, "/")
	first, tail, hasTail := strings.Cut(rest, "/")
	switch {
	case first == "rooms" && !hasTail:
		if method == http.MethodPost {
			return "create_room"
		}
		return "list_rooms"
	case first == "rooms" && tail != "" && !strings.Contains(tail, "/") && method == http.MethodGet:
		return "get_room"
	case first == "room_tokens" && !hasTail && method == http.MethodPost:
		return "room_token"
	case first == "room_sessions" && !hasTail && method == http.MethodGet:
		return "list_room_sessions"
	case first == "room_sessions" && strings.HasSuffix(tail, "/members") && strings.Count(tail, "/") == 1 && method == http.MethodGet:
		return "list_session_members"
	}
	return "other"
}

// attempt sends req once under its own timeout and returns the status (0
// when there was no answer).
func (c *Client) attempt(ctx context.Context, req *http.Request, method, path string, out any) (int, error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	r := req.WithContext(actx) // a shallow copy: nothing below changes what it shares with req
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return 0, &TransportError{Method: method, Path: path, Err: errors.New("rewind request body failed")}
		}
		r.Body = body
	}
	resp, err := c.http.Do(r)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err() // the caller gave up: say so plainly
		}
		return 0, &TransportError{Method: method, Path: path, Err: unwrapURLError(err)}
	}
	defer func() {
		// Drain a little so the connection can be reused, then close.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
	}()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		apiErr := parseAPIError(resp.StatusCode, body)
		apiErr.Method, apiErr.Path = method, path
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), c.now()); ok {
			apiErr.RetryAfter = d
		}
		return resp.StatusCode, apiErr
	}
	if out == nil {
		return resp.StatusCode, nil
	}
	// Read first, decode second: a read that fails is the network's fault
	// (worth a retry on GET), a body that does not decode is the server's.
	// Into a pooled buffer: json.Unmarshal copies what it keeps, so the
	// buffer is free again once it returns.
	buf := c.bodies.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledBody {
			buf.Reset()
			c.bodies.Put(buf)
		}
	}()
	_, err = buf.ReadFrom(io.LimitReader(resp.Body, maxResponseBody+1))
	body := buf.Bytes()
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return resp.StatusCode, &TransportError{Method: method, Path: path, Err: fmt.Errorf("read response: %w", unwrapURLError(err))}
	}
	if len(body) > maxResponseBody {
		return resp.StatusCode, &TransportError{Method: method, Path: path, Err: fmt.Errorf("response larger than %d bytes: %w", maxResponseBody, errDecode), decode: true}
	}
	if err := decodeBody(body, out); err != nil {
		return resp.StatusCode, &TransportError{Method: method, Path: path, Err: decodeError(err), decode: true}
	}
	return resp.StatusCode, nil
}

// unwrapURLError drops *url.Error's wrapper, whose text repeats the whole
// URL; the cause (timeout, refused connection) is what matters.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

// retryable decides whether err is worth another attempt.
func (c *Client) retryable(ctx context.Context, method string, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode == http.StatusTooManyRequests || apiErr.StatusCode >= 500
	}
	var te *TransportError
	if errors.As(err, &te) {
		// A POST that failed in transit may or may not have been applied;
		// only GETs are safe to repeat blindly. A body that is not JSON will
		// not become JSON by asking again.
		return method == http.MethodGet && !te.decode
	}
	return false
}

// backoff returns how long to wait before attempt+1, and false when the
// server asked for a wait longer than maxRetryAfter.
func (c *Client) backoff(attempt int, err error) (time.Duration, bool) {
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
		if apiErr.RetryAfter > maxRetryAfter {
			return 0, false
		}
		return apiErr.RetryAfter, true
	}
	ceiling := c.maxDelay
	if attempt-1 < 32 {
		if d := c.baseDelay << (attempt - 1); d > 0 && d < ceiling {
			ceiling = d
		}
	}
	if ceiling <= 0 {
		return 0, true
	}
	return rand.N(ceiling + 1), true
}

// listPage is the envelope of every paged list answer.
type listPage[T any] struct {
	Links struct {
		Self  string `json:"self"`
		First string `json:"first"`
		Next  string `json:"next"`
		Prev  string `json:"prev"`
	} `json:"links"`
	Data []T `json:"data"`
}

// listAll fetches u and follows links.next for at most maxPages pages, and
// only while the link stays on the API's origin: the credentials go with
// every request, so a link elsewhere is never followed.
func listAll[T any](ctx context.Context, c *Client, u *url.URL, maxPages int) ([]T, error) {
	if maxPages <= 0 {
		maxPages = DefaultMaxPages
	}
	var all []T
	for page := 1; ; page++ {
		req, err := c.newRequest(http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		var p listPage[T]
		if err := c.do(ctx, req, &p); err != nil {
			return nil, err
		}
		all = append(all, p.Data...)
		if p.Links.Next == "" {
			return all, nil
		}
		if page >= maxPages {
			c.log.LogAttrs(ctx, slog.LevelInfo, "signalwire list truncated",
				slog.String("path", cleanText(c.relPath(u))), slog.Int("pages", page))
			return all, nil
		}
		next, ok := c.sameOrigin(p.Links.Next)
		if !ok {
			c.log.LogAttrs(ctx, slog.LevelWarn, "signalwire paging link leaves the API origin; not followed",
				slog.String("path", cleanText(c.relPath(u))))
			return all, nil
		}
		if next.String() == u.String() {
			return all, nil // a link to itself would loop until MaxPages
		}
		u = next
	}
}

// sameOrigin resolves a paging link against the API root and reports
// whether it has the same scheme and host (port included).
func (c *Client) sameOrigin(link string) (*url.URL, bool) {
	ref, err := url.Parse(link)
	if err != nil {
		return nil, false
	}
	u := c.base.ResolveReference(ref)
	if u.User != nil || !strings.EqualFold(u.Scheme, c.base.Scheme) {
		return nil, false
	}
	return u, strings.EqualFold(hostPort(u), hostPort(c.base))
}

// hostPort is host:port with the scheme's default port filled in, so that
// "https://x" and "https://x:443" compare equal.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}
