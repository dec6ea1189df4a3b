package browsertest

import (
	"context"
	"sync"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Drop is the verdict that fails a request as a reset connection would.
const Drop = -1

// Exchange is one intercepted request of a tab and the answer it got: from
// the server, or the status a verdict put in its place (Refused).
type Exchange struct {
	Method       string
	URL          string
	RequestBody  []byte
	Status       int // 0 for a dropped request
	ResponseBody []byte
	Header       map[string]string // response headers, names as sent
	Refused      bool              // the test answered (or dropped) it; the server never saw it
}

// Verdict decides the fate of the nth (from 1) intercepted request: 0 lets
// it through, a status answers it with that status and an empty body
// without reaching the server, Drop fails it.
type Verdict func(n int, req *network.Request) int

// Interceptor records the exchanges of one Intercept call.
type Interceptor struct {
	mu        sync.Mutex
	exchanges []Exchange
	n         int
}

// Exchanges returns what was intercepted so far, in the order the answers
// arrived.
func (ic *Interceptor) Exchanges() []Exchange {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	return append([]Exchange(nil), ic.exchanges...)
}

func (ic *Interceptor) add(e Exchange) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	ic.exchanges = append(ic.exchanges, e)
}

func (ic *Interceptor) next() int {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	ic.n++
	return ic.n
}

// Intercept pauses the tab's requests whose URL matches pattern (DevTools
// wildcards: * and ?), lets verdict refuse some (nil lets all through), and
// records every exchange with its bodies, for size and fault tests of a
// page's own requests without hooks in the page. Call it once per tab,
// before the page makes the requests.
func (tab *Tab) Intercept(pattern string, verdict Verdict) *Interceptor {
	tab.t.Helper()
	ic := &Interceptor{}
	events := chromedp.Events(tab.ctx, fetch.RequestPaused)
	ctx, cancel := context.WithTimeout(tab.ctx, tab.timeout)
	defer cancel()
	_, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{
		{URLPattern: pattern, RequestStage: fetch.RequestStageRequest},
		{URLPattern: pattern, RequestStage: fetch.RequestStageResponse},
	}})
	if err != nil {
		tab.t.Fatalf("browsertest: intercepting %s: %v", pattern, err)
	}
	// The handlers outlive this call, and SetTimeout may change the tab's
	// timeout meanwhile: they keep the one of now.
	timeout := tab.timeout
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			// Commands from inside the event loop would wait on the loop.
			go tab.handlePaused(ic, ev, verdict, timeout)
		}
	}()
	return ic
}

// handlePaused answers one paused request; errors mean the tab is closing.
func (tab *Tab) handlePaused(ic *Interceptor, ev fetch.EventRequestPaused, verdict Verdict, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(tab.ctx, timeout)
	defer cancel()
	x := Exchange{Method: ev.Request.Method, URL: ev.Request.URL}
	for _, e := range ev.Request.PostDataEntries {
		x.RequestBody = append(x.RequestBody, e.Bytes...)
	}
	if ev.ResponseStatusCode == 0 && ev.ResponseErrorReason == "" {
		v := 0
		if verdict != nil {
			v = verdict(ic.next(), ev.Request)
		}
		switch {
		case v == Drop:
			x.Refused = true
			ic.add(x)
			_, _ = chromedp.Call(ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonConnectionReset})
		case v > 0:
			x.Refused, x.Status = true, v
			ic.add(x)
			_, _ = chromedp.Call(ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: ev.RequestID, ResponseCode: int64(v),
				ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/plain"}}, Body: []byte("refused by the test")})
		default:
			_, _ = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		}
		return
	}
	x.Status = int(ev.ResponseStatusCode)
	x.Header = make(map[string]string, len(ev.ResponseHeaders))
	for _, h := range ev.ResponseHeaders {
		x.Header[h.Name] = h.Value
	}
	body, err := chromedp.Call(ctx, fetch.GetResponseBody, fetch.GetResponseBodyParams{RequestID: ev.RequestID})
	if err == nil {
		x.ResponseBody = body.Body // cdproto has decoded base64 already
	}
	ic.add(x)
	_, _ = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
}
