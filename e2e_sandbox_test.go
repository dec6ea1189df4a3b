package main

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/swrooms/swrooms/internal/browsertest"
)

// Sandbox mode in real browsers (issue 13): no credentials, so run() starts
// the fake SignalWire with its relay and bots; the pages run the vendored
// SDK against it. The helpers here are this file's own (sb*), so that the
// other browser tests' helpers can change without breaking it.

// sbWait bounds each wait of these tests: the relay, the bots and the
// roster on a busy 2-core machine.
const sbWait = 20 * time.Second

// sbTab opens a tab in a browser context of its own: one person.
func sbTab(t *testing.T) *browsertest.Tab {
	t.Helper()
	tab := browsertest.NewTab(t)
	tab.SetTimeout(sbWait)
	// The time of the first roster row after Join, for the README's figure.
	tab.InitScript(`new MutationObserver((_, o) => {
		if (window.__joinAt && document.querySelector('[data-testid="member"]')) {
			window.__firstRow = performance.now() - window.__joinAt;
			o.disconnect();
		}
	}).observe(document, {childList: true, subtree: true});`)
	return tab
}

// sbOpen navigates and waits for the room page's island.
func sbOpen(t *testing.T, tab *browsertest.Tab, url string) {
	t.Helper()
	tab.Navigate(url)
	tab.WaitVisible(`[data-testid="room-page"][data-island="ready"]`)
}

// sbJoin types the name, clicks Join from inside the page (the preview
// above it may still grow) and returns the milliseconds from the click to
// the first roster row.
func sbJoin(t *testing.T, tab *browsertest.Tab, name string) float64 {
	t.Helper()
	tab.WaitVisible(`[data-testid="join"]`)
	tab.Eval(fmt.Sprintf(`document.getElementById('prejoin-name').value = %q;
		window.__joinAt = performance.now();
		document.querySelector('[data-testid="join"]').click()`, name), nil)
	tab.WaitVisible(`[data-testid="call"]`)
	tab.WaitVisible(`[data-testid="member"][data-self="true"]`)
	var ms float64
	tab.Eval(`window.__firstRow ?? -1`, &ms)
	return ms
}

// sbKnock types the name and clicks Join on a guest's page: with the
// lobby on (the picker's default), the guest waits until admitted.
func sbKnock(t *testing.T, tab *browsertest.Tab, name string) {
	t.Helper()
	tab.WaitVisible(`[data-testid="join"]`)
	tab.Eval(fmt.Sprintf(`document.getElementById('prejoin-name').value = %q;
		window.__joinAt = performance.now();
		document.querySelector('[data-testid="join"]').click()`, name), nil)
	tab.WaitVisible(`[data-testid="lobby-waiting"]`)
}

// sbAdmit lets the guest called name in from the host's Lobby tab.
func sbAdmit(t *testing.T, host *browsertest.Tab, name string) {
	t.Helper()
	host.Eval(`document.querySelector('[data-testid="tab-lobby"]').click()`, nil)
	guestRow := fmt.Sprintf(`[...document.querySelectorAll('[data-testid="lobby-guest"]')].find(r => r.textContent.includes(%q))`, name)
	host.WaitJS(guestRow + ` !== undefined`)
	// htmx processes swapped content after its 20 ms settle: a click
	// before that would be lost.
	host.WaitJS(`!document.querySelector('.htmx-added, .htmx-settling')`)
	host.Eval(guestRow+`.querySelector('[data-action="admit"]').click()`, nil)
	host.WaitJS(guestRow + ` === undefined`)
	host.Eval(`document.querySelector('[data-testid="tab-people"]').click()`, nil)
}

// sbRow is the JS expression of the roster row of the member called name.
func sbRow(name string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('#roster-panel [data-testid="member"]')].find(r => r.querySelector('[data-testid="member-name"]')?.textContent.trim() === %q)`, name)
}

// sbWaitRows waits until the roster has a row for each name.
func sbWaitRows(t *testing.T, tab *browsertest.Tab, names ...string) {
	t.Helper()
	for _, n := range names {
		tab.WaitJS(sbRow(n) + ` !== undefined`)
	}
}

func TestE2ESandboxHostGuestAndBots(t *testing.T) {
	t.Parallel()
	app := startSandboxApp(t)

	// The host starts a room from the picker and joins it.
	host := sbTab(t)
	host.Navigate(app.URL + "/?room=Sandbox_Demo&user=Hana")
	host.WaitVisible(`[data-testid="sandbox-banner"]`)
	ctx, cancel := context.WithTimeout(host.Context(), sbWait)
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`[data-testid="start-room"]`))); err != nil {
		cancel()
		t.Fatalf("start the room: %v", err)
	}
	cancel()
	host.WaitVisible(`[data-testid="room-page"][data-island="ready"]`)
	hostFirstRow := sbJoin(t, host, "Hana")

	// The bots join with the host; the host sees its own camera in the
	// SDK's local overlay and the bots' video in the room's stream.
	bots := []string{"Ada (bot)", "Grace (bot)"} // Linus leaves and comes back
	sbWaitRows(t, host, bots...)
	host.WaitJS(`[...document.querySelectorAll('#video-root [id^="sw-sdk-"] video')].some(v => v.videoWidth > 0)`)
	host.WaitJS(`[...document.querySelectorAll('#video-root video')].some(v => !v.closest('[id^="sw-sdk-"]') && v.videoWidth > 0 && v.currentTime > 0)`)

	// A guest in a browser of their own joins through the invite link;
	// both rosters show both people and the bots.
	invite := host.Attr(`[data-testid="invite-link"]`, "href")
	guest := sbTab(t)
	sbOpen(t, guest, invite)
	if got := guest.Attr(`[data-testid="room-page"]`, "data-role"); got != "guest" {
		t.Fatalf("the invite's page has role %q, want guest", got)
	}
	// The picker's lobby is on: Gus knocks, the host (who got a knock
	// notice) lets him in, and his page joins without another click. The
	// bots never wait: they are the relay's members, with no invite.
	sbKnock(t, guest, "Gus")
	host.WaitVisible(`[data-testid="knock-notice"]`)
	sbAdmit(t, host, "Gus")
	guest.WaitVisible(`[data-testid="call"]`)
	guest.WaitVisible(`[data-testid="member"][data-self="true"]`)
	var guestFirstRow float64 // Join to first row, the host's admission included
	guest.Eval(`window.__firstRow ?? -1`, &guestFirstRow)
	everyone := append([]string{"Hana", "Gus"}, bots...)
	sbWaitRows(t, host, everyone...)
	sbWaitRows(t, guest, everyone...)

	// The host mutes a bot; the guest's roster shows it muted, and it
	// stays muted while the script goes on.
	var ada string
	host.Eval(sbRow("Ada (bot)")+`.dataset.memberId`, &ada)
	host.Eval(fmt.Sprintf(`document.querySelector('#roster-panel [data-action="audio-mute"][data-member-id=%q]').click()`, ada), nil)
	guest.WaitJS(sbRow("Ada (bot)") + `?.dataset.audioMuted === 'true'`)
	time.Sleep(3 * time.Second) // more than a beat of the script
	var still string
	guest.Eval(sbRow("Ada (bot)")+`?.dataset.audioMuted ?? ''`, &still)
	if still != "true" {
		t.Errorf("Ada's row on the guest's page: audio muted %q a beat later, want true", still)
	}

	// The host locks the room: a second guest is kept out, and told why.
	host.Eval(`document.querySelector('[data-action="lock"]').click()`, nil)
	host.WaitVisible(`[data-testid="locked-indicator"]`)
	guest.WaitVisible(`[data-testid="locked-indicator"]`)
	late := sbTab(t)
	sbOpen(t, late, invite)
	sbKnock(t, late, "Lou")
	sbAdmit(t, host, "Lou")
	late.WaitJS(`/locked/i.test(document.querySelector('[data-testid="join-error"]')?.textContent ?? '')`)
	if late.Count(`[data-testid="call"]:not([hidden])`) != 0 {
		t.Error("the call shows on the page of a guest the locked room refused")
	}

	t.Logf("sandbox: Join to first roster row: host %.0f ms, guest %.0f ms", hostFirstRow, guestFirstRow)
	if out := os.Getenv("BENCH_OUT"); out != "" {
		line := fmt.Sprintf("sandbox join to first roster row: host %.0f ms, guest %.0f ms\n", hostFirstRow, guestFirstRow)
		if f, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			_, _ = f.WriteString(line)
			_ = f.Close()
		}
	}
}
