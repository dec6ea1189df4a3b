package swtest

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// The bots' media: short clips encoded once with ffmpeg and committed
// (botmedia/README.md says how), read with pion's IVF and Ogg readers and
// looped. Nothing is encoded at run time.
//
// The bots' clips are one source of the room, as a browser's call is one
// (relay_forward.go): a receiver gets them when the router picks the bots
// (relay_forward_route.go), switching to the video on a key frame (each
// clip has one a second, so the bots need no PLI).

//go:embed botmedia/camera.ivf botmedia/screen.ivf botmedia/voice.ogg
var botMediaFiles embed.FS

// Clock rates and the Opus frame of the RTP streams (RFC 7741, RFC 7587).
const (
	videoClock = 90000
	opusClock  = 48000
	opusFrame  = 20 * time.Millisecond
	// rtpMTU leaves room for SRTP and header extensions under a 1280-byte
	// path MTU, as browsers do.
	rtpMTU = 1200
)

// clip is a looped sequence of encoded frames of one kind.
type clip struct {
	frames  [][]byte
	step    time.Duration // one frame's duration
	samples uint32        // step in RTP clock ticks
}

// botMedia holds the decoded clips; read-only once loaded.
type botMedia struct {
	camera, screen, voice *clip
}

// loadBotMedia reads the embedded clips (about 90 KB in all).
func loadBotMedia() (*botMedia, error) {
	camera, err := loadIVF("botmedia/camera.ivf")
	if err != nil {
		return nil, err
	}
	screen, err := loadIVF("botmedia/screen.ivf")
	if err != nil {
		return nil, err
	}
	voice, err := loadOpus("botmedia/voice.ogg")
	if err != nil {
		return nil, err
	}
	return &botMedia{camera: camera, screen: screen, voice: voice}, nil
}

// loadIVF reads a VP8 IVF file whose frames are one timebase tick apart
// (ffmpeg writes the frame rate as the timebase).
func loadIVF(name string) (*clip, error) {
	b, err := botMediaFiles.ReadFile(name)
	if err != nil {
		return nil, err
	}
	r, h, err := ivfreader.NewWith(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if string(h.FourCC[:]) != "VP80" || h.TimebaseDenominator == 0 || h.TimebaseNumerator == 0 {
		return nil, fmt.Errorf("%s: not VP8 with a frame-rate timebase", name)
	}
	step := time.Second * time.Duration(h.TimebaseNumerator) / time.Duration(h.TimebaseDenominator)
	c := &clip{step: step, samples: uint32(videoClock * h.TimebaseNumerator / h.TimebaseDenominator)}
	for {
		frame, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		c.frames = append(c.frames, frame)
	}
	if len(c.frames) == 0 || c.frames[0][0]&1 != 0 {
		return nil, fmt.Errorf("%s: must start with a key frame", name) // RFC 6386 9.1: bit 0 clear
	}
	return c, nil
}

// loadOpus reads an Ogg Opus file written with one 20 ms packet per page
// (ffmpeg -page_duration 20000), so that a page is an RTP payload.
func loadOpus(name string) (*clip, error) {
	b, err := botMediaFiles.ReadFile(name)
	if err != nil {
		return nil, err
	}
	r, _, err := oggreader.NewWith(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c := &clip{step: opusFrame, samples: uint32(opusClock * opusFrame / time.Second)}
	for {
		page, _, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if len(page) == 0 || bytes.HasPrefix(page, []byte("OpusTags")) {
			continue
		}
		c.frames = append(c.frames, page)
	}
	if len(c.frames) == 0 {
		return nil, fmt.Errorf("%s: no Opus packets", name)
	}
	return c, nil
}

// botOutput is what one tick sends and where.
type botOutput struct {
	feed             *mediaSource // the room's bots source; nil: none
	talking, sharing bool
}

// botStream is one room's outgoing RTP: a packetizer per kind, so that
// sequence numbers and timestamps run on across clip switches and silence.
// Only the director's goroutine uses it.
type botStream struct {
	media      *botMedia // nil: no media
	video, aud rtp.Packetizer
	cur        *clip // the video clip playing
	vi, ai     int   // next frame of each
	nextVideo  time.Time
}

func newBotStream(m *botMedia, now time.Time) *botStream {
	if m == nil {
		return &botStream{}
	}
	// The SSRC is replaced per peer by the tracks; payload types too.
	return &botStream{
		media:     m,
		video:     rtp.NewPacketizer(rtpMTU, 96, rand.Uint32(), &codecs.VP8Payloader{EnablePictureID: true}, rtp.NewRandomSequencer(), videoClock),
		aud:       rtp.NewPacketizer(rtpMTU, 111, rand.Uint32(), &codecs.OpusPayloader{}, rtp.NewRandomSequencer(), opusClock),
		cur:       m.camera,
		nextVideo: now,
	}
}

// send writes what is due at now: one Opus frame per tick while a bot
// talks (silence advances the timestamp only), and the video frames due,
// switching clips on a key frame (each clip starts with one).
func (s *botStream) send(now time.Time, out botOutput) {
	if s.media == nil || out.feed == nil {
		return
	}
	out.feed.has[kindVideo].Store(true)
	out.feed.has[kindAudio].Store(true)
	voice := s.media.voice
	if out.talking {
		pkts := s.aud.Packetize(voice.frames[s.ai], voice.samples)
		s.ai = (s.ai + 1) % len(voice.frames)
		forwardAll(out.feed, kindAudio, pkts)
	} else {
		s.aud.SkipSamples(voice.samples)
	}
	want := s.media.camera
	if out.sharing {
		want = s.media.screen
	}
	if want != s.cur {
		s.cur, s.vi = want, 0
	}
	if now.Sub(s.nextVideo) > time.Second {
		s.nextVideo = now // after a pause, do not send a burst
	}
	for !now.Before(s.nextVideo) {
		pkts := s.video.Packetize(s.cur.frames[s.vi], s.cur.samples)
		s.vi = (s.vi + 1) % len(s.cur.frames)
		s.nextVideo = s.nextVideo.Add(s.cur.step)
		forwardAll(out.feed, kindVideo, pkts)
	}
}

// forwardAll hands packets to the sinks the bots feed.
func forwardAll(src *mediaSource, k mediaKind, pkts []*rtp.Packet) {
	for _, pkt := range pkts {
		src.forward(k, pkt)
	}
}
