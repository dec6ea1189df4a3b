package swtest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/swrooms/swrooms/signalwire/swtest"
)

func TestRelayURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8081":     "ws://127.0.0.1:8081/relay",
		"https://example.test/api/": "wss://example.test/relay",
		"not a url":                 "",
	} {
		if got := swtest.RelayURL(in); got != want {
			t.Errorf("RelayURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTokensNameTheRelay(t *testing.T) {
	_, srv := relayServer(t)
	tok := roomToken(t, srv, `{"room_name":"Main_Office"}`)
	hb, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	var h map[string]string
	if err := json.Unmarshal(hb, &h); err != nil {
		t.Fatal(err)
	}
	if h["ch"] != swtest.RelayURL(srv.URL) || h["typ"] != "VRT" {
		t.Errorf("header = %v, want typ VRT and ch %s", h, swtest.RelayURL(srv.URL))
	}
	if _, err := swtest.DecodeToken(tok); err != nil {
		t.Errorf("DecodeToken: %v", err)
	}
}

func TestRelayConnect(t *testing.T) {
	_, srv := relayServer(t)
	send(t, srv, "POST", "/rooms", `{"name":"Lobby","display_name":"The Lobby"}`)

	t.Run("a member gets the token's grants", func(t *testing.T) {
		_, res := connected(t, srv, roomToken(t, srv, tokenBody("Lobby", "Ada", guest)))
		auth := frame(res.get("result", "authorization").(map[string]any))
		for path, want := range map[string]string{
			"type": "video", "join_as": "member", "user_name": "Ada", "audio_allowed": "both",
			"video_allowed": "both", "media_allowed": "all", "project_id": key,
		} {
			if got := auth.str(path); got != want {
				t.Errorf("authorization.%s = %q, want %q", path, got, want)
			}
		}
		if auth.str("room", "name") != "Lobby" || auth.str("room", "display_name") != "The Lobby" {
			t.Errorf("authorization.room = %v", auth["room"])
		}
		scopes, _ := json.Marshal(auth.get("room", "scopes"))
		if string(scopes) != guest {
			t.Errorf("authorization.room.scopes = %s, want %s", scopes, guest)
		}
		sig := auth.str("signature")
		if p := res.str("result", "protocol"); strings.Split(p, "_")[1] != sig {
			t.Errorf("protocol %q does not carry the signature %q", p, sig)
		}
	})
	t.Run("the audience only receives", func(t *testing.T) {
		_, res := connected(t, srv, roomToken(t, srv, `{"room_name":"Lobby","join_as":"audience"}`))
		if got := res.str("result", "authorization", "audio_allowed"); got != "receive" {
			t.Errorf("audio_allowed = %q, want receive", got)
		}
	})
	t.Run("a token of another fake is refused", func(t *testing.T) {
		_, other := swtest.NewServer(key, token)
		defer other.Close()
		c := dial(t, srv)
		res := c.call("signalwire.connect", map[string]any{"authentication": map[string]string{
			"jwt_token": roomToken(t, other, `{"room_name":"Lobby"}`)}})
		if res.get("error", "code") != float64(-32002) || !strings.Contains(res.str("error", "message"), "401 Unauthorized") {
			t.Errorf("got %v, want error -32002 Authentication service failed ... 401 Unauthorized", res)
		}
		// Nothing else works before a successful connect.
		if got := c.call("video.members.get", map[string]any{"room_session_id": "x"}); got.get("error", "code") != float64(-32002) {
			t.Errorf("method before connect: got %v, want error -32002", got)
		}
	})
}

func TestRelayBadFramesGetJSONRPCErrors(t *testing.T) {
	_, srv := relayServer(t)
	c, _ := connected(t, srv, roomToken(t, srv, `{"room_name":"Lobby"}`))
	isErr := func(fr frame) bool { return fr["error"] != nil }
	for _, tt := range []struct {
		frame string
		code  float64
	}{
		{`not json`, -32700},
		{`[1,2]`, -32600},
		{`{"jsonrpc":"2.0","id":"a"}`, -32600},
		{`{"jsonrpc":"1.0","id":"b","method":"signalwire.ping"}`, -32600},
		{`{"jsonrpc":"2.0","id":{"x":1},"method":"signalwire.ping"}`, -32600},
		{`{"jsonrpc":"2.0","id":"c","method":"video.no_such_method","params":{}}`, -32601},
		{`{"jsonrpc":"2.0","id":"d","method":"video.member.audio_mute","params":{}}`, -32602},
		{`{"jsonrpc":"2.0","id":"e","method":"video.member.audio_mute","params":"x"}`, -32602},
		{`{"jsonrpc":"2.0","id":"f","method":"video.message","params":{"message":7}}`, -32602},
		{`{"jsonrpc":"2.0","id":"g","method":"signalwire.connect","params":{}}`, -32002},
	} {
		c.raw(tt.frame)
		fr := c.next(isErr)
		if fr.get("error", "code") != tt.code {
			t.Errorf("%s: got %v, want error %v", tt.frame, fr, tt.code)
		}
	}
	// A verto message without a call gets a verto error inside a Blade result.
	res := c.call("video.message", map[string]any{"message": map[string]any{"jsonrpc": "2.0", "id": "v", "method": "verto.invite", "params": map[string]any{}}})
	if res.str("result", "result", "error", "code") != "-32602" {
		t.Errorf("invite without callID: got %v", res)
	}
	// The SDK's acks of events need no answer; the connection still works.
	c.raw(`{"jsonrpc":"2.0","id":"ack","result":{}}`)
	if got := c.call("signalwire.ping", map[string]any{}); got["result"] == nil {
		t.Errorf("ping after bad frames: %v", got)
	}
	for _, fr := range c.backlog {
		if fr["id"] == "ack" {
			t.Errorf("an ack was answered: %v", fr)
		}
	}
	// A binary frame is not JSON-RPC.
	c.ws.Write(t.Context(), websocket.MessageBinary, []byte{1, 2})
	if fr := c.next(isErr); fr.get("error", "code") != float64(-32700) {
		t.Errorf("binary frame: got %v", fr)
	}
}

func TestRelayJoinAnswersWithPionAndDrivesRoomSessions(t *testing.T) {
	f, srv := relayServer(t)
	send(t, srv, "POST", "/rooms", `{"name":"Lobby"}`)
	c, _ := connected(t, srv, roomToken(t, srv, tokenBody("Lobby", "Ada", guest)))
	j, res := c.invite()
	if j == nil {
		t.Fatalf("invite: %v", res)
	}
	if got := res.get("result", "result", "result"); got.(map[string]any)["callID"] != j.callID ||
		got.(map[string]any)["message"] != "CALL CREATED" || res.str("result", "code") != "200" {
		t.Errorf("invite result = %v", res)
	}
	if j.subscribed["call_id"] != j.callID {
		t.Errorf("room.subscribed call_id = %v, want %s", j.subscribed["call_id"], j.callID)
	}
	members, _ := j.subscribed.get("room_session", "members").([]any)
	if len(members) != 1 || frame(members[0].(map[string]any)).str("name") != "Ada" {
		t.Errorf("room_session.members = %v", members)
	}

	// The pion answer connects.
	connectedCh := make(chan struct{})
	j.offer.pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			close(connectedCh)
		}
	})
	if j.offer.pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
		select {
		case <-connectedCh:
		case <-time.After(wait):
			t.Errorf("peer connection state %v after %v", j.offer.pc.ConnectionState(), wait)
		}
	}

	// GET /room_sessions follows the join.
	a := send(t, srv, "GET", "/room_sessions?status=in-progress&room_name=Lobby", "")
	data, _ := a.body["data"].([]any)
	if len(data) != 1 || data[0].(map[string]any)["id"] != j.sessionID {
		t.Fatalf("live sessions = %v, want %s", a.raw, j.sessionID)
	}
	m := send(t, srv, "GET", "/room_sessions/"+j.sessionID+"/members", "")
	if !strings.Contains(m.raw, `"name":"Ada"`) || !strings.Contains(m.raw, `"leave_time":null`) {
		t.Errorf("members = %s", m.raw)
	}
	if got := f.RoomMembers("Lobby"); len(got) != 1 || !got[0].Browser || got[0].ID != j.memberID {
		t.Errorf("RoomMembers = %+v", got)
	}

	// Leaving ends the session.
	bye := j.call("video.message", map[string]any{"callID": j.callID, "message": map[string]any{
		"jsonrpc": "2.0", "id": "bye", "method": "verto.bye", "params": map[string]any{"dialogParams": map[string]any{"callID": j.callID}}}})
	if bye.str("result", "result", "result", "message") != "CALL ENDED" {
		t.Errorf("bye result = %v", bye)
	}
	if s := send(t, srv, "GET", "/room_sessions/"+j.sessionID, ""); s.body["status"] != "completed" {
		t.Errorf("session after bye = %s", s.raw)
	}
	if got := f.RoomMembers("Lobby"); got != nil {
		t.Errorf("RoomMembers after bye = %+v", got)
	}
}

func TestRelayRefusesJoins(t *testing.T) {
	f, srv := relayServer(t)
	refusal := func(t *testing.T, tok, want string) {
		t.Helper()
		c, _ := connected(t, srv, tok)
		j, res := c.invite()
		if j != nil {
			t.Fatalf("invite accepted, want %q", want)
		}
		if res.str("result", "result", "error", "message") != want {
			t.Errorf("refusal = %v, want message %q", res, want)
		}
	}
	t.Run("a deleted room", func(t *testing.T) {
		room := send(t, srv, "POST", "/rooms", `{"name":"Gone"}`)
		tok := roomToken(t, srv, `{"room_name":"Gone","auto_create_room":false}`)
		send(t, srv, "DELETE", "/rooms/"+room.body["id"].(string), "")
		refusal(t, tok, "Room not found")
	})
	t.Run("a full room", func(t *testing.T) {
		send(t, srv, "POST", "/rooms", `{"name":"Small","max_members":1}`)
		join(t, srv, roomToken(t, srv, `{"room_name":"Small"}`))
		refusal(t, roomToken(t, srv, `{"room_name":"Small"}`), "The room is full")
	})
	t.Run("a locked room", func(t *testing.T) {
		send(t, srv, "POST", "/rooms", `{"name":"Locked"}`)
		host := join(t, srv, roomToken(t, srv, tokenBody("Locked", "Host", moderator)))
		if res := host.method("video.lock", nil); resultCode(res) != "200" {
			t.Fatalf("lock: %v", res)
		}
		host.waitEvent("video.room.updated", func(p frame) bool { return p.get("room_session", "locked") == true })
		refusal(t, roomToken(t, srv, `{"room_name":"Locked"}`), "The room is locked")
		if _, err := f.AddMembers("Locked", swtest.MemberSpec{Name: "Bot"}); !errors.Is(err, swtest.ErrRoomLocked) {
			t.Errorf("AddMembers to a locked room: %v", err)
		}
	})
}

func TestRelayMethodsPermissionsAndEvents(t *testing.T) {
	f, srv := relayServer(t)
	send(t, srv, "POST", "/rooms", `{"name":"Office"}`)
	host := join(t, srv, roomToken(t, srv, tokenBody("Office", "Host", moderator)))
	g := join(t, srv, roomToken(t, srv, tokenBody("Office", "Guest", guest)))
	hostJoined := host.waitEvent("video.member.joined", nil)
	if frame(hostJoined.get("params", "params").(map[string]any)).str("member", "id") != g.memberID {
		t.Errorf("host saw %v join, want the guest %s", hostJoined, g.memberID)
	}

	t.Run("the guest may not mute the host", func(t *testing.T) {
		res := g.method("video.member.audio_mute", map[string]any{"member_id": host.memberID})
		if resultCode(res) != "-32001" || res.str("result", "message") != "Permission Denied." {
			t.Errorf("got %v, want result {code:-32001, message:Permission Denied.}", res)
		}
	})
	t.Run("the host mutes the guest: everyone gets only the changed field", func(t *testing.T) {
		if res := host.method("video.member.audio_mute", map[string]any{"member_id": g.memberID}); resultCode(res) != "200" {
			t.Fatalf("mute: %v", res)
		}
		for _, c := range []*joined{host, g} {
			ev := c.waitEvent("video.member.updated", nil)
			m := ev.get("params", "params", "member").(map[string]any)
			keys := slices.Sorted(func(yield func(string) bool) {
				for k := range m {
					if !yield(k) {
						return
					}
				}
			})
			if fmt.Sprint(keys) != "[audio_muted id room_id room_session_id updated]" || m["audio_muted"] != true ||
				fmt.Sprint(m["updated"]) != "[audio_muted]" || m["id"] != g.memberID {
				t.Errorf("member.updated member = %v", m)
			}
		}
	})
	t.Run("the guest raises and lowers its own hand", func(t *testing.T) {
		for _, m := range []string{"video.member.raisehand", "video.member.lowerhand"} {
			if res := g.method(m, map[string]any{"member_id": g.memberID}); resultCode(res) != "200" {
				t.Errorf("%s: %v", m, res)
			}
		}
		host.waitEvent("video.member.updated", func(p frame) bool { return p.get("member", "handraised") == true })
		host.waitEvent("video.member.updated", func(p frame) bool { return p.get("member", "handraised") == false })
	})
	t.Run("layouts", func(t *testing.T) {
		res := host.method("video.list_available_layouts", nil)
		if ls, _ := res.get("result", "layouts").([]any); !slices.Contains(ls, any("2x2")) {
			t.Errorf("layouts = %v", res)
		}
		if res := g.method("video.list_available_layouts", nil); resultCode(res) != "-32001" {
			t.Errorf("guest layouts = %v", res)
		}
		if res := host.method("video.set_layout", map[string]any{"name": "2x2"}); resultCode(res) != "200" {
			t.Errorf("set_layout = %v", res)
		}
		ev := g.waitEvent("video.layout.changed", func(p frame) bool { return p.str("layout", "name") == "2x2" })
		if layers, _ := ev.get("params", "params", "layout", "layers").([]any); len(layers) != 2 {
			t.Errorf("layers = %v", layers)
		}
	})
	t.Run("members.get", func(t *testing.T) {
		res := g.method("video.members.get", nil)
		if ms, _ := res.get("result", "members").([]any); len(ms) != 2 {
			t.Errorf("members.get = %v", res)
		}
	})
	t.Run("recording", func(t *testing.T) {
		res := host.method("video.recording.start", nil)
		id := res.str("result", "recording", "id")
		if id == "" || res.str("result", "recording", "state") != "recording" {
			t.Fatalf("recording.start = %v", res)
		}
		g.waitEvent("video.recording.started", func(p frame) bool { return p.str("recording", "id") == id })
		if res := host.method("video.recording.list", nil); len(res.get("result", "recordings").([]any)) != 1 {
			t.Errorf("recording.list = %v", res)
		}
		if res := host.method("video.recording.stop", map[string]any{"recording_id": id}); resultCode(res) != "200" {
			t.Errorf("recording.stop = %v", res)
		}
		g.waitEvent("video.recording.ended", func(p frame) bool { return p.str("recording", "state") == "completed" })
	})
	t.Run("members without browsers", func(t *testing.T) {
		ids, err := f.AddMembers("Office", swtest.MemberSpec{Name: "Bot", HandRaised: true})
		if err != nil {
			t.Fatal(err)
		}
		g.waitEvent("video.member.joined", func(p frame) bool { return p.str("member", "id") == ids[0] && p.get("member", "handraised") == true })
		if err := f.UpdateMember("Office", ids[0], swtest.MemberChange{Talking: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		host.waitEvent("video.member.talking", func(p frame) bool { return p.str("member", "id") == ids[0] && p.get("member", "talking") == true })
		if err := f.UpdateMember("Office", "nobody", swtest.MemberChange{}); !errors.Is(err, swtest.ErrNoMember) {
			t.Errorf("UpdateMember of nobody: %v", err)
		}
		// A moderator can act on them too.
		host.method("video.member.video_mute", map[string]any{"member_id": ids[0]})
		g.waitEvent("video.member.updated", func(p frame) bool { return p.str("member", "id") == ids[0] && p.get("member", "video_muted") == true })
		if got := f.RoomMembers("Office")[2]; !got.VideoMuted || got.Browser {
			t.Errorf("RoomMembers bot = %+v", got)
		}
		if err := f.RemoveMember("Office", ids[0]); err != nil {
			t.Fatal(err)
		}
		g.waitEvent("video.member.left", func(p frame) bool { return p.str("member", "id") == ids[0] })
	})
	t.Run("a screen share is a member with parent_id", func(t *testing.T) {
		_, sdp := newOfferer(t)
		res := host.call("video.message", inviteParams("screen-1", sdp, true, host.memberID))
		if res.str("result", "result", "result", "callID") != "screen-1" {
			t.Fatalf("screen share invite = %v", res)
		}
		ev := host.waitEvent("video.member.joined", func(p frame) bool { return p.str("member", "parent_id") == host.memberID })
		if ev.str("params", "params", "member", "type") != "screen" {
			t.Errorf("screen member = %v", ev)
		}
		g.waitEvent("video.member.joined", func(p frame) bool { return p.str("member", "type") == "screen" })
		// The guest has no room.self.screenshare.
		_, sdp2 := newOfferer(t)
		if res := g.call("video.message", inviteParams("screen-2", sdp2, true, g.memberID)); res.str("result", "result", "error", "message") != "Permission Denied." {
			t.Errorf("guest screen share = %v", res)
		}
	})
	t.Run("the removed guest gets member.left and verto.bye", func(t *testing.T) {
		if res := g.method("video.member.remove", map[string]any{"member_id": host.memberID}); resultCode(res) != "-32001" {
			t.Errorf("guest removes host = %v", res)
		}
		if res := host.method("video.member.remove", map[string]any{"member_id": g.memberID}); resultCode(res) != "200" {
			t.Fatalf("remove = %v", res)
		}
		g.waitEvent("video.member.left", func(p frame) bool { return p.str("member", "id") == g.memberID })
		bye := g.next(func(fr frame) bool {
			return fr.eventType() == "webrtc.message" && fr.str("params", "params", "method") == "verto.bye"
		})
		if bye.str("params", "params", "params", "callID") != g.callID {
			t.Errorf("bye = %v", bye)
		}
		host.waitEvent("video.member.left", func(p frame) bool { return p.str("member", "id") == g.memberID })
		// The SDK answers the bye with a verto result, which is answered too.
		res := g.call("video.message", map[string]any{"node_id": bye.str("params", "node_id"),
			"message": map[string]any{"jsonrpc": "2.0", "id": bye.get("params", "params", "id"), "result": map[string]any{"method": "verto.bye"}}})
		if resultCode(res) != "200" {
			t.Errorf("answer to the verto result = %v", res)
		}
		if res := g.method("video.members.get", nil); resultCode(res) != "404" {
			t.Errorf("the removed guest still acts in the room: %v", res)
		}
	})
}

func TestRelayBurstOf299(t *testing.T) {
	f, srv := relayServer(t)
	send(t, srv, "POST", "/rooms", `{"name":"Big","max_members":300}`)
	host := join(t, srv, roomToken(t, srv, tokenBody("Big", "Host", moderator)))
	specs := make([]swtest.MemberSpec, 299)
	for i := range specs {
		specs[i] = swtest.MemberSpec{Name: fmt.Sprintf("Bot %d", i), AudioMuted: i%2 == 0}
	}
	ids, err := f.AddMembers("Big", specs...)
	if err != nil || len(ids) != 299 {
		t.Fatalf("AddMembers: %v, %d ids", err, len(ids))
	}
	for i := range 299 {
		ev := host.waitEvent("video.member.joined", nil)
		if got := ev.str("params", "params", "member", "id"); got != ids[i] {
			t.Fatalf("joined #%d = %s, want %s", i, got, ids[i])
		}
	}
	// One layout for the whole burst, after the joins.
	host.waitEvent("video.layout.changed", func(p frame) bool {
		layers, _ := p.get("layout", "layers").([]any)
		return len(layers) == 300
	})
	if n := len(f.RoomMembers("Big")); n != 300 {
		t.Errorf("RoomMembers = %d, want 300", n)
	}
	if _, err := f.AddMembers("Big", swtest.MemberSpec{Name: "One too many"}); !errors.Is(err, swtest.ErrRoomFull) {
		t.Errorf("301st member: %v, want ErrRoomFull", err)
	}
	m := send(t, srv, "GET", "/room_sessions/"+host.sessionID+"/members?page_size=1000", "")
	if data, _ := m.body["data"].([]any); len(data) != 300 {
		t.Errorf("REST members = %d, want 300", len(data))
	}
}

func TestRelayAddMembersNeedsARoom(t *testing.T) {
	f, _ := relayServer(t)
	if _, err := f.AddMembers("Nowhere", swtest.MemberSpec{Name: "Bot"}); !errors.Is(err, swtest.ErrRoomNotFound) {
		t.Errorf("AddMembers to a missing room: %v", err)
	}
	if got := f.RoomSessions(); len(got) != 0 {
		t.Errorf("a refused AddMembers left sessions: %+v", got)
	}
}

func TestRelayLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		f, srv := swtest.NewServer(key, token)
		defer srv.Close()
		send(t, srv, "POST", "/rooms", `{"name":"Lobby"}`)
		for range 2 {
			j := join(t, srv, roomToken(t, srv, `{"room_name":"Lobby"}`))
			j.offer.pc.GracefulClose()
		}
		f.AddMembers("Lobby", swtest.MemberSpec{Name: "Bot"})
		f.CloseRelay()
		if got := f.RoomMembers("Lobby"); len(got) != 1 {
			t.Errorf("after CloseRelay the browsers' members should have left: %+v", got)
		}
		srv.CloseClientConnections()
	}()
	deadline := time.Now().Add(wait)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

func ptr[T any](v T) *T { return &v }

// TestRelayMemberAllOnlyRemoves: member_id "all" names everyone for
// removeAllMembers only. Every other member method answers 404 for it, and
// the connection and its member stay sound (it once crashed the handler,
// leaving a member nobody could remove).
func TestRelayMemberAllOnlyRemoves(t *testing.T) {
	f, srv := relayServer(t)
	send(t, srv, "POST", "/rooms", `{"name":"Lobby"}`)
	c, _ := connected(t, srv, roomToken(t, srv, tokenBody("Lobby", "Ada", moderator)))
	host, res := c.invite()
	if host == nil {
		t.Fatalf("invite: %v", res)
	}
	for _, name := range []string{
		"video.member.audio_mute", "video.member.audio_unmute", "video.member.video_mute", "video.member.video_unmute",
		"video.member.deaf", "video.member.undeaf", "video.member.raisehand", "video.member.lowerhand",
		"video.member.set_input_volume", "video.member.set_output_volume", "video.member.set_input_sensitivity",
	} {
		got := host.method(name, map[string]any{"member_id": "all", "raised": true, "volume": 1, "value": 1})
		// Refused: 404, or the permission check's -32001 where the token
		// lacks the method's permission.
		if code := resultCode(got); code != "404" && code != "-32001" {
			t.Errorf("%s with member_id all: got %v, want result code 404 (or -32001)", name, got)
		}
	}
	if got := c.call("signalwire.ping", map[string]any{}); got["result"] == nil {
		t.Fatalf("ping after the calls: %v", got)
	}
	if got := host.method("video.member.remove", map[string]any{"member_id": "all"}); resultCode(got) != "200" {
		t.Fatalf("remove all: %v", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(f.RoomMembers("Lobby")) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("members after remove all: %+v", f.RoomMembers("Lobby"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRelayClosesSocketsThatNeverConnect: a socket that sends no
// signalwire.connect is closed after Limits.RelayConnectTimeout, so idle
// sockets cannot hold the relay's connection budget.
func TestRelayClosesSocketsThatNeverConnect(t *testing.T) {
	_, srv := relayServer(t, swtest.WithLimits(swtest.Limits{RelayConnectTimeout: 200 * time.Millisecond}))
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	idle, _, err := websocket.Dial(ctx, swtest.RelayURL(srv.URL), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.CloseNow()
	start := time.Now()
	if _, _, err := idle.Read(ctx); err == nil {
		t.Fatal("read a frame from an idle socket, want it closed")
	}
	if waited := time.Since(start); waited > 4*time.Second {
		t.Errorf("the idle socket was closed after %v, want about 200 ms", waited)
	}
	// A socket that connects stays open past the timeout.
	c, _ := connected(t, srv, roomToken(t, srv, `{"room_name":"Lobby"}`))
	time.Sleep(400 * time.Millisecond)
	if got := c.call("signalwire.ping", map[string]any{}); got["result"] == nil {
		t.Errorf("ping on a connected socket after the timeout: %v", got)
	}
}
