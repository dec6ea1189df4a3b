package handlers

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/swrooms/swrooms/roomstate"
	"github.com/swrooms/swrooms/views"
)

// Chat bounds: a message's length in characters, and each seat's pace (a
// burst, then one a second).
const (
	maxChatChars = 1000
	chatBurst    = 5
	chatPerSec   = 1
	maxChatSeats = 50_000
)

// newChatLimits are the seats' token buckets, keyed room NUL seat; in
// memory, the least recently used are forgotten past maxChatSeats.
func newChatLimits(budget newBudget) Limiter {
	return budget("chat", chatBurst, chatPerSec, maxChatSeats)
}

// postChat handles "POST /rooms/:room/chat" (form field message, X-Seat):
// the message goes to every page in the room over its stream, the sender's
// included, and into the room's history (the last 200). It answers an
// empty chat form; 422 with the form keeping the text and
// data-testid="chat-error" for an empty or too long message (over 1,000
// characters); 429 the same way, with Retry-After, past the seat's pace;
// 403 without a seat of the room, or for a seat removed from the call or
// blocked.
func (h *Handlers) postChat(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	room := c.Params("room")
	st, err := h.roomSeat(c, room)
	if err != nil {
		return err
	}
	form := views.ChatForm{Room: room, Text: c.FormValue("message")}
	text := strings.TrimSpace(strings.ToValidUTF8(form.Text, "\uFFFD"))
	switch n := utf8.RuneCountInString(text); {
	case n == 0:
		form.Error = "Type a message first."
		return h.render(c, fiber.StatusUnprocessableEntity, "Chat", views.ChatInput(form))
	case n > maxChatChars:
		form.Error = "Messages can be at most 1,000 characters; this one has " + groupThousands(n) + "."
		return h.render(c, fiber.StatusUnprocessableEntity, "Chat", views.ChatInput(form))
	}
	if wait, ok, err := h.chatLimits.Take(c.UserContext(), room+"\x00"+st.ID); err != nil {
		return err
	} else if !ok {
		form.Error = "You are sending messages faster than this room allows. Wait a moment and send again."
		c.Set(fiber.HeaderRetryAfter, retryAfterSeconds(wait))
		return h.render(c, fiber.StatusTooManyRequests, "Chat", views.ChatInput(form))
	}
	ctx := c.UserContext()
	// A seat from before a restart has no name here: it gets its role's.
	fallback := map[bool]string{true: "Host", false: "Guest"}[st.Role == views.RoleModerator]
	m, err := h.rooms.Chat(ctx, room, roomstate.Post{Seat: st.ID, Role: st.Role, Fallback: fallback, Text: text, At: h.now()})
	switch {
	case errors.Is(err, roomstate.ErrRevoked):
		return removedFromCall()
	case err != nil:
		return fmt.Errorf("chat in %q: %w", room, err)
	}
	h.meter.ChatMessage()
	// Kept before it is published: a stream opening meanwhile has it in
	// its history, or gets it as an event, or both, which the stream
	// drops (openedStream.chatFloor).
	if err := h.publish(ctx, room, targetAll, evChat, views.ChatMessage(chatView(m))); err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "Chat", views.ChatInput(views.ChatForm{Room: room}))
}

func chatViews(ms []roomstate.Message) []views.ChatLine {
	out := make([]views.ChatLine, 0, len(ms))
	for _, m := range ms {
		out = append(out, chatView(m))
	}
	return out
}

func chatView(m roomstate.Message) views.ChatLine {
	return views.ChatLine{
		ID:     strconv.FormatUint(m.ID, 10),
		Author: m.Author,
		Host:   m.Role == views.RoleModerator,
		At:     m.At.UTC().Format(time.RFC3339),
		Time:   m.At.UTC().Format("15:04 UTC"),
		Parts:  linkify(m.Text),
	}
}

// linkCandidate finds what may be a link: http:// or https:// up to a
// space or a character that cannot end a URL in running text.
var linkCandidate = regexp.MustCompile(`(?i)\bhttps?://[^\s<>"]+`)

// linkify splits text into plain parts and links. Only absolute http(s)
// URLs with a host become links; trailing punctuation stays text. The
// view escapes every part; nothing of the message is ever HTML.
func linkify(text string) []views.ChatPart {
	var parts []views.ChatPart
	last := 0
	for _, loc := range linkCandidate.FindAllStringIndex(text, -1) {
		start, end := loc[0], loc[1]
		for end > start && strings.ContainsRune(".,;:!?)]}'", rune(text[end-1])) {
			end--
		}
		u, err := url.Parse(text[start:end])
		if err != nil || u.Host == "" || (strings.ToLower(u.Scheme) != "http" && strings.ToLower(u.Scheme) != "https") {
			continue
		}
		if start > last {
			parts = append(parts, views.ChatPart{Text: text[last:start]})
		}
		parts = append(parts, views.ChatPart{Text: text[start:end], URL: u.String()})
		last = end
	}
	if last < len(text) {
		parts = append(parts, views.ChatPart{Text: text[last:]})
	}
	return parts
}

// groupThousands writes n with a comma every three digits.
func groupThousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
