package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/swrooms/swrooms/signalwire/swtest"
)

// Browser tests of the call itself (issue 12): the vendored SDK, media
// through the relay, and a room SignalWire no longer has (issue 11).

// TestE2EOnlyTheVendoredSDKRuns: the SDK every browser test runs is the
// vendored file, byte for byte as its SHA256SUMS entry says.
func TestE2EOnlyTheVendoredSDKRuns(t *testing.T) {
	t.Parallel()
	const file = "signalwire-js-3.30.0.umd.js"
	want := ""
	sums, err := os.Open("public/vendor/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	defer sums.Close()
	for sc := bufio.NewScanner(sums); sc.Scan(); {
		if sum, name, ok := strings.Cut(sc.Text(), "  "); ok && name == file {
			want = sum
		}
	}
	if want == "" {
		t.Fatalf("SHA256SUMS has no entry for %s", file)
	}

	app := startFakeApp(t)
	tab := participant(t)
	hostRoom(t, tab, app, "e2e_sdk", "Suki")
	joinCall(t, tab) // checks that the page loads this SDK and no other
	var src string
	tab.Eval(`[...document.scripts].map(s => s.src).find(s => s.includes('/vendor/signalwire-js')) || ''`, &src)
	resp, err := http.Get(src)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		t.Errorf("the SDK the page ran (%s) has SHA-256 %s, want %s", src, got, want)
	}
}

// TestE2EMediaFlowsThroughTheRelay: the peer connection reaches connected
// and the host's video element plays frames that came back from the relay.
func TestE2EMediaFlowsThroughTheRelay(t *testing.T) {
	t.Parallel()
	app := startFakeApp(t)
	tab := participant(t)
	tab.InitScript(capturePeers)
	hostRoom(t, tab, app, "e2e_media", "Mira")
	joinCall(t, tab)
	tab.WaitJS(`window.__pcs.some(pc => pc.connectionState === 'connected')`)
	tab.WaitJS(`[...document.querySelectorAll('#video-root video')].some(v => v.videoWidth > 0 && v.currentTime > 0)`)
	var t0 float64
	tab.Eval(`Math.max(...[...document.querySelectorAll('#video-root video')].map(v => v.currentTime))`, &t0)
	// Frames keep coming: playback advances half a second and more.
	tab.WaitJS(fmt.Sprintf(`Math.max(...[...document.querySelectorAll('#video-root video')].map(v => v.currentTime)) > %f`, t0+0.5))
}

// deleteRoom deletes room on the fake, as someone on SignalWire's dashboard
// would, while the app still remembers it.
func deleteRoom(t *testing.T, fake *swtest.Fake, room string) {
	t.Helper()
	for _, r := range fake.Rooms() {
		if r.Name != room {
			continue
		}
		req := httptest.NewRequest(http.MethodDelete, swtest.APIRoot+"/rooms/"+r.ID, nil)
		req.SetBasicAuth(testProjectKey, testAPIToken)
		w := httptest.NewRecorder()
		fake.ServeHTTP(w, req)
		if w.Code != http.StatusNoContent {
			t.Fatalf("DELETE room %s: got %d", room, w.Code)
		}
		return
	}
	t.Fatalf("the fake has no room %s", room)
}

// TestE2EForgottenRoom: SignalWire deleted a room the app still
// remembers. SignalWire issues the token anyway; the join fails; the guest
// is told the meeting no longer exists, the host's page creates the room
// again and joins.
func TestE2EForgottenRoom(t *testing.T) {
	t.Parallel()
	app := startFakeApp(t)
	const room = "e2e_forgotten"
	host := participant(t)
	hostRoom(t, host, app, room, "Fern")
	invite := host.Attr(`[data-testid="invite-link"]`, "href")
	deleteRoom(t, app.Fake, room)

	guest := participant(t)
	guest.AllowConsoleError("410") // the page that says the room is gone
	guest.Navigate(invite)
	waitIsland(t, guest)
	setName(t, guest, "Gale")
	clickAndLoad(t, guest, `[data-testid="join"]`) // the island sends the page elsewhere
	var path string
	guest.Eval(`location.pathname`, &path)
	if path != "/rooms/"+room+"/gone" {
		t.Fatalf("guest's page after the failed join: %s, want /rooms/%s/gone", path, room)
	}
	if got := guest.Text(`[data-testid="error-message"]`); !strings.Contains(got, "no longer exists") || !strings.Contains(got, "host") {
		t.Errorf("guest's page for a forgotten room: got %q", got)
	}
	if n := len(app.Fake.Rooms()); n != 0 {
		t.Fatalf("a guest's failed join created a room: %d rooms", n)
	}

	joinCall(t, host)
	if rooms := app.Fake.Rooms(); len(rooms) != 1 || rooms[0].Name != room {
		t.Errorf("after the host's join: rooms %+v, want %s again", rooms, room)
	}
	liveMember(t, app, room, "Fern")
}
