package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"

	"github.com/swrooms/swrooms/internal/browsertest"
)

// End states and what a guest hears (issue 15, problem 3).

// endScreen waits for the end screen and returns its kind.
func endScreen(t *testing.T, tab *browsertest.Tab) string {
	t.Helper()
	tab.WaitVisible(`[data-testid="call-status"]`)
	return tab.Attr(`[data-testid="call-status"]`, "data-end")
}

// noStaleRoster fails when the page still shows the call's people or room
// state after it ended.
func noStaleRoster(t *testing.T, tab *browsertest.Tab) {
	t.Helper()
	for _, sel := range []string{`[data-testid="member"]`, `[data-testid="member-talking"]`, `[data-testid="recording-indicator"]`, `[data-testid="locked-indicator"]`} {
		if n := tab.Count(sel); n != 0 {
			t.Errorf("%d %s still on the page after the call ended", n, sel)
		}
	}
	if tab.Count(`[data-testid="call"]:not([hidden])`) != 0 {
		t.Error("the call still shows after it ended")
	}
}

func TestE2EUIGuestIsToldAndRemovedCleanly(t *testing.T) {
	t.Parallel()
	app := startFakeApp(t)
	const room = "e2e_ui_guest"
	host := participant(t)
	hostRoom(t, host, app, room, "Hope")
	joinCall(t, host)
	guest := openGuest(t, host.Attr(`[data-testid="invite-link"]`, "href"), "Gwen")
	guest.WaitCount(`[data-testid="member"]`, 2)
	host.WaitCount(`[data-testid="member"]`, 2)
	guest.AxeSerious("the guest in a call")
	if n := guest.Count(`[data-testid="tab-controls"]`); n != 0 {
		t.Errorf("a guest's panel has a Room controls tab")
	}

	// The host mutes the guest: the guest sees a notice and hears it said.
	gwen := liveMember(t, app, room, "Gwen").ID
	host.Click(button("audio-mute", gwen))
	guest.WaitVisible(`[data-testid="notice"][data-notice="muted"]`)
	waitAnnounced(t, guest, "The host muted your microphone.")
	// The host locks the room; the guest is removed: one end screen, the
	// roster and room state cleared, no Rejoin.
	openTab(t, host, "controls")
	host.Click(`[data-action="lock"]`)
	guest.WaitVisible(`[data-testid="locked-indicator"]`)
	openTab(t, host, "people")
	host.Click(button("remove", gwen))
	host.Click(button("confirm-remove", gwen))
	if kind := endScreen(t, guest); kind != "removed" {
		t.Errorf("guest's end screen: %q, want removed", kind)
	}
	noStaleRoster(t, guest)
	if guest.Count(`[data-testid="rejoin"]:not([hidden])`) != 0 {
		t.Error("a removed guest is offered Rejoin")
	}
	guest.WaitVisible(`[data-testid="back-to-picker"]`)
	waitFocused(t, guest, "#end-screen")
	guest.AxeSerious("the end screen")

	// The host ends the meeting: the host may start it again.
	openTab(t, host, "controls")
	host.Click(`[data-action="end-meeting"]`)
	host.Click(`[data-action="confirm-end"]`)
	if kind := endScreen(t, host); kind != "ended-self" {
		t.Errorf("host's end screen: %q, want ended-self", kind)
	}
	noStaleRoster(t, host)
	host.WaitVisible(`[data-testid="rejoin"]`)
}

func TestE2EUIHostEndsMeetingForGuest(t *testing.T) {
	t.Parallel()
	app := startFakeApp(t)
	const room = "e2e_ui_ended"
	host := participant(t)
	hostRoom(t, host, app, room, "Hal")
	joinCall(t, host)
	guest := openGuest(t, host.Attr(`[data-testid="invite-link"]`, "href"), "Gus")
	host.WaitCount(`[data-testid="member"]`, 2)
	openTab(t, host, "controls")
	host.Click(`[data-action="start-recording"]`)
	guest.WaitVisible(`[data-testid="recording-indicator"]`)
	host.Click(`[data-action="end-meeting"]`)
	host.Click(`[data-action="confirm-end"]`)
	if kind := endScreen(t, guest); kind != "ended" {
		t.Errorf("guest's end screen: %q, want ended", kind)
	}
	if got := guest.Text(`[data-testid="call-status-text"]`); !strings.Contains(got, "host ended") {
		t.Errorf("guest's end text: %q", got)
	}
	noStaleRoster(t, guest)
	if guest.Count(`[data-testid="rejoin"]:not([hidden])`) != 0 {
		t.Error("a guest is offered to rejoin a meeting the host ended")
	}
}

// TestE2EUIServerRestartInSandbox: the server no longer knows the call's
// seat (a sandbox restart makes a new key): the call ends with a screen
// that says why, offers no reload that would be a 403, and the reloaded
// page itself says why it refuses.
func TestE2EUIServerRestartInSandbox(t *testing.T) {
	t.Parallel()
	app := startSandboxApp(t)
	tab := participant(t)
	// From the first roster post on, the server "forgot" the seat.
	tab.Intercept("*/events", func(n int, _ *network.Request) int {
		if n > 1 {
			return 403
		}
		return 0
	})
	tab.AllowConsoleError("403")
	hostRoom(t, tab, app, "e2e_ui_restart", "Rey")
	joinCall(t, tab)
	// The bots' events soon need a post; the server refuses it.
	if kind := endScreen(t, tab); kind != "restarted" {
		t.Errorf("end screen: %q, want restarted", kind)
	}
	noStaleRoster(t, tab)
	tab.WaitVisible(`[data-testid="end-sandbox-note"]`)
	if tab.Count(`[data-testid="reload"]:not([hidden])`) != 0 || tab.Count(`[data-testid="rejoin"]:not([hidden])`) != 0 {
		t.Error("a sandbox restart offers a reload or rejoin that cannot work")
	}
	// A browser without the host cookie sees what a restart leaves: a 403
	// that says why.
	resp := app.get(t, "/rooms/e2e_ui_restart")
	if resp.StatusCode != 403 {
		t.Fatalf("host page without a session: %d", resp.StatusCode)
	}
	other := participant(t)
	other.AllowConsoleError("403")
	other.Navigate(app.URL + "/rooms/e2e_ui_restart")
	if got := other.Text(`[data-testid="error-message"]`); !strings.Contains(got, "sandbox mode") || !strings.Contains(got, "restart") {
		t.Errorf("403 in sandbox mode: %q, want it to say a restart ends host sessions", got)
	}
}

// restartableSandbox is the app in sandbox mode, restarted for real on the
// same address: run() stops (and with it its in-process relay, so the
// SDK's socket closes too) and starts again with a new random SECRET_KEY,
// as `go run .` started again does.
type restartableSandbox struct{ *testApp }

// start starts run() again on the same address, after halt.
func (r *restartableSandbox) start(t *testing.T) {
	t.Helper()
	next := startSandboxApp(t, "ADDR="+strings.TrimPrefix(r.URL, "http://"))
	if next.URL != r.URL {
		t.Fatalf("restarted on %s, want %s", next.URL, r.URL)
	}
	r.testApp = next
}

// TestE2EUISandboxRestartEndsTheCallAtOnce: a real restart of a sandbox
// (new key, relay gone) ends the call on the page within seconds, with the
// screen that says why and no Rejoin, rather than showing the dead call
// until the SDK gives up; while the server is down the page says so.
func TestE2EUISandboxRestartEndsTheCallAtOnce(t *testing.T) {
	t.Parallel()
	app := &restartableSandbox{startSandboxApp(t)}
	tab := participant(t)
	for _, e := range []string{"ERR_CONNECTION_REFUSED", "403", "WebSocket", "ERR_EMPTY_RESPONSE", "ERR_CONNECTION_RESET"} {
		tab.AllowConsoleError(e)
	}
	hostRoom(t, tab, app.testApp, "e2e_ui_real_restart", "Rita")
	joinCall(t, tab)
	tab.WaitJS(`document.querySelector('[data-stream-root]').hasAttribute('sse-connect')`)

	// While no server answers, the page says so instead of showing the
	// dead call as if nothing happened.
	app.halt(t)
	tab.WaitJS(`(() => { const s = document.querySelector('[data-testid="connection-status"]');
		return !s.hidden && s.textContent.includes('The server is not answering'); })()`)
	app.start(t)
	restarted := time.Now()
	tab.SetTimeout(6 * time.Second)
	kind := endScreen(t, tab)
	tab.SetTimeout(waitFor)
	if took := time.Since(restarted); took > 5*time.Second {
		t.Errorf("the end screen came %v after the restart, want within 5s", took.Round(100*time.Millisecond))
	}
	if kind != "restarted" {
		t.Errorf("end screen: %q, want restarted", kind)
	}
	noStaleRoster(t, tab)
	tab.WaitVisible(`[data-testid="end-sandbox-note"]`)
	tab.WaitVisible(`[data-testid="back-to-picker"]`)
	if tab.Count(`[data-testid="reload"]:not([hidden])`) != 0 || tab.Count(`[data-testid="rejoin"]:not([hidden])`) != 0 {
		t.Error("a sandbox restart offers a reload or rejoin that cannot work")
	}
}
