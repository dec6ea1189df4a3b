package handlers

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/sync/singleflight"

	"github.com/swrooms/swrooms/signalwire"
	"github.com/swrooms/swrooms/views"
)

// statusStopPolling is htmx's "stop polling" status (286): the fragment is
// swapped in and the element's "every 5s" trigger ends.
const statusStopPolling = 286

// liveRooms handles "GET /rooms/live": the fragment of rooms in session,
// for hosts only. Without a host session a poll gets 286 with a sentence
// (the poll stops instead of failing every 5 s); a plain request gets 403.
func (h *Handlers) liveRooms(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if _, ok := h.hostSession(c); !ok {
		if isFragment(c) {
			return h.render(c, statusStopPolling, "Live rooms", views.LiveRoomsStopped("Your host session has ended; start a room to see live rooms again."))
		}
		return forbidden("Only hosts can see which rooms are live.", "/", "Back to the room picker")
	}
	rooms, err := h.live.get(c.UserContext(), h)
	if signalwire.IsUnauthorized(err) && isFragment(c) {
		return h.render(c, statusStopPolling, "Live rooms", views.LiveRoomsStopped("SignalWire refused this app's credentials, so live rooms cannot be listed."))
	}
	return h.render(c, fiber.StatusOK, "Live rooms", views.LiveRoomList(rooms))
}

// liveCache makes any number of open pickers cost SignalWire at most one
// list call per interval, and never holds a caller behind that call once
// a list is known: a stale list is answered at once while one refresh
// (singleflight) runs in the background. Only the very first callers
// wait, and they share one call.
type liveCache struct {
	mu      sync.Mutex
	fetched time.Time // when the last refresh ended; zero: never
	rooms   views.LiveRooms
	lastErr error
	group   singleflight.Group
}

// get returns the list to show and the last refresh's error.
func (l *liveCache) get(ctx context.Context, h *Handlers) (views.LiveRooms, error) {
	l.mu.Lock()
	fetched, rooms, lastErr := l.fetched, l.rooms, l.lastErr
	l.mu.Unlock()
	if !fetched.IsZero() && h.now().Sub(fetched) < h.cfg.LiveRoomsInterval {
		return rooms, lastErr
	}
	// The refresh outlives the request that started it (others share it),
	// so it takes no cancellation from that request.
	ch := l.group.DoChan("live", func() (any, error) {
		l.refresh(context.WithoutCancel(ctx), h)
		return nil, nil
	})
	if fetched.IsZero() {
		<-ch
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.rooms, l.lastErr
	}
	return rooms, lastErr
}

// refresh asks SignalWire once and stores the answer; on failure the last
// list stays, marked unavailable.
func (l *liveCache) refresh(ctx context.Context, h *Handlers) {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.SignalWireTimeout)
	defer cancel()
	sessions, err := h.video.ListRoomSessions(ctx, signalwire.ListRoomSessionsParams{Status: "in-progress", PageSize: 100, MaxPages: 1})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fetched, l.lastErr = h.now(), err
	if err != nil {
		h.log.WarnContext(ctx, "list live rooms", "err", err)
		l.rooms.Unavailable = true
		return
	}
	rooms := make([]views.LiveRoom, 0, len(sessions))
	for _, s := range sessions {
		lr := views.LiveRoom{Name: s.Name, DisplayName: s.DisplayName}
		if lr.DisplayName == "" {
			lr.DisplayName = s.Name
		}
		if s.StartTime != nil {
			lr.Since = liveFor(h.now().Sub(*s.StartTime))
		}
		if validRoom(s.Name) {
			rooms = append(rooms, lr)
		}
	}
	sort.Slice(rooms, func(i, j int) bool { return rooms[i].Name < rooms[j].Name })
	l.rooms = views.LiveRooms{Rooms: rooms}
}
