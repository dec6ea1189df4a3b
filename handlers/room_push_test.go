package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The room page wires issue 16's pushed parts into issue 15's page: one
// stream root enclosing every SSE target, a Chat tab for everyone with its
// unread badge, the Lobby tab and "New invite link" for hosts, and the
// waiting room's slot in a guest's pre-join.
func TestRoomPageCarriesThePushedParts(t *testing.T) {
	t.Parallel()
	host := newEnv(t, openHosting)
	inv := guestInvite(t, host, "Pushed")
	hostDoc := host.host("Pushed", "Hana")
	resp, guestDoc := host.another().get("/guest?" + inv.Encode())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("got %d, want the guest page", resp.StatusCode)
	}
	check := func(who string, sel string, want int) {
		t.Helper()
		doc := hostDoc
		if who == "guest" {
			doc = guestDoc
		}
		if got := doc.Find(sel).Length(); got != want {
			t.Errorf("%s page: %d of %s, want %d", who, got, sel, want)
		}
	}
	for _, who := range []string{"host", "guest"} {
		check(who, `[data-testid="room-page"][data-stream-root]`, 1)
		// knock, notice, unmute request, roster rows, chat history; and the
		// lobby for hosts
		n := map[string]int{"host": 6, "guest": 5}[who]
		check(who, `[data-stream-root] [data-sse]`, n)
		check(who, `[data-sse]`, n)
		// The SSE extension inherits these from ancestors: none above the root.
		check(who, `[hx-target]:has([data-stream-root]), [hx-swap]:has([data-stream-root])`, 0)
		check(who, `#tab-chat #tab-chat-badge[hidden]`, 1)
		check(who, `#panel-chat[role="tabpanel"][data-panel="chat"][hidden] [data-testid="chat"]`, 1)
		check(who, `[data-testid="open-chat"]`, 1)
		check(who, `script[src$="htmx-ext-sse-2.2.4.min.js"]`, 1)
	}
	check("host", `#panel-lobby [data-sse="lobby"]`, 1)
	check("host", `#invite-popover #invite [data-action="revoke-invite"]`, 1)
	check("guest", `[data-testid="tab-lobby"], [data-action="revoke-invite"]`, 0)
	check("guest", `[data-testid="prejoin"] #lobby-area[hidden]`, 1)
	check("host", `#lobby-area`, 0)
}

// "New invite link" sits in the Invite popover, which works before Join:
// the room's host session is enough; anyone else gets 403.
func TestNewInviteLinkBeforeJoinNeedsTheHostSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openHosting)
	old := guestInvite(t, e, "W")
	resp, doc := e.post("/rooms/W/invite", url.Values{})
	if resp.StatusCode != http.StatusOK || testid(doc, "invite-link").Length() != 1 {
		t.Fatalf("host session, no seat: got %d, want the new link", resp.StatusCode)
	}
	if href, _ := testid(doc, "invite-link").Attr("href"); strings.Contains(href, "sig="+old.Get("sig")) {
		t.Errorf("the new link is the old one: %q", href)
	}
	if resp, _ := e.another().post("/rooms/W/invite", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a stranger: got %d, want 403", resp.StatusCode)
	}
}
