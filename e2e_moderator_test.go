package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/swrooms/swrooms/internal/browsertest"
	"github.com/swrooms/swrooms/signalwire/swtest"
)

// Browser tests of the moderator panel (issue 8) with the real SDK: the
// server renders the controls, the island calls the SDK, the relay applies
// the call and sends its events, and the rows change only when those
// events come back.

// watchBusy records in window.__busy every control that shows a pending
// SDK call (aria-busy and disabled), however briefly.
const watchBusy = `
	window.__busy = [];
	new MutationObserver((records) => {
		for (const r of records) {
			const el = r.target;
			if (el.getAttribute && el.getAttribute('aria-busy') === 'true' && el.disabled) {
				window.__busy.push(el.dataset.action + ':' + (el.dataset.memberId || ''));
			}
		}
	}).observe(document, {subtree: true, attributes: true, attributeFilter: ['aria-busy']});`

func TestE2EModeratorControlsEachMember(t *testing.T) {
	t.Parallel()
	// Forced unmute (audio-unmute, video-unmute) is the original demo's,
	// restored by MODERATOR_CAN_UNMUTE; without it moderators ask.
	app := startFakeApp(t, "MODERATOR_CAN_UNMUTE=true")
	const room = "e2e_members"
	tab := participant(t)
	tab.InitScript(watchBusy)
	hostRoom(t, tab, app, room, "Maya")
	ids := addMembers(t, app, room, threeMembers...)
	joinCall(t, tab)
	tab.WaitCount(`[data-testid="member"]`, 4)
	if n := tab.Count(`[data-testid="member"][data-self="true"] [data-action]`); n != 0 {
		t.Errorf("controls on the host's own row: got %d, want 0", n)
	}

	ada := ids["Ada"]
	steps := []struct {
		click, attr, value string
		done               func(swtest.LiveMember) bool
	}{
		{"audio-mute", "data-audio-muted", "true", func(m swtest.LiveMember) bool { return m.AudioMuted }},
		{"audio-unmute", "data-audio-muted", "false", func(m swtest.LiveMember) bool { return !m.AudioMuted }},
		{"video-mute", "data-video-muted", "true", func(m swtest.LiveMember) bool { return m.VideoMuted }},
		{"video-unmute", "data-video-muted", "false", func(m swtest.LiveMember) bool { return !m.VideoMuted }},
	}
	for _, s := range steps {
		tab.Click(button(s.click, ada))
		waitLive(t, app, room, "Ada", s.click, s.done)
		waitAttr(t, tab, row(ada), s.attr, s.value)
	}
	var busy []string
	tab.Eval(`window.__busy`, &busy)
	if !strings.Contains(strings.Join(busy, " "), "audio-mute:"+ada) {
		t.Errorf("pending state: got busy controls %q, want audio-mute:%s among them", busy, ada)
	}

	// Lower hand shows only while the hand is up. A raised hand arrives as
	// a partial member.updated: the row keeps its name and other state.
	grace := ids["Grace"]
	if n := tab.Count(button("lower-hand", grace)); n != 0 {
		t.Errorf("lower-hand buttons with the hand down: got %d, want 0", n)
	}
	if err := app.Fake.UpdateMember(room, grace, swtest.MemberChange{HandRaised: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	waitAttr(t, tab, row(grace), "data-hand-raised", "true")
	if got := tab.Text(row(grace) + ` > [data-testid="member-name"]`); got != "Grace" {
		t.Errorf("Grace's name after her hand went up: got %q", got)
	}
	tab.Click(button("lower-hand", grace))
	waitLive(t, app, room, "Grace", "hand lowered", func(m swtest.LiveMember) bool { return !m.HandRaised })
	waitAttr(t, tab, row(grace), "data-hand-raised", "false")

	// Remove asks first, in the page.
	alan := ids["Alan"]
	tab.Click(button("remove", alan))
	tab.WaitVisible(button("confirm-remove", alan))
	if liveMember(t, app, room, "Alan").ID != alan {
		t.Fatal("Alan left before the removal was confirmed")
	}
	tab.Click(button("confirm-remove", alan))
	waitGone(t, app, room, "Alan")
	tab.WaitCount(`[data-testid="member"]`, 3)

	// Mute everyone else: everyone but the host.
	openTab(t, tab, "controls") // room-wide controls have a tab of their own
	tab.Click(`[data-action="mute-all"]`)
	waitAttr(t, tab, row(ada), "data-audio-muted", "true")
	waitAttr(t, tab, row(grace), "data-audio-muted", "true")
	if m := liveMember(t, app, room, "Maya"); m.AudioMuted {
		t.Errorf("the host muted itself with mute-all")
	}
	tab.Click(`[data-action="video-mute-all"]`)
	waitAttr(t, tab, row(ada), "data-video-muted", "true")
	waitAttr(t, tab, row(grace), "data-video-muted", "true")
	if m := liveMember(t, app, room, "Maya"); m.VideoMuted {
		t.Errorf("the host stopped its own video with video-mute-all")
	}
}

func TestE2EModeratorRoomControlsReachGuests(t *testing.T) {
	t.Parallel()
	app := startFakeApp(t)
	const room = "e2e_room"
	host := participant(t)
	hostRoom(t, host, app, room, "Hal")
	ids := addMembers(t, app, room, threeMembers...)
	joinCall(t, host)
	host.WaitCount(`[data-testid="member"]`, 4)

	guest := openGuest(t, host.Attr(`[data-testid="invite-link"]`, "href"), "Gina")
	guest.WaitCount(`[data-testid="member"]`, 5)
	host.WaitCount(`[data-testid="member"]`, 5)
	var foreign []string
	guest.Eval(`Array.from(document.querySelectorAll('[data-action]'), e => e.dataset.action).filter(a => !a.startsWith('self-'))`, &foreign)
	if len(foreign) != 0 {
		t.Errorf("controls on a guest page: got %q, want only self-* ones", foreign)
	}

	// The host's member controls change what the guest sees: another
	// member's row, and the guest's own row and controls.
	host.Click(button("audio-mute", ids["Ada"]))
	waitAttr(t, guest, row(ids["Ada"]), "data-audio-muted", "true")
	gina := liveMember(t, app, room, "Gina").ID
	host.Click(button("audio-mute", gina))
	waitAttr(t, guest, `[data-testid="member"][data-self="true"]`, "data-audio-muted", "true")
	waitAttr(t, guest, `[data-action="self-mic"]`, "aria-pressed", "true")
	host.Click(button("video-mute", gina))
	waitAttr(t, guest, `[data-testid="member"][data-self="true"]`, "data-video-muted", "true")
	guest.Click(`[data-action="self-hand"]`)
	host.WaitVisible(button("lower-hand", gina))
	host.Click(button("lower-hand", gina))
	waitAttr(t, guest, `[data-testid="member"][data-self="true"]`, "data-hand-raised", "false")

	// The layout picker lists SignalWire's layouts.
	host.WaitJS(`document.querySelectorAll('#roster-panel [data-action="set-layout"] option[value="2x2"]').length === 1`)
	var layouts []string
	host.Eval(`Array.from(document.querySelectorAll('#roster-panel [data-action="set-layout"] option'), o => o.value)`, &layouts)
	for _, want := range []string{"grid-responsive", "highlight-1-responsive", "2x2", "10x10"} {
		if !strings.Contains(" "+strings.Join(layouts, " ")+" ", " "+want+" ") {
			t.Errorf("layout picker: got %q, want %s among them", layouts, want)
		}
	}
	host.Eval(`(() => { const s = document.querySelector('#roster-panel [data-action="set-layout"]'); s.value = '2x2'; s.dispatchEvent(new Event('change', {bubbles: true})); })()`, nil)
	host.WaitJS(`document.querySelector('[data-testid="current-layout"]')?.textContent.includes('2x2')`)
	guest.WaitJS(`document.querySelector('[data-testid="current-layout"]')?.textContent.includes('2x2')`)
	host.WaitJS(`document.querySelector('#roster-panel [data-action="set-layout"]').value === '2x2'`)

	openTab(t, host, "controls")
	host.Click(`[data-action="lock"]`)
	host.WaitVisible(`[data-testid="locked-indicator"]`)
	guest.WaitVisible(`[data-testid="locked-indicator"]`)
	host.Click(`[data-action="unlock"]`)
	host.WaitCount(`[data-testid="locked-indicator"]`, 0)
	guest.WaitCount(`[data-testid="locked-indicator"]`, 0)

	host.Click(`[data-action="hide-video-muted"]`)
	host.WaitVisible(`[data-action="show-video-muted"]`)
	host.Click(`[data-action="show-video-muted"]`)
	host.WaitVisible(`[data-action="hide-video-muted"]`)

	// Recording: every participant sees the indicator.
	host.Click(`[data-action="start-recording"]`)
	host.WaitVisible(`[data-testid="recording-indicator"]`)
	guest.WaitVisible(`[data-testid="recording-indicator"]`)
	host.Click(`[data-action="stop-recording"]`)
	host.WaitCount(`[data-testid="recording-indicator"]`, 0)
	guest.WaitCount(`[data-testid="recording-indicator"]`, 0)

	// Ending the meeting asks first, then ends it for everyone.
	host.Click(`[data-action="end-meeting"]`)
	host.WaitVisible(`[data-action="confirm-end"]`)
	if n := len(app.Fake.RoomMembers(room)); n != 5 {
		t.Fatalf("members before confirming the end: got %d, want 5", n)
	}
	host.Click(`[data-action="confirm-end"]`)
	host.WaitVisible(`[data-testid="call-status"]`)
	guest.WaitVisible(`[data-testid="call-status"]`)
	if n := len(app.Fake.RoomMembers(room)); n != 0 {
		t.Errorf("members after the end: got %d, want 0", n)
	}
}

// TestE2EGuestCannotControlOthers: SignalWire, not the page, enforces what
// a guest may do. A guest page tampered to show a moderator's Mute button
// makes the SDK call; the relay refuses it with SignalWire's error, the
// island says so, and nobody is muted.
func TestE2EGuestCannotControlOthers(t *testing.T) {
	t.Parallel()
	app := startFakeApp(t)
	const room = "e2e_tamper"
	host := participant(t)
	hostRoom(t, host, app, room, "Hana")
	ids := addMembers(t, app, room, "Ada")
	joinCall(t, host)
	guest := openGuest(t, host.Attr(`[data-testid="invite-link"]`, "href"), "Gert")
	guest.WaitCount(`[data-testid="member"]`, 3)

	guest.Eval(fmt.Sprintf(`(() => {
		const b = document.createElement('button');
		b.type = 'button'; b.dataset.action = 'audio-mute'; b.dataset.memberId = %q; b.id = 'forged';
		document.querySelector(%q).append(b);
	})()`, ids["Ada"], row(ids["Ada"])), nil)
	guest.Click(`#forged`)
	guest.WaitVisible(`[data-testid="action-error"]`)
	// The name sits between isolation marks, so that no name can reorder
	// the sentence around it.
	if got := guest.Text(`[data-testid="action-error"]`); !strings.Contains(got, "\u2068Ada\u2069") || !strings.Contains(strings.ToLower(got), "permission") {
		t.Errorf("error for a forged mute: got %q, want a sentence naming Ada (isolated) and the refused permission", got)
	}
	if liveMember(t, app, room, "Ada").AudioMuted {
		t.Error("a guest muted Ada")
	}
}

// TestE2ELockedAndFullRoomsKeepGuestsOut: SignalWire refuses the join, and
// the guest's page says why.
func TestE2ELockedAndFullRoomsKeepGuestsOut(t *testing.T) {
	t.Parallel()
	app := startFakeApp(t, "MAX_MEMBERS=3")
	const room = "e2e_keepout"
	host := participant(t)
	hostRoom(t, host, app, room, "Ines")
	joinCall(t, host)
	invite := host.Attr(`[data-testid="invite-link"]`, "href")

	openTab(t, host, "controls")
	host.Click(`[data-action="lock"]`)
	host.WaitVisible(`[data-testid="locked-indicator"]`)
	locked := tryJoin(t, invite, "Lou")
	if got := locked.Text(`[data-testid="join-error"]`); !strings.Contains(got, "locked") {
		t.Errorf("join error for a locked room: got %q, want it to say the room is locked", got)
	}
	host.Click(`[data-action="unlock"]`)
	host.WaitCount(`[data-testid="locked-indicator"]`, 0)

	addMembers(t, app, room, "Ada", "Grace")
	full := tryJoin(t, invite, "Flo")
	if got := full.Text(`[data-testid="join-error"]`); !strings.Contains(got, "full") {
		t.Errorf("join error for a full room: got %q, want it to say the room is full", got)
	}
	if n := countLive(app, room, func(m swtest.LiveMember) bool { return m.Name == "Lou" || m.Name == "Flo" }); n != 0 {
		t.Errorf("guests kept out are in the room: %d", n)
	}
}

// tryJoin opens the invite as name, clicks Join and waits for the refusal.
func tryJoin(t *testing.T, invite, name string) *browsertest.Tab {
	t.Helper()
	tab := participant(t)
	tab.Navigate(invite)
	waitIsland(t, tab)
	setName(t, tab, name)
	jsClick(t, tab, `[data-testid="join"]`)
	tab.WaitJS(`document.querySelector('[data-testid="join-error"]').textContent.includes('Could not join')`)
	tab.WaitJS(`!document.querySelector('[data-testid="join"]').disabled`)
	if tab.Count(`[data-testid="call"]:not([hidden])`) != 0 {
		t.Error("the call shows after a refused join")
	}
	return tab
}

func TestE2ERemovedGuestIsTold(t *testing.T) {
	t.Parallel()
	app := startFakeApp(t)
	const room = "e2e_removed"
	host := participant(t)
	hostRoom(t, host, app, room, "Rhea")
	joinCall(t, host)
	guest := openGuest(t, host.Attr(`[data-testid="invite-link"]`, "href"), "Gil")
	host.WaitCount(`[data-testid="member"]`, 2)
	gil := liveMember(t, app, room, "Gil").ID

	host.Click(button("remove", gil))
	host.Click(button("confirm-remove", gil))
	guest.WaitVisible(`[data-testid="call-status"]`)
	if got := guest.Text(`[data-testid="call-status"]`); !strings.Contains(got, "removed") {
		t.Errorf("guest's page after removal: got %q, want it to say so", got)
	}
	host.WaitCount(`[data-testid="member"]`, 1)
	waitGone(t, app, room, "Gil")
}
