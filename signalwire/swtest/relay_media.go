package swtest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtcp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// The media side of the relay: each browser call gets a pion
// PeerConnection that answers its offer on loopback and sends back one
// VP8 video and one Opus audio track, as SignalWire's MCU sends the
// composed room. The relay composes nothing: it forwards one member's
// media to each call, switching on a key frame (relay_forward.go), and
// reads the audio level Chrome puts on each packet to tell who talks
// (relay_media_talk.go).

// newMediaAPI builds the pion API every call shares: host candidates on
// UDP over IPv4, loopback included (a CI machine may have nothing else;
// the notes of RELAY.md), no mDNS, no STUN or TURN, and only the two codecs the
// relay sends, so that what it forwards is always what it negotiated.
// NewAPI adds pion's default interceptors (NACK, RTCP reports, TWCC),
// which the RTCP readers of the senders drive.
func newMediaAPI() *webrtc.API {
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	me := &webrtc.MediaEngine{}
	video := []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"}}
	// Registration fails only for a codec of an unknown kind; these are not.
	_ = me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: vp8(video), PayloadType: 96}, webrtc.RTPCodecTypeVideo)
	_ = me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opus(), PayloadType: 111}, webrtc.RTPCodecTypeAudio)
	// Chrome offers the audio level of each packet (RFC 6464); the answer
	// accepts it only for extensions registered here. It is how the relay
	// hears who talks without decoding Opus.
	_ = me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio)
	return webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me))
}

func vp8(fb []webrtc.RTCPFeedback) webrtc.RTPCodecCapability {
	return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: fb}
}

func opus() webrtc.RTPCodecCapability {
	return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}
}

// mediaPeer is the relay's end of one call: a source of media for the
// room (what the browser sends) and, unless the call only sends (a screen
// share), a receiver of one forwarded source per kind.
type mediaPeer struct {
	f     *Fake
	pc    *webrtc.PeerConnection
	src   mediaSource  // what the browser sends, fanned out to sinks
	sinks [kinds]*sink // by mediaKind; nil when the offer does not receive that kind
	muted atomic.Bool  // the member is audio-muted: its level does not count as talking
	mu    sync.Mutex   // serialises renegotiations
	once  sync.Once

	// member is the call's member once it is in the room (Fake.mu).
	member *liveMember

	// The goroutines of this peer: one reader per incoming track and one
	// RTCP reader per sender. close waits for them.
	gmu     sync.Mutex
	closing bool
	wg      sync.WaitGroup
}

// goroutine counts one more goroutine of the peer, unless it is closing
// (then the caller must not start it). It pairs with wg.Done.
func (p *mediaPeer) goroutine() bool {
	p.gmu.Lock()
	defer p.gmu.Unlock()
	if p.closing {
		return false
	}
	p.wg.Add(1)
	return true
}

// answer creates a peer for the browser's offer and returns it with the
// complete (non-trickle) answer: the SDK takes no candidates after it.
func (f *Fake) answer(ctx context.Context, offer string) (*mediaPeer, string, error) {
	recv, err := receivedKinds(offer)
	if err != nil {
		return nil, "", err
	}
	pc, err := f.relay.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, "", err
	}
	p := &mediaPeer{f: f, pc: pc}
	pc.OnTrack(p.receive)
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateConnected {
			for _, s := range p.sinks {
				if s != nil {
					s.connected()
				}
			}
		}
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		p.close()
		return nil, "", err
	}
	// Send only what the browser will receive: a track on a sendonly
	// m-line (a screen share) would not be negotiated anyway.
	for k, on := range [kinds]bool{kindVideo: recv["video"], kindAudio: recv["audio"]} {
		if !on {
			continue
		}
		s := newSink(mediaKind(k))
		sender, err := pc.AddTrack(s.track)
		if err != nil {
			p.close()
			return nil, "", err
		}
		p.sinks[k] = s
		if p.goroutine() {
			go p.readRTCP(sender, s)
		}
	}
	sdpAnswer, err := p.localAnswer(ctx)
	if err != nil {
		p.close()
		return nil, "", err
	}
	return p, audioFirst(offer, sdpAnswer), nil
}

// renegotiate answers a new offer on the same call (verto.modify
// updateMedia).
func (p *mediaPeer) renegotiate(ctx context.Context, offer string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", err
	}
	ans, err := p.localAnswer(ctx)
	if err != nil {
		return "", err
	}
	return audioFirst(offer, ans), nil
}

// audioFirst puts the answer's audio section before its video section
// when the offer has them the other way round (a screen share offers video
// first), as SignalWire's media server answers: the SDK's
// sdpMediaOrderHack (webrtc/src/utils/sdpHelpers.ts, applied to every
// remote answer in RTCPeer._setRemoteDescription) then swaps them back to
// the offer's order, and an answer already in that order would come out
// of it with its sections duplicated. Other answers are returned as they
// are.
func audioFirst(offer, answer string) string {
	const eol = "\r\n"
	ov, oa := strings.Index(offer, eol+"m=video"), strings.Index(offer, eol+"m=audio")
	if ov < 0 || oa < 0 || oa < ov {
		return answer
	}
	av, aa := strings.Index(answer, eol+"m=video"), strings.Index(answer, eol+"m=audio")
	if av < 0 || aa < 0 || aa < av {
		return answer
	}
	// session | video section | audio section, each section starting at its
	// line break; the answer ends with one.
	session, video, audio := answer[:av], answer[av:aa], answer[aa:]
	if strings.Count(audio, eol+"m=") > 1 {
		return answer // more sections than the SDK's hack handles
	}
	return session + strings.TrimSuffix(audio, eol) + video + eol
}

// localAnswer sets an answer as the local description and returns it once
// ICE gathering has completed.
func (p *mediaPeer) localAnswer(ctx context.Context) (string, error) {
	ans, err := p.pc.CreateAnswer(nil)
	if err != nil {
		return "", err
	}
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(ans); err != nil {
		return "", err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", errors.New("ICE gathering did not complete")
	}
	return p.pc.LocalDescription().SDP, nil
}

// receive reads one incoming track until the peer closes (ReadRTP then
// fails) and forwards each packet to the sinks this source feeds; on
// audio it also listens for talking. pion runs it in a goroutine of its
// own.
func (p *mediaPeer) receive(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	if !p.goroutine() {
		return
	}
	defer p.wg.Done()
	k := kindOf(remote.Kind())
	p.src.has[k].Store(true)
	p.f.trackArrived(p)
	levelID := audioLevelID(recv)
	var talk talkDetector
	var lastPLI time.Time
	for {
		pkt, _, err := remote.ReadRTP()
		if err != nil {
			return
		}
		now := time.Now()
		switch k {
		case kindVideo:
			// A receiver switching to this source, or one whose decoder
			// lost the picture, waits for a key frame: ask the browser.
			if p.src.wantKey.Load() && now.Sub(lastPLI) >= pliMinInterval {
				p.src.wantKey.Store(false)
				lastPLI = now
				_ = p.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(remote.SSRC())}})
			}
		case kindAudio:
			if level, ok := audioLevel(pkt, levelID); ok && talk.observe(now, level, p.muted.Load()) {
				p.f.talked(p, talk.talking)
			}
		}
		p.src.forward(k, pkt)
	}
}

// pliMinInterval spaces the relay's key-frame requests to one browser, as
// Chrome spaces its own.
const pliMinInterval = 200 * time.Millisecond

// readRTCP reads what the browser says about the track the relay sends it
// until the peer closes. Reading drives pion's interceptors (NACKs get
// their retransmissions); a picture loss indication or full intra request
// goes on to the source the sink forwards.
func (p *mediaPeer) readRTCP(sender *webrtc.RTPSender, s *sink) {
	defer p.wg.Done()
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			switch pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				s.wantKeyFrame()
			}
		}
	}
}

// close ends the peer and waits for its goroutines and pion's. It must
// not be called under Fake.mu: a reader may be waiting for it.
func (p *mediaPeer) close() {
	if p == nil {
		return
	}
	p.once.Do(func() {
		p.gmu.Lock()
		p.closing = true
		p.gmu.Unlock()
		_ = p.pc.GracefulClose()
		p.wg.Wait()
		p.src.unplug()
	})
}

// closePeers closes peers collected under Fake.mu, after it is released.
func closePeers(peers []*mediaPeer) {
	for _, p := range peers {
		p.close()
	}
}

// receivedKinds parses an offer and reports which media kinds the browser
// will receive (m-lines that are sendrecv or recvonly).
func receivedKinds(offer string) (map[string]bool, error) {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(offer); err != nil {
		return nil, errors.New("malformed SDP offer")
	}
	kinds := map[string]bool{}
	for _, m := range d.MediaDescriptions {
		recv := true
		for _, a := range m.Attributes {
			if a.Key == "sendonly" || a.Key == "inactive" {
				recv = false
			}
		}
		if recv && m.MediaName.Port.Value != 0 {
			kinds[m.MediaName.Media] = true
		}
	}
	return kinds, nil
}
