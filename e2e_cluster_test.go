package main

import (
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swrooms/swrooms/internal/browsertest"
	"github.com/swrooms/swrooms/signalwire/swtest"
)

// TestHAProxyConfigIsValid: deploy/haproxy.cfg passes HAProxy's own check
// as shipped, with its built-in addresses, and with no warning (-dW turns
// warnings into failures).
func TestHAProxyConfigIsValid(t *testing.T) {
	t.Parallel()
	bin := haproxyPath(t)
	cmd := exec.Command(bin, "-dW", "-c", "-f", "deploy/haproxy.cfg")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")} // the defaults, not this machine's SWROOMS_*
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("haproxy -c -f deploy/haproxy.cfg: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "Configuration file is valid") {
		t.Errorf("haproxy -c said %q, want it to call the file valid", out)
	}
}

// TestE2EClusterThreeInstancesBehindHAProxy is issue 17's main check: one
// fake SignalWire, one Redis, three app processes and HAProxy round-robin
// in front, all on loopback. A host and two guests join through the
// balancer with the real SDK; the lobby, chat, asking to unmute and the
// roster work whichever instance each request reaches. Then the instance
// holding the most streams dies of SIGKILL mid-call, and every browser
// carries on through the other two: streams reconnect, rosters follow,
// and every page shows every chat message exactly once.
func TestE2EClusterThreeInstancesBehindHAProxy(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 3)
	app := c.testApp()
	const room = "Cluster_Room"

	host := participant(t)
	hostLobbyRoom(t, host, app, room, "Hana")
	joinCall(t, host)
	invite := host.Attr(`[data-testid="invite-link"]`, "href")
	host.SetTimeout(pushWait)
	sameRequestID(t, c, "POST", "/rooms/"+room+"/token")

	// The lobby: each knock, the host's stream that tells of it and the
	// admit are requests the balancer spreads over the instances.
	gina := knock(t, invite, "Gina")
	host.WaitVisible(`[data-testid="knock-notice"]`)
	decide(t, host, "Gina", "admit")
	admitted(t, gina)
	gus := knockMuted(t, invite, "Gus")
	decide(t, host, "Gus", "admit")
	admitted(t, gus)
	pages := map[string]*browsertest.Tab{"Hana": host, "Gina": gina, "Gus": gus}
	for _, tab := range pages {
		tab.SetTimeout(pushWait)
		for name := range pages {
			waitMember(t, tab, name)
		}
	}
	if n := tokensFor(app, "Gina") + tokensFor(app, "Gus"); n != 2 {
		t.Errorf("tokens for the two admitted guests: got %d, want 2 (one each)", n)
	}
	streamUp(t, host, gina, gus)

	// Chat, each message from another page.
	var sent []string
	say := func(author string, text string) {
		t.Helper()
		tab := pages[author]
		openTab(t, tab, "chat")
		sendChat(t, tab, text)
		waitChat(t, tab, author, text) // in order: each after the last one showed
		sent = append(sent, author+": "+text)
	}
	say("Hana", "Welcome, both of you")
	say("Gina", "Hello from Gina")
	say("Gus", "Gus here, muted")
	everyPageShowsChat(t, pages, sent)

	// Asking to unmute: the host's ask reaches Gus's stream, his accept
	// reaches the host's, whichever instances hold them.
	gusID := liveMember(t, app, room, "Gus").ID
	openTab(t, host, "people")
	waitAttr(t, host, row(gusID), "data-audio-muted", "true")
	settled(t, host)
	host.Click(button("ask-unmute", gusID))
	gus.WaitVisible(`[data-testid="unmute-request"]`)
	gus.Click(`[data-action="accept-unmute"]`)
	waitLive(t, app, room, "Gus", "unmuted", func(m swtest.LiveMember) bool { return !m.AudioMuted })
	host.WaitVisible(`[data-testid="notice"][data-notice="unmute-accept"]`)
	for _, tab := range pages {
		waitAttr(t, tab, row(gusID), "data-audio-muted", "false")
	}

	// The balancer did spread the work: every instance served requests.
	before := c.LB.stats(t)
	for _, a := range c.Apps {
		if before[a.Name].Total == 0 {
			t.Errorf("%s served no request: HAProxy did not spread the call over the instances%s", a.Name, formatStats(before))
		}
	}

	// SIGKILL to the instance holding the most of the pages' streams
	// (each page holds one for the whole call).
	total := func(live map[string]int, except string) int {
		n := 0
		for name, k := range live {
			if name != except {
				n += k
			}
		}
		return n
	}
	live := c.LB.waitSessions(t, "one stream per page", func(live map[string]int) bool { return total(live, "") == len(pages) })
	victim := c.Apps[0]
	for _, a := range c.Apps {
		if live[a.Name] > live[victim.Name] {
			victim = a
		}
	}
	t.Logf("killing %s, which holds %d of the pages' %d streams (by server: %v)", victim.Name, live[victim.Name], len(pages), live)
	for _, tab := range pages {
		// The pages count their stream's drops from now on.
		tab.Eval(`window.__drops = 0; new MutationObserver(() => { if (document.body.dataset.stream === 'connecting') window.__drops++; })
			.observe(document.body, {attributes: true, attributeFilter: ['data-stream']})`, nil)
		// A request on its way to the dying instance, or its stream's end.
		for _, e := range []string{"ERR_INCOMPLETE_CHUNKED_ENCODING", "ERR_EMPTY_RESPONSE", "ERR_CONNECTION_RESET"} {
			tab.AllowConsoleError(e)
		}
	}
	victim.Kill(t)
	// Posted at once, while the streams of the dead instance's pages are
	// down: those pages get it replayed when they reconnect elsewhere.
	say("Gina", "Sent while the streams come back")

	// HAProxy takes it out of rotation, and the streams it held come back
	// on the others: one per page, none on the dead instance.
	c.LB.waitStats(t, victim.Name+" out of rotation", func(st map[string]serverStat) bool {
		return strings.HasPrefix(st[victim.Name].Status, "DOWN")
	})
	c.LB.waitSessions(t, "every page's stream open on the instances left", func(live map[string]int) bool {
		return live[victim.Name] == 0 && total(live, victim.Name) == len(pages)
	})
	drops := 0
	for name, tab := range pages {
		tab.WaitJS(`document.body.dataset.stream === 'open'`)
		var n int
		tab.Eval(`window.__drops`, &n)
		t.Logf("%s's stream dropped %d times", name, n)
		drops += n
	}
	if drops < live[victim.Name] {
		t.Errorf("the pages saw %d stream drops, want at least the %d streams the killed %s held", drops, live[victim.Name], victim.Name)
	}

	// Chat goes on from every page, through the two instances left, and
	// no message is lost or shown twice on any page.
	say("Gus", "Still here after the crash")
	say("Gina", "Me too")
	say("Hana", "Carry on")
	everyPageShowsChat(t, pages, sent)

	// The rosters keep following the call: someone new joins, and mutes.
	ada := addMembers(t, app, room, "Ada")["Ada"]
	for _, tab := range pages {
		waitMember(t, tab, "Ada")
	}
	mustUpdate(t, app, room, ada, swtest.MemberChange{AudioMuted: ptr(true)})
	for _, tab := range pages {
		waitAttr(t, tab, row(ada), "data-audio-muted", "true")
	}

	// A moderator's ask still reaches its one page: the camera this time.
	openTab(t, host, "people")
	settled(t, host)
	host.Click(button("ask-video-unmute", gusID))
	gus.WaitVisible(`[data-testid="unmute-request"][data-kind="video"]`)
	gus.Click(`[data-action="accept-unmute"]`)
	waitLive(t, app, room, "Gus", "camera on", func(m swtest.LiveMember) bool { return !m.VideoMuted })
	for _, tab := range pages {
		waitAttr(t, tab, row(gusID), "data-video-muted", "false")
	}
}

// sameRequestID checks that the instance that served method path logged
// it under the X-Request-ID HAProxy gave it (TRUSTED_PROXIES believes the
// balancer), so that one id finds a request in both logs.
func sameRequestID(t *testing.T, c *cluster, method, path string) {
	t.Helper()
	id := c.LB.nthRequest(t, 1, method, path).ID
	for _, a := range c.Apps {
		if strings.Contains(a.Logs.String(), "request_id="+id) {
			return
		}
	}
	t.Errorf("no instance logged request_id=%s, the id HAProxy gave %s %s", id, method, path)
}

// knockMuted knocks as knock does, with microphone and camera off, so that
// a moderator can ask this guest to turn them on.
func knockMuted(t *testing.T, invite, name string) *browsertest.Tab {
	t.Helper()
	g := participant(t)
	g.Navigate(invite)
	waitIsland(t, g)
	setName(t, g, name)
	g.Eval(`document.getElementById('join-mic-off').checked = true; document.getElementById('join-camera-off').checked = true`, nil)
	jsClick(t, g, `[data-testid="join"]`)
	g.WaitVisible(`[data-testid="lobby-waiting"]`)
	return g
}

// admitted waits until an admitted guest's page has joined by itself.
func admitted(t *testing.T, guest *browsertest.Tab) {
	t.Helper()
	guest.WaitVisible(`[data-testid="call"]`)
	guest.WaitVisible(`[data-testid="member"][data-self="true"]`)
}

// everyPageShowsChat waits until each page's chat log is exactly want, in
// order, and checks that no message shows twice; a page that does not get
// there is reported with what it shows.
func everyPageShowsChat(t *testing.T, pages map[string]*browsertest.Tab, want []string) {
	t.Helper()
	for name, tab := range pages {
		var got struct {
			Texts []string `json:"texts"`
			IDs   []string `json:"ids"`
		}
		deadline := time.Now().Add(pushWait)
		for {
			tab.Eval(`({texts: `+chatTexts+`, ids: [...document.querySelectorAll('#chat-log [data-message-id]')].map(m => m.dataset.messageId)})`, &got)
			if slices.Equal(got.Texts, want) || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if !slices.Equal(got.Texts, want) {
			t.Fatalf("%s's chat:\n got %q\nwant %q", name, got.Texts, want)
		}
		seen := map[string]bool{}
		for _, id := range got.IDs {
			if seen[id] {
				t.Errorf("%s's page shows message %s twice: %q", name, id, got.IDs)
			}
			seen[id] = true
		}
	}
}

// TestHAProxyPassesToLiveInstancesWhenNoneIsReady: with Redis down no
// instance is ready, and HAProxy takes them all out of the main rotation;
// requests still reach a running instance (the fallback backend), whose
// answer says what is wrong, instead of HAProxy's bare 503. When Redis
// comes back, every instance returns to rotation by itself.
func TestHAProxyPassesToLiveInstancesWhenNoneIsReady(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 3)
	c.Redis.Stop()
	c.LB.waitStats(t, "every instance out of rotation", func(st map[string]serverStat) bool {
		for _, a := range c.Apps {
			if !strings.HasPrefix(st[a.Name].Status, "DOWN") {
				return false
			}
		}
		return true
	})
	// The picker needs no shared state; /readyz says what is missing.
	if code, body := fetchPage(t, c.URL+"/"); code != http.StatusOK {
		t.Errorf("GET / with Redis down: %d, want the picker (200)\n%.300s", code, body)
	}
	code, body := fetchPage(t, c.URL+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "Redis") {
		t.Errorf("GET /readyz with Redis down: %d %q, want the app's 503 naming Redis", code, body)
	}
	for _, path := range []string{"/", "/readyz"} {
		if r := c.LB.nthRequest(t, 1, "GET", path); !strings.HasPrefix(r.Route, "swrooms_live/") {
			t.Errorf("GET %s with Redis down went to %s, want the fallback backend swrooms_live", path, r.Route)
		}
	}

	// Back in rotation once Redis is.
	c.Redis.Restart()
	c.LB.waitUp(t, c.Apps)
	if code, _ := fetchPage(t, c.URL+"/readyz"); code != http.StatusOK {
		t.Errorf("GET /readyz once Redis is back: %d, want 200", code)
	}
	if r := c.LB.nthRequest(t, 2, "GET", "/readyz"); !strings.HasPrefix(r.Route, "swrooms/") {
		t.Errorf("GET /readyz once Redis is back went to %s, want the main backend", r.Route)
	}
}

// TestHAProxyAnswersRequestsThatFindAKilledInstanceElsewhere: an instance
// dies of SIGKILL while HAProxy still has it in rotation. The request
// that next goes to it finds its port closed, which never reached an
// instance, so HAProxy retries it on another, a POST too: every request
// is answered by a live instance, none with an empty reply or a bare
// 5xx of HAProxy's own. (With "on-marked-down shutdown-sessions", the
// first refused connection marked the instance down and the shutdown
// then killed that very request while it was being retried.)
func TestHAProxyAnswersRequestsThatFindAKilledInstanceElsewhere(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 3)
	c.Apps[2].Kill(t)

	// A connection per request: Go's transport resends a GET whose reused
	// connection closed, which would hide an empty reply.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	// Round-robin: within three requests one goes to the dead instance.
	for i := range 2 * len(c.Apps) {
		method, path, want := http.MethodGet, "/healthz", http.StatusOK
		if i%2 == 1 {
			// No CSRF token: the app's own refusal proves an instance
			// answered, and nothing is changed.
			method, path, want = http.MethodPost, "/rooms/validate", http.StatusForbidden
		}
		req, err := http.NewRequest(method, c.URL+path, strings.NewReader("room=Main_Office"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("request %d, %s %s: %v, want an instance's answer", i+1, method, path, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != want || resp.Header.Get("X-Request-ID") == "" {
			t.Errorf("request %d, %s %s: %d (X-Request-ID %q), want %d from an instance", i+1, method, path, resp.StatusCode, resp.Header.Get("X-Request-ID"), want)
		}
	}
}
