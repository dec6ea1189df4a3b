package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/swrooms/swrooms/internal/browsertest"
)

// Browser tests of the moderator panel (issue 8): the server renders the
// controls, the island calls the simulated SDK, and the rows change only
// when the resulting events come back.

// simCall is one call that the simulated SDK recorded.
type simCall struct {
	Method string           `json:"method"`
	Args   []map[string]any `json:"args"`
}

// simCalls returns the calls of method so far.
func simCalls(t *testing.T, tab *browsertest.Tab, method string) []simCall {
	t.Helper()
	var calls []simCall
	// Arguments that are no object (setHideVideoMuted's boolean) become
	// {value: ...}, so that every call decodes alike.
	tab.Eval(fmt.Sprintf(`window.__swsim.calls().filter(c => c.method === %q)
		.map(c => ({method: c.method, args: c.args.map(a => a !== null && typeof a === 'object' ? a : {value: a})}))`, method), &calls)
	return calls
}

// waitSimCall waits until method was called with these arguments in its
// first parameter (nil: any).
func waitSimCall(t *testing.T, tab *browsertest.Tab, method string, args map[string]any) {
	t.Helper()
	cond := "true"
	for k, v := range args {
		cond += fmt.Sprintf(` && c.args[0] && JSON.stringify(c.args[0][%q]) === JSON.stringify(%s)`, k, jsValue(v))
	}
	tab.WaitJS(fmt.Sprintf(`window.__swsim.calls().some(c => c.method === %q && %s)`, method, cond))
}

func jsValue(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("%q", v)
	default:
		return fmt.Sprint(v)
	}
}

// button is the selector of a member's button.
func button(action, id string) string {
	return fmt.Sprintf(`#roster-panel [data-action=%q][data-member-id=%q]`, action, id)
}

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
	app := startSandboxApp(t)
	tab := simTab(t, threeMembers...)
	tab.InitScript(watchBusy)
	hostRoom(t, tab, app, "e2e_members", "Maya")
	joinCall(t, tab)
	tab.WaitCount(`[data-testid="member"]`, 4)
	if n := tab.Count(`[data-testid="member"][data-self="true"] [data-action]`); n != 0 {
		t.Errorf("controls on the host's own row: got %d, want 0", n)
	}

	steps := []struct {
		click, method, attr, value string
		args                       map[string]any
	}{
		{"audio-mute", "audioMute", "data-audio-muted", "true", map[string]any{"memberId": "m-ada"}},
		{"audio-unmute", "audioUnmute", "data-audio-muted", "false", map[string]any{"memberId": "m-ada"}},
		{"video-mute", "videoMute", "data-video-muted", "true", map[string]any{"memberId": "m-ada"}},
		{"video-unmute", "videoUnmute", "data-video-muted", "false", map[string]any{"memberId": "m-ada"}},
	}
	for _, s := range steps {
		tab.Click(button(s.click, "m-ada"))
		waitSimCall(t, tab, s.method, s.args)
		waitAttr(t, tab, row("m-ada"), s.attr, s.value)
	}
	var busy []string
	tab.Eval(`window.__busy`, &busy)
	if !strings.Contains(strings.Join(busy, " "), "audio-mute:m-ada") {
		t.Errorf("pending state: got busy controls %q, want audio-mute:m-ada among them", busy)
	}

	// Lower hand shows only while the hand is up.
	if n := tab.Count(button("lower-hand", "m-grace")); n != 0 {
		t.Errorf("lower-hand buttons with the hand down: got %d, want 0", n)
	}
	sim(t, tab, `updateMember('m-grace', {handraised: true})`)
	waitAttr(t, tab, row("m-grace"), "data-hand-raised", "true")
	tab.Click(button("lower-hand", "m-grace"))
	waitSimCall(t, tab, "setRaisedHand", map[string]any{"memberId": "m-grace", "raised": false})
	waitAttr(t, tab, row("m-grace"), "data-hand-raised", "false")

	// Remove asks first, in the page.
	tab.Click(button("remove", "m-alan"))
	tab.WaitVisible(button("confirm-remove", "m-alan"))
	if calls := simCalls(t, tab, "removeMember"); len(calls) != 0 {
		t.Fatalf("removeMember calls before confirming: got %d, want 0", len(calls))
	}
	tab.Click(button("confirm-remove", "m-alan"))
	waitSimCall(t, tab, "removeMember", map[string]any{"memberId": "m-alan"})
	tab.WaitCount(`[data-testid="member"]`, 3)

	// A refused call says so and leaves the row as it was.
	sim(t, tab, `rejectNext('audioMute')`)
	before := tab.Attr(row("m-grace"), "data-audio-muted")
	tab.Click(button("audio-mute", "m-grace"))
	tab.WaitVisible(`[data-testid="action-error"]`)
	if got := tab.Text(`[data-testid="action-error"]`); !strings.Contains(got, "Grace") || !strings.Contains(got, "mute") {
		t.Errorf("error for a refused mute: got %q, want a sentence naming the action and Grace", got)
	}
	tab.WaitJS(fmt.Sprintf(`!document.querySelector(%q).disabled`, button("audio-mute", "m-grace")))
	if after := tab.Attr(row("m-grace"), "data-audio-muted"); after != before {
		t.Errorf("Grace's row after a refused mute: data-audio-muted=%q, want %q", after, before)
	}

	// Mute everyone else: one audioMute per other person, none for self.
	sim(t, tab, `clearCalls()`)
	tab.Click(`[data-action="mute-all"]`)
	waitSimCall(t, tab, "audioMute", map[string]any{"memberId": "m-ada"})
	waitSimCall(t, tab, "audioMute", map[string]any{"memberId": "m-grace"})
	waitAttr(t, tab, row("m-ada"), "data-audio-muted", "true")
	waitAttr(t, tab, row("m-grace"), "data-audio-muted", "true")
	if calls := simCalls(t, tab, "audioMute"); len(calls) != 2 {
		t.Errorf("audioMute calls for mute-all: got %+v, want one for Ada and one for Grace", calls)
	}
	if got := tab.Attr(`[data-testid="member"][data-self="true"]`, "data-audio-muted"); got != "false" {
		t.Errorf("the host muted itself with mute-all")
	}

	sim(t, tab, `clearCalls()`)
	tab.Click(`[data-action="video-mute-all"]`)
	waitAttr(t, tab, row("m-ada"), "data-video-muted", "true")
	waitAttr(t, tab, row("m-grace"), "data-video-muted", "true")
	if calls := simCalls(t, tab, "videoMute"); len(calls) != 2 {
		t.Errorf("videoMute calls for video-mute-all: got %+v, want two", calls)
	}
}

func TestE2EModeratorRoomControlsReachGuests(t *testing.T) {
	t.Parallel()
	app := startSandboxApp(t)
	host := simTab(t, threeMembers...)
	hostRoom(t, host, app, "e2e_room", "Hal")
	joinCall(t, host)
	host.WaitCount(`[data-testid="member"]`, 4)

	guest := openGuest(t, app, host.Attr(`[data-testid="invite-link"]`, "href"), "Gina")
	guest.WaitCount(`[data-testid="member"]`, 5)
	host.WaitCount(`[data-testid="member"]`, 5)
	var foreign []string
	guest.Eval(`Array.from(document.querySelectorAll('[data-action]'), e => e.dataset.action).filter(a => !a.startsWith('self-'))`, &foreign)
	if len(foreign) != 0 {
		t.Errorf("controls on a guest page: got %q, want only self-* ones", foreign)
	}

	// The layout picker lists the simulated layouts.
	host.WaitJS(`document.querySelectorAll('#roster-panel [data-action="set-layout"] option[value="2x2"]').length === 1`)
	var layouts []string
	host.Eval(`Array.from(document.querySelectorAll('#roster-panel [data-action="set-layout"] option'), o => o.value)`, &layouts)
	for _, want := range []string{"grid-responsive", "highlight-1-responsive", "2x2", "10x10"} {
		if !strings.Contains(" "+strings.Join(layouts, " ")+" ", " "+want+" ") {
			t.Errorf("layout picker: got %q, want %s among them", layouts, want)
		}
	}
	host.Eval(`(() => { const s = document.querySelector('#roster-panel [data-action="set-layout"]'); s.value = '2x2'; s.dispatchEvent(new Event('change', {bubbles: true})); })()`, nil)
	waitSimCall(t, host, "setLayout", map[string]any{"name": "2x2"})
	host.WaitJS(`document.querySelector('[data-testid="current-layout"]')?.textContent.includes('2x2')`)
	host.WaitJS(`document.querySelector('#roster-panel [data-action="set-layout"]').value === '2x2'`)

	host.Click(`[data-action="lock"]`)
	waitSimCall(t, host, "lock", nil)
	host.WaitVisible(`[data-testid="locked-indicator"]`)
	host.Click(`[data-action="unlock"]`)
	waitSimCall(t, host, "unlock", nil)
	host.WaitCount(`[data-testid="locked-indicator"]`, 0)

	host.Click(`[data-action="hide-video-muted"]`)
	host.WaitJS(`window.__swsim.calls().some(c => c.method === 'setHideVideoMuted' && c.args[0] === true)`)
	host.WaitVisible(`[data-action="show-video-muted"]`)

	// Recording: every participant sees the indicator.
	host.Click(`[data-action="start-recording"]`)
	waitSimCall(t, host, "startRecording", nil)
	host.WaitVisible(`[data-testid="recording-indicator"]`)
	guest.WaitVisible(`[data-testid="recording-indicator"]`)
	host.Click(`[data-action="stop-recording"]`)
	waitSimCall(t, host, "recording.stop", nil)
	host.WaitCount(`[data-testid="recording-indicator"]`, 0)
	guest.WaitCount(`[data-testid="recording-indicator"]`, 0)

	// Ending the meeting asks first, then ends it for everyone.
	host.Click(`[data-action="end-meeting"]`)
	host.WaitVisible(`[data-action="confirm-end"]`)
	if calls := simCalls(t, host, "removeAllMembers"); len(calls) != 0 {
		t.Fatalf("removeAllMembers calls before confirming: got %d, want 0", len(calls))
	}
	host.Click(`[data-action="confirm-end"]`)
	waitSimCall(t, host, "removeAllMembers", nil)
	host.WaitVisible(`[data-testid="call-status"]`)
	guest.WaitVisible(`[data-testid="call-status"]`)
	guest.WaitVisible(`[data-testid="rejoin"]`)
}
