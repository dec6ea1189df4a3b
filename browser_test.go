package main

import (
	"testing"

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
