package handlers_test

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// joinBench drives the app's fasthttp handler directly, without app.Test's
// connection and goroutine per request, so that a benchmark times the
// middleware and the handler. As fasthttp's server does for a kept-alive
// connection, it reuses one request context. The browser's cookies are
// those of a host (or a guest) who opened the page once, and every
// iteration is a fresh request from that browser.
type joinBench struct {
	handler fasthttp.RequestHandler
	cookie  string
	remote  net.Addr
	req     fasthttp.Request
	ctx     fasthttp.RequestCtx
}

func newJoinBench(e *testEnv) *joinBench {
	u, _ := url.Parse(origin + "/")
	var cookies []string
	for _, c := range e.jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	return &joinBench{handler: e.app.Handler(), cookie: strings.Join(cookies, "; "),
		remote: &net.TCPAddr{IP: net.IPv4(203, 0, 113, 7), Port: 5123}}
}

// serve sends one request and fails unless it answers want.
func (j *joinBench) serve(b *testing.B, method, path, body string, want int, header ...string) {
	j.req.Reset()
	j.req.Header.SetMethod(method)
	j.req.SetRequestURI(origin + path)
	j.req.Header.Set("Cookie", j.cookie)
	for i := 0; i+1 < len(header); i += 2 {
		j.req.Header.Set(header[i], header[i+1])
	}
	if body != "" {
		j.req.SetBodyString(body)
	}
	j.ctx.Response.Reset()
	j.ctx.Init(&j.req, j.remote, nil)
	j.handler(&j.ctx)
	if got := j.ctx.Response.StatusCode(); got != want {
		b.Fatalf("%s %s: got %d, want %d: %.200s", method, path, got, want, j.ctx.Response.Body())
	}
}

// BenchmarkHostPage is the moderator page, GET /rooms/{room}, for its host:
// host session checked and renewed, CSRF cookie renewed and a page token
// signed, an invite signed, the page rendered.
func BenchmarkHostPage(b *testing.B) {
	e := newEnv(b, openHosting)
	e.host("Bench", "Ann")
	j := newJoinBench(e)
	b.ReportAllocs()
	for b.Loop() {
		j.serve(b, http.MethodGet, "/rooms/Bench?user=Ann", "", http.StatusOK)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "µs/request")
}

// BenchmarkGuestPage is the guest page, GET /guest?room=&exp=&sig=: the
// invite checked, the page rendered.
func BenchmarkGuestPage(b *testing.B) {
	host := newEnv(b, openHosting)
	href, _ := testid(host.host("Bench", "Ann"), "invite-link").Attr("href")
	u, err := url.Parse(href)
	if err != nil || u.Query().Get("sig") == "" {
		b.Fatalf("got invite link %q", href)
	}
	inv := u.Query()
	guest := host.another()
	guest.get("/")
	j := newJoinBench(guest)
	path := "/guest?" + inv.Encode() + "&user=Gus"
	b.ReportAllocs()
	for b.Loop() {
		j.serve(b, http.MethodGet, path, "", http.StatusOK)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "µs/request")
}

// BenchmarkTokenRequest is Join, POST /rooms/{room}/token, for the host:
// CSRF, the join budgets, the host session, one SignalWire call (to the
// fake on loopback, whose side of the call this process pays for too),
// the seat signed, the answer encoded and the join logged.
func BenchmarkTokenRequest(b *testing.B) {
	e := newEnv(b, openHosting, unlimitedJoins)
	e.host("Bench", "Ann")
	j := newJoinBench(e)
	b.ReportAllocs()
	for b.Loop() {
		j.serve(b, http.MethodPost, "/rooms/Bench/token", `{"user":"Ann"}`, http.StatusOK,
			"Content-Type", "application/json", "Accept", "application/json", "X-Csrf-Token", e.csrf)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "µs/request")
}
