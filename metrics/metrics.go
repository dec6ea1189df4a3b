// Package metrics is swrooms' Prometheus instrumentation: the swrooms_*
// families, the Go runtime and the process, on a registry of their own
// (never the global default one), served by Handler on the METRICS_ADDR
// listener and never on the public port.
//
// Every label takes values from a fixed set, so that no request can make
// a new series: routes are Fiber's route patterns ("/rooms/:room"), never
// the raw path; SignalWire endpoints are fixed names per REST call; roles
// are the app's two.
//
// Families:
//
//	swrooms_http_requests_total{route,method,status}        counter
//	swrooms_http_request_duration_seconds{route,method}     histogram, seconds to the handler's return
//	swrooms_signalwire_requests_total{endpoint,status}      counter, one per HTTP attempt (retries count)
//	swrooms_signalwire_request_duration_seconds{endpoint}   histogram, seconds per attempt
//	swrooms_joins_total{role}                               counter, room tokens handed out
//	swrooms_seats                                           gauge, read from the roster store at scrape
//	swrooms_lobby_waiting                                   gauge, read from the lobby at scrape
//	swrooms_sse_connections                                 gauge, this process's open streams
//	swrooms_chat_messages_total                             counter
//	swrooms_redis_errors_total                              counter, failed Redis commands (see RedisHook)
//
// With REDIS_URL set, swrooms_seats and swrooms_lobby_waiting count what
// Redis holds for all instances: every instance reports the same value,
// so aggregate them with max(), not sum(). The rest are per process.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
)

// Metrics holds swrooms' metric families and the registry that serves
// them. Its methods are safe for concurrent use and cost a few hundred
// nanoseconds, no allocation beyond a status label.
type Metrics struct {
	reg          *prometheus.Registry
	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	swRequests   *prometheus.CounterVec
	swDuration   *prometheus.HistogramVec
	joins        *prometheus.CounterVec
	sse          prometheus.Gauge
	chat         prometheus.Counter
	redisErrors  prometheus.Counter
	counts       atomic.Pointer[Counts]
}

// Counts are the gauges read at scrape time from the stores that hold
// what they count; a count that fails (Redis down) is left out of that
// scrape rather than reported as 0. A nil func leaves its gauge out.
type Counts struct {
	// Seats is the number of seats the roster store holds.
	Seats func() (int, error)
	// LobbyWaiting is the number of guests waiting in lobbies.
	LobbyWaiting func() (int, error)
}

// New returns the metrics, registered with a registry of their own
// together with the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "swrooms_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "swrooms_http_request_duration_seconds",
			Help: "Time from a request's arrival to its handler's return, by route pattern and method (a stream counts until it starts).",
			// From a static file to a join that waits on SignalWire.
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20},
		}, []string{"route", "method"}),
		swRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "swrooms_signalwire_requests_total",
			Help: `Requests sent to SignalWire's REST API, one per attempt, by endpoint and HTTP status ("error": no answer).`,
		}, []string{"endpoint", "status"}),
		swDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "swrooms_signalwire_request_duration_seconds",
			Help:    "Time of one request to SignalWire's REST API, by endpoint.",
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20},
		}, []string{"endpoint"}),
		joins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "swrooms_joins_total",
			Help: "Room tokens handed out, by role (moderator, guest).",
		}, []string{"role"}),
		sse: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "swrooms_sse_connections",
			Help: "Push streams (server-sent events) open on this process.",
		}),
		chat: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "swrooms_chat_messages_total",
			Help: "Chat messages posted.",
		}),
		redisErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "swrooms_redis_errors_total",
			Help: "Redis commands and pipelines that failed (unreachable, timed out, or an error reply).",
		}),
	}
	// Both roles from the start (views.RoleModerator, views.RoleGuest), so
	// that rate() sees the first join of each.
	for _, role := range []string{"moderator", "guest"} {
		m.joins.WithLabelValues(role)
	}
	m.reg.MustRegister(
		m.httpRequests, m.httpDuration, m.swRequests, m.swDuration, m.joins,
		m.sse, m.chat, m.redisErrors, newCountsCollector(&m.counts),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// SetCounts sets where the gauges read at scrape time come from; until it
// is called they are left out. The stores are built after the metrics
// that watch them, hence a setter.
func (m *Metrics) SetCounts(c Counts) { m.counts.Store(&c) }

// Handler serves the registry in Prometheus' text (or OpenMetrics) format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Request counts one HTTP request: route is the route pattern that
// answered it, status the status sent, d the time until the handler
// returned.
func (m *Metrics) Request(route, method string, status int, d time.Duration) {
	m.httpRequests.WithLabelValues(route, method, statusLabel(status)).Inc()
	m.httpDuration.WithLabelValues(route, method).Observe(d.Seconds())
}

// SignalWireRequest counts one attempt at a SignalWire REST call; its
// signature is signalwire.Observer's. status is 0 when no answer came.
func (m *Metrics) SignalWireRequest(endpoint string, status int, d time.Duration) {
	m.swRequests.WithLabelValues(endpoint, statusLabel(status)).Inc()
	m.swDuration.WithLabelValues(endpoint).Observe(d.Seconds())
}

// Join counts a room token handed out to role.
func (m *Metrics) Join(role string) { m.joins.WithLabelValues(role).Inc() }

// StreamOpened counts a push stream opened; StreamClosed one closed.
func (m *Metrics) StreamOpened() { m.sse.Inc() }

// StreamClosed counts a push stream closed.
func (m *Metrics) StreamClosed() { m.sse.Dec() }

// ChatMessage counts a chat message posted.
func (m *Metrics) ChatMessage() { m.chat.Inc() }

// statusLabel is the HTTP status as a label; "error" for no answer.
func statusLabel(status int) string {
	if status <= 0 {
		return "error"
	}
	return strconv.Itoa(status)
}

// countsCollector reports Counts at scrape time.
type countsCollector struct {
	counts       *atomic.Pointer[Counts]
	seats, lobby *prometheus.Desc
}

func newCountsCollector(counts *atomic.Pointer[Counts]) countsCollector {
	return countsCollector{
		counts: counts,
		seats: prometheus.NewDesc("swrooms_seats",
			"Seats (joined pages) the roster store holds, expired ones included until swept.", nil, nil),
		lobby: prometheus.NewDesc("swrooms_lobby_waiting",
			"Guests waiting in a lobby to be let in.", nil, nil),
	}
}

func (cc countsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- cc.seats
	ch <- cc.lobby
}

func (cc countsCollector) Collect(ch chan<- prometheus.Metric) {
	c := cc.counts.Load()
	if c == nil {
		return
	}
	for _, g := range []struct {
		desc  *prometheus.Desc
		count func() (int, error)
	}{{cc.seats, c.Seats}, {cc.lobby, c.LobbyWaiting}} {
		if g.count == nil {
			continue
		}
		if n, err := g.count(); err == nil {
			ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(n))
		}
	}
}

// RedisHook counts failed Redis commands in swrooms_redis_errors_total;
// add it with (*redis.Client).AddHook. A missing key (redis.Nil), a
// transaction that lost its WATCH race (redis.TxFailedErr), a caller
// that gave up (context.Canceled, as a closing stream cancels its blocking
// read) and a script Redis has not cached yet (NOSCRIPT, on each script's
// first run after a start or a restart of Redis, which go-redis answers
// with EVAL) are answers, not errors. A pipeline counts once. The connection
// handshake go-redis runs through the same hooks is not counted: it probes
// for features (CLIENT SETINFO, CLIENT MAINT_NOTIFICATIONS) that older
// servers refuse, harmlessly; a handshake that really fails fails the
// command that needed the connection, which counts.
func (m *Metrics) RedisHook() redis.Hook { return redisHook{m.redisErrors} }

type redisHook struct{ errs prometheus.Counter }

func (h redisHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if !isHandshake(cmd) {
			h.count(err)
		}
		return err
	}
}

func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, cmd := range cmds {
			if !isHandshake(cmd) {
				h.count(err)
				break
			}
		}
		return err
	}
}

// isHandshake reports whether cmd is one go-redis sends to set up a
// connection; swrooms' stores never send these.
func isHandshake(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "hello", "auth", "select", "client", "readonly":
		return true
	}
	return false
}

func (h redisHook) count(err error) {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, redis.TxFailedErr) || errors.Is(err, context.Canceled) ||
		redis.HasErrorPrefix(err, "NOSCRIPT") {
		return
	}
	h.errs.Inc()
}
