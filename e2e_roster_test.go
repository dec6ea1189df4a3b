package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swrooms/swrooms/internal/browsertest"
)

// Browser tests of the live roster (issue 7): the island forwards the
// simulated SDK's events and the server renders the rows.

// sim runs a call of the page's simulated SDK (window.__swsim) and waits
// for it; js is the expression after "window.__swsim.".
func sim(t *testing.T, tab *browsertest.Tab, js string) {
	t.Helper()
	tab.Eval("(async () => { await window.__swsim."+js+"; })()", nil)
}

// row is the selector of one member's roster row.
func row(id string) string {
	return fmt.Sprintf(`[data-testid="member"][data-member-id=%q]`, id)
}

// waitAttr waits until the element's attribute has the value.
func waitAttr(t *testing.T, tab *browsertest.Tab, sel, attr, value string) {
	t.Helper()
	tab.WaitJS(fmt.Sprintf(`document.querySelector(%q)?.getAttribute(%q) === %q`, sel, attr, value))
}

func TestE2ERosterFollowsMemberEvents(t *testing.T) {
	t.Parallel()
	app := startSandboxApp(t)
	tab := simTab(t, threeMembers...)
	// A name with markup calls alert if it ever runs; the stub records it.
	tab.InitScript(`window.alert = () => { window.__alerted = true; };`)
	hostRoom(t, tab, app, "e2e_roster", "Rosa")
	joinCall(t, tab)

	// The room.joined snapshot.
	tab.WaitCount(`[data-testid="member"]`, 4)
	for _, m := range threeMembers {
		if got := tab.Text(row(m.ID) + ` > [data-testid="member-name"]`); got != m.Name {
			t.Errorf("row %s: got name %q, want %q", m.ID, got, m.Name)
		}
	}

	sim(t, tab, `addMember({id: 'm-dora', name: 'Dora'})`)
	tab.WaitCount(`[data-testid="member"]`, 5)
	waitMember(t, tab, "Dora")
	sim(t, tab, `removeMember('m-dora')`)
	tab.WaitCount(`[data-testid="member"]`, 4)
	if tab.Count(row("m-dora")) != 0 {
		t.Error("Dora's row is still there after member.left")
	}

	sim(t, tab, `updateMember('m-ada', {audio_muted: true})`)
	waitAttr(t, tab, row("m-ada"), "data-audio-muted", "true")
	if got := tab.Text(row("m-ada") + ` [data-testid="member-mic"]`); got != "Mic off" {
		t.Errorf("Ada's mic state: got %q, want %q", got, "Mic off")
	}

	// member.talking as the SDK emits it; the simulator has no talk call.
	sim(t, tab, `emit('member.talking', {member: {id: 'm-grace', talking: true}})`)
	waitAttr(t, tab, row("m-grace"), "data-talking", "true")
	if got := tab.Text(row("m-grace") + ` [data-testid="member-talking"]`); got != "Talking" {
		t.Errorf("Grace's talking state: got %q, want %q", got, "Talking")
	}

	// A screen share shows under its owner and is no person.
	sim(t, tab, `addMember({id: 'm-ada-screen', name: 'Ada', type: 'screen', parent_id: 'm-ada'})`)
	tab.WaitCount(row("m-ada")+` [data-testid="member-device"][data-parent-id="m-ada"]`, 1)
	if n := tab.Count(`[data-testid="member"]`); n != 4 {
		t.Errorf("people with a screen share: got %d rows, want 4", n)
	}
	if got := tab.Text(`[data-testid="roster-count"]`); got != "4" {
		t.Errorf("count with a screen share: got %q, want %q", got, "4")
	}

	const evil = `<img src=x onerror=alert(1)>`
	sim(t, tab, fmt.Sprintf(`addMember({id: 'm-evil', name: %q})`, evil))
	tab.WaitCount(`[data-testid="member"]`, 5)
	if got := tab.Text(row("m-evil") + ` > [data-testid="member-name"]`); got != evil {
		t.Errorf("name with markup: got %q, want it as text %q", got, evil)
	}
	var ran struct {
		Alerted bool `json:"alerted"`
		Images  int  `json:"images"`
	}
	tab.Eval(`({alerted: !!window.__alerted, images: document.querySelectorAll('#roster-panel img').length})`, &ran)
	if ran.Alerted || ran.Images != 0 {
		t.Errorf("a name with markup ran or became an element: %+v", ran)
	}
}

// restartableApp is the app against a fake API that outlives it, so that a
// test can restart run() on the same address with the same SECRET_KEY, as
// a deployment restarts.
type restartableApp struct {
	*testApp
	env []string
}

func startRestartableApp(t *testing.T) *restartableApp {
	t.Helper()
	env, fake := fakeConfig(t)
	app := startApp(t, slices.Clone(env), withSimulatedSDK())
	app.Fake = fake
	return &restartableApp{testApp: app, env: env}
}

// restart stops run() and starts a new one on the same address; the
// browser keeps its page.
func (r *restartableApp) restart(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // for the stop in startApp's cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop within 10s")
	}
	next := startApp(t, append(slices.Clone(r.env), "ADDR="+strings.TrimPrefix(r.URL, "http://")), withSimulatedSDK())
	if next.URL != r.URL {
		t.Fatalf("restarted on %s, want %s", next.URL, r.URL)
	}
	next.Fake = r.Fake
	r.testApp = next
}

func TestE2ERosterRecoversAfterServerRestart(t *testing.T) {
	t.Parallel()
	app := startRestartableApp(t)
	tab := simTab(t, threeMembers...)
	tab.AllowConsoleError("ERR_CONNECTION_REFUSED") // should a post meet the gap
	hostRoom(t, tab, app.testApp, "e2e_restart", "Otto")
	joinCall(t, tab)
	sim(t, tab, `addMember({id: 'm-dora', name: 'Dora'})`)
	tab.WaitCount(`[data-testid="member"]`, 5)

	app.restart(t)
	sim(t, tab, `clearCalls()`)
	// One event alone, as the SDK emits it (the simulator's own changes
	// come with a full memberList.updated, which would hide the gap): the
	// new server knows nothing of this seat and asks for a snapshot.
	sim(t, tab, `emit('member.updated', {member: {id: 'm-ada', audio_muted: true, updated: ['audio_muted']}})`)
	tab.WaitJS(`window.__swsim.calls().some(c => c.method === 'getMembers')`)
	tab.WaitCount(`[data-testid="member"]`, 5)
	want := []string{"Ada", "Alan", "Dora", "Grace", "Otto"}
	if got := memberNames(t, tab); !slices.Equal(got, want) {
		t.Errorf("roster after the restart: got %q, want %q", got, want)
	}
	// The snapshot carries member_id, so the new server knows which row is
	// the viewer's own.
	if got := tab.Attr(`[data-testid="member"][data-self="true"]`, "data-member-id"); got == "" || tab.Count(`[data-testid="member"][data-self="true"]`) != 1 {
		t.Errorf("rows marked as self after the restart: got %d, want 1", tab.Count(`[data-testid="member"][data-self="true"]`))
	}
	// The roster keeps following events on the new server.
	sim(t, tab, `updateMember('m-grace', {audio_muted: true})`)
	waitAttr(t, tab, row("m-grace"), "data-audio-muted", "true")
}

// TestE2ERosterLatency measures the time from an SDK event to the updated
// roster in the browser: forwarding, batching, the server's apply and
// render, and the swap. It reports the p95 over 50 events (issue 7's goal
// is under 100 ms) and writes it to $BENCH_OUT when set; it is no gate.
func TestE2ERosterLatency(t *testing.T) {
	t.Parallel()
	app := startSandboxApp(t)
	tab := simTab(t, threeMembers...)
	hostRoom(t, tab, app, "e2e_latency", "Lena")
	joinCall(t, tab)
	tab.WaitCount(`[data-testid="member"]`, 4)

	const n = 50
	var ms []float64
	tab.Eval(fmt.Sprintf(`(async () => {
		const panel = document.getElementById('roster-panel');
		const times = [];
		for (let i = 0; i < %d; i++) {
			const muted = String(i %% 2 === 0);
			const done = () => document.querySelector('[data-member-id="m-ada"]')?.dataset.audioMuted === muted;
			const t0 = performance.now();
			const seen = new Promise((resolve) => {
				const obs = new MutationObserver(() => { if (done()) { obs.disconnect(); resolve(); } });
				obs.observe(panel, {subtree: true, childList: true, attributes: true});
			});
			window.__swsim.emit('member.updated', {member: {id: 'm-ada', audio_muted: muted === 'true', updated: ['audio_muted']}});
			await seen;
			times.push(performance.now() - t0);
		}
		return times;
	})()`, n), &ms)
	if len(ms) != n {
		t.Fatalf("got %d measurements, want %d", len(ms), n)
	}
	slices.Sort(ms)
	p50, p95 := ms[n/2], ms[(n*95+99)/100-1]
	line := fmt.Sprintf("browser SDK event to updated roster: p50 %.1f ms, p95 %.1f ms, max %.1f ms over %d events", p50, p95, ms[n-1], n)
	t.Log(line)
	if out := os.Getenv("BENCH_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(line+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
