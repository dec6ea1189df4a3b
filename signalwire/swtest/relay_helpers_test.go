package swtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/swrooms/swrooms/signalwire/swtest"
)

// wait is how long a test waits for anything from the relay.
const wait = 5 * time.Second

// allEvents is the subscribe list the test clients send: everything the
// relay can send.
var allEvents = []string{
	"video.room.subscribed", "video.room.updated", "video.room.ended", "video.member.joined",
	"video.member.updated", "video.member.left", "video.member.talking", "video.layout.changed",
	"video.recording.started", "video.recording.updated", "video.recording.ended",
}

// relayServer starts a Fake with its relay and closes both at the end.
func relayServer(t *testing.T, opts ...swtest.Option) (*swtest.Fake, *httptest.Server) {
	t.Helper()
	f, srv := swtest.NewServer(key, token, opts...)
	t.Cleanup(func() {
		f.CloseRelay()
		srv.Close()
	})
	return f, srv
}

// roomToken asks the fake's REST API for a token; body is the JSON body of
// POST /room_tokens.
func roomToken(t *testing.T, srv *httptest.Server, body string) string {
	t.Helper()
	a := send(t, srv, "POST", "/room_tokens", body)
	if a.status != 200 {
		t.Fatalf("POST /room_tokens %s: %d %s", body, a.status, a.raw)
	}
	return a.body["token"].(string)
}

// frame is one decoded frame from the relay.
type frame map[string]any

func (fr frame) str(path ...string) string {
	v, _ := fr.get(path...).(string)
	return v
}

func (fr frame) get(path ...string) any {
	var v any = map[string]any(fr)
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// eventType is the event_type of a signalwire.event, "" for other frames.
func (fr frame) eventType() string {
	if fr["method"] != "signalwire.event" {
		return ""
	}
	return fr.str("params", "event_type")
}

// client is a test's end of one relay WebSocket. A reader goroutine
// collects frames; call and waitEvent consume them, keeping events that
// arrive meanwhile for later.
type client struct {
	t       *testing.T
	ws      *websocket.Conn
	frames  chan frame
	backlog []frame
	seq     atomic.Int64
}

// dial opens a WebSocket to the relay of srv.
func dial(t *testing.T, srv *httptest.Server) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, swtest.RelayURL(srv.URL), nil)
	if err != nil {
		t.Fatalf("dial relay: %v", err)
	}
	ws.SetReadLimit(1 << 22)
	c := &client{t: t, ws: ws, frames: make(chan frame, 4096)}
	go func() {
		defer close(c.frames)
		for {
			_, data, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			var fr frame
			if json.Unmarshal(data, &fr) != nil {
				t.Errorf("relay sent a frame that is not a JSON object: %s", data)
				continue
			}
			c.frames <- fr
		}
	}()
	t.Cleanup(func() { ws.Close(websocket.StatusNormalClosure, "") })
	return c
}

// connected dials and authenticates with tok.
func connected(t *testing.T, srv *httptest.Server, tok string) (*client, frame) {
	t.Helper()
	c := dial(t, srv)
	res := c.call("signalwire.connect", map[string]any{
		"version": map[string]int{"major": 3}, "event_acks": true, "agent": "swtest",
		"authentication": map[string]string{"jwt_token": tok},
	})
	if res["error"] != nil {
		t.Fatalf("signalwire.connect: %v", res["error"])
	}
	return c, res
}

// raw sends a text frame as is.
func (c *client) raw(s string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// call sends a request and returns its response frame.
func (c *client) call(method string, params any) frame {
	c.t.Helper()
	id := fmt.Sprintf("req-%d", c.seq.Add(1))
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	c.raw(string(b))
	return c.next(func(fr frame) bool { return fr["id"] == id && fr["method"] == nil })
}

// next returns the first frame (from the backlog, then the socket) that
// matches, keeping the others in the backlog.
func (c *client) next(match func(frame) bool) frame {
	c.t.Helper()
	for i, fr := range c.backlog {
		if match(fr) {
			c.backlog = append(c.backlog[:i:i], c.backlog[i+1:]...)
			return fr
		}
	}
	timeout := time.After(wait)
	for {
		select {
		case fr, ok := <-c.frames:
			if !ok {
				c.t.Fatalf("relay closed the connection while waiting")
			}
			if match(fr) {
				return fr
			}
			c.backlog = append(c.backlog, fr)
		case <-timeout:
			c.t.Fatalf("nothing matching from the relay in %v; backlog has %d frames", wait, len(c.backlog))
		}
	}
}

// waitEvent returns the next signalwire.event of this type whose params
// satisfy match (nil matches all).
func (c *client) waitEvent(eventType string, match func(params frame) bool) frame {
	c.t.Helper()
	return c.next(func(fr frame) bool {
		if fr.eventType() != eventType {
			return false
		}
		p, _ := fr.get("params", "params").(map[string]any)
		return match == nil || match(p)
	})
}

// noEvent checks that no event of this type has arrived by now (after a
// round trip, so anything sent before it has arrived).
func (c *client) noEvent(eventType string) {
	c.t.Helper()
	c.call("signalwire.ping", map[string]any{})
	for _, fr := range c.backlog {
		if fr.eventType() == eventType {
			c.t.Errorf("unexpected %s: %v", eventType, fr)
		}
	}
}

// drain forgets the backlog.
func (c *client) drain() { c.backlog = nil }

// offerer is the Go side's browser: a pion peer with audio and video.
type offerer struct {
	pc *webrtc.PeerConnection
}

func newOfferer(t *testing.T) (*offerer, string) {
	t.Helper()
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.GracefulClose() })
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		if _, err := pc.AddTransceiverFromKind(k); err != nil {
			t.Fatal(err)
		}
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gathered:
	case <-time.After(wait):
		t.Fatal("ICE gathering did not complete")
	}
	return &offerer{pc: pc}, pc.LocalDescription().SDP
}

// inviteParams is video.message's params for a verto.invite, as the SDK
// sends it.
func inviteParams(callID, sdp string, screenShare bool, memberID string) map[string]any {
	dp := map[string]any{"callID": callID, "screenShare": screenShare, "attach": false, "version": 1000}
	subscribe := allEvents
	if screenShare {
		dp["userVariables"] = map[string]any{"memberId": memberID}
		subscribe = []string{"video.room.screenshare"}
	}
	return map[string]any{
		"callID": callID, "subscribe": subscribe,
		"message": map[string]any{"jsonrpc": "2.0", "id": "verto-" + callID, "method": "verto.invite",
			"params": map[string]any{"dialogParams": dp, "sdp": sdp}},
	}
}

// joined is a client in a room.
type joined struct {
	*client
	callID, memberID, sessionID string
	subscribed                  frame
	offer                       *offerer
}

// join connects with tok and joins its room with a pion offer; it fails
// the test unless the invite succeeds.
func join(t *testing.T, srv *httptest.Server, tok string) *joined {
	t.Helper()
	c, _ := connected(t, srv, tok)
	j, res := c.invite()
	if j == nil {
		t.Fatalf("invite refused: %v", res)
	}
	return j
}

var callSeq atomic.Int64

// invite sends a verto.invite; on success it returns the joined client, on
// refusal nil and the response.
func (c *client) invite() (*joined, frame) {
	c.t.Helper()
	off, sdp := newOfferer(c.t)
	callID := fmt.Sprintf("call-%d", callSeq.Add(1))
	res := c.call("video.message", inviteParams(callID, sdp, false, ""))
	if res.get("result", "result", "result") == nil {
		return nil, res
	}
	ans := c.next(func(fr frame) bool {
		return fr.eventType() == "webrtc.message" && fr.str("params", "params", "method") == "verto.answer"
	})
	if err := off.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer,
		SDP: ans.str("params", "params", "params", "sdp")}); err != nil {
		c.t.Fatalf("the relay's answer: %v", err)
	}
	sub := c.waitEvent("video.room.subscribed", nil)
	p := sub.get("params", "params").(map[string]any)
	j := &joined{client: c, callID: callID, subscribed: frame(p), offer: off}
	j.memberID, _ = p["member_id"].(string)
	j.sessionID = frame(p).str("room_session", "id")
	return j, res
}

// method calls a room method in the client's room session.
func (j *joined) method(method string, params map[string]any) frame {
	j.t.Helper()
	if params == nil {
		params = map[string]any{}
	}
	params["room_session_id"] = j.sessionID
	return j.call(method, params)
}

// resultCode is result.code of a Blade response, "" when absent.
func resultCode(res frame) string { return res.str("result", "code") }

func perms(ps ...string) string {
	b, _ := json.Marshal(ps)
	return string(b)
}

var moderator = perms(
	"room.self.audio_mute", "room.self.audio_unmute", "room.self.video_mute", "room.self.video_unmute",
	"room.self.raisehand", "room.self.lowerhand", "room.self.screenshare",
	"room.member.audio_mute", "room.member.audio_unmute", "room.member.video_mute", "room.member.video_unmute",
	"room.member.remove", "room.member.raisehand", "room.member.lowerhand",
	"room.list_available_layouts", "room.set_layout", "room.lock", "room.unlock", "room.recording",
	"room.hide_video_muted", "room.show_video_muted",
)

var guest = perms("room.self.audio_mute", "room.self.audio_unmute", "room.self.video_mute",
	"room.self.video_unmute", "room.self.raisehand", "room.self.lowerhand")

func tokenBody(room, user, permissions string, extra ...string) string {
	s := fmt.Sprintf(`{"room_name":%q,"user_name":%q,"permissions":%s`, room, user, permissions)
	for _, e := range extra {
		s += "," + e
	}
	return s + "}"
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}
