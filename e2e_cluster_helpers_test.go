package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/swrooms/swrooms/internal/proctest"
	"github.com/swrooms/swrooms/internal/redistest"
	"github.com/swrooms/swrooms/signalwire/swtest"
)

// Helpers of the cluster test (issue 17): several app processes behind
// HAProxy (deploy/haproxy.cfg as shipped), sharing one Redis and one fake
// SignalWire, all on loopback. The fake runs in the test process, so the
// test drives it through its Go API; the apps are child processes, so one
// can die of SIGKILL as a real instance does.

// cluster is the running set: the balancer's URL is what browsers open.
type cluster struct {
	URL   string
	Fake  *swtest.Fake
	Redis *redistest.Server
	Apps  []*appProcess
	LB    *haproxyProcess
}

// appProcess is one swrooms instance, a child process of the test.
type appProcess struct {
	Name string // the HAProxy server name: app1, app2, ...
	URL  string // http://127.0.0.1:PORT, straight to the instance
	Logs *proctest.Buffer
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited
}

// haproxyProcess is the balancer, run from deploy/haproxy.cfg with its
// addresses set through the environment, plus a stats socket the test asks
// where streams are.
type haproxyProcess struct {
	Logs *proctest.Buffer
	url  string // http://HOST:PORT, where browsers go
	sock string
	cmd  *exec.Cmd
	done chan struct{}
}

// needTool returns the path of an external program the test runs, trying
// extra places besides PATH (sbin is not on every user's PATH). Missing,
// it skips the test, or fails it under CI, where .ci/run installs it.
func needTool(t *testing.T, name, pkg string, extra ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, p := range extra {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is missing: .ci/run installs it (apt-get install %s)", name, pkg)
	}
	t.Skipf("%s not installed (apt-get install %s); CI runs this test", name, pkg)
	return ""
}

func haproxyPath(t *testing.T) string {
	t.Helper()
	return needTool(t, "haproxy", "haproxy", "/usr/sbin/haproxy")
}

// startCluster starts one fake SignalWire (REST and relay) in the test
// process, one redis-server, n instances of the app built from this
// module, and HAProxy in front of them; everything stops when the test
// ends. It returns once HAProxy sees every instance ready.
func startCluster(t *testing.T, n int) *cluster {
	t.Helper()
	haproxy := haproxyPath(t)
	c := &cluster{Redis: redistest.Start(t)}
	c.Fake = swtest.New(testProjectKey, testAPIToken)
	fakeSrv := httptest.NewServer(c.Fake)
	t.Cleanup(fakeSrv.Close)
	t.Cleanup(c.Fake.CloseRelay) // hijacked relay sockets outlive fakeSrv.Close

	bin := buildApp(t)
	// What every instance shares: the fake's space, the secret that signs
	// seats, tickets and cookies, Redis, and the proxy to believe.
	shared := []string{
		"SIGNALWIRE_PROJECT_KEY=" + testProjectKey,
		"SIGNALWIRE_TOKEN=" + testAPIToken,
		"SIGNALWIRE_SPACE=" + fakeSrv.URL,
		"SECRET_KEY=" + testSecretKey,
		"OPEN_HOSTING=true",
		"REDIS_URL=" + c.Redis.URL,
		"TRUSTED_PROXIES=127.0.0.1/32",
	}
	for i := range n {
		c.Apps = append(c.Apps, startAppProcess(t, bin, fmt.Sprintf("app%d", i+1), shared))
	}
	c.LB = startHAProxy(t, haproxy, c.Apps)
	c.URL = c.LB.url
	// Registered last, so it runs first: the processes are still there to
	// be asked.
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(c.report())
		}
		for _, a := range c.Apps {
			for _, secret := range []string{testAPIToken, testSecretKey} {
				if strings.Contains(a.Logs.String(), secret) {
					t.Errorf("a secret appeared in the logs of %s", a.Name)
				}
			}
		}
	})
	c.LB.waitUp(t, c.Apps)
	return c
}

// testApp is the balancer as the browser helpers know an app: its URL, and
// the fake behind it.
func (c *cluster) testApp() *testApp {
	return &testApp{URL: c.URL, Fake: c.Fake}
}

// buildApp compiles this module's command into the test's temporary
// folder, without -race: the instances are the product under test, and
// three race-instrumented servers would crowd a 2-core machine.
func buildApp(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "swrooms")
	start := time.Now()
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built the app in %v", time.Since(start).Round(10*time.Millisecond))
	return bin
}

// listeningLine is the app's log line with the address it listens on.
var listeningLine = regexp.MustCompile(`msg=listening addr=(http://\S+)`)

// startAppProcess runs the app binary with the shared settings and a free
// loopback port, and waits for its "listening" line. Its environment holds
// nothing of the test process's but PATH and HOME, and it reads no .env.
func startAppProcess(t *testing.T, bin, name string, shared []string) *appProcess {
	t.Helper()
	a := &appProcess{Name: name, Logs: &proctest.Buffer{}, done: make(chan struct{})}
	a.cmd = exec.Command(bin, "-env-file=")
	a.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "ADDR=127.0.0.1:0"}, shared...)
	out, err := a.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	a.cmd.Stderr = a.Logs
	if err := a.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	found := make(chan string, 1)
	go func() {
		r := bufio.NewReader(out)
		for {
			line, err := r.ReadString('\n')
			a.Logs.Write([]byte(line))
			if m := listeningLine.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		_ = a.cmd.Wait()
		close(a.done)
	}()
	t.Cleanup(a.stop)
	select {
	case a.URL = <-found:
	case <-a.done:
		t.Fatalf("%s exited before listening:\n%s", name, a.Logs)
	case <-time.After(15 * time.Second):
		t.Fatalf("%s did not listen within 15s:\n%s", name, a.Logs)
	}
	return a
}

// Addr is the instance's host:port, as HAProxy's server line takes it.
func (a *appProcess) Addr() string { return strings.TrimPrefix(a.URL, "http://") }

// Kill ends the instance with SIGKILL, as a crash or the OOM killer does:
// no shutdown, no stream closed politely; the kernel drops its sockets.
func (a *appProcess) Kill(t *testing.T) {
	t.Helper()
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill %s: %v", a.Name, err)
	}
	select {
	case <-a.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s still runs 10s after SIGKILL", a.Name)
	}
}

// stop ends the instance as a deployment does, with SIGTERM, and kills it
// if it has not exited within the app's own shutdown bound and then some.
func (a *appProcess) stop() { proctest.Stop(a.cmd.Process, a.done, 8*time.Second) }

// startHAProxy runs deploy/haproxy.cfg in the foreground (-db), listening
// on a loopback address of its own (the browser scopes cookies by host,
// and other tests' apps are on loopback too) in front of apps, with a
// second file that only adds a stats socket for the test.
func startHAProxy(t *testing.T, bin string, apps []*appProcess) *haproxyProcess {
	t.Helper()
	dir := t.TempDir()
	h := &haproxyProcess{Logs: &proctest.Buffer{}, sock: filepath.Join(dir, "stats.sock"), done: make(chan struct{})}
	extra := filepath.Join(dir, "test-stats.cfg")
	if err := os.WriteFile(extra, []byte("global\n    stats socket "+h.sock+" mode 600 level operator\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	listen := freeAddr(t, nextLoopback())
	env := []string{"PATH=" + os.Getenv("PATH"), "SWROOMS_LISTEN=" + listen}
	for i, a := range apps {
		env = append(env, fmt.Sprintf("SWROOMS_APP%d=%s", i+1, a.Addr()))
	}
	h.cmd = exec.Command(bin, "-db", "-f", filepath.Join("deploy", "haproxy.cfg"), "-f", extra)
	h.cmd.Env = env
	h.cmd.Stdout, h.cmd.Stderr = h.Logs, h.Logs
	if err := h.cmd.Start(); err != nil {
		t.Fatalf("start haproxy: %v", err)
	}
	go func() {
		_ = h.cmd.Wait()
		close(h.done)
	}()
	t.Cleanup(func() { proctest.Stop(h.cmd.Process, h.done, 5*time.Second) })
	h.url = "http://" + listen
	return h
}

// freeAddr returns host:port with a port free right now.
func freeAddr(t *testing.T, host string) string {
	t.Helper()
	l, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// serverStat is HAProxy's view of one instance.
type serverStat struct {
	Status      string // UP, DOWN, "UP 1/2" (going down), ...
	Check       string // last check: L7OK, L4CON, ...
	Current     int    // sessions open now: the streams, mostly
	Total       int    // sessions so far: requests, one per connection to it
	Retries     int
	Redispatchs int
}

// stats asks HAProxy's stats socket for its servers of the main backend,
// by name.
func (h *haproxyProcess) stats(t *testing.T) map[string]serverStat {
	t.Helper()
	m, err := h.readStats()
	if err != nil {
		t.Fatalf("haproxy stats: %v\nhaproxy log:\n%s", err, h.Logs)
	}
	return m
}

func (h *haproxyProcess) readStats() (map[string]serverStat, error) {
	raw, err := h.command("show stat")
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(raw), "# ")))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) < 2 {
		return nil, fmt.Errorf("unreadable stats %q: %v", raw, err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	num := func(row []string, name string) int {
		n, _ := strconv.Atoi(row[col[name]])
		return n
	}
	out := map[string]serverStat{}
	for _, row := range rows[1:] {
		if len(row) < len(rows[0])-1 || row[col["pxname"]] != "swrooms" {
			continue
		}
		name := row[col["svname"]]
		if name == "FRONTEND" || name == "BACKEND" {
			continue
		}
		out[name] = serverStat{
			Status: row[col["status"]], Check: row[col["check_status"]],
			Current: num(row, "scur"), Total: num(row, "stot"),
			Retries: num(row, "wretr"), Redispatchs: num(row, "wredis"),
		}
	}
	return out, nil
}

// command sends one command to HAProxy's stats socket and returns its
// answer.
func (h *haproxyProcess) command(cmd string) (string, error) {
	conn, err := net.DialTimeout("unix", h.sock, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(conn, cmd+"\n"); err != nil {
		return "", err
	}
	raw, err := io.ReadAll(conn)
	return string(raw), err
}

// sessionLine is one of "show sess"'s lines: the client's address and the
// server the session is on.
var sessionLine = regexp.MustCompile(`src=127\.0\.0\.1:(\d+) fe=www be=swrooms srv=(app\d+)`)

// liveSessions counts, by server, the sessions open now whose browser
// still holds its end: mostly the pages' event streams. HAProxy keeps a
// session its browser closed (an EventSource replaced by another, a
// waiting room's stream once admitted) open to the instance until the
// next heartbeat meets the closed socket, so "show stat"'s count of open
// sessions holds streams no page listens to any more; the kernel knows
// which: their sockets on HAProxy's side are in CLOSE_WAIT.
func (h *haproxyProcess) liveSessions() (map[string]int, error) {
	sess, err := h.command("show sess")
	if err != nil {
		return nil, err
	}
	closing, err := closeWaitPeers(h.url)
	if err != nil {
		return nil, err
	}
	live := map[string]int{}
	for _, m := range sessionLine.FindAllStringSubmatch(sess, -1) {
		if !closing[m[1]] {
			live[m[2]]++
		}
	}
	return live, nil
}

// closeWaitPeers returns the ports of the clients whose connections to the
// listener at rawURL their client has closed (CLOSE_WAIT on the listener's
// side), from /proc/net/tcp.
func closeWaitPeers(rawURL string) (map[string]bool, error) {
	host, port, err := net.SplitHostPort(strings.TrimPrefix(rawURL, "http://"))
	if err != nil {
		return nil, err
	}
	ip := net.ParseIP(host).To4()
	p, _ := strconv.Atoi(port)
	// /proc/net/tcp writes an IPv4 address as the hex of its bytes in host
	// (little-endian) order, and the port in hex.
	local := fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], p)
	raw, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return nil, err
	}
	const closeWait = "08"
	peers := map[string]bool{}
	for line := range strings.Lines(string(raw)) {
		f := strings.Fields(line)
		if len(f) < 4 || f[1] != local || f[3] != closeWait {
			continue
		}
		_, rport, _ := strings.Cut(f[2], ":")
		if n, err := strconv.ParseUint(rport, 16, 16); err == nil {
			peers[strconv.FormatUint(n, 10)] = true
		}
	}
	return peers, nil
}

// waitSessions waits until the sessions the browsers hold, by server, satisfy
// ok, and returns them.
func (h *haproxyProcess) waitSessions(t *testing.T, what string, ok func(map[string]int) bool) map[string]int {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		live, err := h.liveSessions()
		if err != nil {
			t.Fatalf("haproxy sessions: %v", err)
		}
		if ok(live) {
			return live
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; the browsers hold sessions on %v; haproxy sees%s", what, waitFor, live, formatStats(h.stats(t)))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// nthRequest waits until HAProxy has logged request n (from 1) of method
// to path, and returns it: it logs a request once it is over, a moment
// after the client has the answer.
func (h *haproxyProcess) nthRequest(t *testing.T, n int, method, path string) requestLog {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if reqs := h.requests(method, path); len(reqs) >= n {
			return reqs[n-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy has not logged %s %s #%d within 5s:\n%s", method, path, n, tail(h.Logs.String(), 40))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitUp waits until HAProxy's last check of every app said ready.
func (h *haproxyProcess) waitUp(t *testing.T, apps []*appProcess) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, err := h.readStats()
		ready := err == nil
		for _, a := range apps {
			ready = ready && st[a.Name].Status == "UP" && st[a.Name].Check == "L7OK"
		}
		if ready {
			return
		}
		select {
		case <-h.done:
			t.Fatalf("haproxy exited:\n%s", h.Logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy does not see every instance ready within 15s: %+v (%v)\nhaproxy log:\n%s", st, err, h.Logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitStats waits until ok accepts HAProxy's view of the servers, and
// returns it.
func (h *haproxyProcess) waitStats(t *testing.T, what string, ok func(map[string]serverStat) bool) map[string]serverStat {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		st := h.stats(t)
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; haproxy sees %s", what, waitFor, formatStats(st))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// formatStats is one line per server, in name order.
func formatStats(st map[string]serverStat) string {
	names := make([]string, 0, len(st))
	for n := range st {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		s := st[n]
		fmt.Fprintf(&b, "\n  %s: %s (check %s), %d open, %d served, %d retries, %d redispatched", n, s.Status, s.Check, s.Current, s.Total, s.Retries, s.Redispatchs)
	}
	return b.String()
}

// report says who served what, for a failing test: HAProxy's view of the
// servers, its log (one line a request: which server, status, path, request
// id) and each instance's log.
func (c *cluster) report() string {
	var b strings.Builder
	if st, err := c.LB.readStats(); err == nil {
		b.WriteString("haproxy's servers:" + formatStats(st) + "\n")
	}
	if live, err := c.LB.liveSessions(); err == nil {
		fmt.Fprintf(&b, "sessions the browsers hold, by server (their event streams): %v\n", live)
	}
	b.WriteString("haproxy log (client [time] frontend backend/server timers status bytes termination conns queues method path request-id):\n")
	b.WriteString(tail(c.LB.Logs.String(), 150))
	for _, a := range c.Apps {
		fmt.Fprintf(&b, "\n--- %s (%s) log:\n%s", a.Name, a.URL, tail(a.Logs.String(), 60))
	}
	return b.String()
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[%d lines before]\n", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "")
}

// requestLog is what HAProxy logged of one request.
type requestLog struct {
	Route string // backend/server, "swrooms/app2"
	ID    string // the X-Request-ID it set
}

// requests returns HAProxy's log of each request of method to path, in
// order. The log-format of deploy/haproxy.cfg puts backend/server fourth
// and ends with the method, the path and the request id.
func (h *haproxyProcess) requests(method, path string) []requestLog {
	var out []requestLog
	for line := range strings.Lines(h.Logs.String()) {
		f := strings.Fields(line)
		if n := len(f); n >= 7 && f[n-3] == method && f[n-2] == path {
			out = append(out, requestLog{Route: f[3], ID: f[n-1]})
		}
	}
	return out
}
