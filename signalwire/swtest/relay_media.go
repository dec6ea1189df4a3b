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
// composed room. The fake has no mixer, so each call gets its own media
// back: what the browser sends is echoed to it, which is enough for the
// page's video element to play frames and for the peer connection to
// reach "connected".

// pliInterval is how often the relay asks the browser for a key frame on
// behalf of the echo's receiver, which joins the stream late.
const pliInterval = 2 * time.Second

// newMediaAPI builds the pion API every call shares: host candidates on
// UDP over IPv4, loopback included (a CI machine may have nothing else;
// relay-notes.md), no mDNS, no STUN or TURN, and only the two codecs the
// relay sends, so that what it echoes is always what it negotiated.
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
	return webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me))
}

func vp8(fb []webrtc.RTCPFeedback) webrtc.RTPCodecCapability {
	return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: fb}
}

func opus() webrtc.RTPCodecCapability {
	return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}
}

// mediaPeer is the relay's end of one call.
type mediaPeer struct {
	pc           *webrtc.PeerConnection
	audio, video *webrtc.TrackLocalStaticRTP // nil when the offer does not receive that kind
	done         chan struct{}               // closed by close
	once         sync.Once
	fed          atomic.Bool // the room's bots feed the tracks: no echo
	mu           sync.Mutex  // serialises renegotiations
}

// answer creates a peer for the browser's offer and returns it with the
// complete (non-trickle) answer: the SDK takes no candidates after it.
func (f *Fake) answer(ctx context.Context, offer string) (*mediaPeer, string, error) {
	kinds, err := receivedKinds(offer)
	if err != nil {
		return nil, "", err
	}
	pc, err := f.relay.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, "", err
	}
	p := &mediaPeer{pc: pc, done: make(chan struct{})}
	pc.OnTrack(p.echo)
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		p.close()
		return nil, "", err
	}
	// Send only what the browser will receive: a track on a sendonly
	// m-line (a screen share) would not be negotiated anyway.
	if kinds["video"] {
		p.video, _ = webrtc.NewTrackLocalStaticRTP(vp8(nil), "video", "relay")
	}
	if kinds["audio"] {
		p.audio, _ = webrtc.NewTrackLocalStaticRTP(opus(), "audio", "relay")
	}
	for _, t := range []*webrtc.TrackLocalStaticRTP{p.video, p.audio} {
		if t == nil {
			continue
		}
		if _, err := pc.AddTrack(t); err != nil {
			p.close()
			return nil, "", err
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

// echo forwards one incoming track to the outgoing track of its kind until
// the peer closes. pion runs it in a goroutine of its own that ends when
// ReadRTP fails, which Close makes it do.
func (p *mediaPeer) echo(remote *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	out := p.audio
	if remote.Kind() == webrtc.RTPCodecTypeVideo {
		out = p.video
		go p.askKeyFrames(uint32(remote.SSRC()))
	}
	for {
		pkt, _, err := remote.ReadRTP()
		if err != nil {
			return
		}
		if out != nil && !p.fed.Load() {
			// An error means nobody is bound yet or any more; drop the packet.
			_ = out.WriteRTP(pkt)
		}
	}
}

// askKeyFrames sends picture loss indications for the browser's video
// until the peer closes, so the echoed stream starts and recovers with a
// key frame.
func (p *mediaPeer) askKeyFrames(ssrc uint32) {
	t := time.NewTicker(pliInterval)
	defer t.Stop()
	for {
		_ = p.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
		select {
		case <-p.done:
			return
		case <-t.C:
		}
	}
}

// close ends the peer and waits for the goroutines pion started for it.
func (p *mediaPeer) close() {
	if p == nil {
		return
	}
	p.once.Do(func() {
		close(p.done)
		_ = p.pc.GracefulClose()
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
