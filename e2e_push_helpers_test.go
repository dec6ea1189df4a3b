package main

import (
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/swrooms/swrooms/handlers"
	"github.com/swrooms/swrooms/internal/browsertest"
	"github.com/swrooms/swrooms/push"
)

// Helpers of issue 16's browser tests: the lobby, chat, ask-to-unmute and
// removals, pushed over each page's server-sent event stream.

// pushWait is how long these tests wait for something the stream brings,
// once the pages are in the call (a join itself gets waitFor).
const pushWait = 5 * time.Second

// Stream timing of these tests: a closed tab's stream fails at the next
// heartbeat, and its lobby entry goes after the grace, so leaving the lobby
// takes under 2 s instead of up to 25 s.
const (
	testHeartbeat  = 500 * time.Millisecond
	testLobbyGrace = time.Second
)

// startPushApp runs the app against a fake SignalWire, as startFakeApp
// does, with short stream timing and a broker whose streams the test can
// cut.
func startPushApp(t *testing.T) (*testApp, *cuttableBroker) {
	t.Helper()
	env, fake := fakeConfig(t)
	cb := &cuttableBroker{}
	app := startApp(t, env, withStreamTiming(testHeartbeat, testLobbyGrace), withBroker(func(m handlers.Broker) handlers.Broker {
		cb.Broker = m
		return cb
	}))
	app.Fake = fake
	return app, cb
}

// hostLobbyRoom starts room from the picker with the lobby on (its
// default) and lands on the moderator page, before Join.
func hostLobbyRoom(t *testing.T, tab *browsertest.Tab, app *testApp, room, user string) {
	t.Helper()
	tab.Navigate(app.URL + "/?room=" + url.QueryEscape(room) + "&user=" + url.QueryEscape(user))
	clickAndLoad(t, tab, `[data-testid="start-room"]`)
	waitIsland(t, tab)
}

// knock opens the invite in a browser of its own and presses Join as
// name: with the lobby on, the page waits in it.
func knock(t *testing.T, invite, name string) *browsertest.Tab {
	t.Helper()
	g := participant(t)
	g.Navigate(invite)
	waitIsland(t, g)
	setName(t, g, name)
	jsClick(t, g, `[data-testid="join"]`)
	g.WaitVisible(`[data-testid="lobby-waiting"]`)
	return g
}

// lobbyRow is the JS expression of the host's lobby row of name.
func lobbyRow(name string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('[data-testid="lobby-guest"]')].find(r => r.querySelector('.member-name')?.textContent.trim() === %q)`, name)
}

// decide clicks Admit or Deny (action) on name's row of the host's Lobby
// tab and waits until the row is gone.
func decide(t *testing.T, host *browsertest.Tab, name, action string) {
	t.Helper()
	openTab(t, host, "lobby")
	host.WaitJS(lobbyRow(name) + ` !== undefined`)
	settled(t, host)
	host.Eval(fmt.Sprintf(`%s.querySelector('[data-action=%q]').click()`, lobbyRow(name), action), nil)
	host.WaitJS(lobbyRow(name) + ` === undefined`)
}

// streamUp waits until the page's push stream is open, so that what the
// test makes the server push next reaches it as an event, not only as the
// state a (re)connect brings.
func streamUp(t *testing.T, tabs ...*browsertest.Tab) {
	t.Helper()
	for _, tab := range tabs {
		tab.WaitJS(`document.body.dataset.stream === 'open'`)
	}
}

// settled waits until htmx has settled its last swap: the new content's
// buttons work only from then on (htmx processes it after a 20 ms settle),
// a delay no person notices but a test clicking at once would.
func settled(t *testing.T, tab *browsertest.Tab) {
	t.Helper()
	tab.WaitJS(`!document.querySelector('.htmx-added, .htmx-settling, .htmx-swapping')`)
}

// tokensFor counts the room tokens SignalWire issued for user.
func tokensFor(app *testApp, user string) int {
	n := 0
	for _, c := range app.Fake.CallsTo("POST", "/room_tokens") {
		if c.Body["user_name"] == user && c.Status < 300 {
			n++
		}
	}
	return n
}

// cuttableBroker is the app's broker with a switch: Cut makes the
// subscriptions open now lose their events, as a dead connection does,
// until Drop ends them, when their pages reconnect with Last-Event-ID. It
// records the Last-Event-ID of every subscription.
type cuttableBroker struct {
	handlers.Broker
	mu      sync.Mutex
	subs    []*cutSub
	lastIDs []string
}

type cutSub struct {
	cut     chan struct{}
	dropped chan struct{}
	once    sync.Once
	targets []string
}

// Subscribe forwards the inner subscription's events until it is cut.
func (b *cuttableBroker) Subscribe(room string, targets []string, lastID string) (*push.Subscription, error) {
	inner, err := b.Broker.Subscribe(room, targets, lastID)
	if err != nil {
		return nil, err
	}
	cs := &cutSub{cut: make(chan struct{}), dropped: make(chan struct{}), targets: targets}
	b.mu.Lock()
	b.subs = append(b.subs, cs)
	b.lastIDs = append(b.lastIDs, lastID)
	b.mu.Unlock()
	out := *inner // keeps the inner close, so Close ends both
	ch := make(chan push.Event, 64)
	out.C = ch
	go func() {
		defer close(ch)
		for {
			select {
			case ev, ok := <-inner.C:
				if !ok {
					return
				}
				select {
				case <-cs.cut: // lost on the way
				default:
					select {
					case ch <- ev:
					default: // a stream that stopped reading: as the broker's own cut-off
					}
				}
			case <-cs.dropped:
				return
			}
		}
	}()
	return &out, nil
}

// Cut makes the open subscriptions that ok selects lose every later event.
func (b *cuttableBroker) Cut(ok func(targets []string) bool) []*cutSub {
	b.mu.Lock()
	defer b.mu.Unlock()
	var cut []*cutSub
	for _, s := range b.subs {
		if ok(s.targets) {
			s.once.Do(func() { close(s.cut) })
			cut = append(cut, s)
		}
	}
	return cut
}

// Drop ends the streams of subs: the server closes them, the pages'
// EventSources reconnect.
func (b *cuttableBroker) Drop(subs []*cutSub) {
	for _, s := range subs {
		close(s.dropped)
	}
}

// LastIDs returns the Last-Event-ID of every subscription so far.
func (b *cuttableBroker) LastIDs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.lastIDs...)
}
