package swtest

import (
	"time"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Who talks: SignalWire's MCU decodes every member's audio and sends
// video.member.talking when a member starts and stops talking. The relay
// decodes nothing; it reads the audio level Chrome writes on every Opus
// packet (RFC 6464, urn:ietf:params:rtp-hdrext:ssrc-audio-level, which
// the relay's answer accepts: newMediaAPI) and applies a hysteresis, so
// that a cough or Chromium's fake-microphone beep does not make a member
// talk, and a pause between words does not end it. The thresholds are the
// relay's; SignalWire documents none (its input_sensitivity, 0..100, is
// not modelled).
//
// Measured here: Chromium's fake microphone (--use-fake-device-for-media-
// stream) beeps every 500 ms, and the level Chrome reports for it starts
// near -8 dBov and decays by 3 to 5 dB a packet: about 100 ms at -40 dBov
// or louder, 180 ms at -50. Hence -40 and 200 ms below.

// Talking detection, on the RFC 6464 level: 0 is 0 dBov (the loudest),
// 127 is -127 dBov (silence).
const (
	// talkLevel is the quietest level that counts as sound: -40 dBov.
	// Speech into a real microphone is around -20 to -35 dBov, a quiet
	// room -60 or less.
	talkLevel = 40
	// talkOnset is how long sound must last (gaps under talkBridge
	// included) before a member talks.
	talkOnset = 200 * time.Millisecond
	// talkBridge is the longest gap that does not break a run of sound:
	// the pauses inside and between words.
	talkBridge = 150 * time.Millisecond
	// talkRelease is how long a talking member must be silent to stop.
	talkRelease = time.Second
)

// talkDetector turns a stream of packet levels into talking on and off.
// One audio reader goroutine owns it.
type talkDetector struct {
	talking  bool
	runStart time.Time // start of the current run of sound
	lastLoud time.Time // the last packet of sound; zero: none yet
}

// observe takes the level of a packet that arrived at now (muted: the
// member is muted, so the packet counts as silence, as a server-side mute
// silences it) and reports whether talking changed.
func (d *talkDetector) observe(now time.Time, level uint8, muted bool) bool {
	if level <= talkLevel && !muted {
		if d.lastLoud.IsZero() || now.Sub(d.lastLoud) > talkBridge {
			d.runStart = now
		}
		d.lastLoud = now
		if !d.talking && now.Sub(d.runStart) >= talkOnset {
			d.talking = true
			return true
		}
		return false
	}
	if d.talking && now.Sub(d.lastLoud) >= talkRelease {
		d.talking = false
		return true
	}
	return false
}

// audioLevelID is the negotiated id of the audio-level extension on a
// receiver, 0 when the browser did not offer it.
func audioLevelID(recv *webrtc.RTPReceiver) uint8 {
	for _, e := range recv.GetParameters().HeaderExtensions {
		if e.URI == sdp.AudioLevelURI {
			return uint8(e.ID)
		}
	}
	return 0
}

// audioLevel reads the level of one packet; ok is false without one.
func audioLevel(pkt *rtp.Packet, id uint8) (uint8, bool) {
	if id == 0 {
		return 0, false
	}
	b := pkt.GetExtension(id)
	if b == nil {
		return 0, false
	}
	var ext rtp.AudioLevelExtension
	if ext.Unmarshal(b) != nil {
		return 0, false
	}
	return ext.Level, true
}

// talked sends video.member.talking for the peer's member when its
// detector changed, as SignalWire does for a member whose audio it hears;
// a muted member does not start talking.
func (f *Fake) talked(p *mediaPeer, talking bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := p.member
	if m == nil || m.room == nil || m.room.byID[m.ID] != m || (talking && m.AudioMuted) {
		return
	}
	f.updateLocked(m, MemberChange{Talking: &talking})
}

// trackArrived re-plans the peer's room now that media of a new kind
// flows from it.
func (f *Fake) trackArrived(p *mediaPeer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m := p.member; m != nil && m.room != nil && m.room.byID[m.ID] == m {
		f.rerouteLocked(m.room)
	}
}
