package swtest_test

import (
	"slices"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/swrooms/swrooms/signalwire/swtest"
)

// fastBots plays the whole script (15 beats) in 150 ms.
var fastBots = swtest.Bots{Step: 10 * time.Millisecond}

var botNames = []string{"Ada (bot)", "Grace (bot)", "Linus (bot)"}

// botsRoom starts a relay with bots, a room, and its moderator's browser;
// it returns them once the three bots have joined, with the bots' ids.
func botsRoom(t *testing.T, b swtest.Bots) (*swtest.Fake, *joined, map[string]string) {
	t.Helper()
	f, srv := relayServer(t, swtest.WithBots(b))
	send(t, srv, "POST", "/rooms", `{"name":"Bots"}`)
	host := join(t, srv, roomToken(t, srv, tokenBody("Bots", "Host", moderator)))
	ids := map[string]string{}
	for len(ids) < len(botNames) {
		ev := host.waitEvent("video.member.joined", func(p frame) bool { return p.str("member", "type") == "member" })
		ids[ev.str("params", "params", "member", "name")] = ev.str("params", "params", "member", "id")
	}
	for _, n := range botNames {
		if ids[n] == "" {
			t.Fatalf("bots joined as %v, want %v", ids, botNames)
		}
	}
	return f, host, ids
}

// collect returns the frames received within d, the backlog first.
func (c *client) collect(d time.Duration) []frame {
	out := c.backlog
	c.backlog = nil
	deadline := time.After(d)
	for {
		select {
		case fr, ok := <-c.frames:
			if !ok {
				return out
			}
			out = append(out, fr)
		case <-deadline:
			return out
		}
	}
}

// member is params.params.member of an event frame.
func member(fr frame) frame {
	m, _ := fr.get("params", "params", "member").(map[string]any)
	return frame(m)
}

func TestBotsJoinWithTheFirstBrowserAndLeaveWithTheLast(t *testing.T) {
	f, srv := relayServer(t, swtest.WithBots(fastBots))
	send(t, srv, "POST", "/rooms", `{"name":"Bots"}`)
	if got := f.RoomMembers("Bots"); got != nil {
		t.Fatalf("before any browser: members %v, want none", got)
	}
	host := join(t, srv, roomToken(t, srv, tokenBody("Bots", "Host", moderator)))
	for range botNames {
		host.waitEvent("video.member.joined", func(p frame) bool { return p.str("member", "type") == "member" })
	}
	// A second browser finds them in the room it is subscribed to, the
	// same members with the same ids.
	guestJ := join(t, srv, roomToken(t, srv, tokenBody("Bots", "Guest", guest)))
	var names []string
	for _, m := range guestJ.subscribed.get("room_session", "members").([]any) {
		if m.(map[string]any)["type"] == "member" {
			names = append(names, m.(map[string]any)["name"].(string))
		}
	}
	for _, n := range append([]string{"Host"}, botNames...) {
		if !slices.Contains(names, n) {
			t.Errorf("the guest's room has %v, want %s in it", names, n)
		}
	}

	host.ws.CloseNow()
	time.Sleep(100 * time.Millisecond)
	if f.RoomMembers("Bots") == nil {
		t.Fatal("the bots left while a browser (the guest) is still in")
	}
	guestJ.ws.CloseNow()
	deadline := time.Now().Add(wait)
	for f.RoomSessionID("Bots") != "" {
		if time.Now().After(deadline) {
			t.Fatalf("members %v still in after the last browser left, want the bots gone and the session over", f.RoomMembers("Bots"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if s := send(t, srv, "GET", "/room_sessions?status=in-progress", ""); len(s.body["data"].([]any)) != 0 {
		t.Errorf("sessions in progress %v, want none", s.body["data"])
	}
}

func TestBotsObeyTheModerator(t *testing.T) {
	f, host, ids := botsRoom(t, fastBots)
	for _, n := range []string{"Ada (bot)", "Linus (bot)"} {
		if res := host.method("video.member.audio_mute", map[string]any{"member_id": ids[n]}); resultCode(res) != "200" {
			t.Fatalf("audio_mute %s: %v", n, res)
		}
	}
	// What came before the mutes' answers is no fault of theirs.
	host.drain()
	// Three cycles of the script: Ada would talk, Linus would unmute,
	// talk, leave and come back; held, neither unmutes or talks.
	names := map[string]string{}
	for n, id := range ids {
		names[id] = n
	}
	heard := map[string]bool{}
	for _, fr := range host.collect(45 * fastBots.Step) {
		m := member(fr)
		name := names[m.str("id")]
		switch fr.eventType() {
		case "video.member.joined":
			names[m.str("id")] = m.str("name")
			if m.str("name") == "Linus (bot)" {
				heard["Linus rejoined"] = true
				if m["audio_muted"] != true {
					t.Errorf("Linus came back unmuted: %v", m)
				}
			}
		case "video.member.updated":
			if (name == "Ada (bot)" || name == "Linus (bot)") && m["audio_muted"] == false {
				t.Errorf("%s unmuted itself after the moderator muted it: %v", name, m)
			}
		case "video.member.talking":
			if m["talking"] == true {
				heard[name+" talked"] = true
			}
		}
	}
	if heard["Ada (bot) talked"] || heard["Linus (bot) talked"] {
		t.Errorf("a muted bot talked: %v", heard)
	}
	if !heard["Grace (bot) talked"] || !heard["Linus rejoined"] {
		t.Errorf("the script did not go on around the muted bots: %v", heard)
	}

	// A moderator's unmute lets Linus talk again; a removed Grace leaves
	// for good, her screen share with her.
	for _, m := range f.RoomMembers("Bots") {
		if m.Name == "Linus (bot)" && m.Type == "member" {
			host.method("video.member.audio_unmute", map[string]any{"member_id": m.ID})
		}
	}
	if res := host.method("video.member.remove", map[string]any{"member_id": ids["Grace (bot)"]}); resultCode(res) != "200" {
		t.Fatalf("remove Grace: %v", res)
	}
	host.waitEvent("video.member.left", func(p frame) bool { return frame(p).str("member", "id") == ids["Grace (bot)"] })
	// What waitEvent passed over came before her removal (a talking event
	// of hers among it is no fault); only what follows the left counts.
	host.drain()
	linusTalked := false
	for _, fr := range host.collect(45 * fastBots.Step) {
		m := member(fr)
		if fr.eventType() == "video.member.joined" && (m.str("name") == "Grace (bot)" || m.str("parent_id") == ids["Grace (bot)"]) {
			t.Errorf("Grace came back after her removal: %v", m)
		}
		if m.str("id") == ids["Grace (bot)"] && fr.eventType() != "video.member.left" {
			t.Errorf("Grace's script went on after her removal: %v", fr)
		}
		if fr.eventType() == "video.member.talking" && m["talking"] == true && names[m.str("id")] == "Linus (bot)" {
			linusTalked = true
		}
		if fr.eventType() == "video.member.joined" {
			names[m.str("id")] = m.str("name")
		}
	}
	if !linusTalked {
		t.Error("Linus did not talk again after the moderator unmuted him")
	}
	for _, m := range f.RoomMembers("Bots") {
		if m.Name == "Grace (bot)" {
			t.Errorf("Grace is still in the room: %+v", m)
		}
	}
}

func TestBotsLeaveAfterMaxRun(t *testing.T) {
	f, _, _ := botsRoom(t, swtest.Bots{Step: 10 * time.Millisecond, MaxRun: 200 * time.Millisecond})
	deadline := time.Now().Add(wait)
	for len(f.RoomMembers("Bots")) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("members %v, want only the host after MaxRun", f.RoomMembers("Bots"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if ms := f.RoomMembers("Bots"); len(ms) != 1 || !ms[0].Browser {
		t.Errorf("members %v, want the host alone: no bots come back in that session", ms)
	}
}

func TestBotMediaReachesTheBrowser(t *testing.T) {
	_, host, _ := botsRoom(t, fastBots)
	// The Go browser sends nothing, so whatever it receives is the bots'.
	got := make(chan string, 4)
	for _, tr := range host.offer.pc.GetTransceivers() {
		track := tr.Receiver().Track()
		go func() {
			pkt, _, err := track.ReadRTP()
			if err == nil && len(pkt.Payload) > 0 {
				got <- track.Kind().String()
			}
		}()
	}
	kinds := map[string]bool{}
	timeout := time.After(wait)
	for len(kinds) < 2 {
		select {
		case k := <-got:
			kinds[k] = true
		case <-timeout:
			t.Fatalf("received %v from the bots in %v, want audio and video", kinds, wait)
		}
	}
	if st := host.offer.pc.ConnectionState(); st != webrtc.PeerConnectionStateConnected {
		t.Errorf("peer connection %s, want connected", st)
	}
}
