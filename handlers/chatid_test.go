package handlers

import (
	"context"
	"testing"
	"time"

	"github.com/swrooms/swrooms/roomstate"
	"github.com/swrooms/swrooms/views"
)

// A stream drops the chat events its history already had by their id,
// read from the rendered message: the view and the reader must agree.
func TestChatEventIDReadsTheRenderedMessage(t *testing.T) {
	for _, id := range []uint64{1, 42, 1_700_000_000_123} {
		m := roomstate.Message{ID: id, Author: `<li id="chat-9">`, Role: views.RoleGuest, At: time.Unix(0, 0), Text: `id="chat-7"`}
		data := renderString(context.Background(), views.ChatMessage(chatView(m)))
		if got, ok := chatEventID(data); !ok || got != id {
			t.Errorf("message %d: got %d %v from %q", id, got, ok, data)
		}
	}
	for _, data := range []string{"", `<p id="chat-1">`, `<li id="chat-x1">`, `<li id="chat-12`} {
		if id, ok := chatEventID(data); ok {
			t.Errorf("%q: got id %d, want none", data, id)
		}
	}
}
