//go:build unix

package swtest_test

import (
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/swrooms/swrooms/signalwire/swtest"
)

// TestIdleBotRoomCPU measures the CPU of a room with its bots and one
// browser that only receives, for SWTEST_BOTS_CPU seconds (skipped when
// unset): go test -run IdleBotRoomCPU -v ./signalwire/swtest with
// SWTEST_BOTS_CPU=30. The figure is the whole test process: the relay,
// the bots and their media, and the Go browser's pion receiving it.
func TestIdleBotRoomCPU(t *testing.T) {
	secs, _ := strconv.Atoi(os.Getenv("SWTEST_BOTS_CPU"))
	if secs <= 0 {
		t.Skip("set SWTEST_BOTS_CPU=30 to measure")
	}
	_, host, _ := botsRoom(t, swtest.Bots{})
	for _, tr := range host.offer.pc.GetTransceivers() {
		go func() {
			for {
				if _, _, err := tr.Receiver().Track().ReadRTP(); err != nil {
					return
				}
			}
		}()
	}
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			t.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	time.Sleep(2 * time.Second) // past the joins
	c0, w0 := cpu(), time.Now()
	host.collect(time.Duration(secs) * time.Second) // keep reading its events
	used, wall := cpu()-c0, time.Since(w0)
	t.Logf("idle room with 3 bots and 1 receiving browser: %v CPU in %v = %.1f%% of one core",
		used.Round(time.Millisecond), wall.Round(time.Millisecond), 100*used.Seconds()/wall.Seconds())
}
