package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/swrooms/swrooms/internal/redistest"
)

func TestRunRejectsAMalformedRedisURLWithoutItsPassword(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	err := run(context.Background(), []string{"swrooms", "-env-file="},
		[]string{"REDIS_URL=redis://app:" + testRedisPassword + "@127.0.0.1:6379/not-a-db"}, &out)
	if err == nil {
		t.Fatal("got no error, want a configuration error (main exits 1)")
	}
	if !strings.Contains(err.Error(), "REDIS_URL") {
		t.Errorf("got %q, want it to name REDIS_URL", err)
	}
	if strings.Contains(err.Error()+out.String(), testRedisPassword) {
		t.Errorf("got %q (logs %q), which prints the password", err, out.String())
	}
}

// waitReadyz polls /readyz until it answers want, for up to 20 s (a busy
// machine); it returns the body.
func waitReadyz(t *testing.T, app *testApp, want int) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp := app.get(t, "/readyz")
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == want {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz: got %d %q, want %d\nlogs:\n%s", resp.StatusCode, b, want, app.Logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestReadyzFollowsRedisWithoutARestart(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	app := startFakeApp(t, "REDIS_URL="+srv.URL)
	waitReadyz(t, app, http.StatusOK)

	srv.Stop()
	if body := waitReadyz(t, app, http.StatusServiceUnavailable); !strings.Contains(body, "Redis") {
		t.Errorf("/readyz with Redis stopped: got %q, want it to name Redis", body)
	}
	// Still serving: the page needs no shared state yet.
	if resp := app.get(t, "/"); resp.StatusCode != http.StatusOK {
		t.Errorf("GET / with Redis stopped: got %d, want 200", resp.StatusCode)
	}

	srv.Restart()
	waitReadyz(t, app, http.StatusOK)
	logs := app.Logs.String()
	for _, want := range []string{"redis: connected", "redis: cannot reach " + srv.Addr, "redis: answering again"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs: want %q in\n%s", want, logs)
		}
	}
}

func TestRedisDownAtStartIsOneLogLineAndUnready(t *testing.T) {
	t.Parallel()
	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	app := startFakeApp(t, "REDIS_URL=redis://app:"+testRedisPassword+"@"+addr+"/0")

	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(app.Logs.String(), "redis: cannot reach "+addr) {
		if time.Now().After(deadline) {
			t.Fatalf("logs: want the line %q in\n%s", "redis: cannot reach "+addr, app.Logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if body := waitReadyz(t, app, http.StatusServiceUnavailable); !strings.Contains(body, "cannot reach Redis") {
		t.Errorf("/readyz: got %q, want it to say Redis cannot be reached", body)
	}
	for _, path := range []string{"/healthz", "/"} {
		if resp := app.get(t, path); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s with Redis down: got %d, want 200 (the app still serves)", path, resp.StatusCode)
		}
	}
	// The check runs every second: after a few more, still one line.
	time.Sleep(3 * redisCheckEvery)
	logs := app.Logs.String()
	if n := strings.Count(logs, "redis: cannot reach"); n != 1 {
		t.Errorf("got %d lines saying Redis cannot be reached, want 1:\n%s", n, logs)
	}
	if strings.Contains(logs, testRedisPassword) {
		t.Error("the Redis password appears in the logs")
	}
}

func TestMetricsAreServedOnMetricsAddrOnly(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	maddr := make(chan string, 1)
	env, _ := fakeConfig(t)
	app := startApp(t, append(env, "METRICS_ADDR=127.0.0.1:0", "REDIS_URL="+srv.URL),
		withOnMetricsListen(func(a string) { maddr <- a }))
	metricsURL := "http://" + <-maddr + "/metrics"
	waitReadyz(t, app, http.StatusOK) // the startup check has called SignalWire

	for _, path := range []string{"/", "/healthz", "/rooms/Main_Office/no-such-thing"} {
		app.get(t, path)
	}
	if resp := app.get(t, "/metrics"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics on the public port: got %d, want 404", resp.StatusCode)
	}
	if resp := app.get(t, "/metrics", "Accept", "text/plain"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics on the public port as Prometheus asks: got %d, want 404", resp.StatusCode)
	}

	fams := scrapeMetrics(t, metricsURL)
	for _, name := range []string{
		"swrooms_http_requests_total", "swrooms_http_request_duration_seconds",
		"swrooms_signalwire_requests_total", "swrooms_signalwire_request_duration_seconds",
		"swrooms_joins_total", "swrooms_seats", "swrooms_lobby_waiting", "swrooms_sse_connections",
		"swrooms_chat_messages_total", "swrooms_redis_errors_total",
		"go_goroutines", "process_cpu_seconds_total",
	} {
		if _, ok := fams[name]; !ok {
			t.Errorf("%s: missing from %s", name, metricsURL)
		}
	}
	routes := map[string]bool{}
	for _, m := range fams["swrooms_http_requests_total"].GetMetric() {
		routes[label(m, "route")+" "+label(m, "status")] = true
	}
	for _, want := range []string{"/ 200", "/healthz 200", "other 404"} {
		if !routes[want] {
			t.Errorf("swrooms_http_requests_total: got %v, want a series for %q", routes, want)
		}
	}
	for r := range routes {
		if strings.Contains(r, "Main_Office") || strings.Contains(r, "metrics") {
			t.Errorf("swrooms_http_requests_total has the raw path %q as a route", r)
		}
	}
	var checks float64
	for _, m := range fams["swrooms_signalwire_requests_total"].GetMetric() {
		if label(m, "endpoint") == "list_rooms" && label(m, "status") == "200" {
			checks += m.GetCounter().GetValue()
		}
	}
	if checks != 1 {
		t.Errorf("swrooms_signalwire_requests_total{endpoint=list_rooms,status=200}: got %v, want the one startup check", checks)
	}

	resp, err := http.Get(strings.TrimSuffix(metricsURL, "/metrics") + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET / on the metrics listener: got %d, want 404", resp.StatusCode)
	}
}

func scrapeMetrics(t *testing.T, u string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: got %d, want 200", u, resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", u, err)
	}
	return fams
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// TestSandboxWithRedisWarnsThatItIsNotShared: in sandbox mode each
// instance simulates SignalWire on its own (its REST API and its relay),
// so instances sharing a Redis behind a balancer would hand the people of
// one meeting tokens for different simulations, and the page's CSP lets
// it reach only its own instance's relay. Such a start says so at once.
func TestSandboxWithRedisWarnsThatItIsNotShared(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	app := startApp(t, []string{"REDIS_URL=" + srv.URL})
	var warning string
	for l := range strings.Lines(app.Logs.String()) {
		if strings.Contains(l, "level=WARN") && strings.Contains(l, "REDIS_URL") {
			warning = l
		}
	}
	if !strings.Contains(warning, "sandbox") || !strings.Contains(warning, "one instance") {
		t.Errorf("logs: want a warning that a sandbox with REDIS_URL serves one instance only, got\n%s", app.Logs)
	}
}
