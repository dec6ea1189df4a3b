package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/swrooms/swrooms/internal/browsertest"
)

// sendChat types text in the chat and presses Enter, as a person would.
func sendChat(t *testing.T, tab *browsertest.Tab, text string) {
	t.Helper()
	settled(t, tab)
	tab.Eval(fmt.Sprintf(`(() => { const i = document.getElementById('chat-input'); i.focus(); i.value = %q;
		i.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true, cancelable: true})); })()`, text), nil)
}

// chatTexts is the JS expression of the chat's messages, "author: text".
const chatTexts = `[...document.querySelectorAll('#chat-log [data-testid="chat-message"]')].map(m => m.querySelector('[data-testid="chat-author"]').textContent.trim() + ': ' + m.querySelector('[data-testid="chat-text"]').textContent)`

// waitChat waits until the chat's last message is "author: text".
func waitChat(t *testing.T, tab *browsertest.Tab, author, text string) {
	t.Helper()
	tab.WaitJS(fmt.Sprintf(`%s.at(-1) === %q`, chatTexts, author+": "+text))
}

// Chat (issue 16) between separate browsers: both ways, text stays text
// whatever it holds, too long a message is refused with the text kept, a
// late joiner gets the history, and a stream that drops and reconnects
// with Last-Event-ID gets what was sent meanwhile, once.
func TestE2EChatBothWaysHistoryAndReconnect(t *testing.T) {
	t.Parallel()
	app, broker := startPushApp(t)
	host := participant(t)
	hostRoom(t, host, app, "Chat_Room", "Hana")
	joinCall(t, host)
	invite := host.Attr(`[data-testid="invite-link"]`, "href")
	guest := openGuest(t, invite, "Gus")
	host.SetTimeout(pushWait)
	guest.SetTimeout(pushWait)

	// The host sends markup and a link; the guest, on the People tab, gets
	// an unread count, then the message as text, with a safe link.
	streamUp(t, host, guest)
	openTab(t, host, "chat")
	xss := `<img src=x onerror="window.__xss=1"><script>window.__xss=1</script> see https://example.com/a?b=1.`
	sendChat(t, host, xss)
	waitChat(t, host, "Hana", xss)
	guest.WaitJS(`document.getElementById('tab-chat-badge')?.textContent === '1'`)
	openTab(t, guest, "chat")
	waitChat(t, guest, "Hana", xss)
	guest.WaitJS(`document.getElementById('tab-chat-badge').hidden`)
	for _, tab := range []*browsertest.Tab{host, guest} {
		var got struct {
			XSS    bool   `json:"xss"`
			Markup int    `json:"markup"`
			Href   string `json:"href"`
			Rel    string `json:"rel"`
		}
		tab.Eval(`({xss: window.__xss !== undefined, markup: document.querySelectorAll('#chat-log img, #chat-log script').length,
			href: document.querySelector('#chat-log a')?.href ?? '', rel: document.querySelector('#chat-log a')?.rel ?? ''})`, &got)
		if got.XSS || got.Markup != 0 {
			t.Errorf("the chat ran or rendered markup: %+v", got)
		}
		if got.Href != "https://example.com/a?b=1" || got.Rel != "noopener noreferrer nofollow" {
			t.Errorf("the chat's link: %+v", got)
		}
	}

	// The guest answers with Enter; the host sees it, announced.
	sendChat(t, guest, "Hello from Gus")
	waitChat(t, host, "Gus", "Hello from Gus")
	host.WaitJS(`document.getElementById('chat-announce').textContent.includes('Gus says: Hello from Gus')`)
	if f := guest.Focused(); !strings.Contains(f, "chat-input") {
		t.Errorf("focus after sending: %s, want the chat input", f)
	}

	// 1,001 characters: refused, the text kept, the limit stated.
	long := strings.Repeat("x", 1001)
	guest.AllowConsoleError("status of 422") // the refusal is the answer wanted
	settled(t, guest)
	guest.Eval(fmt.Sprintf(`document.getElementById('chat-input').value = %q; document.querySelector('[data-testid="chat-send"]').click()`, long), nil)
	guest.WaitVisible(`[data-testid="chat-error"]`)
	if msg := guest.Text(`[data-testid="chat-error"]`); !strings.Contains(msg, "1,000") {
		t.Errorf("chat error: %q, want the 1,000-character limit", msg)
	}
	var kept string
	guest.Eval(`document.getElementById('chat-input').value`, &kept)
	if kept != long {
		t.Errorf("the refused text was not kept: %d characters", len(kept))
	}
	guest.AxeSerious("the chat panel with messages and an error")

	// A late joiner sees the history.
	late := openGuest(t, invite, "Lena")
	late.SetTimeout(pushWait)
	openTab(t, late, "chat")
	late.WaitJS(fmt.Sprintf(`JSON.stringify(%s) === %q`, chatTexts, jsonList([]string{"Hana: " + xss, "Gus: Hello from Gus"})))

	// The guests' streams go dead (events lost on the way) while the host
	// writes; when they end, the pages reconnect with Last-Event-ID and
	// get the message once.
	before := len(broker.LastIDs())
	cut := broker.Cut(func(targets []string) bool { return !strings.Contains(strings.Join(targets, " "), "mod") })
	if len(cut) < 2 {
		t.Fatalf("cut %d guest streams, want 2 or more", len(cut))
	}
	sendChat(t, host, "While you were away")
	waitChat(t, host, "Hana", "While you were away")
	for _, tab := range []*browsertest.Tab{guest, late} {
		var last string
		tab.Eval(chatTexts+`.at(-1)`, &last)
		if strings.Contains(last, "While you were away") {
			t.Fatal("a cut stream delivered the message")
		}
	}
	broker.Drop(cut)
	for _, tab := range []*browsertest.Tab{guest, late} {
		waitChat(t, tab, "Hana", "While you were away")
		var ids []string
		tab.Eval(`[...document.querySelectorAll('#chat-log [data-message-id]')].map(m => m.dataset.messageId)`, &ids)
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id] {
				t.Errorf("message %s shows twice: %q", id, ids)
			}
			seen[id] = true
		}
		if len(ids) != 3 {
			t.Errorf("messages after the reconnect: %q, want 3", ids)
		}
	}
	resumed := 0
	for _, id := range broker.LastIDs()[before:] {
		if id != "" {
			resumed++
		}
	}
	if resumed < 2 {
		t.Errorf("reconnects with a Last-Event-ID: %d, want 2 (%q)", resumed, broker.LastIDs()[before:])
	}
}
