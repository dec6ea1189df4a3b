package swtest

import (
	"testing"
	"time"
)

// TestBotMediaLoads checks the committed clips: key frame first, the frame
// rates they were made with, and one 20 ms Opus frame per Ogg page (what
// the pump assumes when it sends a page as one RTP payload).
func TestBotMediaLoads(t *testing.T) {
	m, err := loadBotMedia()
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		clip *clip
		step time.Duration
		min  int
	}{
		"camera": {m.camera, time.Second / 15, 30},
		"screen": {m.screen, time.Second / 10, 20},
		"voice":  {m.voice, 20 * time.Millisecond, 100},
	} {
		if c.clip.step != c.step || len(c.clip.frames) < c.min {
			t.Errorf("%s: %d frames of %v, want at least %d of %v", name, len(c.clip.frames), c.clip.step, c.min, c.step)
		}
	}
	for i, p := range m.voice.frames {
		// RFC 6716 3.1: the TOC byte's code 0 is one frame a packet, and
		// its config gives the frame's duration.
		config, code := p[0]>>3, p[0]&3
		if code != 0 || !twentyMs(config) {
			t.Fatalf("voice packet %d: TOC config %d code %d, want one 20 ms frame", i, config, code)
		}
	}
}

// twentyMs reports whether an Opus TOC config has 20 ms frames (RFC 6716
// table 2).
func twentyMs(config byte) bool {
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms in groups of four
		return config%4 == 1
	case config < 16: // hybrid: 10, 20 ms in pairs
		return config%2 == 1
	default: // CELT: 2.5, 5, 10, 20 ms in groups of four
		return config%4 == 3
	}
}
