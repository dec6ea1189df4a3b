package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp/kb"

	"github.com/swrooms/swrooms/signalwire/swtest"
)

// Asking to unmute, "Remove and block" and "New invite link" (issue 16),
// between separate browsers with the real SDK: only the guest's own accept
// unmutes them, and every viewer's roster says so; a blocked guest cannot
// come back; an old link stops working.
func TestE2EAskUnmuteBlockAndRevoke(t *testing.T) {
	t.Parallel()
	app, _ := startPushApp(t)
	const room = "Mod_Room"
	host := participant(t)
	hostRoom(t, host, app, room, "Hana")
	joinCall(t, host)
	invite := host.Attr(`[data-testid="invite-link"]`, "href")

	guest := participant(t)
	guest.Navigate(invite)
	waitIsland(t, guest)
	setName(t, guest, "Gus")
	guest.Eval(`document.getElementById('join-mic-off').checked = true; document.getElementById('join-camera-off').checked = true`, nil)
	// Keep the seat credential the page is given, as a page that wants to
	// go on after its removal would.
	guest.Eval(`(() => { const f = window.fetch; window.fetch = async (...a) => { const r = await f(...a);
		if (String(a[0]).endsWith('/token')) r.clone().json().then(d => { window.__seat = d.seat; }).catch(() => {});
		return r; }; })()`, nil)
	joinCall(t, guest)
	host.SetTimeout(pushWait)
	guest.SetTimeout(pushWait)
	waitMember(t, host, "Gus")
	gus := liveMember(t, app, room, "Gus").ID
	muted := func(want string) {
		t.Helper()
		waitAttr(t, host, row(gus), "data-audio-muted", want)
		waitAttr(t, guest, row(gus), "data-audio-muted", want)
	}
	muted("true")

	// Asked, and declined: still muted everywhere; the host is told.
	streamUp(t, host, guest)
	settled(t, host)
	host.Click(button("ask-unmute", gus))
	guest.WaitVisible(`[data-testid="unmute-request"]`)
	waitAnnounced(t, guest, "Hana asks you to turn on your microphone.")
	guest.Click(`[data-action="decline-unmute"]`)
	host.WaitVisible(`[data-testid="notice"][data-notice="unmute-decline"]`)
	muted("true")
	if m := liveMember(t, app, room, "Gus"); !m.AudioMuted {
		t.Error("Gus is unmuted on SignalWire's side after declining")
	}

	// Asked again, and accepted: unmuted by his own SDK call, in both rosters.
	settled(t, host)
	host.Click(button("ask-unmute", gus))
	guest.WaitVisible(`[data-testid="unmute-request"]`)
	guest.Click(`[data-action="accept-unmute"]`)
	waitLive(t, app, room, "Gus", "unmuted", func(m swtest.LiveMember) bool { return !m.AudioMuted })
	muted("false")
	host.WaitVisible(`[data-testid="notice"][data-notice="unmute-accept"]`)

	// The camera the same way: asked, accepted, on in both rosters.
	waitAttr(t, host, row(gus), "data-video-muted", "true")
	settled(t, host)
	host.Click(button("ask-video-unmute", gus))
	guest.WaitVisible(`[data-testid="unmute-request"][data-kind="video"]`)
	guest.Click(`[data-action="accept-unmute"]`)
	waitLive(t, app, room, "Gus", "camera on", func(m swtest.LiveMember) bool { return !m.VideoMuted })
	waitAttr(t, host, row(gus), "data-video-muted", "false")
	waitAttr(t, guest, row(gus), "data-video-muted", "false")

	// Remove and block is asked first; Escape withdraws the question.
	settled(t, host)
	host.Click(button("remove-block", gus))
	host.WaitVisible(button("confirm-block", gus))
	host.Press(kb.Escape)
	host.WaitVisible(button("remove-block", gus))
	if host.Count(button("confirm-block", gus)+`:not([hidden])`) != 0 {
		t.Error("the block's confirmation still shows after Escape")
	}
	host.Click(button("remove-block", gus))
	host.Click(button("confirm-block", gus))
	waitGone(t, app, room, "Gus")
	waitAttr(t, guest, `[data-testid="call-status"]`, "data-end", "removed")
	host.WaitVisible(`[data-testid="notice"][data-notice="blocked"]`)

	// The removed page still holds its seat credential: it can neither
	// chat nor renew its stream's ticket.
	guest.AllowConsoleError("status of 403")
	var status struct{ Chat, Ticket int }
	guest.Eval(`(async () => {
		const h = {'X-Seat': window.__seat, 'X-Csrf-Token': JSON.parse(document.body.getAttribute('hx-headers') || '{}')['X-Csrf-Token'] || ''};
		const chat = await fetch('/rooms/`+room+`/chat', {method: 'POST', headers: {...h, 'HX-Request': 'true', 'Content-Type': 'application/x-www-form-urlencoded'}, body: 'message=still+here'});
		const ticket = await fetch('/rooms/`+room+`/stream-ticket', {method: 'POST', headers: {...h, Accept: 'application/json'}});
		return {Chat: chat.status, Ticket: ticket.status};
	})()`, &status)
	if status.Chat != http.StatusForbidden || status.Ticket != http.StatusForbidden {
		t.Errorf("the blocked page's chat and stream ticket: got %d and %d, want 403 and 403", status.Chat, status.Ticket)
	}
	if host.Count(`#chat-log [data-testid="chat-message"]`) != 0 {
		t.Error("the blocked page's message reached the host")
	}

	// The blocked browser comes back with the link: refused, no token.
	tokens := tokensFor(app, "Gus")
	guest.AllowConsoleError("status of 403") // the refused knock
	guest.Navigate(invite)
	waitIsland(t, guest)
	setName(t, guest, "Gus")
	jsClick(t, guest, `[data-testid="join"]`)
	guest.WaitVisible(`[data-testid="lobby-denied"]`)
	if n := tokensFor(app, "Gus"); n != tokens {
		t.Errorf("tokens for a blocked guest: %d more", n-tokens)
	}

	// New invite link: the old one gets 403 saying it was replaced.
	host.Click(`[data-testid="invite-button"]`)
	settled(t, host)
	host.Click(`[data-action="revoke-invite"]`)
	host.WaitJS(`document.querySelector('[data-testid="invite-link"]').href !== ` + jsonList([]string{invite}) + `[0]`)
	fresh := host.Attr(`[data-testid="invite-link"]`, "href")
	if code, body := fetchPage(t, invite); code != http.StatusForbidden || !strings.Contains(body, "replaced by a newer one") {
		t.Errorf("old link: %d, want 403 saying it was replaced", code)
	}
	if code, _ := fetchPage(t, fresh); code != http.StatusOK {
		t.Errorf("new link: %d, want 200", code)
	}
}

// fetchPage GETs url outside the browsers.
func fetchPage(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
