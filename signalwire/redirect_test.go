package signalwire_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swrooms/swrooms/signalwire"
)

// A client given an *http.Client that follows redirects (Go's default)
// still refuses them: the credentials never reach another host.
func TestRedirectsAreRefusedWhateverHTTPClient(t *testing.T) {
	t.Parallel()
	var reached atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		w.Write([]byte(`{"token":"from-elsewhere"}`))
	}))
	t.Cleanup(elsewhere.Close)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(api.Close)
	for name, hc := range map[string]*http.Client{
		"default CheckRedirect":      {},
		"a permissive CheckRedirect": {CheckRedirect: func(*http.Request, []*http.Request) error { return nil }},
	} {
		c, err := signalwire.NewClient(api.URL, "proj", "secret-token", signalwire.WithHTTPClient(hc))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := c.CreateRoomToken(context.Background(), signalwire.RoomTokenParams{RoomName: "R", UserName: "Ann"})
		if tok != "" || !signalwire.IsRedirect(err) {
			t.Errorf("%s: got %q, %v; want no token and a redirect error", name, tok, err)
		}
		if hc.CheckRedirect != nil && hc.CheckRedirect(nil, nil) != nil {
			t.Errorf("%s: the caller's client was changed", name)
		}
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("the other host got %d requests", n)
	}
}

// A spent budget makes no call and says when the next one may go.
func TestCallBudget(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Write([]byte(`{"token":"t"}`))
	}))
	t.Cleanup(api.Close)
	c, err := signalwire.NewClient(api.URL, "proj", "secret-token", signalwire.WithCallBudget(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := c.CreateRoomToken(context.Background(), signalwire.RoomTokenParams{RoomName: "R"}); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	_, err = c.CreateRoomToken(context.Background(), signalwire.RoomTokenParams{RoomName: "R"})
	var be *signalwire.BudgetError
	if !asBudget(err, &be) || be.RetryAfter <= 0 || be.RetryAfter > time.Second {
		t.Errorf("got %v, want a BudgetError with a wait up to 1 s", err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("got %d calls, want 2", n)
	}
	if _, err := signalwire.NewClient(api.URL, "p", "t", signalwire.WithCallBudget(0, 1)); err == nil {
		t.Errorf("got no error for a zero budget")
	}
}

func asBudget(err error, be **signalwire.BudgetError) bool { return errors.As(err, be) }
