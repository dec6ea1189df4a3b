// Package handlers is swrooms' HTTP surface: the Fiber app, its routes,
// and the handlers that turn requests into SignalWire calls and templ views.
package handlers

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/swrooms/swrooms/knownrooms"
	"github.com/swrooms/swrooms/push"
	"github.com/swrooms/swrooms/roomstate"
	"github.com/swrooms/swrooms/roster"
	"github.com/swrooms/swrooms/signalwire"
	"github.com/swrooms/swrooms/views"
)

// Video is what the handlers need of SignalWire's Video REST API.
type Video interface {
	EnsureRoom(ctx context.Context, p signalwire.CreateRoomParams) (*signalwire.Room, error)
	GetRoom(ctx context.Context, nameOrID string) (*signalwire.Room, error)
	CreateRoomToken(ctx context.Context, p signalwire.RoomTokenParams) (string, error)
	ListRoomSessions(ctx context.Context, p signalwire.ListRoomSessionsParams) ([]signalwire.RoomSession, error)
}

var _ Video = (*signalwire.Client)(nil)

// KnownRooms remembers rooms confirmed to exist on SignalWire for
// KnownRoomTTL, so that a second host of the same room costs no SignalWire
// call. knownrooms.Memory and knownrooms.Redis implement it; a Redis
// failure is a *redisconn.UnavailableError.
type KnownRooms interface {
	Known(ctx context.Context, room string) (bool, error)
	Add(ctx context.Context, room string) error
	Forget(ctx context.Context, room string) error
}

var (
	_ KnownRooms = (*knownrooms.Memory)(nil)
	_ KnownRooms = (*knownrooms.Redis)(nil)
)

// Config is the part of the app's configuration the handlers act on.
type Config struct {
	// Sandbox shows the sandbox banner.
	Sandbox   bool
	SecretKey []byte
	// RelayOrigin is added to the CSP's connect-src: the ws:// origin of a
	// SignalWire fake's relay on loopback (sandbox mode, or tests with
	// SIGNALWIRE_SPACE on loopback), named by its tokens' "ch" claim. Empty
	// for the real SignalWire, whose relay the CSP already allows.
	RelayOrigin  string
	HostPasscode string
	OpenHosting  bool
	InviteTTL    time.Duration
	MaxMembers   int
	// PublicURL, when set, is the base of the links the app hands out.
	PublicURL string
	// TrustedProxies are the CIDRs whose X-Forwarded-* headers are believed.
	TrustedProxies []string
	// SecureCookies marks cookies Secure even when a request arrives over
	// plain HTTP, as it does behind a TLS-terminating proxy.
	SecureCookies bool
	// SignalWireTimeout bounds each call to SignalWire; Fiber v2 never
	// cancels a request's context when the browser goes away.
	SignalWireTimeout time.Duration
	// LiveRoomsInterval is how often the live-room list may ask SignalWire.
	LiveRoomsInterval time.Duration
	// Limits are the join budgets; zero fields take their defaults.
	Limits Limits
	// ModeratorCanUnmute gives moderators SignalWire's member unmute
	// permissions and forced unmute buttons; without it they ask.
	ModeratorCanUnmute bool
	// WriteTimeout bounds writing one response (default 30 s); a stream
	// gets it anew for every write instead (see stream.go).
	WriteTimeout time.Duration
	// StreamHeartbeat is how often an idle stream sends a comment, which
	// also finds closed tabs (default 15 s).
	StreamHeartbeat time.Duration
	// LobbyGrace is how long a waiting guest without an open stream stays
	// in the lobby (default 10 s).
	LobbyGrace time.Duration
}

// Handlers holds the dependencies of every route.
type Handlers struct {
	cfg    Config
	video  Video
	roster roster.Store
	log    *slog.Logger
	status *Status
	now    func() time.Time
	sign   signer
	assets views.Assets

	knownRooms KnownRooms
	live       liveCache
	joins      *joinLimits
	broker     Broker
	rooms      RoomStates
	chatLimits Limiter
	meter      Meter
	redis      *Dependency
	// wall is the presence clock: lobby graces and stream leases run on
	// real time, like the timers and heartbeats that keep them, whatever
	// clock (now) tickets and pages are dated by.
	wall      func() time.Time
	roomPages roomPages       // compiled room pages (render.go)
	perms     rolePermissions // each role's token permissions (room.go)
}

// Deps are what New needs besides the configuration.
type Deps struct {
	Video  Video
	Roster roster.Store
	Log    *slog.Logger
	// Status reports whether SignalWire has accepted the credentials.
	Status *Status
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Broker carries the rooms' pushed events; nil means one in memory.
	Broker Broker
	// Limiters makes the rate-limit budget name (burst units at once,
	// refilled at perSecond a second); nil means each in memory on Now.
	// Shared ones (ratelimit.NewRedis) make every budget one total across
	// instances.
	Limiters func(name string, burst int, perSecond float64) Limiter
	// KnownRooms remembers rooms confirmed to exist; nil means up to
	// 10,000 in memory (knownrooms.NewMemory on Now).
	KnownRooms KnownRooms
	// Meter counts requests, joins, streams and chat; nil counts nothing.
	Meter Meter
	// Redis is the state of the shared Redis (REDIS_URL), which /readyz
	// reports; nil without Redis.
	Redis *Dependency
	// Rooms keeps the rooms' live state; nil means one in memory
	// (roomstate.NewMemory), for one instance.
	Rooms RoomStates
}

// New builds the handlers.
func New(cfg Config, d Deps) *Handlers {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Status == nil {
		d.Status = NewStatus()
	}
	if cfg.SignalWireTimeout == 0 {
		cfg.SignalWireTimeout = 15 * time.Second
	}
	if cfg.LiveRoomsInterval == 0 {
		cfg.LiveRoomsInterval = 5 * time.Second
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
	if cfg.StreamHeartbeat == 0 {
		cfg.StreamHeartbeat = 15 * time.Second
	}
	if cfg.LobbyGrace == 0 {
		cfg.LobbyGrace = 10 * time.Second
	}
	if d.Broker == nil {
		d.Broker = push.NewMemory(push.Limits{}, nil)
	}
	if d.KnownRooms == nil {
		d.KnownRooms = knownrooms.NewMemory(KnownRoomTTL, maxKnownRooms, d.Now)
	}
	budget := budgetsOf(d)
	if d.Meter == nil {
		d.Meter = noMeter{}
	}
	if d.Rooms == nil {
		d.Rooms = roomstate.NewMemory(roomstate.Limits{})
	}
	h := &Handlers{
		cfg:        cfg,
		video:      d.Video,
		roster:     d.Roster,
		log:        LogRequestIDs(d.Log),
		status:     d.Status,
		now:        d.Now,
		sign:       newSigner(cfg.SecretKey),
		assets:     newAssets(),
		knownRooms: d.KnownRooms,
		joins:      newJoinLimits(cfg.Limits, budget),
		broker:     d.Broker,
		rooms:      d.Rooms,
		chatLimits: newChatLimits(budget),
		meter:      d.Meter,
		redis:      d.Redis,
		wall:       time.Now,
	}
	h.roomPages = h.compileRoomPages()
	h.perms = newRolePermissions(cfg.ModeratorCanUnmute)
	return h
}

// KnownRoomTTL bounds how long a room is trusted to exist without asking
// (pass it to knownrooms.NewRedis): one deleted on SignalWire's dashboard
// is created again after this.
const KnownRoomTTL = time.Hour

// maxKnownRooms bounds the known rooms in memory, the least recently used
// forgotten; in Redis they are bounded by the rooms hosted within the TTL.
const maxKnownRooms = 10_000

// Status is what the app knows of SignalWire: whether it has answered
// and whether it rejected the credentials. The startup check writes it;
// /readyz and every page read it.
type Status struct {
	mu       sync.RWMutex
	ready    bool
	rejected string
}

// NewStatus returns a status that is not ready yet.
func NewStatus() *Status { return &Status{} }

// SetReady records that SignalWire accepted a call.
func (s *Status) SetReady() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ready, s.rejected = true, ""
}

// SetRejected records that SignalWire refused the credentials for space.
func (s *Status) SetRejected(space string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ready, s.rejected = false, space
}

// Ready reports whether SignalWire has answered.
func (s *Status) Ready() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ready
}

// Rejected returns the space whose credentials were refused, or "".
func (s *Status) Rejected() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.rejected
}
