package swtest_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/swrooms/swrooms/internal/browsertest"
	"github.com/swrooms/swrooms/signalwire/swtest"
)

func TestMain(m *testing.M) { browsertest.Main(m) }

// sdkBundle is the vendored SDK, the only one the app ships.
var sdkBundle = filepath.Join("..", "..", "public", "vendor", "signalwire-js-3.30.0.umd.js")

// joinPage is the smallest page that joins a room the way the island does:
// a root element and the vendored UMD bundle. The test drives it with Eval.
const joinPage = `<!doctype html><meta charset="utf-8"><title>relay</title>
<div id="root" style="width:640px;height:360px"></div>
<script src="/vendor/signalwire.js"></script>`

// recordPeers keeps every RTCPeerConnection the page makes, so the test
// can read its state and tell remote tracks from the local camera.
const recordPeers = `window.__pcs = [];
window.RTCPeerConnection = class extends RTCPeerConnection {
  constructor(...a) { super(...a); window.__pcs.push(this) }
};`

// TestRealSDKJoinsTheRelay proves that the real @signalwire/js 3.30.0, in
// Chromium, joins the relay with a token of the fake's REST API: join()
// resolves with room.joined, Go-side members show up in its events, the
// WebRTC connection to pion connects, and the room's video element plays
// frames that came back from the relay.
func TestRealSDKJoinsTheRelay(t *testing.T) {
	f, api := relayServer(t)
	send(t, api, "POST", "/rooms", `{"name":"Browser_Room"}`)
	tok := roomToken(t, api, tokenBody("Browser_Room", "Ada", moderator, `"auto_create_room":false`))

	mux := http.NewServeMux()
	mux.HandleFunc("/favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/vendor/signalwire.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		http.ServeFile(w, r, sdkBundle)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(joinPage))
	})
	page := httptest.NewServer(mux)
	t.Cleanup(page.Close)

	tab := browsertest.NewTab(t)
	tab.InitScript(recordPeers)
	tab.Navigate(page.URL + "/")
	var joined struct {
		MemberID string `json:"memberId"`
		Members  []struct {
			ID, Name string
		} `json:"members"`
	}
	tab.Eval(`(async () => {
  window.events = [];
  const rs = new SignalWire.Video.RoomSession({token: `+strconv.Quote(tok)+`, rootElement: document.getElementById('root')});
  window.rs = rs;
  for (const name of ['room.joined', 'member.joined', 'member.updated', 'member.left', 'member.talking']) {
    rs.on(name, (e) => window.events.push({name, e: JSON.parse(JSON.stringify(e))}));
  }
  await rs.join({audio: true, video: true});
  const j = window.events.find((x) => x.name === 'room.joined');
  return {memberId: j.e.member_id, members: j.e.room_session.members};
})()`, &joined)
	if len(joined.Members) != 1 || joined.Members[0].Name != "Ada" || joined.Members[0].ID != joined.MemberID {
		t.Fatalf("room.joined = %+v", joined)
	}
	if got := f.RoomMembers("Browser_Room"); len(got) != 1 || got[0].ID != joined.MemberID {
		t.Errorf("RoomMembers = %+v", got)
	}

	// Members without browsers reach the page as SDK events.
	ids, err := f.AddMembers("Browser_Room", swtest.MemberSpec{Name: "Grace"})
	if err != nil {
		t.Fatal(err)
	}
	tab.WaitJS(`window.events.some((x) => x.name === 'member.joined' && x.e.member.name === 'Grace')`)
	if err := f.UpdateMember("Browser_Room", ids[0], swtest.MemberChange{AudioMuted: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	tab.WaitJS(`window.events.some((x) => x.name === 'member.updated' && x.e.member.id === ` + strconv.Quote(ids[0]) +
		` && x.e.member.audio_muted === true && (x.e.member.updated || []).includes('audio_muted'))`)
	// A moderator call goes through the relay and comes back as an event.
	tab.Eval(`rs.videoMute({memberId: `+strconv.Quote(ids[0])+`}).then(() => true)`, nil)
	tab.WaitJS(`window.events.some((x) => x.name === 'member.updated' && x.e.member.id === ` + strconv.Quote(ids[0]) +
		` && x.e.member.video_muted === true)`)
	if err := f.RemoveMember("Browser_Room", ids[0]); err != nil {
		t.Fatal(err)
	}
	tab.WaitJS(`window.events.some((x) => x.name === 'member.left' && x.e.member.id === ` + strconv.Quote(ids[0]) + `)`)

	// Media: the peer connection connects to pion, and the room's video
	// element plays the relay's track (not the local camera overlay).
	tab.WaitJS(`window.__pcs.some((pc) => pc.connectionState === 'connected')`)
	playing := `(() => {
  const remote = new Set(window.__pcs.flatMap((pc) => pc.getReceivers().map((r) => r.track && r.track.id)));
  return [...document.querySelectorAll('video')].some((v) => v.srcObject &&
    v.srcObject.getVideoTracks().some((t) => remote.has(t.id)) && v.videoWidth > 0 && v.currentTime > 0.2);
})()`
	tab.WaitJS(playing)

	// Leaving ends the call and the room session.
	tab.Eval(`rs.leave().then(() => true)`, nil)
	if got := f.RoomMembers("Browser_Room"); got != nil {
		t.Errorf("RoomMembers after leave = %+v", got)
	}
}
