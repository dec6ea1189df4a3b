package swtest_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/swrooms/swrooms/signalwire/swtest"
)

// Forwarding (relay_forward*.go): each Go browser here sends VP8 and Opus
// packets that carry its name after the codec header, and the audio level
// Chrome would put on them; what it receives tells whose media the relay
// forwards to it.

// Loudness of a Go browser's audio.
const (
	quiet int32 = iota
	loud
	beeping // 120 ms of sound every 500 ms, like Chromium's fake microphone
)

// mediaBrowser is a joined client whose pion peer sends and receives.
type mediaBrowser struct {
	*client
	name, callID, memberID string
	pc                     *webrtc.PeerConnection
	loudness               atomic.Int32
	plis                   atomic.Int32 // key-frame requests from the relay

	mu  sync.Mutex
	rx  [2]received // video, audio
	bad []string    // what broke the stream's rules
}

// received is what arrived on one kind.
type received struct {
	from    string // the name in the last packet
	streak  int    // packets in a row from it
	count   int
	lastSeq uint16
}

// joinMedia connects with tok and joins with a sending pion peer.
func joinMedia(t *testing.T, srv *httptest.Server, tok, name string) *mediaBrowser {
	t.Helper()
	c, _ := connected(t, srv, tok)
	me := &webrtc.MediaEngine{}
	fb := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}}
	vp8 := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: fb}
	opus := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
	must(t, me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: vp8, PayloadType: 96}, webrtc.RTPCodecTypeVideo))
	must(t, me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opus, PayloadType: 111}, webrtc.RTPCodecTypeAudio))
	must(t, me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio))
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(&interceptor.Registry{}))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	must(t, err)
	b := &mediaBrowser{client: c, name: name, pc: pc}
	video, _ := webrtc.NewTrackLocalStaticRTP(vp8, "video", name)
	audio, _ := webrtc.NewTrackLocalStaticRTP(opus, "audio", name)
	vs, err := pc.AddTrack(video)
	must(t, err)
	as, err := pc.AddTrack(audio)
	must(t, err)
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { b.receive(tr) })

	offer, err := pc.CreateOffer(nil)
	must(t, err)
	gathered := webrtc.GatheringCompletePromise(pc)
	must(t, pc.SetLocalDescription(offer))
	<-gathered
	b.callID = fmt.Sprintf("media-%d", callSeq.Add(1))
	res := c.call("video.message", inviteParams(b.callID, pc.LocalDescription().SDP, false, ""))
	if res.get("result", "result", "result") == nil {
		t.Fatalf("invite refused: %v", res)
	}
	ans := c.next(func(fr frame) bool {
		return fr.eventType() == "webrtc.message" && fr.str("params", "params", "method") == "verto.answer"
	})
	must(t, pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer,
		SDP: ans.str("params", "params", "params", "sdp")}))
	b.memberID = c.waitEvent("video.room.subscribed", nil).str("params", "params", "member_id")

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); b.send(ctx, video, audio, as) }()
	go func() {
		defer wg.Done()
		for {
			pkts, _, err := vs.ReadRTCP()
			if err != nil {
				return
			}
			for _, p := range pkts {
				if _, ok := p.(*rtcp.PictureLossIndication); ok {
					b.plis.Add(1)
				}
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		pc.GracefulClose()
		wg.Wait()
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, s := range b.bad {
			t.Errorf("%s received a broken stream: %s", name, s)
		}
	})
	return b
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// send writes 25 video frames and 50 audio packets a second until ctx
// ends: a video frame is one packet, a key frame first and after each PLI.
func (b *mediaBrowser) send(ctx context.Context, video, audio *webrtc.TrackLocalStaticRTP, as *webrtc.RTPSender) {
	var levelID uint8
	for _, e := range as.GetParameters().HeaderExtensions {
		if e.URI == sdp.AudioLevelURI {
			levelID = uint8(e.ID)
		}
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	start, plis := time.Now(), int32(-1)
	var seqV, seqA, pic uint16
	for n := uint32(0); ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		level := uint8(127)
		switch b.loudness.Load() {
		case loud:
			level = 20
		case beeping:
			if time.Since(start)%(500*time.Millisecond) < 120*time.Millisecond {
				level = 20
			}
		}
		a := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seqA, Timestamp: n * 960}, Payload: []byte(b.name)}
		if levelID != 0 {
			ext, _ := rtp.AudioLevelExtension{Level: level}.Marshal()
			_ = a.SetExtension(levelID, ext)
		}
		_ = audio.WriteRTP(a)
		seqA++
		if n%2 == 0 {
			frame := byte(0x01) // delta
			if p := b.plis.Load(); p != plis {
				plis, frame = p, 0x00 // key frame
			}
			pic = (pic + 1) & 0x7fff
			payload := append([]byte{0x90, 0x80, 0x80 | byte(pic>>8), byte(pic), frame}, b.name...)
			_ = video.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, Marker: true, SequenceNumber: seqV, Timestamp: n * 1800}, Payload: payload})
			seqV++
		}
	}
}

// receive records whose packets arrive on one track, and what breaks the
// rules of a forwarded stream: a video switch that does not start with a
// key frame, sequence numbers that do not go on by one at a switch.
func (b *mediaBrowser) receive(tr *webrtc.TrackRemote) {
	k := 1
	if tr.Kind() == webrtc.RTPCodecTypeVideo {
		k = 0
	}
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		from, key := string(pkt.Payload), false
		if k == 0 {
			var vp codecs.VP8Packet
			if _, err := vp.Unmarshal(pkt.Payload); err != nil || len(vp.Payload) == 0 {
				b.broken("video packet without VP8 data")
				continue
			}
			from, key = string(vp.Payload[1:]), vp.S == 1 && vp.PID == 0 && vp.Payload[0]&1 == 0
			if vp.I != 1 || pkt.Payload[2]&0x80 == 0 {
				b.broken("video packet without a 15-bit picture id")
			}
		}
		if !isName(from) {
			from = "bots" // a clip's frame, not a Go browser's name
		}
		b.mu.Lock()
		r := &b.rx[k]
		if from != r.from {
			if k == 0 && !key {
				b.bad = append(b.bad, fmt.Sprintf("video from %q after %q starts without a key frame", from, r.from))
			}
			if r.count > 0 && pkt.SequenceNumber != r.lastSeq+1 {
				b.bad = append(b.bad, fmt.Sprintf("%s seq %d after %d at the switch to %q", tr.Kind(), pkt.SequenceNumber, r.lastSeq, from))
			}
			r.from, r.streak = from, 0
		}
		r.streak++
		r.count++
		r.lastSeq = pkt.SequenceNumber
		b.mu.Unlock()
	}
}

// isName reports whether a payload is a Go browser's name.
func isName(s string) bool {
	if len(s) == 0 || len(s) > 8 {
		return false
	}
	for _, r := range s {
		if r < 'A' || r > 'z' {
			return false
		}
	}
	return true
}

func (b *mediaBrowser) broken(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.bad = append(b.bad, s)
}

// waitFrom waits until the last 5 packets of kind (0 video, 1 audio) came
// from whom (a Go browser's name, or "bots").
func (b *mediaBrowser) waitFrom(kind int, whom string) {
	b.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		b.mu.Lock()
		r := b.rx[kind]
		b.mu.Unlock()
		if r.from == whom && r.streak >= 5 {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: %s from %q (%d in a row), want %s", b.name, []string{"video", "audio"}[kind], r.from, r.streak, whom)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitNothing waits until no packet of kind has arrived for 400 ms.
func (b *mediaBrowser) waitNothing(kind int) {
	b.t.Helper()
	deadline := time.Now().Add(wait)
	last, since := -1, time.Now()
	for time.Now().Before(deadline) {
		b.mu.Lock()
		n := b.rx[kind].count
		b.mu.Unlock()
		if n != last {
			last, since = n, time.Now()
		} else if time.Since(since) >= 400*time.Millisecond {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.t.Fatalf("%s: %s packets keep arriving", b.name, []string{"video", "audio"}[kind])
}

// sources asks the Fake whose media b gets.
func sources(t *testing.T, f *swtest.Fake, room string, b *mediaBrowser) (string, string) {
	t.Helper()
	v, a, err := f.ForwardingSource(room, b.memberID)
	if err != nil {
		t.Fatal(err)
	}
	return v, a
}

func wantSources(t *testing.T, f *swtest.Fake, room string, b *mediaBrowser, video, audio *mediaBrowser) {
	t.Helper()
	id := func(x *mediaBrowser) string {
		if x == nil {
			return ""
		}
		return x.memberID
	}
	if v, a := sources(t, f, room, b); v != id(video) || a != id(audio) {
		t.Errorf("%s gets video from %q and audio from %q, want %q and %q", b.name, v, a, id(video), id(audio))
	}
}

// mediaRoom starts a relay and a room.
func mediaRoom(t *testing.T, room string, opts ...swtest.Option) (*swtest.Fake, *httptest.Server) {
	t.Helper()
	f, srv := relayServer(t, opts...)
	send(t, srv, "POST", "/rooms", `{"name":"`+room+`"}`)
	return f, srv
}

func TestForwardingALoneMemberGetsItsEchoAndTwoGetEachOther(t *testing.T) {
	f, srv := mediaRoom(t, "Pair")
	ada := joinMedia(t, srv, roomToken(t, srv, tokenBody("Pair", "Ada", guest)), "Ada")
	ada.waitFrom(0, "Ada")
	ada.waitFrom(1, "Ada")
	wantSources(t, f, "Pair", ada, ada, ada)

	bob := joinMedia(t, srv, roomToken(t, srv, tokenBody("Pair", "Bob", guest)), "Bob")
	for _, x := range [][2]*mediaBrowser{{ada, bob}, {bob, ada}} {
		x[0].waitFrom(0, x[1].name)
		x[0].waitFrom(1, x[1].name)
		wantSources(t, f, "Pair", x[0], x[1], x[1])
	}
	if ada.plis.Load() == 0 || bob.plis.Load() == 0 {
		t.Errorf("PLIs: Ada got %d, Bob %d; the relay should ask a new source for a key frame", ada.plis.Load(), bob.plis.Load())
	}

	// Bob leaves: Ada is alone again and gets her own media back.
	must(t, f.RemoveMember("Pair", bob.memberID))
	ada.waitFrom(0, "Ada")
	ada.waitFrom(1, "Ada")
	wantSources(t, f, "Pair", ada, ada, ada)
}

func TestForwardingTheLatestSpeakerIsTheSource(t *testing.T) {
	f, srv := mediaRoom(t, "Trio")
	ada := joinMedia(t, srv, roomToken(t, srv, tokenBody("Trio", "Ada", guest)), "Ada")
	bob := joinMedia(t, srv, roomToken(t, srv, tokenBody("Trio", "Bob", guest)), "Bob")
	cy := joinMedia(t, srv, roomToken(t, srv, tokenBody("Trio", "Cy", guest)), "Cy")
	// Nobody has talked: each gets the last of the others to join.
	ada.waitFrom(0, "Cy")
	bob.waitFrom(0, "Cy")
	cy.waitFrom(0, "Bob")
	wantSources(t, f, "Trio", ada, cy, cy)
	wantSources(t, f, "Trio", cy, bob, bob)

	// Chromium's fake microphone beeps: nobody talks.
	bob.loudness.Store(beeping)
	time.Sleep(1500 * time.Millisecond)
	ada.noEvent("video.member.talking")
	bob.loudness.Store(quiet)

	// Ada talks: after the onset she is the talking member, and the
	// source of the other two.
	isAda := func(talking bool) func(frame) bool {
		return func(p frame) bool {
			return p.str("member", "id") == ada.memberID && p.get("member", "talking") == talking
		}
	}
	began := time.Now()
	ada.loudness.Store(loud)
	bob.waitEvent("video.member.talking", isAda(true))
	if d := time.Since(began); d < 200*time.Millisecond {
		t.Errorf("Ada talked %v after her sound began, want the 200 ms onset", d)
	}
	for _, x := range []*mediaBrowser{bob, cy} {
		x.waitFrom(0, "Ada")
		x.waitFrom(1, "Ada")
		wantSources(t, f, "Trio", x, ada, ada)
	}
	wantSources(t, f, "Trio", ada, cy, cy) // her own talk does not change what she gets

	// She stops: a second of silence later she no longer talks, and
	// stays the source as the last speaker.
	stopped := time.Now()
	ada.loudness.Store(quiet)
	cy.waitEvent("video.member.talking", isAda(false))
	if d := time.Since(stopped); d < 900*time.Millisecond {
		t.Errorf("Ada stopped talking %v after her sound ended, want about 1 s", d)
	}
	wantSources(t, f, "Trio", bob, ada, ada)

	// Cy talks: Cy is the source for Ada and Bob; Cy gets Ada, who
	// talked last before.
	cy.loudness.Store(loud)
	bob.waitFrom(0, "Cy")
	ada.waitFrom(1, "Cy")
	wantSources(t, f, "Trio", bob, cy, cy)
	wantSources(t, f, "Trio", cy, ada, ada)
	if got := talkingEvents(bob, cy, 300*time.Millisecond); len(got) != 1 || !got[0] {
		t.Errorf("talking events for Cy while Cy talks steadily: %v, want [true]", got)
	}
}

// talkingEvents returns the talking values of whom's video.member.talking
// events that b has received, waiting d for more.
func talkingEvents(b, whom *mediaBrowser, d time.Duration) []bool {
	var out []bool
	for _, fr := range b.collect(d) {
		if fr.eventType() == "video.member.talking" && member(fr).str("id") == whom.memberID {
			out = append(out, member(fr).get("talking") == true)
		}
	}
	return out
}

func TestForwardingRespectsMutes(t *testing.T) {
	f, srv := mediaRoom(t, "Mutes")
	ada := joinMedia(t, srv, roomToken(t, srv, tokenBody("Mutes", "Ada", moderator)), "Ada")
	bob := joinMedia(t, srv, roomToken(t, srv, tokenBody("Mutes", "Bob", guest)), "Bob")
	ada.waitFrom(1, "Bob")

	// Bob talks, then the moderator mutes him: he stops talking at once
	// and his audio goes nowhere; Ada hears nothing (never her own voice
	// while someone else is in).
	bob.loudness.Store(loud)
	isBob := func(talking bool) func(frame) bool {
		return func(p frame) bool {
			return p.str("member", "id") == bob.memberID && p.get("member", "talking") == talking
		}
	}
	ada.waitEvent("video.member.talking", isBob(true))
	res := ada.call("video.member.audio_mute", map[string]any{"room_session_id": swtestSession(t, f, "Mutes"), "member_id": bob.memberID})
	if resultCode(res) != "200" {
		t.Fatalf("audio_mute: %v", res)
	}
	ada.waitEvent("video.member.talking", isBob(false))
	ada.waitNothing(1)
	wantSources(t, f, "Mutes", ada, bob, nil)
	ada.waitFrom(0, "Bob") // his video still comes
	time.Sleep(300 * time.Millisecond)
	ada.noEvent("video.member.talking") // muted, his sound does not make him talk

	// Video-muted, Bob's picture stops too: Ada gets her own.
	must(t, f.UpdateMember("Mutes", bob.memberID, swtest.MemberChange{VideoMuted: ptr(true)}))
	ada.waitFrom(0, "Ada")
	wantSources(t, f, "Mutes", ada, ada, nil)

	must(t, f.UpdateMember("Mutes", bob.memberID, swtest.MemberChange{VideoMuted: ptr(false), AudioMuted: ptr(false)}))
	ada.waitFrom(0, "Bob")
	ada.waitFrom(1, "Bob")
	wantSources(t, f, "Mutes", ada, bob, bob)
}

// swtestSession is the room's live session id.
func swtestSession(t *testing.T, f *swtest.Fake, room string) string {
	t.Helper()
	id := f.RoomSessionID(room)
	if id == "" {
		t.Fatalf("no live session in %s", room)
	}
	return id
}

func TestForwardingTheBotsWhenTheyAreTheOnlyOthers(t *testing.T) {
	f, srv := mediaRoom(t, "Bots", swtest.WithBots(swtest.Bots{Step: 300 * time.Millisecond}))
	ada := joinMedia(t, srv, roomToken(t, srv, tokenBody("Bots", "Ada", guest)), "Ada")
	ada.waitFrom(0, "bots")
	v, _ := sources(t, f, "Bots", ada)
	bots := map[string]bool{}
	for _, m := range f.RoomMembers("Bots") {
		if !m.Browser {
			bots[m.ID] = true
		}
	}
	if !bots[v] {
		t.Errorf("Ada's video source %q is not one of the bots %v", v, bots)
	}
	// A second browser that never talks ranks below the talking bots.
	bob := joinMedia(t, srv, roomToken(t, srv, tokenBody("Bots", "Bob", guest)), "Bob")
	bob.waitFrom(0, "bots")
	ada.waitFrom(0, "bots")
}
