package handlers_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// TestHostSessionIsRenewedWhenFiveMinutesOld: a used host session is sent
// again only once its expiry lags a fresh one's by more than five minutes,
// so a busy page costs no signature and no Set-Cookie per request, and the
// idle lifetime still runs from within five minutes of the last use.
func TestHostSessionIsRenewedWhenFiveMinutesOld(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	var offset atomic.Int64
	e := newEnvClock(t, func() time.Time { return start.Add(time.Duration(offset.Load())) })
	e.host("Standup", "Ann")

	sent := func(after time.Duration) bool {
		t.Helper()
		offset.Store(int64(after))
		resp, _ := e.do(http.MethodGet, "/rooms/Standup", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("host page after %v: got %d", after, resp.StatusCode)
		}
		for _, c := range resp.Cookies() {
			if c.Name == "swr_host" {
				return true
			}
		}
		return false
	}
	if sent(time.Minute) {
		t.Error("the host cookie was sent again a minute after it was set")
	}
	if sent(4 * time.Minute) {
		t.Error("the host cookie was sent again four minutes after it was set")
	}
	if !sent(6 * time.Minute) {
		t.Error("the host cookie was not renewed six minutes after it was set")
	}
	if sent(8 * time.Minute) {
		t.Error("the host cookie was sent again two minutes after its renewal")
	}
}
