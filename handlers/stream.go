package handlers

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"github.com/swrooms/swrooms/push"
	"github.com/swrooms/swrooms/views"
)

// SSE event names; the page's sse-swap elements name the same.
const (
	evChat          = "chat"           // one message, appended to the log
	evChatHistory   = "chat-history"   // the whole log, after a gap
	evLobby         = "lobby"          // moderators: the whole lobby panel
	evKnock         = "knock"          // moderators: someone knocked
	evLobbyStatus   = "lobby-status"   // a waiting guest: waiting, no host, admitted, denied
	evUnmuteRequest = "unmute-request" // one seat: a moderator asks to unmute
	evNotice        = "notice"         // one seat or the moderators: a short notice
	evRosterRows    = "roster-rows"    // one moderator seat: roster rows anew (out-of-band swaps)
)

// streamRetry is the reconnect delay the stream asks EventSource for.
const streamRetry = 2 * time.Second

// roomStream handles "GET /rooms/:room/stream?ticket=T[&last=ID]": the
// page's server-sent events, HTML fragments that htmx's SSE extension
// swaps in. T is a stream ticket (tickets.go); the last event the page saw
// comes in Last-Event-ID (EventSource's own reconnect) or ?last= (a new
// EventSource after a ticket refresh), and what followed it is replayed,
// or the current state when it is too old. 403 without a valid ticket for
// the room; 410 for a lobby entry that is gone.
//
// The ticket is in the query string, which nothing in this app logs: no
// access log runs, and the error handler logs the path only.
//
// Fiber's WriteTimeout stays for every other route. fasthttp sets the
// connection's write deadline once, before writing a response; a stream
// moves it to WriteTimeout past each of its writes (heartbeats come every
// StreamHeartbeat, which is shorter), so a live stream never meets it and
// a client that stops reading still does. The stream ends when its
// subscription closes (the broker's Close, a subscriber too slow), when
// the server shuts down (fasthttp's Done), or when a write fails (the tab
// is gone; found by the next heartbeat at the latest).
func (h *Handlers) roomStream(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	room := c.Params("room")
	t, ok := h.sign.decodeStreamTicket(c.Query("ticket"), h.now())
	if !ok || t.Room != room {
		return forbidden("This page's connection to the room has expired. Reload the page.", "", "")
	}
	last := c.Get("Last-Event-ID")
	if last == "" {
		last = c.Query("last")
	}
	s, err := h.openStream(c.UserContext(), t, last)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/event-stream; charset=utf-8")
	c.Set("X-Accel-Buffering", "no") // nginx: pass events through at once
	conn := c.Context().Conn()
	done := c.Context().Done()
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer s.close()
		h.pump(w, conn, done, s)
	})
	return nil
}

// openedStream is a subscription with the events to send first, and what
// to undo when it ends.
type openedStream struct {
	sub   *push.Subscription
	first []push.Event
	close func()
}

// openStream subscribes t's holder to the room and builds what it gets
// first: what it missed since last, or, on a first connection or after a
// gap, the current state (chat history; the lobby for moderators; the
// entry's status for a waiting guest). It holds the room's lock while it
// subscribes and renders, so no event falls between the two.
func (h *Handlers) openStream(ctx context.Context, t streamTicket, last string) (*openedStream, error) {
	lr := h.rooms.get(t.Room)
	lr.mu.Lock()
	defer lr.mu.Unlock()
	var targets []string
	var entry *lobbyEntry
	switch {
	case t.Kind == streamLobby:
		entry, _ = lr.entry(t.ID)
		if entry == nil {
			if _, decided := lr.decided[t.ID]; !decided {
				return nil, &userError{status: fiber.StatusGone, title: "Not in the lobby", message: "You are no longer waiting in the lobby. Press Join to knock again."}
			}
		}
		targets = []string{targetLobby(t.ID)}
	case lr.isRevoked(t.ID):
		return nil, removedFromCall()
	case t.Role == views.RoleModerator:
		targets = []string{targetAll, targetSeat(t.ID), targetModerators}
	default:
		targets = []string{targetAll, targetSeat(t.ID)}
	}
	sub, err := h.broker.Subscribe(t.Room, targets, last)
	if err != nil {
		return nil, &userError{status: fiber.StatusServiceUnavailable, title: "Shutting down", message: "This server is restarting. The page reconnects by itself.", cause: err}
	}
	s := &openedStream{sub: sub, first: sub.Missed}
	if last == "" || sub.Gap {
		s.first = h.streamSnapshot(ctx, lr, t, sub.LastID)
	}
	switch {
	case entry != nil:
		entry.streams++
		entry.gen++
	case t.Kind == streamSeat && t.Role == views.RoleModerator:
		lr.moderators++
		if lr.moderators == 1 {
			h.publishLobbyStatus(ctx, t.Room, lr) // the host is here now
		}
	}
	if t.Kind == streamSeat {
		lr.streamOpened(t.ID, sub) // ended by a removal
	}
	s.close = func() {
		sub.Close()
		h.streamClosed(t, entry, sub)
	}
	return s, nil
}

// streamSnapshot renders the state a stream starts from; lr.mu is held.
// The events carry the room's last ID, so a reconnect replays from there.
func (h *Handlers) streamSnapshot(ctx context.Context, lr *liveRoom, t streamTicket, lastID string) []push.Event {
	var evs []push.Event
	add := func(name string, c templ.Component) {
		evs = append(evs, push.Event{ID: lastID, Name: name, Data: renderString(ctx, c)})
	}
	if t.Kind == streamLobby {
		add(evLobbyStatus, views.LobbyStatus(views.LobbyState{Room: t.Room, State: h.lobbyStatusOf(lr, t.ID)}))
		return evs
	}
	add(evChatHistory, views.ChatHistory(chatViews(lr.chat)))
	if t.Role == views.RoleModerator {
		add(evLobby, views.LobbyPanel(h.lobbyView(t.Room, lr)))
	}
	return evs
}

// streamClosed undoes what a stream's opening counted: a moderator fewer
// (guests hear when the last one goes), or a waiting guest's stream fewer
// (the entry leaves the lobby after LobbyGrace without one).
func (h *Handlers) streamClosed(t streamTicket, entry *lobbyEntry, sub *push.Subscription) {
	lr := h.rooms.get(t.Room)
	lr.mu.Lock()
	defer lr.mu.Unlock()
	if t.Kind == streamSeat {
		lr.streamEnded(t.ID, sub)
	}
	switch {
	case entry != nil:
		entry.streams--
		entry.gen++
		if entry.streams == 0 {
			h.leaveLobbyLater(t.Room, entry, entry.gen)
		}
	case t.Kind == streamSeat && t.Role == views.RoleModerator:
		lr.moderators--
		if lr.moderators == 0 {
			h.publishLobbyStatus(context.Background(), t.Room, lr)
		}
	}
}

// pump writes the stream: the reconnect delay, the first events, then
// every event and a heartbeat comment, until the subscription closes, the
// server shuts down or a write fails.
func (h *Handlers) pump(w *bufio.Writer, conn net.Conn, done <-chan struct{}, s *openedStream) {
	beat := time.NewTicker(h.cfg.StreamHeartbeat)
	defer beat.Stop()
	flush := func() bool {
		if conn != nil {
			// Past the deadline fasthttp set for the whole response; a
			// client that stops reading still fails the write in time.
			_ = conn.SetWriteDeadline(time.Now().Add(h.cfg.WriteTimeout))
		}
		return w.Flush() == nil
	}
	w.WriteString("retry: " + strconv.FormatInt(streamRetry.Milliseconds(), 10) + "\n\n")
	for _, ev := range s.first {
		writeEvent(w, ev)
	}
	if !flush() {
		return
	}
	for {
		select {
		case ev, ok := <-s.sub.C:
			if !ok {
				return
			}
			writeEvent(w, ev)
		case <-beat.C:
			w.WriteString(": ping\n\n")
		case <-done:
			return
		}
		if !flush() {
			return
		}
	}
}

// writeEvent writes one event in the SSE format: data split into lines,
// since a line break inside a data field would end it.
func writeEvent(w *bufio.Writer, ev push.Event) {
	if ev.ID != "" {
		w.WriteString("id: " + ev.ID + "\n")
	}
	w.WriteString("event: " + ev.Name + "\n")
	data := strings.ReplaceAll(strings.ReplaceAll(ev.Data, "\r\n", "\n"), "\r", "\n")
	for line := range strings.SplitSeq(data, "\n") {
		w.WriteString("data: " + line + "\n")
	}
	w.WriteString("\n")
}

// publish renders c and sends it as the event name to target in room. A
// broker that refuses (shutting down) loses the event: pages that
// reconnect get the current state.
func (h *Handlers) publish(ctx context.Context, room, target, name string, c templ.Component) {
	if _, err := h.broker.Publish(room, push.Event{Target: target, Name: name, Data: renderString(ctx, c)}); err != nil && !errors.Is(err, push.ErrClosed) {
		h.log.Warn("push", "room", room, "event", name, "err", err)
	}
}

func renderString(ctx context.Context, c templ.Component) string {
	var b bytes.Buffer
	_ = c.Render(ctx, &b) // our components write to memory only
	return b.String()
}

// streamTicketResponse is the answer of "POST .../stream-ticket".
type streamTicketResponse struct {
	URL string `json:"url"`
}

// streamURL is the stream's address with a fresh ticket for t's holder.
func (h *Handlers) streamURL(t streamTicket) string {
	t.Exp = h.now().Add(streamTicketTTL).Unix()
	return "/rooms/" + url.PathEscape(t.Room) + "/stream?ticket=" + url.QueryEscape(h.sign.encodeStreamTicket(t))
}

// streamTicket handles "POST /rooms/:room/stream-ticket": a stream URL
// with a fresh ticket, JSON {url}, for the page's seat (X-Seat) or its
// lobby entry (X-Lobby, while the entry waits or once decided); 403
// otherwise, and for a seat removed from the call or blocked.
func (h *Handlers) streamTicket(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	room := c.Params("room")
	if st, ok := h.sign.decodeSeat(c.Get(seatHeader), h.now()); ok && st.Room == room {
		if h.seatRevoked(room, st.ID) {
			return removedFromCall()
		}
		return c.JSON(streamTicketResponse{URL: h.streamURL(streamTicket{Room: room, Kind: streamSeat, ID: st.ID, Role: st.Role})})
	}
	if lt, ok := h.sign.decodeLobbyTicket(c.Get(lobbyHeader), h.now()); ok && lt.Room == room {
		return c.JSON(streamTicketResponse{URL: h.streamURL(streamTicket{Room: room, Kind: streamLobby, ID: lt.ID, Role: views.RoleGuest})})
	}
	return forbidden("This call's credentials are missing or expired. Reload the page and join again.", "", "")
}

// seatRevoked reports whether the seat was removed from room's call or
// its guest is blocked (roomstate.go).
func (h *Handlers) seatRevoked(room, seatID string) bool {
	lr := h.rooms.get(room)
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return lr.isRevoked(seatID)
}

// removedFromCall answers a removed or blocked seat's chat and stream.
func removedFromCall() error {
	return forbidden("The host removed you from this meeting.", "", "")
}
