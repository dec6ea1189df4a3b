package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp/kb"

	"github.com/swrooms/swrooms/signalwire/swtest"
)

// TestE2EUIHostCallAtDesktopSize: the host's page at 1280x800, before and
// in a call with people: geometry, axe, words not ids, and the keyboard
// paths through the toolbar and the moderator panel (issue 15, problems
// 2, 6 and 7).
func TestE2EUIHostCallAtDesktopSize(t *testing.T) {
	t.Parallel()
	app := startFakeApp(t)
	const room = "e2e_ui_host"
	tab := participant(t)
	tab.SetViewport(1280, 800, false)
	hostRoom(t, tab, app, room, "Hedy")

	// Pre-join: Join in view without scrolling; no serious axe violation.
	tab.WaitJS(`document.querySelectorAll('#camera-select option').length > 1`)
	inViewport(t, tab, "Join at 1280x800", `[data-testid="join"]`)
	if got := tab.Attr(`a.skip-link`, "href"); got != "#main" {
		t.Errorf("skip link: href %q, want #main", got)
	}
	tab.AxeSerious("the host's pre-join")

	ids := addMembers(t, app, room, threeMembers...)
	joinCall(t, tab)
	tab.WaitCount(`[data-testid="member"]`, 4)
	waitFocused(t, tab, "#stage")

	// Geometry: the toolbar in view, the stage most of the window.
	inViewport(t, tab, "the toolbar at 1280x800", `[data-testid="toolbar"]`)
	stage := tab.BoxOf(`#stage`)
	if share := stage.Area() / (stage.ViewportWidth * stage.ViewportHeight); share < 0.6 {
		t.Errorf("stage: %.0f%% of the viewport, want at least 60%%: %+v", share*100, stage)
	}
	if label := tab.Attr(`#stage`, "aria-label"); !strings.Contains(label, room) {
		t.Errorf("stage's accessible name %q does not name the room", label)
	}

	// Words, not ids: the layout line and the picker's options.
	tab.WaitJS(`document.querySelector('[data-testid="current-layout"]')?.textContent.trim() === 'Layout: Grid'`)
	openTab(t, tab, "controls")
	tab.WaitJS(`document.querySelectorAll('#layout-select option[value="highlight-1-responsive"]').length === 1`)
	var texts []string
	tab.Eval(`Array.from(document.querySelectorAll('#layout-select option'), o => o.textContent)`, &texts)
	for _, raw := range []string{"grid-responsive", "highlight-1-responsive", "5up"} {
		for _, text := range texts {
			if text == raw {
				t.Errorf("layout picker shows the raw id %q: %q", raw, texts)
			}
		}
	}
	if !strings.Contains(strings.Join(texts, "|"), "Speaker highlight") {
		t.Errorf("layout picker: %q, want Speaker highlight among them", texts)
	}
	if tab.Attr(`[data-action="lock"]`, "aria-describedby") != "lock-hint" || !strings.Contains(tab.Text(`#lock-hint`), "nobody new") {
		t.Errorf("Lock room is not explained")
	}
	tab.AxeSerious("the host's room controls in a call")

	// Keyboard: Lock by Enter keeps focus on the same control, now Unlock.
	focusOn(t, tab, `[data-action="lock"]`)
	tab.Press("\r")
	tab.WaitVisible(`[data-testid="locked-indicator"]`)
	waitFocused(t, tab, "unlock:")
	tab.Press("\r")
	tab.WaitCount(`[data-testid="locked-indicator"]`, 0)
	waitFocused(t, tab, "lock:")
	// Arrow keys in the layout picker change the layout; focus stays.
	focusOn(t, tab, `#layout-select`)
	tab.Press(kb.ArrowDown)
	tab.WaitJS(`!document.querySelector('[data-testid="current-layout"]').textContent.includes('Layout: Grid')  || document.querySelector('#layout-select').selectedIndex > 0`)
	waitFocused(t, tab, "set-layout:")
	// End meeting asks; Escape withdraws the question and focus returns.
	focusOn(t, tab, `[data-action="end-meeting"]`)
	tab.Press("\r")
	tab.WaitVisible(`[data-action="confirm-end"]`)
	tab.WaitVisible(`[data-action="cancel-end"]`)
	waitFocused(t, tab, "confirm-end:")
	tab.Press(kb.Escape)
	tab.WaitCount(`[data-action="confirm-end"]:not([hidden])`, 0)
	waitFocused(t, tab, "end-meeting:")

	// People: Enter on "Mute Ada" keeps focus on Ada's row's control.
	openTab(t, tab, "people")
	ada := ids["Ada"]
	focusOn(t, tab, button("audio-mute", ada))
	tab.Press("\r")
	waitLive(t, app, room, "Ada", "muted", func(m swtest.LiveMember) bool { return m.AudioMuted })
	waitAttr(t, tab, row(ada), "data-audio-muted", "true")
	// Ada is a bot, with no page to ask: no unmute button takes the place
	// of Mute, so focus goes to the row's first control.
	waitFocused(t, tab, "audio-unmute:"+ada, "ask-unmute:"+ada, "video-mute:"+ada)

	// Remove asks, with Cancel; Cancel and Escape both take it back.
	alan := ids["Alan"]
	focusOn(t, tab, button("remove", alan))
	tab.Press("\r")
	tab.WaitVisible(button("cancel-remove", alan))
	waitFocused(t, tab, "confirm-remove:"+alan)
	tab.Click(button("cancel-remove", alan))
	tab.WaitCount(button("confirm-remove", alan)+`:not([hidden])`, 0)
	waitFocused(t, tab, "remove:"+alan)
	tab.Press("\r")
	waitFocused(t, tab, "confirm-remove:"+alan)
	tab.Press(kb.Escape)
	waitFocused(t, tab, "remove:"+alan)
	if liveMember(t, app, room, "Alan").ID != alan {
		t.Fatal("a cancelled removal removed Alan")
	}

	// The live region: joins, leaves and raised hands, with names; the
	// host also gets a visible notice.
	linus := addMembers(t, app, room, "Linus")["Linus"]
	waitAnnounced(t, tab, "Linus joined.")
	grace := ids["Grace"]
	if err := app.Fake.UpdateMember(room, grace, swtest.MemberChange{HandRaised: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	waitAnnounced(t, tab, "Grace raised their hand.")
	tab.WaitVisible(`[data-testid="hand-notice"]`)
	if got := tab.Text(`[data-testid="hand-notice-text"]`); !strings.Contains(got, "Grace") {
		t.Errorf("raised-hand notice: got %q, want Grace named", got)
	}
	if err := app.Fake.RemoveMember(room, linus); err != nil {
		t.Fatal(err)
	}

	waitAnnounced(t, tab, "Linus left.")

	// State on rows is an icon with words, never an emoji alone.
	waitAttr(t, tab, row(grace), "data-hand-raised", "true")
	if got := tab.Text(row(grace) + ` [data-testid="member-hand"]`); got != "Hand raised" {
		t.Errorf("hand state: got %q, want the words", got)
	}
	if n := tab.Count(row(grace) + ` [data-testid="member-hand"] svg use`); n != 1 {
		t.Errorf("hand state: %d icons, want 1", n)
	}
	tab.AxeSerious("the host in a call with people")
}

// TestE2EUIToolbarKeyboardOrder: Tab walks the toolbar in reading order,
// and the panel's tabs move with the arrow keys.
func TestE2EUIToolbarKeyboardOrder(t *testing.T) {
	t.Parallel()
	app := startFakeApp(t)
	tab := participant(t)
	tab.SetViewport(1280, 800, false)
	hostRoom(t, tab, app, "e2e_ui_keys", "Kim")
	joinCall(t, tab)
	focusOn(t, tab, `[data-action="self-mic"]`)
	want := []string{"self-camera:", "self-screenshare:", "self-hand:", "panel:people", "panel:chat", "#", "self-leave:"}
	for _, w := range want {
		tab.Press("\t")
		got := tab.Focused()
		if w == "#" {
			// The Devices button opens a popover and has no data-action.
			got = tab.Attr(`:focus`, "data-testid")
			w = "open-devices"
		}
		if got != w {
			t.Fatalf("Tab through the toolbar: got %q, want %q", got, w)
		}
	}
	// Mic by keyboard: focus stays on the button, which now says Unmute.
	focusOn(t, tab, `[data-action="self-mic"]`)
	tab.Press(" ")
	waitAttr(t, tab, `[data-action="self-mic"]`, "aria-pressed", "true")
	waitFocused(t, tab, "self-mic:")
	// The panel's tabs: arrow keys move between them.
	focusOn(t, tab, `[data-testid="tab-people"]`)
	tab.Press(kb.ArrowRight)
	waitFocused(t, tab, "tab:chat")
	tab.WaitVisible(`[data-panel="chat"]`)
	tab.Press(kb.End)
	waitFocused(t, tab, "tab:controls")
	tab.WaitVisible(`[data-panel="controls"]`)
	if tab.Attr(`[data-testid="tab-controls"]`, "aria-selected") != "true" {
		t.Error("the controls tab is focused but not selected")
	}
	tab.Press(kb.Home)
	waitFocused(t, tab, "tab:people")
}

// TestE2EUIRosterHoldsStillUnderFocus: a raised hand moves a row up, but
// not while keyboard focus is in the list; once focus leaves, the list
// shows the server's order.
func TestE2EUIRosterHoldsStillUnderFocus(t *testing.T) {
	t.Parallel()
	app := startFakeApp(t)
	const room = "e2e_ui_still"
	tab := participant(t)
	hostRoom(t, tab, app, room, "Sol")
	ids := addMembers(t, app, room, threeMembers...)
	joinCall(t, tab)
	tab.WaitCount(`[data-testid="member"]`, 4)
	visual := `JSON.stringify([...document.querySelectorAll('#roster-list > [data-testid="member"]')].sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top).map(r => r.dataset.memberId))`
	dom := `JSON.stringify([...document.querySelectorAll('#roster-list > [data-testid="member"]')].map(r => r.dataset.memberId))`
	var before string
	tab.Eval(visual, &before)
	focusOn(t, tab, button("audio-mute", ids["Ada"]))
	alan := ids["Alan"]
	if err := app.Fake.UpdateMember(room, alan, swtest.MemberChange{HandRaised: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	waitAttr(t, tab, row(alan), "data-hand-raised", "true")
	var domOrder, held string
	tab.Eval(dom, &domOrder)
	tab.Eval(visual, &held)
	if domOrder == before {
		t.Skipf("the server did not reorder the list for a raised hand (%s); nothing to hold", domOrder)
	}
	if held != before {
		t.Errorf("the list moved under focus: before %s, now %s", before, held)
	}
	focusOn(t, tab, `#stage`)
	tab.WaitJS(fmt.Sprintf(`%s === %s`, visual, dom))
}

// TestE2EUINewInviteLinkKeepsFocus: by keyboard, the host opens the invite,
// tabs to "New invite link" and presses Enter: the box is swapped for the
// new link, and focus stays on the button (not dropped to <body>).
func TestE2EUINewInviteLinkKeepsFocus(t *testing.T) {
	t.Parallel()
	app := startFakeApp(t)
	tab := participant(t)
	tab.SetViewport(1280, 800, false)
	hostRoom(t, tab, app, "e2e_ui_new_invite", "Ivy")
	joinCall(t, tab)
	old := tab.Attr(`[data-testid="invite-link"]`, "href")
	focusOn(t, tab, `[data-testid="invite-button"]`)
	tab.Press("\r")
	tab.WaitVisible(`[data-testid="invite"]`)
	for i := 0; tab.Focused() != "revoke-invite:"; i++ {
		if i == 6 {
			t.Fatalf("Tab from Invite never reached New invite link (at %q)", tab.Focused())
		}
		tab.Press("\t")
	}
	tab.Press("\r")
	tab.WaitJS(`document.querySelector('[data-testid="invite-link"]').href !== ` + jsonList([]string{old}) + `[0]`)
	waitFocused(t, tab, "revoke-invite:")
	if tab.Count(`[data-testid="invite"]:popover-open`) != 1 {
		t.Error("the invite closed after New invite link")
	}
}
