package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/swrooms/swrooms/internal/browsertest"
)

// Browser tests of the join flows (issue 6), and the helpers that the
// roster and moderator tests share.

// e2eHosts gives each browser test an address of its own in 127.0.0.0/8.
// Cookies belong to a host, not to a port, and all tabs share one browser:
// on one address, parallel tests would overwrite each other's host and
// CSRF cookies. Every 127.x address is loopback and a secure context.
var e2eHosts atomic.Int32

// e2eAddr is the ADDR setting for the next test's app.
func e2eAddr() string {
	return fmt.Sprintf("ADDR=127.0.0.%d:0", 20+e2eHosts.Add(1))
}

// simMember is a member the simulated SDK starts a room with.
type simMember struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// simTab opens a tab whose simulated SDK starts rooms with members and
// keeps them still (no autoplay), so that tests are deterministic.
func simTab(t *testing.T, members ...simMember) *browsertest.Tab {
	t.Helper()
	tab := browsertest.NewTab(t)
	tab.SetTimeout(15 * time.Second)
	opts, err := json.Marshal(map[string]any{"autoplay": false, "latencyMs": 5, "members": members})
	if err != nil {
		t.Fatal(err)
	}
	tab.InitScript("window.__swsimOptions = " + string(opts) + ";")
	return tab
}

// threeMembers are the other people in most tests' rooms.
var threeMembers = []simMember{{"m-ada", "Ada"}, {"m-grace", "Grace"}, {"m-alan", "Alan"}}

// clickAndLoad clicks sel and waits for the page it leads to.
func clickAndLoad(t *testing.T, tab *browsertest.Tab, sel string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.Context(), 15*time.Second)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("click %s and wait for the next page: %v", sel, err)
	}
}

// hostRoom creates room through the picker as user and lands on the
// moderator page, before Join.
func hostRoom(t *testing.T, tab *browsertest.Tab, app *testApp, room, user string) {
	t.Helper()
	tab.Navigate(app.URL + "/?room=" + url.QueryEscape(room) + "&user=" + url.QueryEscape(user))
	clickAndLoad(t, tab, `[data-testid="start-room"]`)
	tab.WaitVisible(`[data-testid="join"]`)
	if got := tab.Attr(`[data-testid="room-page"]`, "data-role"); got != "moderator" {
		t.Fatalf("role of the page: got %q, want %q", got, "moderator")
	}
}

// joinCall clicks Join and waits until the call and the roster show.
func joinCall(t *testing.T, tab *browsertest.Tab) {
	t.Helper()
	tab.Click(`[data-testid="join"]`)
	tab.WaitVisible(`[data-testid="call"]`)
	tab.WaitVisible(`[data-testid="member"][data-self="true"]`)
}

// openGuest opens an invite link in a new tab of the same browser, so the
// simulated SDKs of both tabs share the room, and joins as name.
//
// The tabs share cookies too, and the browser holds the host's session:
// the token endpoint would then give the "guest" a moderator token. The
// host cookie is removed first, as if the guest were on another machine;
// the host has its token already.
func openGuest(t *testing.T, app *testApp, invite, name string, members ...simMember) *browsertest.Tab {
	t.Helper()
	guest := simTab(t, members...)
	dropHostCookie(t, guest, app)
	guest.Navigate(invite)
	guest.WaitVisible(`[data-testid="join"]`)
	if got := guest.Attr(`[data-testid="room-page"]`, "data-role"); got != "guest" {
		t.Fatalf("role of the invite page: got %q, want %q", got, "guest")
	}
	guest.Eval(fmt.Sprintf(`document.getElementById('prejoin-name').value = %q`, name), nil)
	joinCall(t, guest)
	return guest
}

func dropHostCookie(t *testing.T, tab *browsertest.Tab, app *testApp) {
	t.Helper()
	tab.Run(func(ctx context.Context, target *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, target, network.DeleteCookies, network.DeleteCookiesParams{Name: "swr_host", URL: app.URL + "/"})
		return chromedp.Void{}, err
	})
}

// memberNames returns the names in the roster, in order.
func memberNames(t *testing.T, tab *browsertest.Tab) []string {
	t.Helper()
	var names []string
	tab.Eval(`Array.from(document.querySelectorAll('[data-testid="member"] > [data-testid="member-name"]'), e => e.textContent.trim())`, &names)
	return names
}

// waitMember waits for a roster row with this name.
func waitMember(t *testing.T, tab *browsertest.Tab, name string) {
	t.Helper()
	tab.WaitJS(fmt.Sprintf(`Array.from(document.querySelectorAll('[data-testid="member"] > [data-testid="member-name"]')).some(e => e.textContent.trim() === %q)`, name))
}

func TestE2ESandboxHostCreatesRoomAndSeesMembers(t *testing.T) {
	t.Parallel()
	app := startSandboxApp(t, e2eAddr())
	tab := simTab(t, threeMembers...)

	tab.Navigate(app.URL + "/")
	tab.WaitVisible(`[data-testid="sandbox-banner"]`)
	hostRoom(t, tab, app, "e2e_sandbox", "Hosting Hanna")
	if got := tab.Text(`[data-testid="room-name"]`); got != "e2e_sandbox" {
		t.Errorf("room name: got %q, want %q", got, "e2e_sandbox")
	}
	joinCall(t, tab)
	tab.WaitCount(`[data-testid="member"]`, 4)
	if got := tab.Text(`[data-testid="roster-count"]`); got != "4" {
		t.Errorf("roster count: got %q, want %q", got, "4")
	}
	want := []string{"Ada", "Alan", "Grace", "Hosting Hanna"}
	if got := memberNames(t, tab); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("roster: got %q, want %q", got, want)
	}
	if got := tab.Text(`[data-testid="member"][data-self="true"] [data-testid="member-name"]`); got != "Hosting Hanna" {
		t.Errorf("self row: got %q, want %q", got, "Hosting Hanna")
	}
}
