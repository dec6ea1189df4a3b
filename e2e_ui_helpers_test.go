package main

import (
	"fmt"
	"testing"

	"github.com/swrooms/swrooms/internal/browsertest"
)

// Helpers of the room page's UI tests (issue 15): the side panel's tabs,
// the live region, geometry.

// openTab picks a tab of the side panel (opening the panel when it is
// closed, as on a phone) and waits for its panel.
func openTab(t *testing.T, tab *browsertest.Tab, id string) {
	t.Helper()
	var open bool
	tab.Eval(`document.getElementById('side-panel').dataset.open === 'true'`, &open)
	if !open {
		tab.Click(fmt.Sprintf(`[data-ui="panel"][data-tab="people"]`))
	}
	tab.Click(fmt.Sprintf(`[data-testid="tab-%s"]`, id))
	tab.WaitVisible(fmt.Sprintf(`[data-panel=%q]`, id))
}

// waitAnnounced waits until the live region has said text, names read
// without the isolation marks around them (U+2066 to U+2069).
func waitAnnounced(t *testing.T, tab *browsertest.Tab, text string) {
	t.Helper()
	tab.WaitJS(fmt.Sprintf(`document.getElementById('announcer').textContent.replace(/[\u2066-\u2069]/g, '').includes(%q)`, text))
}

// focusOn moves keyboard focus to the element, as Tab would.
func focusOn(t *testing.T, tab *browsertest.Tab, sel string) {
	t.Helper()
	tab.WaitVisible(sel)
	tab.Eval(fmt.Sprintf(`document.querySelector(%q).focus()`, sel), nil)
}

// waitFocused waits until the focused element is described by want (see
// browsertest.Tab.Focused).
func waitFocused(t *testing.T, tab *browsertest.Tab, want ...string) {
	t.Helper()
	tab.WaitJS(fmt.Sprintf(`(() => { const e = document.activeElement; if (!e) return false;
		const d = (e.dataset && (e.dataset.action || e.dataset.ui)) ? (e.dataset.action || e.dataset.ui) + ':' + (e.dataset.memberId || e.dataset.tab || '') : (e.id ? '#' + e.id : e.tagName.toLowerCase());
		return %s.includes(d); })()`, jsonList(want)))
}

// inViewport fails unless the element lies wholly inside the viewport.
func inViewport(t *testing.T, tab *browsertest.Tab, what, sel string) {
	t.Helper()
	if r := tab.BoxOf(sel); !r.Inside() {
		t.Errorf("%s is not wholly inside the %gx%g viewport: %+v", what, r.ViewportWidth, r.ViewportHeight, r)
	}
}

// noSideScroll fails when the page is wider than the layout viewport (it
// would scroll sideways, or hide what overflows).
func noSideScroll(t *testing.T, tab *browsertest.Tab, what string) {
	t.Helper()
	if x, _ := tab.Overflow(); x > 0.5 {
		t.Errorf("%s: the page is %.0f px wider than the viewport (documentElement.scrollWidth > clientWidth)", what, x)
	}
}
