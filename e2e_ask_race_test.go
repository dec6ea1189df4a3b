package main

import (
	"testing"
)

// holdAnswers makes the host's page keep the answers to its roster posts
// that carry member.joined until window.__release(), and records the
// events of every post it sends (window.__posts) and whether roster rows
// came over the stream (window.__pushed).
const holdAnswers = `(() => {
	const f = window.fetch;
	window.__posts = []; window.__held = [];
	window.fetch = async (...a) => {
		if (!String(a[0]).endsWith('/events')) return f(...a);
		const names = JSON.parse(String(a[1]?.body)).events.map((e) => e.name);
		window.__posts.push(names);
		const res = await f(...a);
		if (names.includes('member.joined')) await new Promise((r) => window.__held.push(r));
		return res;
	};
	document.body.addEventListener('htmx:sseMessage', (e) => { if (e.detail?.type === 'roster-rows') window.__pushed = true; });
	window.__release = () => { window.__mark = window.__posts.length; window.__held.splice(0).forEach((r) => r()); };
})()`

// gatePosts makes the guest's page send no roster post until
// window.__open().
const gatePosts = `(() => {
	const f = window.fetch;
	const gate = new Promise((r) => { window.__open = r; });
	window.fetch = async (...a) => {
		if (String(a[0]).endsWith('/events')) await gate;
		return f(...a);
	};
})()`

// TestE2EAskButtonSurvivesAnOlderAnswer: the host's answer about a new
// guest, rendered before the guest's page said who it is, arrives after the
// server pushed the guest's row with its ask buttons. The page then takes a
// fresh snapshot, so the buttons are there in the end, with the real SDK
// through the relay. Without the island's resync the older answer's row,
// without buttons, would stay.
func TestE2EAskButtonSurvivesAnOlderAnswer(t *testing.T) {
	t.Parallel()
	app, _ := startPushApp(t)
	const room = "Race_Room"
	host := participant(t)
	hostRoom(t, host, app, room, "Hana")
	joinCall(t, host)
	host.SetTimeout(pushWait)
	streamUp(t, host)
	invite := host.Attr(`[data-testid="invite-link"]`, "href")
	host.Eval(holdAnswers, nil)

	guest := participant(t)
	guest.Navigate(invite)
	waitIsland(t, guest)
	setName(t, guest, "Gus")
	guest.Eval(`document.getElementById('join-mic-off').checked = true; document.getElementById('join-camera-off').checked = true`, nil)
	guest.Eval(gatePosts, nil)
	jsClick(t, guest, `[data-testid="join"]`)
	guest.WaitVisible(`[data-testid="call"]`)

	// The host's post about Gus is answered (without ask buttons: Gus's
	// page has not said who it is) and held in the page.
	host.WaitJS(`window.__posts.some((p) => p.includes('member.joined')) && window.__held.length > 0`)
	gus := liveMember(t, app, room, "Gus").ID
	// Gus's page says who it is: the server pushes his row, with its
	// buttons, to the host's stream while the host's post is in flight.
	guest.SetTimeout(pushWait)
	guest.Eval(`window.__open()`, nil)
	guest.WaitVisible(`[data-testid="member"][data-self="true"]`)
	host.WaitJS(`window.__pushed === true`)
	host.Eval(`window.__release()`, nil)

	host.WaitJS(`window.__posts.slice(window.__mark).some((p) => p.includes('members.snapshot'))`)
	host.WaitVisible(button("ask-unmute", gus))
}
