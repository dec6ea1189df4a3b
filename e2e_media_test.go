package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/swrooms/swrooms/internal/browsertest"
)

// Media between two people (issue 13: host and guest "see and hear each
// other through the relay"): the relay forwards each browser's camera and
// microphone to the other (signalwire/swtest/relay_forward*.go).

// capturePeers keeps the page's peer connections, which the SDK does not
// expose, for their state, receivers and stats.
const capturePeers = `
	window.__pcs = [];
	const PC = window.RTCPeerConnection;
	window.RTCPeerConnection = function (...args) { const pc = new PC(...args); window.__pcs.push(pc); return pc; };
	window.RTCPeerConnection.prototype = PC.prototype;
	Object.setPrototypeOf(window.RTCPeerConnection, PC);`

// remoteVideoTime is the JS expression of the largest currentTime of a
// video element in #video-root that plays a track received from the relay
// (not the SDK's local camera overlay), -1 when none has a picture yet.
const remoteVideoTime = `(() => {
	const remote = new Set(window.__pcs.flatMap(pc => pc.getReceivers().map(r => r.track && r.track.id)));
	const vs = [...document.querySelectorAll('#video-root video')].filter(v => v.srcObject &&
		v.srcObject.getVideoTracks().some(t => remote.has(t.id)) && v.videoWidth > 0);
	return vs.length ? Math.max(...vs.map(v => v.currentTime)) : -1;
})()`

// audioBytesReceived is the JS expression (a promise) of the bytes of
// audio received from the relay, over every peer connection.
const audioBytesReceived = `Promise.all(window.__pcs.map(pc => pc.getStats())).then(all => {
	let n = 0;
	for (const stats of all) stats.forEach(s => { if (s.type === 'inbound-rtp' && s.kind === 'audio') n += s.bytesReceived || 0; });
	return n;
})`

// waitSource waits until the relay forwards the media of member of to
// member self.
func waitSource(t *testing.T, app *testApp, room, name, self, of string) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		video, audio, err := app.Fake.ForwardingSource(room, self)
		if err != nil {
			t.Fatal(err)
		}
		if video == of && audio == of {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s gets video from %q and audio from %q, want the other browser %q", name, video, audio, of)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestE2EHostAndGuestSeeAndHearEachOther(t *testing.T) {
	t.Parallel()
	app := startFakeApp(t) // no bots: the only media is the two browsers'
	const room = "e2e_see_hear"

	host := participant(t)
	host.InitScript(capturePeers)
	hostRoom(t, host, app, room, "Hana")
	joinCall(t, host)
	invite := host.Attr(`[data-testid="invite-link"]`, "href")

	guest := participant(t)
	guest.InitScript(capturePeers)
	guest.Navigate(invite)
	waitIsland(t, guest)
	setName(t, guest, "Gus")
	joinCall(t, guest)

	hana, gus := liveMember(t, app, room, "Hana").ID, liveMember(t, app, room, "Gus").ID
	for _, p := range []struct {
		name     string
		tab      *browsertest.Tab
		self, of string
	}{{"host", host, hana, gus}, {"guest", guest, gus, hana}} {
		// The relay forwards the other's camera and microphone (once they
		// arrive: until then a lone picture is the own echo).
		waitSource(t, app, room, p.name, p.self, p.of)
		// Frames keep coming: the picture is there and advances.
		p.tab.WaitJS(`window.__pcs.some(pc => pc.connectionState === 'connected')`)
		p.tab.WaitJS(remoteVideoTime + ` > 0`)
		var t0 float64
		p.tab.Eval(remoteVideoTime, &t0)
		p.tab.WaitJS(fmt.Sprintf(`%s > %f`, remoteVideoTime, t0+0.5))
		// And sound: audio bytes keep arriving.
		var b0 float64
		p.tab.Eval(audioBytesReceived, &b0)
		p.tab.WaitJS(fmt.Sprintf(`%s.then(n => n > %f)`, audioBytesReceived, b0+1000))
	}
	// Still each other after the media has flowed for a while (Chromium's
	// fake microphone beeps; that must not make either the source of
	// itself or flood talking events).
	time.Sleep(time.Second)
	for _, p := range [][2]string{{hana, gus}, {gus, hana}} {
		if video, audio, _ := app.Fake.ForwardingSource(room, p[0]); video != p[1] || audio != p[1] {
			t.Errorf("member %s gets %q/%q, want %q", p[0], video, audio, p[1])
		}
	}
}
