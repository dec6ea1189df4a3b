package swtest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
)

// ConnCounter counts the connections a server accepts, so that a test or
// a benchmark can tell a call that reused a pooled connection from one
// that opened a new one (a TCP handshake here, a TLS one in production).
type ConnCounter struct{ accepted atomic.Int64 }

// ConnState is an http.Server.ConnState hook: it counts every connection
// the server sees for the first time.
func (c *ConnCounter) ConnState(_ net.Conn, s http.ConnState) {
	if s == http.StateNew {
		c.accepted.Add(1)
	}
}

// Accepted returns how many connections the server has accepted so far.
func (c *ConnCounter) Accepted() int64 { return c.accepted.Load() }

// NewCountingServer is NewServer whose server counts the connections it
// accepts.
func NewCountingServer(projectKey, token string, opts ...Option) (*Fake, *httptest.Server, *ConnCounter) {
	f := New(projectKey, token, opts...)
	conns := &ConnCounter{}
	srv := httptest.NewUnstartedServer(f)
	srv.Config.ConnState = conns.ConnState
	srv.Start()
	return f, srv, conns
}
