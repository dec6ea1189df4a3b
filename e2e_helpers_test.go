package main

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/swrooms/swrooms/internal/browsertest"
	"github.com/swrooms/swrooms/signalwire/swtest"
)

// Helpers of the browser tests. Every page runs the vendored SDK, which
// joins the relay of the fake SignalWire (signalwire/swtest) over WebSocket
// and WebRTC; the people in a room besides the browsers are members the
// test adds through the fake's Go API, which sends the same events a real
// member causes.

// waitFor is how long a browser test waits for something the relay or the
// roster should show: generous on a busy 2-core machine, still a bound.
const waitFor = 15 * time.Second

// participant opens a tab in a browser context of its own: one person's
// browser, sharing no cookies or storage with the other tabs.
func participant(t *testing.T) *browsertest.Tab {
	t.Helper()
	tab := browsertest.NewTab(t)
	tab.SetTimeout(waitFor)
	return tab
}

// clickAndLoad clicks sel and waits for the page it leads to.
func clickAndLoad(t *testing.T, tab *browsertest.Tab, sel string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.Context(), waitFor)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("click %s and wait for the next page: %v", sel, err)
	}
}

// hostRoom creates room through the picker as user and lands on the
// moderator page, before Join.
func hostRoom(t *testing.T, tab *browsertest.Tab, app *testApp, room, user string) {
	t.Helper()
	// lobby=off unticks the lobby: tests that are not about it let guests in directly.
	tab.Navigate(app.URL + "/?room=" + url.QueryEscape(room) + "&user=" + url.QueryEscape(user) + "&lobby=off")
	clickAndLoad(t, tab, `[data-testid="start-room"]`)
	waitIsland(t, tab)
	if got := tab.Attr(`[data-testid="room-page"]`, "data-role"); got != "moderator" {
		t.Fatalf("role of the page: got %q, want %q", got, "moderator")
	}
}

// waitIsland waits until the room page's island has started: a click on
// Join before that would do nothing.
func waitIsland(t *testing.T, tab *browsertest.Tab) {
	t.Helper()
	tab.WaitVisible(`[data-testid="room-page"][data-island="ready"]`)
}

// joinCall clicks Join and waits until the call and the viewer's own row
// show, then checks that the page runs the vendored SDK and nothing else.
func joinCall(t *testing.T, tab *browsertest.Tab) {
	t.Helper()
	jsClick(t, tab, `[data-testid="join"]`)
	tab.WaitVisible(`[data-testid="call"]`)
	tab.WaitVisible(`[data-testid="member"][data-self="true"]`)
	checkOnlyVendoredSDK(t, tab)
}

// checkOnlyVendoredSDK: the page loaded the SignalWire SDK from the app's
// vendored file and no other SDK (see TestE2EOnlyTheVendoredSDKRuns for the
// bytes).
func checkOnlyVendoredSDK(t *testing.T, tab *browsertest.Tab) {
	t.Helper()
	var scripts []string
	tab.Eval(`[...document.scripts].map(s => s.src).filter(Boolean)`, &scripts)
	sdk := 0
	for _, s := range scripts {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatalf("script %q: %v", s, err)
		}
		switch {
		case u.Path == "/public/vendor/signalwire-js-3.30.0.umd.js":
			sdk++
		case strings.HasPrefix(u.Path, "/public/js/"), strings.HasPrefix(u.Path, "/public/vendor/htmx"):
		default:
			t.Errorf("the page loads a script it should not: %s", s)
		}
	}
	if sdk != 1 {
		t.Errorf("the page loads the vendored SDK %d times, want once: %q", sdk, scripts)
	}
}

// jsClick clicks sel from inside the page. Join sits below the camera
// preview, which grows when its video starts: a mouse click aimed before
// that lands beside the button.
func jsClick(t *testing.T, tab *browsertest.Tab, sel string) {
	t.Helper()
	tab.WaitVisible(sel)
	tab.Eval(fmt.Sprintf(`document.querySelector(%q).click()`, sel), nil)
}

// openGuest opens an invite link in a browser of its own and joins as name.
func openGuest(t *testing.T, invite, name string) *browsertest.Tab {
	t.Helper()
	guest := participant(t)
	guest.Navigate(invite)
	waitIsland(t, guest)
	if got := guest.Attr(`[data-testid="room-page"]`, "data-role"); got != "guest" {
		t.Fatalf("role of the invite page: got %q, want %q", got, "guest")
	}
	setName(t, guest, name)
	joinCall(t, guest)
	return guest
}

// setName types the pre-join name.
func setName(t *testing.T, tab *browsertest.Tab, name string) {
	t.Helper()
	tab.Eval(fmt.Sprintf(`document.getElementById('prejoin-name').value = %q`, name), nil)
}

// memberNames returns the names of the people in the roster, in order.
func memberNames(t *testing.T, tab *browsertest.Tab) []string {
	t.Helper()
	var names []string
	tab.Eval(`Array.from(document.querySelectorAll('[data-testid="member"] > [data-testid="member-name"]'), e => e.textContent.trim())`, &names)
	return names
}

// waitNames waits until the roster shows exactly these people, in order.
func waitNames(t *testing.T, tab *browsertest.Tab, want ...string) {
	t.Helper()
	tab.WaitJS(fmt.Sprintf(`JSON.stringify(Array.from(document.querySelectorAll('[data-testid="member"] > [data-testid="member-name"]'), e => e.textContent.trim())) === %q`, jsonList(want)))
}

func jsonList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return "[" + strings.Join(q, ",") + "]"
}

// waitMember waits for a roster row with this name.
func waitMember(t *testing.T, tab *browsertest.Tab, name string) {
	t.Helper()
	tab.WaitJS(fmt.Sprintf(`Array.from(document.querySelectorAll('[data-testid="member"] > [data-testid="member-name"]')).some(e => e.textContent.trim() === %q)`, name))
}

// row is the selector of one member's roster row.
func row(id string) string {
	return fmt.Sprintf(`[data-testid="member"][data-member-id=%q]`, id)
}

// button is the selector of a member's button.
func button(action, id string) string {
	return fmt.Sprintf(`#roster-panel [data-action=%q][data-member-id=%q]`, action, id)
}

// waitAttr waits until the element's attribute has the value.
func waitAttr(t *testing.T, tab *browsertest.Tab, sel, attr, value string) {
	t.Helper()
	tab.WaitJS(fmt.Sprintf(`document.querySelector(%q)?.getAttribute(%q) === %q`, sel, attr, value))
}

// addMembers joins people without browsers to room through the relay and
// returns their member ids by name.
func addMembers(t *testing.T, app *testApp, room string, names ...string) map[string]string {
	t.Helper()
	specs := make([]swtest.MemberSpec, len(names))
	for i, n := range names {
		specs[i] = swtest.MemberSpec{Name: n}
	}
	ids, err := app.Fake.AddMembers(room, specs...)
	if err != nil {
		t.Fatalf("adding %q to %s: %v", names, room, err)
	}
	byName := make(map[string]string, len(ids))
	for i, id := range ids {
		byName[names[i]] = id
	}
	return byName
}

// threeMembers are the other people in most tests' rooms.
var threeMembers = []string{"Ada", "Grace", "Alan"}

// liveMember returns the relay's view of the member called name in room.
func liveMember(t *testing.T, app *testApp, room, name string) swtest.LiveMember {
	t.Helper()
	for _, m := range app.Fake.RoomMembers(room) {
		if m.Name == name && m.Type == "member" {
			return m
		}
	}
	t.Fatalf("no member %q in %s: %+v", name, room, app.Fake.RoomMembers(room))
	return swtest.LiveMember{}
}

// waitLive waits until the relay's view of member name in room satisfies
// ok: what the SDK calls really changed on SignalWire's side.
func waitLive(t *testing.T, app *testApp, room, name, what string, ok func(swtest.LiveMember) bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		for _, m := range app.Fake.RoomMembers(room) {
			if m.Name == name && m.Type == "member" && ok(m) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s of %s in %s: not seen within %v; members %+v", what, name, room, waitFor, app.Fake.RoomMembers(room))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitGone waits until nobody called name is in room's live session.
func waitGone(t *testing.T, app *testApp, room, name string) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for slices.ContainsFunc(app.Fake.RoomMembers(room), func(m swtest.LiveMember) bool { return m.Name == name }) {
		if time.Now().After(deadline) {
			t.Fatalf("%s is still in %s after %v", name, room, waitFor)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ptr[T any](v T) *T { return &v }
