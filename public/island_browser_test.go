package public

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/swrooms/swrooms/internal/browsertest"
)

// openIsland opens the modules' test page: htmx as the room page loads it,
// a #roster-panel, and testdata/island_test.js imported as window.it.
func openIsland(t *testing.T) *browsertest.Tab {
	t.Helper()
	srv := testServer(t)
	tab := browsertest.NewTab(t)
	tab.Navigate(srv.URL + "/testdata/island.html")
	tab.Eval(`import('/testdata/island_test.js').then((m) => { window.it = m; return true })`, nil)
	return tab
}

// TestServesModulesAsJavaScript: browsers refuse a module script served
// with another MIME type.
func TestServesModulesAsJavaScript(t *testing.T) {
	t.Parallel()
	tab := openIsland(t)
	var types []string
	tab.Eval(`Promise.all(["room", "call", "channel", "normalise", "prejoin", "moderator", "controls", "sdk", "ui"].map(
		(m) => fetch("/js/" + m + ".js").then((r) => r.status + " " + r.headers.get("Content-Type"))))`, &types)
	for _, got := range types {
		if !strings.HasPrefix(got, "200 text/javascript") {
			t.Errorf("module answer: got %q, want 200 text/javascript", got)
		}
	}
}

// sdkFixture is one raw SDK payload and the wire data it must become.
type sdkFixture struct {
	Source  string          `json:"source"`
	Event   string          `json:"event"`
	SelfID  string          `json:"self_id,omitempty"`
	Payload json.RawMessage `json:"payload"`
	Want    json.RawMessage `json:"want"`
}

// TestNormaliserFixtures runs normalise.js in Chromium over the raw SDK
// payloads under testdata/sdk and compares each result with the wire
// object of roster/WIRE.md beside it.
func TestNormaliserFixtures(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/sdk/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures under testdata/sdk: %v", err)
	}
	tab := openIsland(t)
	events := map[string]bool{}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var f sdkFixture
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if f.Source == "" || f.Event == "" {
			t.Fatalf("%s: every fixture says where its shape comes from (source) and its event", file)
		}
		events[f.Event] = true
		t.Run(filepath.Base(file), func(t *testing.T) {
			var s string
			tab.Eval(fmt.Sprintf("JSON.stringify(it.normalise(%s) ?? null)", raw), &s)
			got := json.RawMessage(s)
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(f.Want, &w); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("got %s, want %s", got, f.Want)
			}
		})
	}
	// Every forwarded event has at least one fixture.
	for _, name := range []string{"room.joined", "members.snapshot", "member.joined", "member.updated", "member.left",
		"member.talking", "room.updated", "layout.changed", "recording.started", "recording.updated", "room.left"} {
		if !events[name] {
			t.Errorf("no fixture for %s", name)
		}
	}
}

// TestNormalisedChangeDoesNotGrowWithTheRoom: one member's change costs the
// same whatever the room's size, since no list is forwarded with it.
func TestNormalisedChangeDoesNotGrowWithTheRoom(t *testing.T) {
	t.Parallel()
	tab := openIsland(t)
	var n int
	tab.Eval(`JSON.stringify({seq: 123456, name: "member.updated", data: it.normalise({event: "member.updated",
		payload: {member: {id: "0123456789abcdef0123456789abcdef", name: "x".repeat(100), type: "member",
		audio_muted: true, video_muted: true, deaf: false, visible: true, handraised: true, talking: false, updated: ["audio_muted"]}}})}).length`, &n)
	if n > 2048 {
		t.Errorf("one member.updated: got %d bytes, want under 2 KB", n)
	}
}

type channelResult struct {
	Requests []struct {
		Seqs  []int    `json:"seqs"`
		Names []string `json:"names"`
		Bytes int      `json:"bytes"`
		Base  *string  `json:"base"`
		Epoch string   `json:"epoch"`
	} `json:"requests"`
	Swaps     []string `json:"swaps"`
	Said      []string `json:"said"`
	Snapshots int      `json:"snapshots"`
	Panel     string   `json:"panel"`
	Stopped   bool     `json:"stopped"`
}

// runChannel evaluates a scenario: js is an async function body that gets
// it (island_test.js) and returns a harness after driving it.
func runChannel(t *testing.T, tab *browsertest.Tab, js string) channelResult {
	t.Helper()
	var r channelResult
	tab.Eval(`(async () => { const h = await (async (it) => {`+js+`})(window.it);
		return {requests: h.requests, swaps: h.swaps, said: h.said, snapshots: h.snapshots(),
			panel: document.getElementById("roster-panel").innerHTML, stopped: h.channel.state().stopped} })()`, &r)
	return r
}

// sentSeqs lists the seqs of the requests in order.
func sentSeqs(r channelResult) []int {
	var seqs []int
	for _, req := range r.Requests {
		seqs = append(seqs, req.Seqs...)
	}
	return seqs
}

func seqRange(from, to int) []int {
	var s []int
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

func TestChannel(t *testing.T) {
	t.Parallel()
	tab := openIsland(t)

	t.Run("a burst is split at 64 KiB and 200 events, in order, each event once", func(t *testing.T) {
		// 300 members whose 100-character names take 300 bytes each.
		r := runChannel(t, tab, `
			const h = it.harness(() => it.ok());
			for (let i = 1; i <= 300; i++) h.channel.send("member.joined", it.memberEvent(i, "日".repeat(100)));
			for (let i = 301; i <= 700; i++) h.channel.send("member.talking", {member: {id: "m" + i, talking: true}});
			await h.settle();
			return h;`)
		if got := sentSeqs(r); !slices.Equal(got, seqRange(1, 700)) {
			t.Fatalf("seqs sent: got %v, want 1..700 once each", got)
		}
		bySize, byCount := false, false
		for _, req := range r.Requests {
			if req.Bytes > 64<<10 || len(req.Seqs) > 200 {
				t.Errorf("a batch of %d events and %d bytes: over the caps", len(req.Seqs), req.Bytes)
			}
			bySize = bySize || (len(req.Seqs) < 200 && req.Bytes > 60<<10)
			byCount = byCount || len(req.Seqs) == 200
		}
		if !bySize || !byCount {
			for _, req := range r.Requests {
				t.Logf("batch: %d events, %d bytes", len(req.Seqs), req.Bytes)
			}
			t.Errorf("want batches split by bytes (one under 200 events near 64 KiB) and by count (200 events)")
		}
	})

	t.Run("the base is the last applied version, and a delta swaps only out-of-band elements", func(t *testing.T) {
		r := runChannel(t, tab, `
			const h = it.harness((req, n) => n === 1
				? it.ok("41", "full", '<span id="roster-count">1</span><p id="keep">kept</p>')
				: it.ok("42", "delta", '<span id="roster-count" hx-swap-oob="true">2</span><p id="stray">not swapped</p>'));
			h.channel.send("member.joined", it.memberEvent(1));
			await h.settle(() => h.swaps.length === 1);
			h.channel.send("member.joined", it.memberEvent(2));
			await h.settle(() => h.swaps.length === 2);
			return h;`)
		if len(r.Requests) != 2 || r.Requests[0].Base != nil || r.Requests[1].Base == nil || *r.Requests[1].Base != "41" {
			t.Fatalf("X-Roster-Base: got %+v, want none, then 41", r.Requests)
		}
		if !slices.Equal(r.Swaps, []string{"full", "delta"}) {
			t.Errorf("swaps: got %q", r.Swaps)
		}
		if !strings.Contains(r.Panel, `>2</span>`) {
			t.Errorf("panel after the delta: got %q, want the count 2", r.Panel)
		}
		if strings.Contains(r.Panel, "not swapped") || !strings.Contains(r.Panel, "kept") {
			t.Errorf("panel after the delta: got %q, want only the out-of-band element applied", r.Panel)
		}
	})

	t.Run("503, 429 and a dropped connection keep the events and forget the base", func(t *testing.T) {
		r := runChannel(t, tab, `
			const h = it.harness((req, n) => {
				if (n === 2) return new Response("busy", {status: 503, headers: {"Retry-After": "1"}});
				if (n === 3) throw new TypeError("Failed to fetch");
				if (n === 4) return new Response("slow down", {status: 429});
				return it.ok(String(n));
			});
			h.channel.send("member.joined", it.memberEvent(1));
			await h.settle(() => h.swaps.length === 1);
			h.channel.send("member.updated", it.memberEvent(1));
			h.channel.send("member.left", {member: {id: "m1"}});
			await h.settle(() => h.swaps.length === 2);
			return h;`)
		if len(r.Requests) != 5 {
			t.Fatalf("got %d requests, want 5: %+v", len(r.Requests), r.Requests)
		}
		for _, req := range r.Requests[1:] {
			if !slices.Equal(req.Seqs, []int{2, 3}) {
				t.Errorf("resent: got seqs %v, want [2 3] each time", req.Seqs)
			}
		}
		if b := r.Requests[1].Base; b == nil || *b != "1" {
			t.Errorf("first post after an answer: got base %v, want 1", b)
		}
		if b := r.Requests[4].Base; b != nil {
			t.Errorf("resend after failures: got base %q, want none (so the answer is full)", *b)
		}
	})

	t.Run("rows pushed while no post is in flight bring nothing", func(t *testing.T) {
		r := runChannel(t, tab, `
			const h = it.harness((req, n) => it.ok(String(n)));
			h.channel.send("member.joined", it.memberEvent(1));
			await h.settle(() => h.swaps.length === 1);
			h.channel.pushed(); // the panel already has the pushed rows
			h.channel.send("member.joined", it.memberEvent(2));
			await h.settle(() => h.swaps.length === 2);
			return h;`)
		if r.Snapshots != 0 || len(r.Requests) != 2 {
			t.Errorf("got %d getMembers calls and %d posts, want none and 2", r.Snapshots, len(r.Requests))
		}
	})

	for _, tc := range []struct{ name, answer string }{
		{"swapped (200)", "it.ok(String(n))"},
		{"failed (503), then resent", `new Response("busy", {status: 503})`},
	} {
		t.Run("rows pushed while a post is in flight: its answer "+tc.name, func(t *testing.T) {
			r := runChannel(t, tab, `
				let release;
				const gate = new Promise((res) => { release = res; });
				const h = it.harness(async (req, n) => {
					if (n === 2) { await gate; return `+tc.answer+`; }
					return it.ok(String(n));
				});
				h.channel.send("member.joined", it.memberEvent(1));
				await h.settle(() => h.swaps.length === 1);
				h.channel.send("member.joined", it.memberEvent(2));
				while (h.requests.length < 2) await new Promise((r) => setTimeout(r, 5));
				h.channel.pushed(); // the answer to post 2 may predate them
				release();
				await h.settle(() => h.swaps.length === 3 || (h.swaps.length === 2 && h.requests.length >= 3));
				await new Promise((r) => setTimeout(r, 50)); // a snapshot asked for now would show below
				return h;`)
			var names [][]string
			for _, req := range r.Requests {
				names = append(names, req.Names)
			}
			swapped := strings.HasPrefix(tc.name, "swapped")
			switch {
			case swapped && (r.Snapshots != 1 || len(r.Requests) != 3 || !slices.Equal(r.Requests[2].Names, []string{"members.snapshot"})):
				t.Errorf("got %d getMembers calls and posts %q, want one snapshot, posted after the answer", r.Snapshots, names)
			case swapped && (r.Requests[2].Base == nil || *r.Requests[2].Base != "2"):
				t.Errorf("snapshot's base: got %v, want 2 (it follows the answer in flight)", r.Requests[2].Base)
			case !swapped && (r.Snapshots != 0 || len(r.Requests) != 3 || r.Requests[2].Base != nil):
				t.Errorf("got %d getMembers calls and posts %q, want none: the resend (no base, so a full answer) is rendered after the push", r.Snapshots, names)
			}
		})
	}

	t.Run("413 splits a batch; a single refused event is replaced by a snapshot", func(t *testing.T) {
		r := runChannel(t, tab, `
			const h = it.harness((req) => {
				if (req.seqs.length > 2 || req.seqs.includes(5)) return new Response("too large", {status: 413});
				return it.ok();
			});
			for (let i = 1; i <= 8; i++) h.channel.send("member.joined", it.memberEvent(i));
			await h.settle(() => h.snapshots() === 1 && h.requests.some((r) => r.names.includes("members.snapshot")) && h.swaps.length >= 4);
			return h;`)
		var applied []int
		for _, req := range r.Requests {
			if len(req.Seqs) <= 2 && !slices.Contains(req.Seqs, 5) {
				applied = append(applied, req.Seqs...)
			}
		}
		if want := []int{1, 2, 3, 4, 6, 7, 8, 9}; !slices.Equal(applied, want) {
			t.Errorf("applied seqs: got %v, want %v (5 dropped, 9 the snapshot)", applied, want)
		}
		last := r.Requests[len(r.Requests)-1]
		if !slices.Contains(last.Names, "members.snapshot") {
			t.Errorf("last post: got %q, want the snapshot", last.Names)
		}
	})

	t.Run("400 drops the batch and sends a snapshot", func(t *testing.T) {
		r := runChannel(t, tab, `
			const h = it.harness((req, n) => n === 1 ? new Response("bad", {status: 400}) : it.ok());
			h.channel.send("member.updated", it.memberEvent(1));
			await h.settle(() => h.swaps.length === 1);
			return h;`)
		if len(r.Requests) != 2 || !slices.Equal(r.Requests[1].Names, []string{"members.snapshot"}) || !slices.Equal(r.Requests[1].Seqs, []int{2}) {
			t.Errorf("got %+v, want the batch, then a snapshot alone", r.Requests)
		}
	})

	t.Run("an event over the cap is dropped and a snapshot sent instead", func(t *testing.T) {
		r := runChannel(t, tab, `
			const h = it.harness(() => it.ok());
			h.channel.send("member.updated", {member: {id: "m1", name: "x".repeat(70000)}});
			await h.settle(() => h.swaps.length === 1);
			return h;`)
		if len(r.Requests) != 1 || !slices.Equal(r.Requests[0].Names, []string{"members.snapshot"}) {
			t.Errorf("got %+v, want only a snapshot", r.Requests)
		}
	})

	t.Run("snapshot requests are answered once while one is on its way", func(t *testing.T) {
		r := runChannel(t, tab, `
			const needed = {"X-Roster-Snapshot": "needed"};
			// getMembers() takes a while: the answer to the next batch asks
			// again before the snapshot is even queued.
			const h = it.harness((req, n) => n <= 2 ? it.ok(String(n), "full", "", needed) : it.ok(String(n)), {}, 100);
			h.channel.send("room.joined", {member_id: "m-self", room: {}});
			await h.settle(() => h.swaps.length === 1);
			h.channel.send("member.joined", it.memberEvent(2));
			await h.settle(() => h.requests.some((r) => r.names.includes("members.snapshot")) && h.swaps.length === h.requests.length);
			return h;`)
		if r.Snapshots != 1 || len(r.Requests) != 3 || !slices.Equal(r.Requests[2].Names, []string{"members.snapshot"}) {
			t.Errorf("getMembers calls: got %d, want 1; posts: %+v", r.Snapshots, r.Requests)
		}
	})

	t.Run("409 and 403 stop the channel and say so", func(t *testing.T) {
		for _, status := range []int{409, 403} {
			r := runChannel(t, tab, fmt.Sprintf(`
				const h = it.harness(() => new Response("no", {status: %d}));
				h.channel.send("member.joined", it.memberEvent(1));
				await h.settle(() => h.said.length === 1);
				h.channel.send("member.joined", it.memberEvent(2));
				await new Promise((r) => setTimeout(r, 100));
				return h;`, status))
			if !r.Stopped || len(r.Requests) != 1 || len(r.Said) != 1 {
				t.Errorf("%d: got %+v, want one post, a sentence and a stopped channel", status, r)
			}
		}
	})

	t.Run("a new epoch per channel", func(t *testing.T) {
		var epochs []string
		tab.Eval(`[it.harness(() => it.ok()).channel.state().epoch, it.harness(() => it.ok()).channel.state().epoch]`, &epochs)
		if len(epochs) != 2 || epochs[0] == epochs[1] || len(epochs[0]) < 1 || len(epochs[0]) > 64 {
			t.Errorf("epochs: got %q", epochs)
		}
	})
}
