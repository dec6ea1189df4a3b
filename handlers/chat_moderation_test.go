package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/swrooms/swrooms/handlers"
)

// guestSeat joins a guest (lobby off) and posts its roster with self id
// member, as the island does after join.
func guestSeat(t *testing.T, e *testEnv, inv url.Values, name, member string) (*testEnv, string) {
	t.Helper()
	g := guestAt(t, e, inv)
	_, a := g.token(inv.Get("room"), map[string]any{"user": name, "invite": inviteBodyV(inv)})
	if a.Seat == "" {
		t.Fatalf("guest token: %s", a.Error)
	}
	claimMember(t, g, inv.Get("room"), a.Seat, "g1", member, name)
	return g, a.Seat
}

func TestChatIsTextWithSafeLinks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastStreams)
	base := serve(t, e)
	seat := joined(t, e, "C")
	s := openSSE(t, base, e.streamPath("C", "X-Seat", seat), "")
	msg := `<img src=x onerror=alert(1)> see https://example.com/a?b=1. and javascript:alert(1) http://x.test`
	if resp, body := e.chat("C", seat, msg); resp.StatusCode != http.StatusOK {
		t.Fatalf("chat: got %d %s", resp.StatusCode, body)
	}
	doc := parse(t, s.next(t, "chat").Data)
	m := testid(doc, "chat-message")
	if m.Length() != 1 || testid(doc, "chat-author").Text() != "alice" || m.Find("time[datetime]").Length() != 1 {
		t.Fatalf("got %q, want one message by alice with a time", doc.Text())
	}
	if doc.Find("img").Length() != 0 || !strings.Contains(testid(doc, "chat-text").Text(), "<img src=x onerror=alert(1)>") {
		t.Errorf("got markup from a message, want it as text")
	}
	links := doc.Find("a")
	if links.Length() != 2 {
		t.Fatalf("got %d links, want 2 (the http(s) URLs only)", links.Length())
	}
	if href, _ := links.First().Attr("href"); href != "https://example.com/a?b=1" {
		t.Errorf("got href %q, want the URL without the trailing full stop", href)
	}
	if rel, _ := links.First().Attr("rel"); rel != "noopener noreferrer nofollow" {
		t.Errorf("got rel %q", rel)
	}
}

func TestChatRefusesLongMessagesKeepingTheText(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openHosting)
	seat := joined(t, e, "C")
	long := strings.Repeat("é", 1001)
	resp, body := e.chat("C", seat, long)
	doc := parse(t, body)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(testid(doc, "chat-error").Text(), "1,000 characters") {
		t.Fatalf("got %d %q, want 422 stating the limit", resp.StatusCode, testid(doc, "chat-error").Text())
	}
	if got := testid(doc, "chat-input").Text(); got != long {
		t.Errorf("got the input emptied (%d chars), want the typed text kept", len([]rune(got)))
	}
	if resp, _ := e.chat("C", seat, strings.Repeat("é", 1000)); resp.StatusCode != http.StatusOK {
		t.Errorf("1,000 characters: got %d, want 200", resp.StatusCode)
	}
	if resp, _ := e.chat("C", "forged", "hi"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("no seat: got %d, want 403", resp.StatusCode)
	}
}

func TestChatHistoryForLateJoinersKeepsTheLast200(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastStreams)
	base := serve(t, e)
	inv := guestInvite(t, e, "H")
	_, a := e.token("H", map[string]any{"user": "Host"})
	for i := range 205 {
		e.chatUnlimited(t, "H", a.Seat, fmt.Sprintf("message %d", i))
	}
	_, gseat := guestSeat(t, e, inv, "Late", "m-late")
	s := openSSE(t, base, e.streamPath("H", "X-Seat", gseat), "")
	doc := parse(t, s.next(t, "chat-history").Data)
	ms := testid(doc, "chat-text")
	if ms.Length() != 200 || ms.First().Text() != "message 5" || ms.Last().Text() != "message 204" {
		t.Errorf("got %d messages from %q, want the last 200 (5 to 204)", ms.Length(), ms.First().Text())
	}
}

// chatUnlimited posts with a new seat whenever the seat's pace runs out.
func (e *testEnv) chatUnlimited(t *testing.T, room, seat, msg string) {
	t.Helper()
	resp, _ := e.chat(room, seat, msg)
	if resp.StatusCode == http.StatusTooManyRequests {
		_, a := e.token(room, map[string]any{"user": "Host"})
		resp, _ = e.chat(room, a.Seat, msg)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("chat %q: got %d", msg, resp.StatusCode)
	}
}

func TestChatIsRateLimitedPerSeat(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openHosting)
	seat := joined(t, e, "C")
	var last *http.Response
	var body string
	for i := range 10 {
		last, body = e.chat("C", seat, fmt.Sprint("spam ", i))
		if last.StatusCode != http.StatusOK {
			break
		}
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
		t.Fatalf("got %d, want 429 with Retry-After within 10 quick messages", last.StatusCode)
	}
	if got := testid(parse(t, body), "chat-input").Text(); !strings.HasPrefix(got, "spam") {
		t.Errorf("got input %q, want the text kept", got)
	}
	_, a := e.token("C", map[string]any{"user": "alice"})
	if resp, _ := e.chat("C", a.Seat, "another seat"); resp.StatusCode != http.StatusOK {
		t.Errorf("another seat: got %d, want 200", resp.StatusCode)
	}
}

func TestRemoveAndBlockKeepsTheGuestOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastStreams)
	inv := guestInvite(t, e, "B") // lobby off
	mod := moderatorSeat(t, e, "B")
	g, _ := guestSeat(t, e, inv, "Mallory", "m-mallory")
	// The moderator's roster knows Mallory.
	snap := `{"epoch":"h1","events":[{"seq":1,"name":"room.joined","data":{"member_id":"m-host","room":{},"members":[{"id":"m-host","name":"Host","type":"member"},{"id":"m-mallory","name":"Mallory","type":"member"}]}}]}`
	if resp, body := e.events("B", mod, snap); resp.StatusCode != http.StatusOK {
		t.Fatalf("host events: %d %s", resp.StatusCode, body)
	}
	if resp, _ := g.modPost("/rooms/B/block", "forged", url.Values{"member": {"m-mallory"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("block without a moderator seat: got %d, want 403", resp.StatusCode)
	}
	resp, doc := e.modPost("/rooms/B/block", mod, url.Values{"member": {"m-mallory"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(testid(doc, "notice").Text(), "Mallory") {
		t.Fatalf("block: got %d %q", resp.StatusCode, doc.Text())
	}
	// Same browser, another name: its cookie is blocked.
	if k := g.knock("B", "Not Mallory", inv); k.status != http.StatusForbidden || testid(k.doc, "lobby-denied").Length() != 1 {
		t.Errorf("blocked browser: got %d, want 403 with lobby-denied", k.status)
	}
	if resp, _ := g.token("B", map[string]any{"user": "Not Mallory", "invite": inviteBodyV(inv)}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("blocked browser's token: got %d, want 403", resp.StatusCode)
	}
	// Another browser, the same name.
	other := guestAt(t, e, inv)
	if k := other.knock("B", " mallory ", inv); k.status != http.StatusForbidden {
		t.Errorf("blocked name: got %d, want 403", k.status)
	}
	// Someone else still gets in.
	if k := guestAt(t, e, inv).knock("B", "Trent", inv); k.state != "admitted" {
		t.Errorf("another guest: got %q, want admitted", k.state)
	}
}

func TestNewInviteLinkReplacesOldOnes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openHosting)
	old := guestInvite(t, e, "V")
	mod := moderatorSeat(t, e, "V")
	resp, doc := e.modPost("/rooms/V/invite", mod, url.Values{})
	href, _ := testid(doc, "invite-link").Attr("href")
	if resp.StatusCode != http.StatusOK || href == "" || testid(doc, "revoke-invite").Length() != 1 {
		t.Fatalf("revoke: got %d %q, want the new link", resp.StatusCode, href)
	}
	g := e.another()
	resp, page := g.get("/guest?" + old.Encode())
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page.Text(), "replaced by a newer one") {
		t.Errorf("old link: got %d, want 403 saying it was replaced", resp.StatusCode)
	}
	if resp, _ := g.token("V", map[string]any{"user": "G", "invite": inviteBodyV(old)}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("old link's token: got %d, want 403", resp.StatusCode)
	}
	u, _ := url.Parse(href)
	if resp, _ := g.get(u.RequestURI()); resp.StatusCode != http.StatusOK {
		t.Errorf("new link: got %d, want 200", resp.StatusCode)
	}
	// A forged version on an old signature is not a valid link.
	forged := old
	forged.Set("v", "1")
	if resp, page := g.get("/guest?" + forged.Encode()); resp.StatusCode != http.StatusForbidden || strings.Contains(page.Text(), "replaced") {
		t.Errorf("forged version: got %d, want 403 for an invalid link", resp.StatusCode)
	}
	if _, doc := e.get("/rooms/V?user=Host"); !strings.Contains(attr(testid(doc, "invite-link"), "href"), "v=1") {
		t.Errorf("the host's page shows an old link")
	}
}

func attr(s interface{ Attr(string) (string, bool) }, name string) string {
	v, _ := s.Attr(name)
	return v
}

func TestAskUnmuteAcceptAndDecline(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastStreams)
	base := serve(t, e)
	inv := guestInvite(t, e, "U")
	mod := moderatorSeat(t, e, "U")
	ms := openSSE(t, base, e.streamPath("U", "X-Seat", mod), "")
	g, gseat := guestSeat(t, e, inv, "Gwen", "m-gwen")
	gs := openSSE(t, base, g.streamPath("U", "X-Seat", gseat), "")

	for _, tc := range []struct{ path, kind, answer string }{
		{"/rooms/U/ask-unmute", "audio", "decline"},
		{"/rooms/U/ask-video-unmute", "video", "accept"},
	} {
		if resp, _ := e.modPost(tc.path, mod, url.Values{"member": {"m-gwen"}}); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("%s: got %d, want 204", tc.path, resp.StatusCode)
		}
		req := parse(t, gs.next(t, "unmute-request").Data)
		r := testid(req, "unmute-request")
		if attr(r, "data-kind") != tc.kind || r.Find(`[data-action="accept-unmute"]`).Length() != 1 || r.Find(`[data-action="decline-unmute"]`).Length() != 1 {
			t.Fatalf("got request %q, want a %s request with accept and decline", req.Text(), tc.kind)
		}
		resp, _ := g.post("/rooms/U/unmute-answer", url.Values{"kind": {tc.kind}, "answer": {tc.answer}}, "HX-Request", "true", "X-Seat", gseat)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("answer: got %d", resp.StatusCode)
		}
		n := parse(t, ms.next(t, "notice").Data)
		if attr(testid(n, "notice"), "data-notice") != "unmute-"+tc.answer || !strings.Contains(n.Text(), "Gwen") {
			t.Errorf("got notice %q, want Gwen's %s", n.Text(), tc.answer)
		}
	}
	if resp, _ := g.modPost("/rooms/U/ask-unmute", gseat, url.Values{"member": {"m-gwen"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a guest asking: got %d, want 403", resp.StatusCode)
	}
	if resp, _ := e.modPost("/rooms/U/ask-unmute", mod, url.Values{"member": {"nobody"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown member: got %d, want 404", resp.StatusCode)
	}
}

func TestModeratorTokensAskUnlessForcedUnmuteIsConfigured(t *testing.T) {
	t.Parallel()
	for _, forced := range []bool{false, true} {
		e := newEnv(t, openHosting, func(c *handlers.Config) { c.ModeratorCanUnmute = forced })
		e.host("P", "Ann")
		e.fake.ResetCalls()
		e.token("P", map[string]any{"user": "Ann"})
		calls := e.fake.CallsTo("POST", "/room_tokens")
		if len(calls) != 1 {
			t.Fatalf("got %d token calls", len(calls))
		}
		perms := fmt.Sprint(calls[0].Body["permissions"])
		for _, p := range []string{"room.member.audio_unmute", "room.member.video_unmute"} {
			if strings.Contains(perms, p) != forced {
				t.Errorf("forced %v: %s in the token is %v", forced, p, !forced)
			}
		}
	}
}
