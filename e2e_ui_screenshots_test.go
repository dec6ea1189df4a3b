package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/swrooms/swrooms/signalwire/swtest"
)

// TestE2EUIScreenshots regenerates the README's screenshots from the real
// browser: `go tool task screenshots` (SCREENSHOTS_DIR=docs/screenshots).
// Without SCREENSHOTS_DIR it skips, so the suite writes no files.
func TestE2EUIScreenshots(t *testing.T) {
	dir := os.Getenv("SCREENSHOTS_DIR")
	if dir == "" {
		t.Skip("set SCREENSHOTS_DIR to regenerate the README's screenshots (go tool task screenshots)")
	}
	app := startFakeApp(t)
	const room = "Design_Review"

	picker := participant(t)
	picker.SetViewport(1280, 800, false)
	picker.Navigate(app.URL + "/?room=" + room + "&user=Hedy")
	picker.WaitVisible(`[data-testid="start-room"]`)
	picker.Screenshot(filepath.Join(dir, "picker.png"))

	host := participant(t)
	host.SetViewport(1280, 800, false)
	hostRoom(t, host, app, room, "Hedy")
	ids := addMembers(t, app, room, "Ada", "Grace", "Alan")
	joinCall(t, host)
	host.WaitCount(`[data-testid="member"]`, 4)
	if err := app.Fake.UpdateMember(room, ids["Grace"], swtest.MemberChange{HandRaised: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if err := app.Fake.UpdateMember(room, ids["Alan"], swtest.MemberChange{AudioMuted: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	host.WaitVisible(`[data-testid="hand-notice"]`)
	host.WaitJS(`[...document.querySelectorAll('#video-root video')].some(v => v.videoWidth > 0)`)
	host.Screenshot(filepath.Join(dir, "host-call.png"))

	guest := participant(t)
	guest.SetViewport(1280, 800, false)
	guest.Navigate(host.Attr(`[data-testid="invite-link"]`, "href"))
	waitIsland(t, guest)
	setName(t, guest, "Gus")
	guest.WaitJS(`document.getElementById('preview').srcObject !== null`)
	guest.Screenshot(filepath.Join(dir, "guest-prejoin.png"))
	joinCall(t, guest)
	guest.WaitCount(`[data-testid="member"]`, 5)
	guest.Screenshot(filepath.Join(dir, "guest-call.png"))

	phone := participant(t)
	phone.SetViewport(390, 844, true)
	phone.Navigate(host.Attr(`[data-testid="invite-link"]`, "href"))
	waitIsland(t, phone)
	setName(t, phone, "Pia")
	jsClick(t, phone, `[data-testid="join"]`)
	phone.WaitVisible(`[data-testid="call"]`)
	phone.WaitJS(`document.querySelector('[data-testid="member"][data-self="true"]') !== null`)
	phone.Click(`[data-ui="panel"][data-tab="people"]`)
	phone.WaitVisible(`[data-testid="member"][data-self="true"]`)
	phone.Screenshot(filepath.Join(dir, "phone.png"))
}
