package handlers

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"github.com/swrooms/swrooms/push"
	"github.com/swrooms/swrooms/roomstate"
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
// the server shuts down (fasthttp's Done), when a write fails (the tab
// is gone; found by the next heartbeat at the latest), or when its seat is
// removed from the call (evEnd, published by whichever instance removed
// it).
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
		// In the writer, so that every opened stream is closed once.
		h.meter.StreamOpened()
		defer h.meter.StreamClosed()
		defer s.close()
		h.pump(w, conn, done, s)
	})
	return nil
}

// openedStream is one open stream: its subscription, the events to send
// first, its presence lease (moderator and lobby streams), and what it
// needs to write the events that follow.
type openedStream struct {
	h *Handlers
	t streamTicket
	// ctx is the stream request's context, which carries its request id
	// (observe) and is never canceled: what the stream does after the
	// handler has returned logs under the request it belongs to.
	ctx   context.Context
	sub   *push.Subscription
	first []push.Event
	lease *roomstate.Lease
	// chatFloor is the newest chat message in the history this stream
	// sent first: chat events up to it are in that history already.
	chatFloor uint64
}

// openStream subscribes t's holder to the room and builds what it gets
// first: what it missed since last, or, on a first connection or after a
// gap, the current state (chat history; the lobby for moderators; the
// entry's status for a waiting guest).
//
// The state may be shared by several instances, so no lock orders a
// stream's first state against the events after it. The order of steps
// does: every change is written to the state before its event is
// published, and the stream subscribes before it reads the state. A change
// whose event was published before the subscription was written before
// it, so the read sees it; one published after it is delivered. So
// nothing falls between the two (no hole); what is both read and
// delivered (written before the read, published after the subscription)
// is harmless: a lobby or status event is rendered from the state as it
// is when the event arrives (write), and a chat message already in the
// history is dropped by its id (chatFloor), since ids are given in the
// order messages are kept. A removal works the same way: checked after
// subscribing, its end-of-stream event cannot be missed.
func (h *Handlers) openStream(ctx context.Context, t streamTicket, last string) (*openedStream, error) {
	var targets []string
	switch {
	case t.Kind == streamLobby:
		targets = []string{targetLobby(t.ID)}
	case t.Role == views.RoleModerator:
		targets = []string{targetAll, targetSeat(t.ID), targetModerators}
	default:
		targets = []string{targetAll, targetSeat(t.ID)}
	}
	sub, err := h.broker.Subscribe(t.Room, targets, last)
	if err != nil && !errors.Is(err, push.ErrClosed) {
		return nil, err // Redis: the error handler says shared state is unavailable
	}
	if err != nil {
		return nil, &userError{status: fiber.StatusServiceUnavailable, title: "Shutting down", message: "This server is restarting. The page reconnects by itself.", cause: err}
	}
	s := &openedStream{h: h, t: t, ctx: ctx, sub: sub, first: sub.Missed}
	if err := s.open(ctx, last == "" || sub.Gap); err != nil {
		sub.Close()
		return nil, err
	}
	return s, nil
}

func (s *openedStream) open(ctx context.Context, snapshot bool) error {
	h, t := s.h, s.t
	var entry roomstate.EntryState
	if t.Kind == streamLobby {
		var err error
		entry, err = h.rooms.EntryState(ctx, t.Room, t.ID, h.wall())
		if err != nil {
			return fmt.Errorf("lobby entry in %q: %w", t.Room, err)
		}
		if entry.Decision == "" && !entry.Waiting {
			return &userError{status: fiber.StatusGone, title: "Not in the lobby", message: "You are no longer waiting in the lobby. Press Join to knock again."}
		}
		s.lease = &roomstate.Lease{Kind: roomstate.LeaseLobby, ID: t.ID}
	} else {
		revoked, err := h.seatRevoked(ctx, t.Room, t.ID)
		if err != nil {
			return err
		}
		if revoked {
			return removedFromCall()
		}
		if t.Role == views.RoleModerator {
			s.lease = &roomstate.Lease{Kind: roomstate.LeaseModerator, ID: t.ID}
		}
	}
	if snapshot {
		first, err := s.snapshot(ctx, entry)
		if err != nil {
			return err
		}
		s.first = first
	}
	if s.lease != nil {
		s.lease.Stream = randomID(8)
		// A host here now, or a guest held in the lobby.
		if err := s.renew(ctx); err != nil {
			return err
		}
	}
	return nil
}

// snapshot renders the state a stream starts from; entry is a lobby
// stream's entry as open read it (after subscribing). The events carry the
// room's last event ID, so a reconnect replays from there.
func (s *openedStream) snapshot(ctx context.Context, entry roomstate.EntryState) ([]push.Event, error) {
	h, t := s.h, s.t
	var evs []push.Event
	add := func(name string, c templ.Component) {
		evs = append(evs, push.Event{ID: s.sub.LastID, Name: name, Data: renderString(ctx, c)})
	}
	if t.Kind == streamLobby {
		add(evLobbyStatus, views.LobbyStatus(lobbyStatus(t.Room, entry)))
		return evs, nil
	}
	chat, err := h.rooms.ChatHistory(ctx, t.Room)
	if err != nil {
		return nil, fmt.Errorf("chat history of %q: %w", t.Room, err)
	}
	if len(chat) > 0 {
		s.chatFloor = chat[len(chat)-1].ID
	}
	add(evChatHistory, views.ChatHistory(chatViews(chat)))
	if t.Role == views.RoleModerator {
		l, err := h.rooms.Lobby(ctx, t.Room, h.wall())
		if err != nil {
			return nil, fmt.Errorf("lobby of %q: %w", t.Room, err)
		}
		add(evLobby, views.LobbyPanel(h.lobbyView(t.Room, l)))
	}
	return evs, nil
}

// renew opens or renews the stream's lease, for a heartbeat and a grace
// more, and tells the room what the sweep that comes with it changed. The
// error is the lease's: once it is written, a room that did not hear of a
// change hears of the next one, and the stream goes on.
func (s *openedStream) renew(ctx context.Context) error {
	h, now := s.h, s.h.wall()
	s.lease.Until = now.Add(h.cfg.StreamHeartbeat + h.cfg.LobbyGrace)
	ch, err := h.rooms.Lease(ctx, s.t.Room, *s.lease, now)
	if err != nil {
		return fmt.Errorf("presence in %q: %w", s.t.Room, err)
	}
	if err := h.announce(ctx, s.t.Room, ch); err != nil {
		h.log.WarnContext(ctx, "presence", "room", s.t.Room, "err", err)
	}
	return nil
}

// close ends the subscription and the stream's lease: a moderator fewer
// (guests hear when the last one goes), or a waiting guest's stream fewer
// (the entry leaves the lobby after LobbyGrace without one).
func (s *openedStream) close() {
	s.sub.Close()
	if s.lease == nil {
		return
	}
	h, ctx := s.h, s.ctx
	s.lease.Grace = h.cfg.LobbyGrace
	ch, err := h.rooms.EndLease(ctx, s.t.Room, *s.lease, h.wall())
	if err == nil {
		err = h.announce(ctx, s.t.Room, ch)
	}
	if err != nil {
		h.log.WarnContext(ctx, "stream end", "room", s.t.Room, "err", err)
	}
	if s.lease.Kind == roomstate.LeaseLobby {
		h.sweepLater(s.t.Room, h.cfg.LobbyGrace)
	}
}

// prepare makes ev ready to write: a lobby or status signal rendered from
// the state as it is now, a chat message the stream's history had
// dropped (skip). end says the stream ends here: its seat was removed, or
// the state could not be read (the page reconnects and is replayed the
// event).
func (s *openedStream) prepare(ev push.Event) (out push.Event, skip, end bool) {
	h, t, ctx := s.h, s.t, s.ctx
	switch ev.Name {
	case evEnd:
		return ev, false, true
	case evChat:
		id, ok := chatEventID(ev.Data)
		return ev, ok && id <= s.chatFloor, false
	case evLobby:
		l, err := h.rooms.Lobby(ctx, t.Room, h.wall())
		if err != nil {
			h.log.WarnContext(ctx, "stream lobby", "room", t.Room, "err", err)
			return ev, false, true
		}
		ev.Data = renderString(ctx, views.LobbyPanel(h.lobbyView(t.Room, l)))
	case evLobbyStatus:
		st, err := h.rooms.EntryState(ctx, t.Room, t.ID, h.wall())
		if err != nil {
			h.log.WarnContext(ctx, "stream lobby status", "room", t.Room, "err", err)
			return ev, false, true
		}
		ev.Data = renderString(ctx, views.LobbyStatus(lobbyStatus(t.Room, st)))
	}
	return ev, false, false
}

// chatEventID is the id of the chat message an evChat event carries, read
// from the element views.ChatMessage renders first: <li id="chat-ID" ...>.
func chatEventID(data string) (uint64, bool) {
	rest, ok := strings.CutPrefix(data, `<li id="chat-`)
	if !ok {
		return 0, false
	}
	digits, _, ok := strings.Cut(rest, `"`)
	id, err := strconv.ParseUint(digits, 10, 64)
	return id, ok && err == nil
}

// pump writes the stream: the reconnect delay, the first events, then
// every event and a heartbeat comment, until the subscription closes, the
// server shuts down, a write fails, or an event ends the stream. Each
// heartbeat also renews the stream's lease.
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
	write := func(ev push.Event) bool {
		ev, skip, end := s.prepare(ev)
		if !skip && !end {
			writeEvent(w, ev)
		}
		return !end
	}
	w.WriteString("retry: " + strconv.FormatInt(streamRetry.Milliseconds(), 10) + "\n\n")
	for _, ev := range s.first {
		if !write(ev) {
			flush()
			return
		}
	}
	if !flush() {
		return
	}
	for {
		select {
		case ev, ok := <-s.sub.C:
			if !ok || !write(ev) {
				flush()
				return
			}
		case <-beat.C:
			w.WriteString(": ping\n\n")
			if s.lease != nil {
				if err := s.renew(s.ctx); err != nil {
					h.log.WarnContext(s.ctx, "stream heartbeat", "room", s.t.Room, "err", err)
				}
			}
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
// broker that is shutting down loses the event (pages that reconnect get
// the current state); any other failure is returned: the state was
// written, but the streams did not hear of it.
func (h *Handlers) publish(ctx context.Context, room, target, name string, c templ.Component) error {
	return h.send(room, push.Event{Target: target, Name: name, Data: renderString(ctx, c)})
}

// send publishes ev in room (see publish).
func (h *Handlers) send(room string, ev push.Event) error {
	if _, err := h.broker.Publish(room, ev); err != nil && !errors.Is(err, push.ErrClosed) {
		return fmt.Errorf("publish %s in %q: %w", ev.Name, room, err)
	}
	return nil
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
		revoked, err := h.seatRevoked(c.UserContext(), room, st.ID)
		if err != nil {
			return err
		}
		if revoked {
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
// its guest is blocked.
func (h *Handlers) seatRevoked(ctx context.Context, room, seatID string) (bool, error) {
	revoked, err := h.rooms.Revoked(ctx, room, seatID)
	if err != nil {
		return false, fmt.Errorf("removals in %q: %w", room, err)
	}
	return revoked, nil
}

// removedFromCall answers a removed or blocked seat's chat and stream.
func removedFromCall() error {
	return forbidden("The host removed you from this meeting.", "", "")
}
