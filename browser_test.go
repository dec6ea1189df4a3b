package main

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"

	"github.com/chromedp/chromedp"

	"github.com/swrooms/swrooms/internal/browsertest"
)

// TestBrowserPickerRunsUnderCSP loads the picker in Chromium: the strict
// Content-Security-Policy must let the page's own scripts (htmx) run, and
// nothing on the page may violate it.
func TestBrowserPickerRunsUnderCSP(t *testing.T) {
	t.Parallel()
	app := startSandboxApp(t)
	tab := browsertest.NewTab(t)
	tab.InitScript(`window.__csp = []; document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`)
	tab.Navigate(app.URL + "/")
	tab.WaitVisible(`[data-testid="sandbox-banner"]`)
	tab.WaitJS(`typeof htmx === 'object' && htmx.version.startsWith('2.')`)

	// htmx is alive: inline validation swaps the field's message in.
	tab.Run(chromedp.Clear(`#room`))
	tab.Run(chromedp.SendKeys(`#room`, "bad/name"))
	tab.WaitJS(`document.querySelector('[data-testid="field-error"][data-field="room"]').textContent.includes('only letters')`)

	var violations []string
	tab.Eval(`window.__csp`, &violations)
	if len(violations) > 0 {
		t.Errorf("got CSP violations %q, want none", violations)
	}
}

// TestBrowserPickerStartsARoom submits the picker the htmx way: the 204 with
// HX-Redirect lands on the moderator page.
func TestBrowserPickerStartsARoom(t *testing.T) {
	t.Parallel()
	app := startSandboxApp(t)
	tab := browsertest.NewTab(t)
	tab.Navigate(app.URL + "/?room=Main+Office&user=Ann")
	tab.WaitJS(`typeof htmx === 'object'`)
	tab.Click(`[data-testid="start-room"]`)
	tab.WaitVisible(`[data-testid="room-page"]`)
	if got := tab.Text(`[data-testid="room-name"]`); got != "Main_Office" {
		t.Errorf("got room %q, want Main_Office", got)
	}
	if got := tab.Attr(`[data-testid="invite-link"]`, "href"); got == "" {
		t.Errorf("got no invite link")
	}
}

// TestBrowserLiveRoomsFillThePicker: once a room is in session, a host's
// picker lists it, and clicking it fills the form without a reload.
func TestBrowserLiveRoomsFillThePicker(t *testing.T) {
	t.Parallel()
	app := startFakeApp(t)
	picker := participant(t)
	hostRoom(t, picker, app, "Standup", "Ann")
	// People in the room without this browser: the session is live on
	// SignalWire while the host looks at the picker.
	addMembers(t, app, "Standup", threeMembers...)
	picker.Navigate(app.URL + "/?room=Other&user=Ann")
	picker.WaitVisible(`[data-testid="live-room"][data-room="Standup"]`)
	// htmx wires swapped-in links up a moment after the swap; a click
	// before that is a plain link, which works too, but reloads the page.
	picker.WaitJS(`document.querySelector('[data-testid="live-room"]')['htmx-internal-data'] !== undefined`)
	picker.Eval(`window.__samePage = true`, nil)
	picker.Click(`[data-testid="live-room"][data-room="Standup"]`)
	picker.WaitJS(`document.querySelector('[data-testid="room-input"]').value === 'Standup'`)
	var same bool
	picker.Eval(`window.__samePage === true`, &same)
	if !same {
		t.Errorf("got a page load, want htmx to swap the form in place")
	}
	if got := picker.Attr(`[data-testid="user-input"]`, "value"); got != "Ann" {
		t.Errorf("got user %q, want the name typed before (Ann)", got)
	}
}

// TestBrowserPickerWorksWithJavaScriptOff submits the picker in a browser
// that runs no script at all: the plain form post and its 303 carry it.
func TestBrowserPickerWorksWithJavaScriptOff(t *testing.T) {
	t.Parallel()
	app := startSandboxApp(t)
	tab := browsertest.NewTab(t)
	tab.Run(func(ctx context.Context, target *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, target, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return chromedp.Void{}, err
	})
	tab.AllowConsoleError("422 (Unprocessable Entity)") // the form with its problems, as intended
	tab.Navigate(app.URL + "/?user=Nora")
	var htmxType string
	tab.Eval(`typeof htmx`, &htmxType)
	if htmxType != "undefined" {
		t.Fatalf("got htmx %q, want no page script to have run", htmxType)
	}
	tab.Run(chromedp.Clear(`#room`))
	tab.Run(chromedp.SendKeys(`#room`, "bad/name"))
	clickAndLoad(t, tab, `[data-testid="start-room"]`)
	if got := tab.Text(`[data-testid="field-error"][data-field="room"]`); !strings.Contains(got, "only letters") {
		t.Errorf("got %q, want the room's problem on the re-rendered form", got)
	}
	tab.Run(chromedp.Clear(`#room`))
	tab.Run(chromedp.SendKeys(`#room`, "Main Office"))
	clickAndLoad(t, tab, `[data-testid="start-room"]`)
	if got := tab.Text(`[data-testid="room-name"]`); got != "Main_Office" {
		t.Errorf("got room %q, want Main_Office", got)
	}
}

// TestBrowserRealSDKLoadsUnderCSP opens a moderator page as a deployment
// with credentials serves it and joins: the vendored SDK under the strict
// CSP, which lets it reach the relay of the SignalWire fake on loopback and
// nothing else.
func TestBrowserRealSDKLoadsUnderCSP(t *testing.T) {
	t.Parallel()
	app := startFakeApp(t)
	tab := participant(t)
	tab.InitScript(`window.__csp = []; document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`)
	tab.Navigate(app.URL + "/?room=Real&user=Rita")
	clickAndLoad(t, tab, `[data-testid="start-room"]`)
	waitIsland(t, tab)
	joinCall(t, tab)
	var sdk struct {
		Constructs bool   `json:"constructs"`
		ScriptSrc  string `json:"src"`
		Violations []string
	}
	tab.Eval(`({
		constructs: typeof new SignalWire.Video.RoomSession({token: 'x.e30.x', rootElement: document.createElement('div')}).join === 'function',
		src: [...document.scripts].map(s => s.src).find(s => s.includes('/vendor/signalwire')) || '',
		Violations: window.__csp,
	})`, &sdk)
	if !sdk.Constructs || !strings.Contains(sdk.ScriptSrc, "signalwire-js-3.30.0.umd.js") {
		t.Errorf("got %+v, want the real SDK, constructing a RoomSession", sdk)
	}
	if len(sdk.Violations) > 0 {
		t.Errorf("got CSP violations %q, want none", sdk.Violations)
	}
}
