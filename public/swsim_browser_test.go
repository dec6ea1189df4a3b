package public

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swrooms/swrooms/internal/browsertest"
)

func TestMain(m *testing.M) { browsertest.Main(m) }

// The permissions of the tokens the tests mint, as signalwire.md names them.
var (
	guestPermissions = []string{
		"room.self.audio_mute", "room.self.audio_unmute", "room.self.video_mute", "room.self.video_unmute",
	}
	moderatorPermissions = append(slices.Clone(guestPermissions),
		"room.member.audio_mute", "room.member.audio_unmute", "room.member.video_mute", "room.member.video_unmute",
		"room.member.remove", "room.member.deaf", "room.member.undeaf", "room.member.set_input_volume",
		"room.member.set_output_volume", "room.member.set_input_sensitivity", "room.member.raisehand",
		"room.member.lowerhand", "room.member.set_meta", "room.self.screenshare",
		"room.set_layout", "room.list_available_layouts", "room.lock", "room.unlock", "room.recording",
		"room.hide_video_muted", "room.show_video_muted", "room.set_meta",
	)
)

// roomToken mints a token shaped like SignalWire's: a JWT whose payload
// names the user (u), the room (r) and the permissions (s). Nobody checks
// the signature, as nobody in a browser can.
func roomToken(t *testing.T, user, room string, permissions []string) string {
	t.Helper()
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"typ": "VRT", "alg": "HS512"})
	payload, err := json.Marshal(map[string]any{
		"u": user, "r": room, "s": permissions, "ja": "member", "iat": time.Now().Unix(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return enc.EncodeToString(header) + "." + enc.EncodeToString(payload) + "." + enc.EncodeToString([]byte("not-a-signature"))
}

var roomSeq atomic.Int64

// uniqueRoom keeps parallel tests out of each other's BroadcastChannel.
func uniqueRoom(t *testing.T) string {
	return fmt.Sprintf("%s_%d", strings.ReplaceAll(t.Name(), "/", "_"), roomSeq.Add(1))
}

// simServer serves the embedded public files at / and testdata at /testdata/.
func simServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/testdata/", http.StripPrefix("/testdata/", http.FileServer(http.Dir("testdata"))))
	mux.Handle("/", http.FileServerFS(FS()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// quietOptions stops the simulated members from acting by themselves, so
// that tests see only the events they cause.
const quietOptions = `{autoplay: false, latencyMs: 5, members: [{name: "Ada Lovelace"}, {name: "Grace Hopper"}, {name: "Alan Turing"}]}`

// openSim opens the test page in a new tab with the simulator's options.
func openSim(t *testing.T, srv *httptest.Server, options string) *browsertest.Tab {
	t.Helper()
	tab := browsertest.NewTab(t)
	tab.InitScript("window.__swsimOptions = " + options)
	tab.Navigate(srv.URL + "/testdata/sim.html")
	return tab
}

type joinResult struct {
	Index         int      `json:"index"`
	Same          bool     `json:"same"`
	MemberID      string   `json:"memberId"`
	RoomID        string   `json:"roomId"`
	RoomSessionID string   `json:"roomSessionId"`
	CallID        string   `json:"callId"`
	Permissions   []string `json:"permissions"`
	Active        bool     `json:"active"`
}

func join(t *testing.T, tab *browsertest.Tab, token string) joinResult {
	t.Helper()
	var r joinResult
	tab.Eval(fmt.Sprintf("simTest.join(%q)", token), &r)
	// The join is complete for the page once the first layout arrives.
	tab.WaitJS(fmt.Sprintf(`simTest.events.some((e) => e.name === "layout.changed" && e.session === %d)`, r.Index))
	return r
}

// member is the snake_case member of the SDK's events.
type member struct {
	ID               string         `json:"id"`
	Name             string         `json:"name"`
	Type             string         `json:"type"`
	ParentID         *string        `json:"parent_id"`
	RoomID           string         `json:"room_id"`
	RoomSessionID    string         `json:"room_session_id"`
	AudioMuted       bool           `json:"audio_muted"`
	VideoMuted       bool           `json:"video_muted"`
	Deaf             bool           `json:"deaf"`
	Visible          bool           `json:"visible"`
	Handraised       bool           `json:"handraised"`
	Talking          bool           `json:"talking"`
	InputVolume      float64        `json:"input_volume"`
	OutputVolume     float64        `json:"output_volume"`
	InputSensitivity float64        `json:"input_sensitivity"`
	Meta             map[string]any `json:"meta"`
	Updated          []string       `json:"updated"`
	CurrentPosition  string         `json:"current_position"`
}

type memberEvent struct {
	RoomID        string `json:"room_id"`
	RoomSessionID string `json:"room_session_id"`
	Member        member `json:"member"`
}

type rpcError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	JSONRPC struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"jsonrpc"`
	Name string `json:"name"`
}

type settled struct {
	OK    bool            `json:"ok"`
	Value json.RawMessage `json:"value"`
	Error rpcError        `json:"error"`
}

// settle runs a call on the last session, for example "rs.lock()", and
// reports how it settled.
func settle(t *testing.T, tab *browsertest.Tab, call string) settled {
	t.Helper()
	var s settled
	tab.Eval("simTest.settle(() => simTest."+call+")", &s)
	return s
}

// waitFor waits for an event whose payload p satisfies the JavaScript
// condition, and decodes the payload into out.
func waitFor(t *testing.T, tab *browsertest.Tab, event, cond string, out any) {
	t.Helper()
	tab.Eval(fmt.Sprintf("simTest.waitFor(%q, (p) => %s)", event, cond), out)
}

// members returns the hook's view of the room.
func members(t *testing.T, tab *browsertest.Tab) []member {
	t.Helper()
	var ms []member
	tab.Eval("__swsim.members()", &ms)
	return ms
}

func byName(t *testing.T, ms []member, name string) member {
	t.Helper()
	for _, m := range ms {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("no member named %q in %+v", name, ms)
	return member{}
}

func TestSimJoinEmitsTheSDKsPayloads(t *testing.T) {
	t.Parallel()
	srv := simServer(t)
	tab := openSim(t, srv, quietOptions)
	room := uniqueRoom(t)

	var before string
	tab.Eval(fmt.Sprintf(`(() => { simTest.create(%q); try { simTest.rs.audioMute; return "" } catch (e) { return e.message } })()`,
		roomToken(t, "Moderator", room, moderatorPermissions)), &before)
	if !strings.Contains(before, "before the room was connected") {
		t.Errorf("reading audioMute before join: got %q, want the SDK's error", before)
	}

	var r joinResult
	tab.Eval("simTest.rs.join().then((res) => ({same: res === simTest.rs, memberId: simTest.rs.memberId, active: simTest.rs.active, permissions: simTest.rs.permissions}))", &r)
	if !r.Same || !r.Active || r.MemberID == "" {
		t.Errorf("join: got %+v, want it to resolve with the active session", r)
	}
	if !slices.Equal(r.Permissions, moderatorPermissions) {
		t.Errorf("permissions: got %q, want the token's", r.Permissions)
	}

	var joined struct {
		MemberID    string `json:"member_id"`
		CallID      string `json:"call_id"`
		RoomSession struct {
			ID            string   `json:"id"`
			RoomID        string   `json:"room_id"`
			Name          string   `json:"name"`
			Locked        bool     `json:"locked"`
			LayoutName    string   `json:"layout_name"`
			HideVideoMute bool     `json:"hide_video_muted"`
			Members       []member `json:"members"`
		} `json:"room_session"`
		Room struct {
			Name    string   `json:"name"`
			Members []member `json:"members"`
		} `json:"room"`
	}
	waitFor(t, tab, "room.joined", "true", &joined)
	rs := joined.RoomSession
	if joined.MemberID != r.MemberID || joined.CallID == "" || rs.ID == "" || rs.RoomID == "" {
		t.Errorf("room.joined ids: got %+v, want member_id %s and the room's ids", joined, r.MemberID)
	}
	if rs.Name != room || joined.Room.Name != room || rs.LayoutName != "grid-responsive" || rs.Locked {
		t.Errorf("room.joined room: got %+v", rs)
	}
	var names []string
	for _, m := range rs.Members {
		names = append(names, m.Name)
		if m.Type != "member" || m.RoomID != rs.RoomID || m.RoomSessionID != rs.ID || m.ParentID != nil {
			t.Errorf("room.joined member: got %+v", m)
		}
	}
	if want := []string{"Ada Lovelace", "Grace Hopper", "Alan Turing", "Moderator"}; !slices.Equal(names, want) {
		t.Errorf("room.joined members: got %q, want %q", names, want)
	}
	if len(joined.Room.Members) != 4 {
		t.Errorf("room.joined room.members: got %d, want 4", len(joined.Room.Members))
	}

	var order []string
	tab.Eval(`simTest.events.map((e) => e.name)`, &order)
	if want := []string{"room.subscribed", "room.joined", "memberList.updated", "layout.changed"}; !slices.Equal(order, want) {
		t.Errorf("events of a join: got %q, want %q", order, want)
	}
	var layout struct {
		RoomSessionID string `json:"room_session_id"`
		Layout        struct {
			Name   string `json:"name"`
			Layers []struct {
				MemberID string `json:"member_id"`
				Position string `json:"position"`
			} `json:"layers"`
		} `json:"layout"`
	}
	waitFor(t, tab, "layout.changed", "true", &layout)
	if layout.RoomSessionID != rs.ID || layout.Layout.Name != "grid-responsive" || len(layout.Layout.Layers) != 4 {
		t.Errorf("layout.changed: got %+v", layout)
	}

	// The stage: a tile per member, and the fake camera in our own tile.
	tab.WaitCount("#root [data-swsim-member]", 4)
	tab.WaitVisible("#root [data-swsim-self] video")
	tab.WaitJS(`document.querySelector("#root [data-swsim-self] video").videoWidth > 0`)

	var calls []SwsimCall
	tab.Eval("__swsim.calls()", &calls)
	if len(calls) != 1 || calls[0].Method != "join" {
		t.Errorf("calls: got %+v, want one join", calls)
	}
}

// SwsimCall mirrors the hook's record of a call.
type SwsimCall struct {
	Method string            `json:"method"`
	Args   []json.RawMessage `json:"args"`
}

func TestSimMemberMethodsChangeTheMemberAndEmitUpdates(t *testing.T) {
	t.Parallel()
	srv := simServer(t)
	tab := openSim(t, srv, quietOptions)
	self := join(t, tab, roomToken(t, "Moderator", uniqueRoom(t), moderatorPermissions))
	ada := byName(t, members(t, tab), "Ada Lovelace").ID

	tests := []struct {
		name    string
		call    string
		target  string
		updated []string
		check   func(m member) bool
	}{
		{"audioMute mutes another member", `rs.audioMute({memberId: "ADA"})`, ada, []string{"audio_muted"}, func(m member) bool { return m.AudioMuted }},
		{"audioUnmute unmutes them", `rs.audioUnmute({memberId: "ADA"})`, ada, []string{"audio_muted"}, func(m member) bool { return !m.AudioMuted }},
		{"videoMute also hides them", `rs.videoMute({memberId: "ADA"})`, ada, []string{"video_muted", "visible"}, func(m member) bool { return m.VideoMuted && !m.Visible }},
		{"videoUnmute shows them again", `rs.videoUnmute({memberId: "ADA"})`, ada, []string{"video_muted", "visible"}, func(m member) bool { return !m.VideoMuted && m.Visible }},
		{"deaf also mutes the microphone", `rs.deaf({memberId: "ADA"})`, ada, []string{"deaf", "audio_muted"}, func(m member) bool { return m.Deaf && m.AudioMuted }},
		{"undeaf unmutes it", `rs.undeaf({memberId: "ADA"})`, ada, []string{"deaf", "audio_muted"}, func(m member) bool { return !m.Deaf && !m.AudioMuted }},
		{"setInputVolume sets the volume", `rs.setInputVolume({memberId: "ADA", volume: -12})`, ada, []string{"input_volume"}, func(m member) bool { return m.InputVolume == -12 }},
		{"setOutputVolume sets the speaker volume", `rs.setOutputVolume({memberId: "ADA", volume: 7})`, ada, []string{"output_volume"}, func(m member) bool { return m.OutputVolume == 7 }},
		{"setInputSensitivity sets the sensitivity", `rs.setInputSensitivity({memberId: "ADA", value: 80})`, ada, []string{"input_sensitivity"}, func(m member) bool { return m.InputSensitivity == 80 }},
		{"setRaisedHand raises a hand", `rs.setRaisedHand({memberId: "ADA", raised: true})`, ada, []string{"handraised"}, func(m member) bool { return m.Handraised }},
		{"setRaisedHand lowers it", `rs.setRaisedHand({memberId: "ADA", raised: false})`, ada, []string{"handraised"}, func(m member) bool { return !m.Handraised }},
		{"setMemberMeta replaces the meta", `rs.setMemberMeta({memberId: "ADA", meta: {role: "speaker"}})`, ada, []string{"meta"}, func(m member) bool { return m.Meta["role"] == "speaker" }},
		{"audioMute without memberId mutes oneself", `rs.audioMute()`, self.MemberID, []string{"audio_muted"}, func(m member) bool { return m.AudioMuted }},
		{"videoMute without memberId stops one's camera", `rs.videoMute()`, self.MemberID, []string{"video_muted", "visible"}, func(m member) bool { return m.VideoMuted }},
		{"setRaisedHand without memberId raises one's own hand", `rs.setRaisedHand()`, self.MemberID, []string{"handraised"}, func(m member) bool { return m.Handraised }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab.Eval("simTest.clear(); __swsim.clearCalls()", nil)
			s := settle(t, tab, strings.ReplaceAll(tt.call, "ADA", ada))
			if !s.OK {
				t.Fatalf("%s: got error %+v, want success", tt.call, s.Error)
			}
			var ev memberEvent
			waitFor(t, tab, "member.updated", fmt.Sprintf("p.member.id === %q", tt.target), &ev)
			if !slices.Equal(ev.Member.Updated, tt.updated) {
				t.Errorf("updated: got %q, want %q", ev.Member.Updated, tt.updated)
			}
			if !tt.check(ev.Member) || ev.RoomID != self.RoomID || ev.RoomSessionID != self.RoomSessionID {
				t.Errorf("member.updated: got %+v", ev)
			}
			for _, field := range tt.updated {
				var n int
				tab.Eval(fmt.Sprintf(`simTest.named("member.updated.%s").length`, field), &n)
				if n != 1 {
					t.Errorf("member.updated.%s: got %d events, want 1", field, n)
				}
			}
			var camel int
			tab.Eval(`simTest.named("member.updated.audioMuted").length + simTest.named("member.updated.videoMuted").length`, &camel)
			if camel != 0 {
				t.Errorf("got %d camelCase per-field events, want none: the SDK never emits them", camel)
			}
			var list struct{ Members []member }
			waitFor(t, tab, "memberList.updated", "true", &list)
			if len(list.Members) != 4 {
				t.Errorf("memberList.updated: got %d members, want 4", len(list.Members))
			}
			var calls []SwsimCall
			tab.Eval("__swsim.calls()", &calls)
			if method, _, _ := strings.Cut(tt.call, "("); len(calls) != 1 || "rs."+calls[0].Method != method {
				t.Errorf("calls: got %+v, want one %s", calls, method)
			}
		})
	}

	t.Run("a call that changes nothing emits nothing", func(t *testing.T) {
		tab.Eval("simTest.clear()", nil)
		if s := settle(t, tab, "rs.audioMute()"); !s.OK {
			t.Fatalf("got %+v", s.Error)
		}
		tab.Eval("new Promise((r) => setTimeout(r, 100))", nil)
		var n int
		tab.Eval(`simTest.named("member.updated").length`, &n)
		if n != 0 {
			t.Errorf("got %d member.updated, want 0", n)
		}
	})

	t.Run("the camera stops while video is muted", func(t *testing.T) {
		tab.WaitCount("#root [data-swsim-self] video", 0)
		if s := settle(t, tab, "rs.videoUnmute()"); !s.OK {
			t.Fatalf("got %+v", s.Error)
		}
		tab.WaitVisible("#root [data-swsim-self] video")
	})

	t.Run("getMembers resolves with snake_case members", func(t *testing.T) {
		s := settle(t, tab, "rs.getMembers()")
		var got struct{ Members []map[string]any }
		if err := json.Unmarshal(s.Value, &got); err != nil || !s.OK {
			t.Fatalf("got %s, %+v, %v", s.Value, s.Error, err)
		}
		if len(got.Members) != 4 {
			t.Fatalf("got %d members, want 4", len(got.Members))
		}
		for _, key := range []string{"id", "name", "type", "audio_muted", "video_muted", "handraised", "room_session_id"} {
			if _, ok := got.Members[0][key]; !ok {
				t.Errorf("member has no %s: %v", key, got.Members[0])
			}
		}
	})
}

func TestSimRoomMethods(t *testing.T) {
	t.Parallel()
	srv := simServer(t)
	tab := openSim(t, srv, quietOptions)
	self := join(t, tab, roomToken(t, "Moderator", uniqueRoom(t), moderatorPermissions))

	type roomUpdated struct {
		RoomSessionID string `json:"room_session_id"`
		RoomSession   struct {
			ID             string         `json:"id"`
			Locked         bool           `json:"locked"`
			HideVideoMuted bool           `json:"hide_video_muted"`
			Recording      bool           `json:"recording"`
			Meta           map[string]any `json:"meta"`
			Updated        []string       `json:"updated"`
		} `json:"room_session"`
		Room struct {
			Recording bool `json:"recording"`
		} `json:"room"`
	}

	t.Run("getLayouts lists the layouts", func(t *testing.T) {
		s := settle(t, tab, "rs.getLayouts()")
		var got struct{ Layouts []string }
		_ = json.Unmarshal(s.Value, &got)
		for _, want := range []string{"grid-responsive", "highlight-1-responsive", "1x1", "2x2", "3x3"} {
			if !slices.Contains(got.Layouts, want) {
				t.Errorf("got %q, want it to contain %s", got.Layouts, want)
			}
		}
	})

	t.Run("setLayout changes the layout", func(t *testing.T) {
		tab.Eval("simTest.clear()", nil)
		if s := settle(t, tab, `rs.setLayout({name: "2x2"})`); !s.OK {
			t.Fatalf("got %+v", s.Error)
		}
		var ev struct {
			Layout struct {
				Name   string `json:"name"`
				Layers []any  `json:"layers"`
			} `json:"layout"`
		}
		waitFor(t, tab, "layout.changed", `p.layout.name === "2x2"`, &ev)
		if len(ev.Layout.Layers) != 4 {
			t.Errorf("layers: got %d, want 4", len(ev.Layout.Layers))
		}
	})

	t.Run("setLayout refuses an unknown layout", func(t *testing.T) {
		if s := settle(t, tab, `rs.setLayout({name: "9x1"})`); s.OK || s.Error.Code != "400" {
			t.Errorf("got %+v, want a 400", s)
		}
	})

	for _, tt := range []struct {
		name, call, field string
		check             func(roomUpdated) bool
	}{
		{"lock locks the room", "rs.lock()", "locked", func(r roomUpdated) bool { return r.RoomSession.Locked }},
		{"unlock unlocks it", "rs.unlock()", "locked", func(r roomUpdated) bool { return !r.RoomSession.Locked }},
		{"setHideVideoMuted hides muted videos", "rs.setHideVideoMuted(true)", "hide_video_muted", func(r roomUpdated) bool { return r.RoomSession.HideVideoMuted }},
		{"setHideVideoMuted shows them again", "rs.setHideVideoMuted(false)", "hide_video_muted", func(r roomUpdated) bool { return !r.RoomSession.HideVideoMuted }},
		{"setMeta sets the room's meta", `rs.setMeta({topic: "demo"})`, "meta", func(r roomUpdated) bool { return r.RoomSession.Meta["topic"] == "demo" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tab.Eval("simTest.clear()", nil)
			if s := settle(t, tab, tt.call); !s.OK {
				t.Fatalf("got %+v", s.Error)
			}
			var ev roomUpdated
			waitFor(t, tab, "room.updated", "true", &ev)
			if !tt.check(ev) || !slices.Equal(ev.RoomSession.Updated, []string{tt.field}) || ev.RoomSessionID != self.RoomSessionID || ev.RoomSession.ID != self.RoomSessionID {
				t.Errorf("room.updated: got %+v", ev)
			}
		})
	}

	t.Run("startRecording records until stopped", func(t *testing.T) {
		tab.Eval("simTest.clear()", nil)
		var rec struct {
			ID    string `json:"id"`
			State string `json:"state"`
		}
		tab.Eval(`simTest.rs.startRecording().then((r) => { window.rec = r; return {id: r.id, state: r.state} })`, &rec)
		if rec.ID == "" || rec.State != "recording" {
			t.Errorf("startRecording: got %+v", rec)
		}
		var started struct {
			ID            string `json:"id"`
			State         string `json:"state"`
			RoomSessionID string `json:"roomSessionId"`
			StartedAt     string `json:"startedAt"`
		}
		waitFor(t, tab, "recording.started", "true", &started)
		if started.ID != rec.ID || started.State != "recording" || started.RoomSessionID != self.RoomSessionID || started.StartedAt == "" {
			t.Errorf("recording.started: got %+v", started)
		}
		var ru roomUpdated
		waitFor(t, tab, "room.updated", "p.room_session.recording", &ru)
		if !ru.Room.Recording || !slices.Equal(ru.RoomSession.Updated, []string{"recording"}) {
			t.Errorf("room.updated: got %+v", ru)
		}

		tab.Eval("rec.pause()", nil)
		waitFor(t, tab, "recording.updated", `p.state === "paused"`, nil)
		tab.Eval("rec.resume()", nil)
		waitFor(t, tab, "recording.updated", `p.state === "recording"`, nil)
		tab.Eval("rec.stop()", nil)
		var ended struct {
			ID, State string
			EndedAt   string `json:"endedAt"`
		}
		waitFor(t, tab, "recording.ended", "true", &ended)
		if ended.ID != rec.ID || ended.State != "completed" || ended.EndedAt == "" {
			t.Errorf("recording.ended: got %+v", ended)
		}
		waitFor(t, tab, "room.updated", "!p.room_session.recording", nil)
		var state string
		tab.Eval("rec.state", &state)
		if state != "completed" {
			t.Errorf("the returned recording's state: got %q, want completed", state)
		}
		var calls []SwsimCall
		tab.Eval("__swsim.calls()", &calls)
		var methods []string
		for _, c := range calls {
			methods = append(methods, c.Method)
		}
		for _, want := range []string{"startRecording", "recording.pause", "recording.resume", "recording.stop"} {
			if !slices.Contains(methods, want) {
				t.Errorf("calls: got %q, want %s among them", methods, want)
			}
		}
	})

	t.Run("getRecordings lists the recordings in progress", func(t *testing.T) {
		tab.Eval("simTest.rs.startRecording()", nil)
		var ids []string
		tab.Eval(`simTest.rs.getRecordings().then(({recordings}) => recordings.filter((r) => r.state === 'recording').map((r) => r.id))`, &ids)
		if len(ids) != 1 {
			t.Fatalf("recordings in progress: got %q, want one", ids)
		}
		tab.Eval(`simTest.rs.getRecordings().then(({recordings}) => Promise.all(recordings.map((r) => r.stop())))`, nil)
		waitFor(t, tab, "room.updated", "!p.room_session.recording", nil)
		tab.Eval(`simTest.rs.getRecordings().then(({recordings}) => recordings.map((r) => r.id))`, &ids)
		if len(ids) != 0 {
			t.Errorf("recordings after stopping: got %q, want none", ids)
		}
	})
}

func TestSimRemovingMembers(t *testing.T) {
	t.Parallel()
	srv := simServer(t)
	tab := openSim(t, srv, quietOptions)
	self := join(t, tab, roomToken(t, "Moderator", uniqueRoom(t), moderatorPermissions))
	grace := byName(t, members(t, tab), "Grace Hopper")

	tab.Eval("simTest.clear()", nil)
	if s := settle(t, tab, fmt.Sprintf("rs.removeMember({memberId: %q})", grace.ID)); !s.OK {
		t.Fatalf("removeMember: got %+v", s.Error)
	}
	var left memberEvent
	waitFor(t, tab, "member.left", "true", &left)
	if left.Member.ID != grace.ID || left.Member.Name != "Grace Hopper" || left.RoomSessionID != self.RoomSessionID {
		t.Errorf("member.left: got %+v", left)
	}
	tab.WaitCount("#root [data-swsim-member]", 3)
	if got := len(members(t, tab)); got != 3 {
		t.Errorf("members: got %d, want 3", got)
	}

	var thrown string
	tab.Eval(`(() => { try { simTest.rs.removeMember({}); return "" } catch (e) { return e.name + ": " + e.message } })()`, &thrown)
	if thrown != `TypeError: Invalid or missing "memberId" argument` {
		t.Errorf("removeMember without memberId: got %q, want the SDK's TypeError, thrown at once", thrown)
	}
	if s := settle(t, tab, `rs.removeMember({memberId: "nobody"})`); s.OK || s.Error.Code != "404" || s.Error.JSONRPC.Code != "404" {
		t.Errorf("removeMember of nobody: got %+v, want a 404", s)
	}
	if s := settle(t, tab, `rs.audioMute({memberId: "nobody"})`); s.OK || s.Error.Code != "404" {
		t.Errorf("audioMute of nobody: got %+v, want a 404", s)
	}

	tab.Eval("simTest.clear()", nil)
	if s := settle(t, tab, "rs.removeAllMembers()"); !s.OK {
		t.Fatalf("removeAllMembers: got %+v", s.Error)
	}
	waitFor(t, tab, "room.left", "true", nil)
	tab.WaitCount("#root [data-swsim-stage]", 0)
	var after string
	tab.Eval(`(() => { try { simTest.rs.lock; return "" } catch (e) { return e.message } })()`, &after)
	if !strings.Contains(after, "before the room was connected") {
		t.Errorf("reading lock after the session ended: got %q, want the SDK's error", after)
	}
}

func TestSimLeave(t *testing.T) {
	t.Parallel()
	srv := simServer(t)
	tab := openSim(t, srv, quietOptions)
	join(t, tab, roomToken(t, "Moderator", uniqueRoom(t), moderatorPermissions))
	tab.Eval("simTest.clear()", nil)
	if s := settle(t, tab, "rs.leave()"); !s.OK {
		t.Fatalf("leave: got %+v", s.Error)
	}
	var left struct {
		Reason *string `json:"reason"`
	}
	waitFor(t, tab, "room.left", "true", &left)
	if left.Reason != nil {
		t.Errorf("room.left: got reason %q, want none", *left.Reason)
	}
	tab.WaitCount("#root *", 0)
	var active bool
	tab.Eval("simTest.rs.active", &active)
	if active {
		t.Error("active after leave: got true")
	}
}

func TestSimRefusesWhatTheTokenDoesNotAllow(t *testing.T) {
	t.Parallel()
	srv := simServer(t)
	tab := openSim(t, srv, quietOptions)
	self := join(t, tab, roomToken(t, "Guest", uniqueRoom(t), guestPermissions))
	ada := byName(t, members(t, tab), "Ada Lovelace")
	tab.Eval("simTest.clear()", nil)

	for _, call := range []string{
		fmt.Sprintf("rs.audioMute({memberId: %q})", ada.ID),
		fmt.Sprintf("rs.videoMute({memberId: %q})", ada.ID),
		fmt.Sprintf("rs.setRaisedHand({memberId: %q, raised: true})", ada.ID),
		fmt.Sprintf("rs.removeMember({memberId: %q})", ada.ID),
		"rs.removeAllMembers()",
		`rs.setLayout({name: "2x2"})`,
		"rs.getLayouts()",
		"rs.lock()",
		"rs.setHideVideoMuted(true)",
		"rs.startRecording()",
		"rs.deaf()",
		"rs.startScreenShare()",
	} {
		s := settle(t, tab, call)
		if s.OK || s.Error.Code != "403" || s.Error.JSONRPC.Code != "403" || s.Error.Message == "" {
			t.Errorf("%s with a guest token: got %+v, want a 403 rejection", call, s)
		}
	}
	if got := byName(t, members(t, tab), "Ada Lovelace"); got.AudioMuted || got.VideoMuted || got.Handraised {
		t.Errorf("Ada after refused calls: got %+v, want her unchanged", got)
	}
	if got := len(members(t, tab)); got != 4 {
		t.Errorf("members after refused calls: got %d, want 4", got)
	}
	tab.Eval("new Promise((r) => setTimeout(r, 100))", nil)
	var n int
	tab.Eval("simTest.events.length", &n)
	if n != 0 {
		t.Errorf("events after refused calls: got %d, want none", n)
	}

	if s := settle(t, tab, "rs.audioMute()"); !s.OK {
		t.Errorf("a guest muting themselves: got %+v, want success", s.Error)
	}
	waitFor(t, tab, "member.updated", fmt.Sprintf("p.member.id === %q && p.member.audio_muted", self.MemberID), nil)
}

func TestSimRejectNext(t *testing.T) {
	t.Parallel()
	srv := simServer(t)
	tab := openSim(t, srv, quietOptions)
	join(t, tab, roomToken(t, "Moderator", uniqueRoom(t), moderatorPermissions))
	ada := byName(t, members(t, tab), "Ada Lovelace")
	call := fmt.Sprintf("rs.audioMute({memberId: %q})", ada.ID)

	tab.Eval(`__swsim.rejectNext("audioMute", {code: "500", message: "boom"})`, nil)
	if s := settle(t, tab, call); s.OK || s.Error.Code != "500" || s.Error.Message != "boom" {
		t.Errorf("the rejected call: got %+v, want the injected error", s)
	}
	if byName(t, members(t, tab), "Ada Lovelace").AudioMuted {
		t.Error("the rejected call muted Ada")
	}
	tab.Eval(`__swsim.rejectNext("lock")`, nil)
	if s := settle(t, tab, "rs.lock()"); s.OK || s.Error.Code != "403" || s.Error.JSONRPC.Code != "403" {
		t.Errorf("rejectNext without an error: got %+v, want the SDK's 403", s)
	}
	if s := settle(t, tab, call); !s.OK {
		t.Errorf("the next call: got %+v, want success", s.Error)
	}
	var calls []SwsimCall
	tab.Eval("__swsim.calls()", &calls)
	if len(calls) != 4 || calls[1].Method != "audioMute" || calls[2].Method != "lock" {
		t.Errorf("calls: got %+v, want the refused calls recorded too", calls)
	}
}

func TestSimMembersActUntilTheTimerStops(t *testing.T) {
	t.Parallel()
	srv := simServer(t)
	tab := openSim(t, srv, `{tickMs: 40, latencyMs: 5}`)
	join(t, tab, roomToken(t, "Moderator", uniqueRoom(t), moderatorPermissions))
	activity := `simTest.events.filter((e) => e.name === "member.talking" || e.name === "member.updated" || e.name === "member.joined").length`
	tab.WaitJS(activity + " >= 3")

	tab.Eval("__swsim.stopTimer()", nil)
	// A talking burst that began before the stop may still end.
	tab.Eval("new Promise((r) => setTimeout(r, 1600))", nil)
	var before, after int
	tab.Eval(activity, &before)
	tab.Eval("new Promise((r) => setTimeout(r, 400))", nil)
	tab.Eval(activity, &after)
	if after != before {
		t.Errorf("events after stopTimer: got %d more, want none", after-before)
	}

	tab.Eval("__swsim.startTimer()", nil)
	tab.WaitJS(fmt.Sprintf("%s > %d", activity, after))

	var talking memberEvent
	waitFor(t, tab, "member.talking", "true", &talking)
	if talking.Member.ID == "" || talking.RoomSessionID == "" {
		t.Errorf("member.talking: got %+v", talking)
	}
}

func TestSimHook(t *testing.T) {
	t.Parallel()
	srv := simServer(t)
	tab := openSim(t, srv, `{autoplay: false, latencyMs: 5, members: [{name: "Only Bot", handraised: true}]}`)
	join(t, tab, roomToken(t, "Moderator", uniqueRoom(t), moderatorPermissions))
	ms := members(t, tab)
	if len(ms) != 2 || !byName(t, ms, "Only Bot").Handraised {
		t.Fatalf("members from options: got %+v", ms)
	}

	tab.Eval("simTest.clear()", nil)
	var added member
	tab.Eval(`__swsim.addMember({name: "New Bot", audio_muted: true})`, &added)
	if added.ID == "" || !added.AudioMuted || added.Type != "member" {
		t.Errorf("addMember: got %+v", added)
	}
	var joined memberEvent
	waitFor(t, tab, "member.joined", "true", &joined)
	if joined.Member.ID != added.ID || joined.Member.Name != "New Bot" || joined.RoomID == "" {
		t.Errorf("member.joined: got %+v", joined)
	}

	var updated member
	tab.Eval(fmt.Sprintf(`__swsim.updateMember(%q, {talking: false, video_muted: true})`, added.ID), &updated)
	if !updated.VideoMuted {
		t.Errorf("updateMember: got %+v", updated)
	}
	var ev memberEvent
	waitFor(t, tab, "member.updated", "true", &ev)
	if !slices.Equal(ev.Member.Updated, []string{"video_muted"}) {
		t.Errorf("member.updated: got updated %q, want only the field that changed", ev.Member.Updated)
	}
	waitFor(t, tab, "member.updated.video_muted", "true", nil)

	// Talking has events of its own, in the SDK's order.
	tab.Eval("simTest.clear()", nil)
	tab.Eval(fmt.Sprintf(`__swsim.updateMember(%q, {talking: true})`, added.ID), nil)
	var talking memberEvent
	waitFor(t, tab, "member.talking", "true", &talking)
	if talking.Member.ID != added.ID || !talking.Member.Talking || talking.RoomSessionID == "" {
		t.Errorf("member.talking: got %+v", talking)
	}
	tab.Eval(fmt.Sprintf(`__swsim.updateMember(%q, {talking: false})`, added.ID), nil)
	waitFor(t, tab, "member.talking", "!p.member.talking", nil)
	var order []string
	tab.Eval(`simTest.events.map((e) => e.name)`, &order)
	if want := []string{"member.talking.started", "member.talking.start", "member.talking", "member.talking.ended", "member.talking.stop", "member.talking"}; !slices.Equal(order, want) {
		t.Errorf("talking events: got %q, want %q", order, want)
	}
	tab.WaitCount(`#root [data-swsim-member]`, 3)

	tab.Eval(fmt.Sprintf(`__swsim.removeMember(%q)`, added.ID), nil)
	waitFor(t, tab, "member.left", fmt.Sprintf("p.member.id === %q", added.ID), nil)

	tab.Eval(`__swsim.emit("member.talking", {member: {id: "x", talking: true}})`, nil)
	waitFor(t, tab, "member.talking", `p.member.id === "x"`, nil)

	var same bool
	tab.Eval("__swsim.session() === simTest.rs", &same)
	if !same {
		t.Error("session(): got another object than the session")
	}
	tab.Eval("__swsim.clearCalls()", nil)
	var n int
	tab.Eval("__swsim.calls().length", &n)
	if n != 0 {
		t.Errorf("calls after clearCalls: got %d", n)
	}
}

func TestSimOwnMedia(t *testing.T) {
	t.Parallel()
	srv := simServer(t)
	tab := openSim(t, srv, quietOptions)
	join(t, tab, roomToken(t, "Moderator", uniqueRoom(t), moderatorPermissions))
	tab.WaitVisible("#root [data-swsim-self] video")
	var cameraID string
	tab.Eval(`SignalWire.WebRTC.getCameraDevices().then((ds) => ds[0].deviceId)`, &cameraID)
	tab.Eval("__swsim.clearCalls()", nil)
	for _, call := range []string{
		fmt.Sprintf("rs.updateCamera({deviceId: %q})", cameraID),
		`rs.updateMicrophone({deviceId: "default"})`,
		`rs.updateSpeaker({deviceId: "default"})`,
	} {
		if s := settle(t, tab, call); !s.OK {
			t.Errorf("%s: got %+v", call, s.Error)
		}
	}
	tab.WaitVisible("#root [data-swsim-self] video")
	var calls []SwsimCall
	tab.Eval("__swsim.calls()", &calls)
	var methods []string
	for _, c := range calls {
		methods = append(methods, c.Method)
	}
	if want := []string{"updateCamera", "updateMicrophone", "updateSpeaker"}; !slices.Equal(methods, want) {
		t.Errorf("calls: got %q, want %q", methods, want)
	}
	if len(calls) > 0 && !strings.Contains(string(calls[0].Args[0]), cameraID) {
		t.Errorf("updateCamera args: got %s, want the device id", calls[0].Args[0])
	}
}

func TestSimScreenShare(t *testing.T) {
	t.Parallel()
	srv := simServer(t)
	tab := openSim(t, srv, quietOptions)
	self := join(t, tab, roomToken(t, "Moderator", uniqueRoom(t), moderatorPermissions))
	tab.Eval("simTest.clear()", nil)
	var shareID string
	tab.Eval(`simTest.rs.startScreenShare().then((s) => { window.share = s; s.on("room.left", () => { window.shareLeft = true }); return s.memberId })`, &shareID)
	var joined memberEvent
	waitFor(t, tab, "member.joined", `p.member.type === "screen"`, &joined)
	if joined.Member.ID != shareID || joined.Member.ParentID == nil || *joined.Member.ParentID != self.MemberID {
		t.Errorf("member.joined of the screen: got %+v, want parent %s", joined.Member, self.MemberID)
	}
	tab.WaitCount(`#root [data-swsim-type="screen"]`, 1)
	tab.Eval("share.leave()", nil)
	waitFor(t, tab, "member.left", fmt.Sprintf("p.member.id === %q", shareID), nil)
	tab.WaitJS("window.shareLeft === true")
}

func TestSimWebRTCListsTheFakeDevices(t *testing.T) {
	t.Parallel()
	srv := simServer(t)
	tab := openSim(t, srv, quietOptions)
	for fn, kind := range map[string]string{
		"getCameraDevices":                    "videoinput",
		"getCameraDevicesWithPermissions":     "videoinput",
		"getMicrophoneDevices":                "audioinput",
		"getMicrophoneDevicesWithPermissions": "audioinput",
	} {
		var devices []struct {
			DeviceID string `json:"deviceId"`
			Kind     string `json:"kind"`
			Label    string `json:"label"`
		}
		// MediaDeviceInfo keeps its fields on the prototype; toJSON copies them.
		tab.Eval("SignalWire.WebRTC."+fn+"().then((ds) => ds.map((d) => d.toJSON()))", &devices)
		if len(devices) == 0 {
			t.Errorf("%s: got no devices", fn)
		}
		for _, d := range devices {
			if d.Kind != kind || d.DeviceID == "" || d.Label == "" {
				t.Errorf("%s: got %+v, want a labelled %s", fn, d, kind)
			}
		}
	}
	var speakers []struct{ Kind string }
	tab.Eval("SignalWire.WebRTC.getSpeakerDevices().then((ds) => ds.map((d) => d.toJSON()))", &speakers)
	for _, d := range speakers {
		if d.Kind != "audiooutput" {
			t.Errorf("getSpeakerDevices: got %+v", d)
		}
	}
}

func TestSimRejectsABadToken(t *testing.T) {
	t.Parallel()
	srv := simServer(t)
	tab := openSim(t, srv, quietOptions)
	var s struct {
		OK    bool
		Error struct {
			Name string
			Code int
		}
	}
	tab.Eval(`simTest.settle(() => simTest.sessions[simTest.create("not-a-token")].join())`, &s)
	if s.OK || s.Error.Name != "AuthError" || s.Error.Code != -32002 {
		t.Errorf("join with a bad token: got %+v, want an AuthError", s)
	}
}

// TestSimTabsShareARoom drives a moderator tab and a guest tab of one
// browser: each sees the other, and changes made by one reach the other.
func TestSimTabsShareARoom(t *testing.T) {
	t.Parallel()
	srv := simServer(t)
	room := uniqueRoom(t)
	opts := `{autoplay: false, latencyMs: 5, members: [{name: "Shared Bot"}]}`
	mod := openSim(t, srv, opts)
	guest := openSim(t, srv, opts)
	modJoin := join(t, mod, roomToken(t, "Moderator", room, moderatorPermissions))
	guestJoin := join(t, guest, roomToken(t, "Guest", room, guestPermissions))

	var joined struct {
		RoomSession struct {
			ID      string   `json:"id"`
			Members []member `json:"members"`
		} `json:"room_session"`
	}
	waitFor(t, guest, "room.joined", "true", &joined)
	var names []string
	for _, m := range joined.RoomSession.Members {
		names = append(names, m.Name)
	}
	if want := []string{"Shared Bot", "Moderator", "Guest"}; !slices.Equal(names, want) {
		t.Errorf("the guest's room.joined members: got %q, want %q", names, want)
	}
	if joined.RoomSession.ID != modJoin.RoomSessionID || guestJoin.RoomID != modJoin.RoomID {
		t.Errorf("the guest joined another session: got %s, want %s", joined.RoomSession.ID, modJoin.RoomSessionID)
	}
	var guestJoined memberEvent
	waitFor(t, mod, "member.joined", `p.member.name === "Guest"`, &guestJoined)
	if guestJoined.Member.ID != guestJoin.MemberID {
		t.Errorf("the moderator saw member %s join, want %s", guestJoined.Member.ID, guestJoin.MemberID)
	}
	mod.WaitCount("#root [data-swsim-member]", 3)
	guest.WaitCount("#root [data-swsim-member]", 3)

	t.Run("the moderator mutes the guest", func(t *testing.T) {
		if s := settle(t, mod, fmt.Sprintf("rs.audioMute({memberId: %q})", guestJoin.MemberID)); !s.OK {
			t.Fatalf("got %+v", s.Error)
		}
		waitFor(t, guest, "member.updated.audio_muted", fmt.Sprintf("p.member.id === %q && p.member.audio_muted", guestJoin.MemberID), nil)
		waitFor(t, mod, "member.updated", fmt.Sprintf("p.member.id === %q && p.member.audio_muted", guestJoin.MemberID), nil)
	})
	t.Run("the guest unmutes themselves", func(t *testing.T) {
		if s := settle(t, guest, "rs.audioUnmute()"); !s.OK {
			t.Fatalf("got %+v", s.Error)
		}
		waitFor(t, mod, "member.updated", fmt.Sprintf("p.member.id === %q && !p.member.audio_muted", guestJoin.MemberID), nil)
	})
	t.Run("the guest cannot mute the moderator", func(t *testing.T) {
		if s := settle(t, guest, fmt.Sprintf("rs.audioMute({memberId: %q})", modJoin.MemberID)); s.OK || s.Error.Code != "403" {
			t.Errorf("got %+v, want a 403", s)
		}
	})
	t.Run("layout, lock and recording reach the guest", func(t *testing.T) {
		settle(t, mod, `rs.setLayout({name: "3x3"})`)
		waitFor(t, guest, "layout.changed", `p.layout.name === "3x3"`, nil)
		settle(t, mod, "rs.lock()")
		waitFor(t, guest, "room.updated", "p.room_session.locked", nil)
		mod.Eval("simTest.rs.startRecording().then((r) => { window.rec = r })", nil)
		waitFor(t, guest, "recording.started", `p.state === "recording"`, nil)
		mod.Eval("rec.stop()", nil)
		waitFor(t, guest, "recording.ended", `p.state === "completed"`, nil)
	})
	t.Run("the hook of either tab changes the shared room", func(t *testing.T) {
		bot := byName(t, members(t, guest), "Shared Bot")
		guest.Eval(fmt.Sprintf(`__swsim.updateMember(%q, {handraised: true})`, bot.ID), nil)
		waitFor(t, mod, "member.updated.handraised", fmt.Sprintf("p.member.id === %q", bot.ID), nil)
	})
	t.Run("the moderator removes the guest", func(t *testing.T) {
		settle(t, mod, fmt.Sprintf("rs.removeMember({memberId: %q})", guestJoin.MemberID))
		waitFor(t, guest, "room.left", "true", nil)
		waitFor(t, mod, "member.left", fmt.Sprintf("p.member.id === %q", guestJoin.MemberID), nil)
		guest.WaitCount("#root [data-swsim-stage]", 0)
	})
	t.Run("a new guest session rejoins, the moderator leaves, and the room goes on", func(t *testing.T) {
		again := join(t, guest, roomToken(t, "Guest", room, guestPermissions))
		waitFor(t, mod, "member.joined", fmt.Sprintf("p.member.id === %q", again.MemberID), nil)
		settle(t, mod, "rs.leave()")
		waitFor(t, guest, "member.left", fmt.Sprintf("p.member.id === %q", modJoin.MemberID), nil)
		// The guest's node is the host now: the shared bot is still there
		// and changes still work.
		bot := byName(t, members(t, guest), "Shared Bot")
		guest.Eval(fmt.Sprintf(`__swsim.updateMember(%q, {audio_muted: true})`, bot.ID), nil)
		waitFor(t, guest, "member.updated", fmt.Sprintf("p.member.id === %q && p.member.audio_muted", bot.ID), nil)
	})
	t.Run("closing the host's tab hands the room over", func(t *testing.T) {
		third := openSim(t, srv, opts)
		late := join(t, third, roomToken(t, "Late", room, guestPermissions))
		waitFor(t, guest, "member.joined", fmt.Sprintf("p.member.id === %q", late.MemberID), nil)
		// The guest's session is the host since the moderator left.
		guest.Navigate("about:blank")
		var left memberEvent
		waitFor(t, third, "member.left", `p.member.name === "Guest"`, &left)
		bot := byName(t, members(t, third), "Shared Bot")
		start := time.Now()
		third.Eval(fmt.Sprintf(`__swsim.updateMember(%q, {handraised: !%t})`, bot.ID, bot.Handraised), nil)
		waitFor(t, third, "member.updated.handraised", fmt.Sprintf("p.member.id === %q", bot.ID), nil)
		if d := time.Since(start); d > time.Second {
			t.Errorf("the change took %v: the new host did not take over at once", d)
		}
		guest.Navigate(srv.URL + "/testdata/sim.html")
		join(t, guest, roomToken(t, "Guest", room, guestPermissions))
		third.Navigate("about:blank")
		waitFor(t, guest, "member.left", `p.member.name === "Late"`, nil)
	})
	t.Run("removeAllMembers ends the session in every tab", func(t *testing.T) {
		mod.Eval("simTest.clear()", nil)
		moderator := join(t, mod, roomToken(t, "Moderator", room, moderatorPermissions))
		waitFor(t, guest, "member.joined", fmt.Sprintf("p.member.id === %q", moderator.MemberID), nil)
		guest.Eval("simTest.clear()", nil)
		if s := settle(t, mod, "rs.removeAllMembers()"); !s.OK {
			t.Fatalf("got %+v", s.Error)
		}
		waitFor(t, mod, "room.left", "true", nil)
		waitFor(t, guest, "room.left", "true", nil)
	})
}

// TestSimTabsThatOpenARoomTogetherAgree covers two tabs that both find no
// host and create the room: the older claim wins and the other tab moves in.
func TestSimTabsThatOpenARoomTogetherAgree(t *testing.T) {
	t.Parallel()
	srv := simServer(t)
	room := uniqueRoom(t)
	opts := `{autoplay: false, latencyMs: 5, members: [{name: "Bot"}]}`
	a, b := openSim(t, srv, opts), openSim(t, srv, opts)
	// Start both joins without waiting, so that both discover at once.
	a.Eval(fmt.Sprintf("window.joining = simTest.join(%q); 0", roomToken(t, "A", room, guestPermissions)), nil)
	b.Eval(fmt.Sprintf("window.joining = simTest.join(%q); 0", roomToken(t, "B", room, guestPermissions)), nil)
	var ja, jb joinResult
	a.Eval("window.joining", &ja)
	b.Eval("window.joining", &jb)
	for _, tab := range []*browsertest.Tab{a, b} {
		tab.WaitJS(`__swsim.members().map((m) => m.name).sort().join() === "A,B,Bot"`)
	}
	ma, mb := members(t, a), members(t, b)
	if ma[0].RoomSessionID != mb[0].RoomSessionID {
		t.Errorf("the tabs ended in different sessions: %s and %s", ma[0].RoomSessionID, mb[0].RoomSessionID)
	}
	// Changes still flow both ways.
	settle(t, a, "rs.audioMute()")
	waitFor(t, b, "member.updated", fmt.Sprintf("p.member.id === %q && p.member.audio_muted", ja.MemberID), nil)
	settle(t, b, "rs.audioMute()")
	waitFor(t, a, "member.updated", fmt.Sprintf("p.member.id === %q && p.member.audio_muted", jb.MemberID), nil)
}
