package swtest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Bounds of one relay connection.
const (
	// relayReadLimit bounds one frame from the browser. An SDP offer with
	// its candidates is a few KB; a bigger frame closes the connection
	// with 1009 (message too big), as websocket.Conn does.
	relayReadLimit = 1 << 20
	// relayQueueLimit bounds the frames waiting to be written to one
	// browser. A burst of 299 joins is about 300 frames; a browser that
	// falls this far behind is disconnected rather than buffered without
	// end, and its SDK reconnects.
	relayQueueLimit = 8192
)

// relayConn is one browser's WebSocket. Its read loop runs in the HTTP
// handler's goroutine and handles requests one at a time, in order; one
// writer goroutine drains the queue that anyone may add to (under Fake.mu
// or not) without blocking.
type relayConn struct {
	f      *Fake
	ws     *websocket.Conn
	ctx    context.Context
	cancel context.CancelFunc

	// Guarded by Fake.mu.
	claims *TokenClaims           // set by signalwire.connect
	subs   map[string]bool        // event types the main invite subscribed to
	calls  map[string]*liveMember // this connection's calls by call id

	qmu   sync.Mutex
	queue [][]byte
	wake  chan struct{} // capacity 1: "the queue has frames"
}

// serveRelay upgrades "GET /relay" to the relay WebSocket and serves it
// until either side closes it. Past Limits.RelayConns, or after
// CloseRelay, it answers 503.
func (f *Fake) serveRelay(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	if f.relay.closed || len(f.relay.conns) >= f.limits.RelayConns {
		f.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	// Add under the lock that CloseRelay takes before Wait, so a Wait
	// never races an Add from zero.
	f.relay.wg.Add(1)
	f.mu.Unlock()
	defer f.relay.wg.Done()

	// Pages are served from another origin than the fake (the app, a test
	// server), as they are from the relay in production.
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return // Accept has answered the failed upgrade
	}
	ws.SetReadLimit(relayReadLimit)
	ctx, cancel := context.WithCancel(context.Background())
	c := &relayConn{
		f: f, ws: ws, ctx: ctx, cancel: cancel,
		subs:  map[string]bool{},
		calls: map[string]*liveMember{},
		wake:  make(chan struct{}, 1),
	}
	f.mu.Lock()
	if f.relay.closed {
		f.mu.Unlock()
		cancel()
		ws.Close(websocket.StatusGoingAway, "relay closed")
		return
	}
	f.relay.conns[c] = true
	f.mu.Unlock()

	written := make(chan struct{})
	go func() {
		defer close(written)
		c.writeLoop()
	}()
	// An idle unauthenticated socket would hold one of Limits.RelayConns
	// for good; the SDK sends signalwire.connect first thing.
	idle := time.AfterFunc(f.limits.RelayConnectTimeout, func() {
		f.mu.Lock()
		authenticated := c.claims != nil
		f.mu.Unlock()
		if !authenticated {
			cancel()
		}
	})
	defer idle.Stop()
	// Deferred, so that the connection's members leave and its writer stops
	// even if handling a frame panics (net/http recovers the panic; a
	// member left behind would haunt the room for good).
	defer func() {
		cancel()
		<-written
		c.leaveAll()
		ws.Close(websocket.StatusNormalClosure, "")
	}()
	c.readLoop()
}

// readLoop handles frames until the socket fails or the connection is
// cancelled.
func (c *relayConn) readLoop() {
	for {
		typ, data, err := c.ws.Read(c.ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			c.replyError(nil, codeParseError, "Parse error: binary frame")
			continue
		}
		c.handle(data)
		if c.ctx.Err() != nil {
			return
		}
	}
}

// writeLoop writes queued frames in order until the connection is
// cancelled or a write fails (which cancels it).
func (c *relayConn) writeLoop() {
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.wake:
		}
		c.qmu.Lock()
		batch := c.queue
		c.queue = nil
		c.qmu.Unlock()
		for _, frame := range batch {
			ctx, cancel := context.WithTimeout(c.ctx, relayTimeout)
			err := c.ws.Write(ctx, websocket.MessageText, frame)
			cancel()
			if err != nil {
				c.cancel()
				return
			}
		}
	}
}

// errQueueFull is why a slow browser is dropped.
var errQueueFull = errors.New("swtest: relay write queue full")

// send queues v as one JSON frame. It never blocks, so it may be called
// under Fake.mu, which keeps events in one global order. A full queue
// cancels the connection.
func (c *relayConn) send(v any) error {
	frame, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.qmu.Lock()
	if len(c.queue) >= relayQueueLimit {
		c.qmu.Unlock()
		c.cancel()
		return errQueueFull
	}
	c.queue = append(c.queue, frame)
	c.qmu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

// leaveAll ends every call of the connection after it closed: its members
// leave their rooms (the others get video.member.left) and its peers close.
func (c *relayConn) leaveAll() {
	f := c.f
	f.mu.Lock()
	delete(f.relay.conns, c)
	var peers []*mediaPeer
	for _, m := range c.calls {
		peers = append(peers, f.leaveLocked(m, false)...)
	}
	f.mu.Unlock()
	closePeers(peers)
}
