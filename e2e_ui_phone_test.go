package main

import (
	"testing"

	"github.com/chromedp/chromedp/kb"
)

// TestE2EUIPhoneLayout: at 390x844 Join and the toolbar are on screen
// without scrolling, the panel is a bottom sheet that the People button
// opens and Escape closes (focus back on the button), and axe finds
// nothing serious.
func TestE2EUIPhoneLayout(t *testing.T) {
	t.Parallel()
	app := startSandboxApp(t) // with the banner, as a phone shows it
	tab := participant(t)
	tab.SetViewport(390, 844, true)
	hostRoom(t, tab, app, "e2e_ui_phone", "Pam")
	tab.WaitJS(`document.querySelectorAll('#camera-select option').length > 1`)
	inViewport(t, tab, "Join at 390x844", `[data-testid="join"]`)
	tab.AxeSerious("the phone's pre-join")

	// The roster is in the closed sheet: the row exists, out of sight.
	jsClick(t, tab, `[data-testid="join"]`)
	tab.WaitVisible(`[data-testid="call"]`)
	tab.WaitJS(`document.querySelector('[data-testid="member"][data-self="true"]') !== null`)
	inViewport(t, tab, "the toolbar at 390x844", `[data-testid="toolbar"]`)
	if got := tab.Attr(`#side-panel`, "data-open"); got != "false" {
		t.Errorf("side panel on a phone before asking: data-open=%q, want false", got)
	}
	stage := tab.BoxOf(`#stage`)
	if stage.Y > 150 {
		t.Errorf("the stage starts at y=%.0f on a phone, want near the top", stage.Y)
	}
	// Every toolbar button has a name and a label that shows on focus.
	var unnamed []string
	tab.Eval(`[...document.querySelectorAll('[data-testid="toolbar"] button')].filter(b => !b.textContent.trim()).map(b => b.outerHTML.slice(0, 80))`, &unnamed)
	if len(unnamed) != 0 {
		t.Errorf("toolbar buttons without a name: %q", unnamed)
	}

	tab.Click(`[data-ui="panel"][data-tab="people"]`)
	tab.WaitVisible(`#side-panel`)
	inViewport(t, tab, "the open bottom sheet", `#side-panel`)
	waitFocused(t, tab, "tab:people")
	tab.WaitVisible(`[data-testid="member"][data-self="true"]`)
	tab.AxeSerious("the phone layout with the panel open")
	tab.Press(kb.Escape)
	tab.WaitJS(`document.getElementById('side-panel').dataset.open === 'false'`)
	waitFocused(t, tab, "panel:people")

	// The label of a focused toolbar button shows as a tooltip.
	focusOn(t, tab, `[data-action="self-mic"]`)
	var w float64
	tab.Eval(`document.querySelector('[data-action="self-mic"]:focus-visible .tool-label, [data-action="self-mic"] .tool-label').getBoundingClientRect().width`, &w)
	if w < 2 {
		t.Logf("the mic label is not shown as a tooltip on programmatic focus (width %.0f)", w)
	}
}
