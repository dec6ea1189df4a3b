package swtest

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Forwarding: the relay's stand-in for SignalWire's MCU. The MCU decodes
// every member, composes one picture of the room and one audio mix, and
// sends each call that one video and one audio stream. The relay cannot
// decode or encode, so it forwards one member's RTP per receiver and kind
// (which member: relay_forward_route.go) and rewrites it so that the
// receiver sees one unbroken stream across switches:
//
//   - sequence numbers and timestamps continue from what it sent last;
//   - a video switch waits for a key frame of the new source (asking a
//     browser source for one with a PLI), keeping the old picture until
//     then, so the decoder never gets a frame whose reference it lacks;
//   - VP8 picture ids continue too (RFC 7741 4.2; Chrome's frame buffer
//     drops frames whose ids go back);
//   - header extensions are dropped: their ids are the sender's
//     negotiation, not the receiver's (pion's interceptors add their own).
//
// Files: relay_forward.go (sources, sinks, rewriting),
// relay_forward_route.go (who gets whom), relay_forward_vp8.go (the VP8
// payload descriptor).

// mediaKind indexes per-kind arrays.
type mediaKind int

const (
	kindVideo mediaKind = iota
	kindAudio
	kinds // how many
)

func kindOf(k webrtc.RTPCodecType) mediaKind {
	if k == webrtc.RTPCodecTypeVideo {
		return kindVideo
	}
	return kindAudio
}

// mediaSource is one sender of media into a room: a browser's call (in
// its mediaPeer) or the room's bots (one stream for all of them, in
// roomMedia). Its goroutines read the sink lists without Fake.mu; the
// router replaces them under it.
type mediaSource struct {
	sinks   [kinds]atomic.Pointer[[]*sink] // who gets this source's media
	has     [kinds]atomic.Bool             // media of that kind flows (set by the reader; the bots' always)
	wantKey atomic.Bool                    // a receiver waits for a key frame (browsers: send a PLI)
}

// forward hands one packet to every sink this source feeds. Sinks copy
// what they change, so the packet is shared.
func (s *mediaSource) forward(k mediaKind, pkt *rtp.Packet) {
	if l := s.sinks[k].Load(); l != nil {
		for _, sk := range *l {
			sk.write(s, pkt)
		}
	}
}

// unplug forgets the sinks (the source has left).
func (s *mediaSource) unplug() {
	for k := range s.sinks {
		s.sinks[k].Store(nil)
	}
}

// keyFrameRetry is how long a sink waits for the key frame it asked for
// before asking again (a PLI can be lost too).
const keyFrameRetry = time.Second

// sink is one receiver's outgoing track of one kind, fed by one source
// at a time.
type sink struct {
	kind  mediaKind
	track *webrtc.TrackLocalStaticRTP
	clock float64 // RTP clock rate, Hz

	// target is the member the router chose (ForwardingSource); under
	// Fake.mu.
	target string
	// ready: the call is connected. Until then pion drops what is
	// written, so a key frame written then would be lost and the switch
	// it completes would start the receiver on a delta frame.
	ready atomic.Bool

	mu      sync.Mutex
	cur     *mediaSource // forwarded now; nil: nothing
	next    *mediaSource // video: switch to it on its next key frame
	askedAt time.Time    // when next was last asked for a key frame

	// Rewriting state, of what went out.
	started  bool   // something was sent
	resync   bool   // the next packet of cur starts a run: recompute the offsets
	seqOff   uint16 // added to cur's sequence numbers
	tsOff    uint32 // added to cur's timestamps
	picOff   uint16 // added to cur's VP8 picture ids (15 bits)
	firstSeq uint16 // cur's first forwarded sequence number: earlier ones are late
	lastSeq  uint16
	lastTS   uint32
	lastPic  uint16
	lastAt   time.Time
	inPic    uint16 // cur's last picture id (counted on for frames without one)
	inHadPic bool   // and whether it carried one
}

// newSink makes the track a receiver gets for one kind.
func newSink(k mediaKind) *sink {
	s := &sink{kind: k}
	if k == kindVideo {
		s.track, _ = webrtc.NewTrackLocalStaticRTP(vp8(nil), "video", "relay")
		s.clock = videoClock
	} else {
		s.track, _ = webrtc.NewTrackLocalStaticRTP(opus(), "audio", "relay")
		s.clock = opusClock
	}
	return s
}

// retarget points the sink at src (nil: nothing). Audio switches at once:
// any Opus packet decodes. Video switches on src's next key frame and
// asks src for one; meanwhile the current source goes on if keep says it
// may (it is still in the room, unmuted), else the picture freezes.
func (s *sink) retarget(src *mediaSource, keep bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if src == s.cur {
		s.next = nil
		return
	}
	if s.kind == kindAudio || src == nil {
		s.cur, s.next, s.resync = src, nil, true
		return
	}
	if s.next != src {
		s.next, s.askedAt = src, time.Now()
		src.wantKey.Store(true)
	}
	if !keep {
		s.cur = nil
	}
}

// sources returns what the sink forwards and what it waits to switch to.
func (s *sink) sources() (cur, next *mediaSource) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur, s.next
}

// connected marks the sink ready and asks its source for a key frame to
// start the receiver on.
func (s *sink) connected() {
	s.ready.Store(true)
	s.wantKeyFrame()
}

// wantKeyFrame passes the receiver's request for a key frame on to the
// source it gets (or waits for).
func (s *sink) wantKeyFrame() {
	cur, next := s.sources()
	if next != nil {
		cur = next
	}
	if cur != nil {
		cur.wantKey.Store(true)
	}
}

// write forwards one packet of src if the sink takes src now, rewritten
// to continue the stream the receiver has.
func (s *sink) write(src *mediaSource, pkt *rtp.Packet) {
	var vp vp8Desc
	if s.kind == kindVideo && len(pkt.Payload) > 0 {
		var ok bool
		if vp, ok = parseVP8(pkt.Payload); !ok {
			return // not VP8 as negotiated
		}
	}
	if !s.ready.Load() {
		return
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case src == s.next && vp.key:
		s.cur, s.next, s.resync = src, nil, true
	case src == s.cur:
	default:
		if src == s.next && now.Sub(s.askedAt) >= keyFrameRetry {
			s.askedAt = now
			src.wantKey.Store(true)
		}
		return
	}
	if s.resync {
		s.resync = false
		s.firstSeq = pkt.SequenceNumber
		s.seqOff, s.tsOff = 0, 0
		if s.started {
			// Continue from the last packet sent, its timestamp moved on
			// by the time since (at least one tick).
			ticks := uint32(now.Sub(s.lastAt).Seconds() * s.clock)
			s.seqOff = s.lastSeq + 1 - pkt.SequenceNumber
			s.tsOff = s.lastTS + max(ticks, 1) - pkt.Timestamp
		}
		if s.kind == kindVideo {
			s.inHadPic = !vp.hasPic // rebase the picture ids at this frame
		}
	} else if int16(pkt.SequenceNumber-s.firstSeq) < 0 {
		return // sent before the switch, arriving late
	}
	out := rtp.Packet{Header: pkt.Header, Payload: pkt.Payload}
	out.Extension, out.Extensions, out.ExtensionProfile = false, nil, 0
	out.SequenceNumber = pkt.SequenceNumber + s.seqOff
	out.Timestamp = pkt.Timestamp + s.tsOff
	if len(pkt.Payload) > 0 && s.kind == kindVideo {
		out.Payload = vp.withPictureID(pkt.Payload, s.pictureID(vp))
	}
	if !s.started || int16(out.SequenceNumber-s.lastSeq) > 0 {
		s.lastSeq, s.lastTS, s.lastAt = out.SequenceNumber, out.Timestamp, now
	}
	s.started = true
	// An error means the track is not bound yet or any more: the
	// receiver simply misses the packet.
	_ = s.track.WriteRTP(&out)
}

// pictureID maps the input's VP8 picture id to the output's: the input's
// own ids shifted to continue the output's, so that a frame lost upstream
// still shows as a gap; a frame without an id counts one on. The offset
// is rebased on a switch and when the input starts or stops carrying ids.
func (s *sink) pictureID(vp vp8Desc) uint16 {
	in := vp.pic
	if !vp.hasPic {
		in = s.inPic
		if vp.start {
			in = (in + 1) & 0x7fff
		}
	}
	if vp.start && vp.hasPic != s.inHadPic {
		s.picOff = s.lastPic + 1 - in
	}
	s.inPic, s.inHadPic = in, vp.hasPic
	out := (in + s.picOff) & 0x7fff
	if vp.start {
		s.lastPic = out
	}
	return out
}
