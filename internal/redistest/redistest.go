// Package redistest starts a private redis-server on a free loopback port
// for a test, the way the browser tests start Chromium: missing, it skips
// the test, except under CI (CI set), where .ci/run installs it and a
// missing server fails the test.
package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swrooms/swrooms/internal/proctest"
	"github.com/swrooms/swrooms/internal/redisconn"
)

// Server is one redis-server process: no persistence, loopback only,
// stopped when the test ends.
type Server struct {
	t    testing.TB
	bin  string
	Port int
	// Addr is "127.0.0.1:port"; URL is "redis://127.0.0.1:port/0".
	Addr string
	URL  string
	cmd  *exec.Cmd
	out  proctest.Buffer // its output, read at cleanup
}

// Start starts a redis-server for t and waits until it answers PING.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-server is missing: .ci/run installs it (apt-get install redis-server)")
		}
		t.Skip("redis-server not installed (apt-get install redis-server); CI runs this test")
	}
	s := &Server{t: t, bin: bin, Port: freePort(t)}
	s.Addr = "127.0.0.1:" + strconv.Itoa(s.Port)
	s.URL = "redis://" + s.Addr + "/0"
	s.start()
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("%s said:\n%s", s, s.out.String())
		}
	})
	return s
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *Server) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--protected-mode", "yes", "--loglevel", "warning")
	// Its startup banner and warnings (overcommit) would fill every test
	// log: kept, and shown only when the test fails.
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("redistest: start redis-server: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redistest: redis-server on %s did not answer: %v", s.Addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop stops the server (its data is gone); it may be called more than once.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart starts the server again on the same port, empty.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

// Open returns a client of the server as the app opens one
// (redisconn.Open: its short timeouts and few retries), closed when t
// ends. Each call is a client of its own, as each instance of the app
// has.
func (s *Server) Open(t testing.TB) *redis.Client {
	t.Helper()
	c, err := redisconn.Open(s.URL)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Client is Open for the test that started the server.
func (s *Server) Client() *redis.Client { return s.Open(s.t) }

// Unresponsive returns the redis:// URL of a server that accepts
// connections and never answers, as a Redis that hangs or a network that
// drops everything after the handshake: each command waits out its read
// timeout. It stops when t ends.
func Unresponsive(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return "redis://" + l.Addr().String() + "/0"
}

// String is the server's address, for failure messages.
func (s *Server) String() string { return fmt.Sprintf("redis-server %s", s.Addr) }
