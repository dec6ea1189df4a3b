package main

import (
	"fmt"
	"testing"
)

// TestE2EUIDeviceSwitchInCall: the Devices popover switches the camera
// during the call, and the track the SDK sends changes with it; when that
// camera is unplugged (devicechange), the picker drops it and the call
// falls back to the default one. Chromium's fake capture offers two
// cameras with --use-fake-device-for-media-stream=device-count=2 (see
// TESTING.md).
func TestE2EUIDeviceSwitchInCall(t *testing.T) {
	t.Parallel()
	app := startFakeApp(t)
	tab := participant(t)
	tab.InitScript(capturePeers)
	hostRoom(t, tab, app, "e2e_ui_devices", "Dev")
	joinCall(t, tab)
	sent := `(window.__pcs.flatMap(pc => pc.getSenders()).map(s => s.track).find(t => t && t.kind === 'video' && t.readyState === 'live')?.getSettings().deviceId || '')`
	tab.WaitJS(sent + ` !== ''`)
	tab.Click(`[data-testid="open-devices"]`)
	tab.WaitVisible(`[data-testid="call-camera-select"]`)
	tab.WaitJS(`document.querySelectorAll('#call-camera-select option').length === 2`)
	var cams []string
	tab.Eval(`Array.from(document.querySelectorAll('#call-camera-select option'), o => o.value)`, &cams)
	var first string
	tab.Eval(sent, &first)
	other := cams[0]
	if other == first {
		other = cams[1]
	}
	if got := tab.Attr(`#call-camera-select`, "aria-busy"); got != "" {
		t.Fatalf("camera picker busy before any switch")
	}
	tab.Eval(fmt.Sprintf(`(() => { const s = document.getElementById('call-camera-select'); s.value = %q; s.dispatchEvent(new Event('change', {bubbles: true})); })()`, other), nil)
	tab.WaitJS(fmt.Sprintf(`%s === %q`, sent, other))

	// The camera in use is unplugged: the picker drops it, and the call
	// goes back to the other one.
	tab.Eval(fmt.Sprintf(`(() => {
		const list = navigator.mediaDevices.enumerateDevices.bind(navigator.mediaDevices);
		navigator.mediaDevices.enumerateDevices = () => list().then(ds => ds.filter(d => d.deviceId !== %q));
		navigator.mediaDevices.dispatchEvent(new Event('devicechange'));
	})()`, other), nil)
	tab.WaitJS(fmt.Sprintf(`![...document.querySelectorAll('#call-camera-select option')].some(o => o.value === %q)`, other))
	tab.WaitJS(fmt.Sprintf(`document.getElementById('call-camera-select').value === %q`, first))
	tab.WaitJS(fmt.Sprintf(`%s === %q`, sent, first))
	if tab.Count(`[data-testid="device-error"]:not([hidden])`) != 0 {
		t.Errorf("device error: %s", tab.Text(`[data-testid="device-error"]`))
	}
}
