package swtest

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// The relay is the other half of the fake: the WebSocket that
// @signalwire/js 3.30.0 talks to from the browser (SignalWire's "relay",
// wss://relay.signalwire.com in production), with WebRTC answered by pion.
// RELAY.md beside this file lists every message it accepts or sends and the
// SDK source that shows the shape.
//
// It shares the Fake's state and its one mutex: rooms come from the REST
// side, tokens are the ones the Fake issued (VerifyToken), and the room
// session a join starts is the one GET /room_sessions lists. Files:
//
//	relay.go          state, RelayURL, CloseRelay
//	relay_conn.go     one WebSocket: read loop, bounded write queue
//	relay_rpc.go      JSON-RPC framing, errors, dispatch, signalwire.connect
//	relay_verto.go    video.message: verto.invite/bye/modify and results
//	relay_room.go     live room sessions: join, leave, fan-out
//	relay_events.go   the event payloads (member, room session, layout ...)
//	relay_methods.go  room methods (video.member.audio_mute ...) + permissions
//	relay_members.go  the Go API: AddMembers, UpdateMember, RemoveMember ...
//	relay_media*.go   the pion peer that answers each call; who talks
//	relay_forward*.go the stand-in for the MCU: whose media each call gets
//	relay_bots*.go    sandbox mode's scripted members (WithBots)

// RelayPath is the path on the Fake's handler where the relay's WebSocket
// is served.
const RelayPath = "/relay"

// relayTimeout bounds one write to a browser and one WebRTC answer.
const relayTimeout = 5 * time.Second

// relayState is the relay's part of a Fake. Every field is guarded by
// Fake.mu except api and wg, which are safe on their own, and bots and
// botMedia, which options set before the Fake serves.
type relayState struct {
	live   map[string]*liveRoom // live room sessions by room name
	conns  map[*relayConn]bool
	closed bool // CloseRelay ran: no new connections
	nodeID string

	bots     *Bots     // WithBots; nil: no bots
	botMedia *botMedia // their clips; nil: none

	api *webrtc.API    // shared by every peer; immutable
	wg  sync.WaitGroup // one per connection handler
}

func newRelayState() relayState {
	return relayState{
		live:   map[string]*liveRoom{},
		conns:  map[*relayConn]bool{},
		nodeID: newUUID() + "@fake-relay",
		api:    newMediaAPI(),
	}
}

// RelayURL returns the relay's WebSocket URL for a Fake served at baseURL
// ("http://127.0.0.1:8081" gives "ws://127.0.0.1:8081/relay"; https gives
// wss). It is what the tokens' "ch" header names when the Fake is reached
// at that address; an app whose CSP must allow the relay can compute it
// from the SignalWire base URL it talks to.
func RelayURL(baseURL string) string {
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" {
		return ""
	}
	scheme := "ws"
	if u.Scheme == "https" || u.Scheme == "wss" {
		scheme = "wss"
	}
	return (&url.URL{Scheme: scheme, Host: u.Host, Path: RelayPath}).String()
}

// relayURLFromRequest is the relay URL as seen by the client that made the
// REST request r: same host, ws or wss. Deriving it from the request means
// neither tests nor sandbox mode configure anything.
func relayURLFromRequest(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return RelayURL(scheme + "://" + r.Host)
}

// CloseRelay closes every relay connection (each member it carried leaves,
// with the usual events to those who remain), refuses new ones, and waits
// until their goroutines and peer connections have finished. The REST API
// keeps working. Call it when the server goes away: the WebSockets are
// hijacked connections that httptest.Server.Close does not wait for.
func (f *Fake) CloseRelay() {
	f.mu.Lock()
	f.relay.closed = true
	conns := make([]*relayConn, 0, len(f.relay.conns))
	for c := range f.relay.conns {
		conns = append(conns, c)
	}
	f.mu.Unlock()
	for _, c := range conns {
		c.cancel()
	}
	f.relay.wg.Wait()
}

// randomHex returns n random bytes in hex, for signatures and ids that must
// not contain the "_" the SDK splits protocols on.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
