package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// axe-core comes from the repository's npm dev dependencies (package.json
// pins it); it is test-only and never served by the app. A test page gets
// it through DevTools, which the page's Content-Security-Policy does not
// govern, so the page under test is the one users get.
const axePath = "node_modules/axe-core/axe.min.js"

var axeSource struct {
	once sync.Once
	js   string
	err  error
}

// loadAxe reads axe.min.js from node_modules of the nearest directory
// upwards that has one.
func loadAxe() (string, error) {
	axeSource.once.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			axeSource.err = err
			return
		}
		for {
			b, err := os.ReadFile(filepath.Join(dir, axePath))
			if err == nil {
				axeSource.js = string(b)
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				axeSource.err = errors.New(axePath + " not found (run npm ci)")
				return
			}
			dir = parent
		}
	})
	return axeSource.js, axeSource.err
}

// AxeViolation is one rule that failed, with the elements that fail it.
type AxeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

func (v AxeViolation) String() string {
	return fmt.Sprintf("%s (%s): %s: %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, " | "))
}

// Axe runs axe-core's WCAG 2.x A and AA rules (2.2 included) on the page
// as it is now and returns the violations. Without node_modules/axe-core
// the test is skipped with a message, or fails when CI is set, as a
// missing Chromium does.
func (tab *Tab) Axe() []AxeViolation {
	tab.t.Helper()
	js, err := loadAxe()
	if err != nil {
		if os.Getenv("CI") != "" {
			tab.t.Fatalf("browsertest: axe-core is missing and CI is set: %v", err)
		}
		tab.t.Skipf("browsertest: axe-core is missing, skipping the accessibility check: %v", err)
	}
	var loaded bool
	tab.Eval(`typeof window.axe === 'object'`, &loaded)
	if !loaded {
		tab.Eval(js+"\n;true", nil)
	}
	var out []AxeViolation
	tab.Eval(`axe.run(document, {
		runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']},
		resultTypes: ['violations'],
	}).then(r => r.violations.map(v => ({id: v.id, impact: v.impact || '', help: v.help,
		nodes: v.nodes.map(n => n.target.join(' ') + ' ' + (n.failureSummary || '').replace(/\s+/g, ' ').slice(0, 300))})))`, &out)
	return out
}

// AxeSerious runs Axe and fails the test for each serious or critical
// violation; what names the page for the message.
func (tab *Tab) AxeSerious(what string) {
	tab.t.Helper()
	for _, v := range tab.Axe() {
		if v.Impact == "serious" || v.Impact == "critical" {
			tab.t.Errorf("axe on %s: %s", what, v)
		}
	}
}

// SetViewport makes the tab's viewport w by h CSS pixels; mobile emulates
// a phone (touch, a mobile viewport).
func (tab *Tab) SetViewport(w, h int, mobile bool) {
	tab.t.Helper()
	tab.run(fmt.Sprintf("set the viewport to %dx%d", w, h), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: int64(w), Height: int64(h), DeviceScaleFactor: 1, Mobile: mobile})
		return err
	}))
}

// Rect is an element's box in the viewport, in CSS pixels.
type Rect struct {
	X, Y, Width, Height float64
	// ViewportWidth and ViewportHeight are the layout viewport's size
	// (document.documentElement's clientWidth and clientHeight): what the
	// page was laid out for. Not innerWidth, which a phone's emulation
	// stretches to content that overflows, hiding the overflow.
	ViewportWidth, ViewportHeight float64
}

// Inside reports whether the box lies wholly inside the viewport.
func (r Rect) Inside() bool {
	return r.Width > 0 && r.Height > 0 && r.X >= 0 && r.Y >= 0 &&
		r.X+r.Width <= r.ViewportWidth+0.5 && r.Y+r.Height <= r.ViewportHeight+0.5
}

// Area is the box's area inside the viewport.
func (r Rect) Area() float64 {
	w := min(r.X+r.Width, r.ViewportWidth) - max(r.X, 0)
	h := min(r.Y+r.Height, r.ViewportHeight) - max(r.Y, 0)
	if w <= 0 || h <= 0 {
		return 0
	}
	return w * h
}

// BoxOf returns the box of the first element matching the CSS selector;
// it fails when nothing matches.
func (tab *Tab) BoxOf(sel string) Rect {
	tab.t.Helper()
	var r *Rect
	tab.Eval(fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) return null;
		const b = e.getBoundingClientRect();
		const d = document.documentElement;
		return {X: b.x, Y: b.y, Width: b.width, Height: b.height, ViewportWidth: d.clientWidth, ViewportHeight: d.clientHeight} })()`, quote(sel)), &r)
	if r == nil {
		tab.t.Fatalf("browsertest: box of %s: no element matches", sel)
	}
	return *r
}

// Overflow returns how far the document reaches past the layout viewport
// to the right and below (scrollWidth - clientWidth, scrollHeight -
// clientHeight of document.documentElement), in CSS pixels; 0, 0 when the
// page needs no scrolling. A page with overflow hidden still reports what
// it hides.
func (tab *Tab) Overflow() (x, y float64) {
	tab.t.Helper()
	var o struct{ X, Y float64 }
	tab.Eval(`(() => { const d = document.documentElement;
		return {X: d.scrollWidth - d.clientWidth, Y: d.scrollHeight - d.clientHeight} })()`, &o)
	return o.X, o.Y
}

// Press sends one key to the focused element as a person would type it
// (keydown, keypress, keyup): "\r" is Enter, "\x1b" Escape, "\t" Tab;
// kb.ArrowDown and the like name the others.
func (tab *Tab) Press(key string) {
	tab.t.Helper()
	tab.run("press "+quote(key), chromedp.KeyEvent(key))
}

// Focused returns a description of the focused element:
// "action:member-id", else "#id", else its tag name.
func (tab *Tab) Focused() string {
	tab.t.Helper()
	var s string
	tab.Eval(`(() => { const e = document.activeElement; if (!e) return '';
		if (e.dataset && (e.dataset.action || e.dataset.ui)) return (e.dataset.action || e.dataset.ui) + ':' + (e.dataset.memberId || e.dataset.tab || '');
		if (e.id) return '#' + e.id;
		return e.tagName.toLowerCase(); })()`, &s)
	return s
}
