package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
)

// TestManyHostsBehindOneAddressStartRoomsAtOnce: the passcode limit counts
// failures only, when they fail; a burst of right passcodes from one
// address (an office behind one NAT) is not refused. Fiber's limiter with
// SkipSuccessfulRequests counted requests in flight, so the eleventh of a
// burst got 429.
func TestManyHostsBehindOneAddressStartRoomsAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const hosts = 20
	browsers := make([]*testEnv, hosts)
	for i := range browsers {
		browsers[i] = e.another()
		browsers[i].get("/") // the CSRF token, before the burst
	}
	codes := make([]int, hosts)
	var wg sync.WaitGroup
	for i, b := range browsers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := b.post("/rooms", url.Values{"room": {"R" + strconv.Itoa(i)}, "user": {"Ann"}, "passcode": {"open-sesame"}})
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	for i, code := range codes {
		if code != http.StatusSeeOther {
			t.Errorf("host %d: got %d, want 303", i, code)
		}
	}
}
