package swtest

import (
	"testing"
	"time"
)

// levels feeds a detector 20 ms packets for d, loud while on(elapsed),
// and returns when talking changed, relative to t0.
func levels(d *talkDetector, t0 time.Time, from, to time.Duration, on func(time.Duration) bool) []time.Duration {
	var changes []time.Duration
	for at := from; at < to; at += 20 * time.Millisecond {
		level := uint8(127)
		if on(at) {
			level = 30
		}
		if d.observe(t0.Add(at), level, false) {
			changes = append(changes, at)
		}
	}
	return changes
}

func TestTalkDetectorHysteresis(t *testing.T) {
	t0 := time.Unix(1000, 0)
	always := func(time.Duration) bool { return true }
	never := func(time.Duration) bool { return false }

	t.Run("Chromium's fake-microphone beep never talks", func(t *testing.T) {
		var d talkDetector
		// As measured: about 100 ms at -40 dBov or louder every 500 ms;
		// 160 ms leaves a margin.
		beep := func(at time.Duration) bool { return at%(500*time.Millisecond) < 160*time.Millisecond }
		if got := levels(&d, t0, 0, 10*time.Second, beep); len(got) != 0 {
			t.Errorf("changes at %v, want none", got)
		}
	})
	t.Run("talking starts after 200 ms of sound and stops after 1 s of silence", func(t *testing.T) {
		var d talkDetector
		got := levels(&d, t0, 0, time.Second, always)
		if len(got) != 1 || got[0] != 200*time.Millisecond || !d.talking {
			t.Fatalf("onset at %v, want [200ms]", got)
		}
		got = levels(&d, t0, time.Second, 3*time.Second, never)
		if len(got) != 1 || got[0] != 1980*time.Millisecond || d.talking {
			t.Errorf("release at %v, want [1.98s] (the last sound was at 980 ms)", got)
		}
	})
	t.Run("pauses between words do not end talking", func(t *testing.T) {
		var d talkDetector
		speech := func(at time.Duration) bool { return at%(400*time.Millisecond) < 300*time.Millisecond }
		got := levels(&d, t0, 0, 5*time.Second, speech)
		if len(got) != 1 {
			t.Errorf("changes at %v, want one onset", got)
		}
	})
	t.Run("a muted member does not talk", func(t *testing.T) {
		var d talkDetector
		for at := time.Duration(0); at < time.Second; at += 20 * time.Millisecond {
			if d.observe(t0.Add(at), 0, true) {
				t.Fatalf("talking changed at %v while muted", at)
			}
		}
	})
}
