package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/swrooms/swrooms/signalwire"
	"github.com/swrooms/swrooms/views"
)

// Role policy: what each kind of participant may do. The REST client only
// knows the strings; which role gets which is decided here. Functions, not
// package variables, so no caller can change the policy for the others.

// guestPermissions: own microphone, camera, volume, hand and screen share.
func guestPermissions() []signalwire.Permission {
	return []signalwire.Permission{
		signalwire.PermSelfAudioMute, signalwire.PermSelfAudioUnmute,
		signalwire.PermSelfVideoMute, signalwire.PermSelfVideoUnmute,
		signalwire.PermSelfDeaf, signalwire.PermSelfUndeaf,
		signalwire.PermSelfSetInputVolume, signalwire.PermSelfSetOutputVolume,
		signalwire.PermSelfSetInputSensitivity,
		signalwire.PermSelfRaiseHand, signalwire.PermSelfLowerHand,
		signalwire.PermSelfScreenShare,
	}
}

// moderatorPermissions: the guest's, plus control of other members and of
// the room. Unmuting someone else is left out unless forcedUnmute
// (MODERATOR_CAN_UNMUTE): moderators ask instead, and SignalWire enforces
// it. With it, the original demo's nine are all here.
func moderatorPermissions(forcedUnmute bool) []signalwire.Permission {
	p := append(guestPermissions(), signalwire.PermMemberAudioMute, signalwire.PermMemberVideoMute)
	if forcedUnmute {
		p = append(p, signalwire.PermMemberAudioUnmute, signalwire.PermMemberVideoUnmute)
	}
	return append(p,
		signalwire.PermMemberRemove, signalwire.PermMemberLowerHand,
		signalwire.PermRoomListAvailableLayouts, signalwire.PermRoomSetLayout,
		signalwire.PermRoomLock, signalwire.PermRoomUnlock,
		signalwire.PermRoomRecording,
		signalwire.PermRoomHideVideoMuted, signalwire.PermRoomShowVideoMuted,
	)
}

// rolePermissions are each role's permissions under this configuration,
// made once: every token asks for one of them. The slices are full, so
// that an append copies rather than writes into them.
type rolePermissions struct{ guest, moderator []signalwire.Permission }

func newRolePermissions(forcedUnmute bool) rolePermissions {
	g, m := guestPermissions(), moderatorPermissions(forcedUnmute)
	return rolePermissions{guest: g[:len(g):len(g)], moderator: m[:len(m):len(m)]}
}

// hostRoom handles "GET /rooms/:room": the moderator page for a browser
// holding the host capability for this room, or a 403 page.
func (h *Handlers) hostRoom(c *fiber.Ctx) error {
	room := c.Params("room")
	if !validRoom(room) {
		return badRequest("That is not a valid room name. Room names use only letters, digits, _ and -.")
	}
	now := h.now() // read once: the session, its renewal and the invite agree on it
	hs, ok := h.lastingHostSessionAt(c, now)
	if !ok || !hs.has(room) {
		msg := "Only the host of " + room + " can open this page. If you are the host, start the room from the room picker; if you are a guest, ask the host for an invite link."
		if h.cfg.Sandbox {
			// The usual cause in a sandbox: it restarted with a new random key.
			msg += " In sandbox mode the app makes a new secret key every time it starts, so a restart ends host sessions and invite links: start the room again."
		}
		return forbidden(msg, "/?room="+url.QueryEscape(room), "Start this room")
	}
	h.renewHostSessionAt(c, hs, now) // the page works pageLife from now (renewSlack < hostIdleTTL-pageLife)
	user, _ := normalizeUser(c.Query("user"))
	v, err := h.inviteVersion(c.UserContext(), room)
	if err != nil {
		return err
	}
	inv := h.sign.newInviteV(room, now.Add(h.cfg.InviteTTL), v)
	return h.renderRoom(c, views.RoomPage{
		Room:          room,
		Role:          views.RoleModerator,
		User:          user,
		InviteURL:     h.guestLink(c, inv),
		InviteExpires: expiresText(now.Add(h.cfg.InviteTTL)),
		Config:        h.islandConfig(c, room, views.RoleModerator, user, nil),
	})
}

// guestRoom handles "GET /guest?room=&exp=&sig=": the guest page for a
// valid invite, or a 403 page. It never creates a room.
func (h *Handlers) guestRoom(c *fiber.Ctx) error {
	inv, ok := h.sign.checkInviteV(c.Query("room"), c.Query("exp"), c.Query("sig"), c.Query("v"), h.now())
	if !ok {
		msg := "This invite link is not valid or has expired. Ask the host for a new invite link."
		if h.cfg.Sandbox {
			msg += " In sandbox mode the app makes a new secret key every time it starts, so a restart ends invite links."
		}
		return forbidden(msg, "", "")
	}
	current, err := h.inviteVersion(c.UserContext(), inv.Room)
	if err != nil {
		return err
	}
	if inv.V < current {
		return inviteReplaced()
	}
	h.guestID(c) // the browser's identity, which a block names
	user, _ := normalizeUser(c.Query("user"))
	return h.renderRoom(c, views.RoomPage{
		Room:   inv.Room,
		Role:   views.RoleGuest,
		User:   user,
		Config: h.islandConfig(c, inv.Room, views.RoleGuest, user, &views.Invite{Room: inv.Room, Exp: inv.Exp, Sig: inv.Sig, V: inv.V}),
	})
}

// expiresText is when an invite stops working, for people:
// t.UTC().Format("2 Jan 2006 15:04 MST"), written out.
func expiresText(t time.Time) string {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 1000 || year > 9999 {
		return t.Format("2 Jan 2006 15:04 MST")
	}
	var b [24]byte
	out := strconv.AppendInt(b[:0], int64(day), 10)
	out = append(append(append(out, ' '), month.String()[:3]...), ' ')
	out = strconv.AppendInt(out, int64(year), 10)
	h, m := t.Hour(), t.Minute()
	out = append(out, ' ', byte('0'+h/10), byte('0'+h%10), ':', byte('0'+m/10), byte('0'+m%10))
	return string(append(out, " UTC"...))
}

// roomPageOf gives what a room page of role holds besides a request's own
// values (room, name, invite, config): scripts, tabs and, for guests, the
// waiting room's slot. roomPages compiles it once per role.
func (h *Handlers) roomPageOf(role string) func(room string) views.RoomPage {
	return func(room string) views.RoomPage {
		p := views.RoomPage{Room: room, Role: role, SDKURL: h.assets.SDK, IslandURL: h.assets.Room, Tabs: roomTabs(room, role)}
		if role == views.RoleGuest {
			p.PrejoinExtra = views.LobbySlot() // the waiting room shows here after Join (lobby.js)
		}
		return p
	}
}

// roomPages are the room page compiled for each role (views.RoomTemplate).
type roomPages struct{ moderator, guest *views.RoomTemplate }

// compileRoomPages compiles both; a role whose page does not compile (a
// bug the views tests catch) is rendered templ's way, and logged.
func (h *Handlers) compileRoomPages() roomPages {
	shell := views.Shell{Sandbox: h.cfg.Sandbox, Assets: h.assets, OpenHosting: h.cfg.OpenHosting}
	var pages roomPages
	for _, r := range []struct {
		role string
		t    **views.RoomTemplate
	}{{views.RoleModerator, &pages.moderator}, {views.RoleGuest, &pages.guest}} {
		t, err := views.CompileRoom(shell, h.roomPageOf(r.role))
		if err != nil {
			h.log.Error("room page not compiled; rendering it with templ", "role", r.role, "err", err)
			continue
		}
		*r.t = t
	}
	return pages
}

func (p roomPages) of(role string) *views.RoomTemplate {
	if role == views.RoleModerator {
		return p.moderator
	}
	return p.guest
}

// roomTabs are the side panel's tabs: People and Chat for everyone, and
// for moderators the Lobby (who waits, filled by the stream) and Room
// controls.
func roomTabs(room, role string) []views.PanelTab {
	tabs := views.DefaultTabs(role)
	chat := views.PanelTab{ID: "chat", Label: "Chat", Icon: "chat", Toolbar: true, Badge: true, Panel: views.ChatPanel(views.ChatForm{Room: room})}
	out := []views.PanelTab{tabs[0], chat}
	if role == views.RoleModerator {
		out = append(out, views.PanelTab{ID: "lobby", Label: "Lobby", Icon: "people", Panel: views.LobbyArea()})
	}
	return append(out, tabs[1:]...)
}

func (h *Handlers) islandConfig(c *fiber.Ctx, room, role, user string, inv *views.Invite) views.IslandConfig {
	token, events, joinFailed := roomURLs(room)
	return views.IslandConfig{
		Room: room, Role: role, User: user,
		TokenURL: token, EventsURL: events, JoinFailedURL: joinFailed,
		CSRF: csrfToken(c), Invite: inv, Sandbox: h.cfg.Sandbox,
	}
}

// roomURLs are the island's endpoints of room: its token, its events and
// its failed joins. They are cut from one string: one allocation, not
// four.
func roomURLs(room string) (token, events, joinFailed string) {
	base := "/rooms/" + url.PathEscape(room)
	all := base + "/token" + base + "/events" + base + "/join-failed"
	n := len(base)
	return all[:n+len("/token")], all[n+len("/token") : 2*n+len("/token/events")], all[2*n+len("/token/events"):]
}

// inviteURL is the path and query of a guest link: url.Values' encoding
// (keys sorted: exp, room, sig, v), written out.
func appendInviteURL(b []byte, inv invite) []byte {
	b = strconv.AppendInt(append(b, "/guest?exp="...), inv.Exp, 10)
	b = append(append(b, "&room="...), url.QueryEscape(inv.Room)...)
	b = append(append(b, "&sig="...), url.QueryEscape(inv.Sig)...)
	if inv.V > 0 {
		b = strconv.AppendInt(append(b, "&v="...), int64(inv.V), 10)
	}
	return b
}

// guestLink is the absolute guest link of inv, as one string: on
// PUBLIC_URL, or on what the request says (trusting proxies' headers only
// from TRUSTED_PROXIES).
func (h *Handlers) guestLink(c *fiber.Ctx, inv invite) string {
	var buf [256]byte
	b := buf[:0]
	if h.cfg.PublicURL != "" {
		b = append(b, h.cfg.PublicURL...)
	} else {
		b = append(append(append(b, c.Protocol()...), "://"...), c.Hostname()...)
	}
	return string(appendInviteURL(b, inv))
}

func (h *Handlers) isHostOf(c *fiber.Ctx, room string) bool {
	hs, ok := h.hostSession(c)
	return ok && hs.has(room)
}

// tokenRequest is the Join button's body.
type tokenRequest struct {
	User   string        `json:"user"`
	Invite *views.Invite `json:"invite"`
	// AudioMuted and VideoMuted join with the microphone or camera off.
	AudioMuted bool `json:"audio_muted"`
	VideoMuted bool `json:"video_muted"`
	// Lobby is the lobby ticket of a guest the lobby admitted.
	Lobby string `json:"lobby"`
}

// tokenResponse carries the room token to the island, with the seat
// credential that authorises its event posts.
type tokenResponse struct {
	Token string `json:"token"`
	Seat  string `json:"seat"`
	Role  string `json:"role"`
	User  string `json:"user"`
}

// requestBody is the request's body as sent: c.Body() without its cost
// (with Immutable, it copies every header's name while it looks for
// Content-Encoding, then copies the body). plainBodies has refused an
// encoded body. The bytes are valid during the request only.
func requestBody(c *fiber.Ctx) []byte { return c.Request().Body() }

// roomToken handles "POST /rooms/:room/token": a moderator token for the
// room's host, a guest token for a valid invite, else 403. It is asked for
// at Join time, never rendered into a page, never logged.
func (h *Handlers) roomToken(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	room := c.Params("room")
	if !validRoom(room) {
		return badRequest("That is not a valid room name.")
	}
	var req tokenRequest
	if err := json.Unmarshal(requestBody(c), &req); err != nil {
		return badRequest("The join request could not be read. Reload the page and try again.")
	}
	user, problem := normalizeUser(req.User)
	if problem != "" {
		return &userError{status: fiber.StatusUnprocessableEntity, title: "Check your name", message: problem}
	}

	// An invite decides first: a host who opens their own guest link to
	// try it must get the guest's page and the guest's token.
	role, perms := "", []signalwire.Permission(nil)
	switch {
	case req.Invite != nil:
		if _, err := h.checkInvite(c.UserContext(), room, req.Invite.Room, strconv.FormatInt(req.Invite.Exp, 10), req.Invite.Sig, strconv.Itoa(req.Invite.V)); err != nil {
			return err
		}
		// Blocked guests never, and with the lobby on only once admitted.
		if err := h.admitGuest(c, room, user, req.Lobby); err != nil {
			return err
		}
		role, perms = views.RoleGuest, h.perms.guest
	default:
		// The session is opened once, checked and renewed, at one reading
		// of the clock.
		now := h.now()
		hs, ok := h.hostSessionAt(c, now)
		if !ok || !hs.has(room) {
			return forbidden("Only the host, or a guest with an invite link, can join this room.", "/", "Back to the room picker")
		}
		role, perms = views.RoleModerator, h.perms.moderator
		h.renewHostSessionAt(c, hs, now) // used, so renewed
	}
	if err := h.spendRoomJoin(c.UserContext(), room); err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(c.UserContext(), h.cfg.SignalWireTimeout)
	defer cancel()
	tok, err := h.video.CreateRoomToken(ctx, signalwire.RoomTokenParams{
		RoomName:       room,
		UserName:       user,
		Permissions:    perms,
		JoinAs:         signalwire.JoinAsMember,
		AutoCreateRoom: signalwire.Bool(false), // rooms are created by hosts, never by a join
		JoinAudioMuted: signalwire.Bool(req.AudioMuted),
		JoinVideoMuted: signalwire.Bool(req.VideoMuted),
	})
	if err != nil {
		return fmt.Errorf("room token for %q: %w", room, err)
	}
	st := seat{Room: room, Role: role, ID: randomID(12), Exp: h.now().Add(seatTTL).Unix()}
	if err := h.seatTaken(c, st, user); err != nil {
		return err
	}
	// LogAttrs: typed attributes, no boxing into []any for every join.
	h.log.LogAttrs(c.UserContext(), slog.LevelInfo, "join", slog.String("room", room), slog.String("role", role), slog.String("seat", st.ID))
	h.meter.Join(role)
	var buf [2048]byte // a token is about a kilobyte
	c.Response().Header.SetContentType(fiber.MIMEApplicationJSON)
	c.Response().SetBody(tokenResponse{Token: tok, Seat: h.sign.encodeSeat(st), Role: role, User: user}.appendJSON(buf[:0]))
	return nil
}

// appendJSON appends r as encoding/json encodes it, HTML escaping
// included (FuzzTokenResponseJSON), without reflection.
func (r tokenResponse) appendJSON(b []byte) []byte {
	b = views.AppendJSONString(append(b, `{"token":`...), r.Token)
	b = views.AppendJSONString(append(b, `,"seat":`...), r.Seat)
	b = views.AppendJSONString(append(b, `,"role":`...), r.Role)
	b = views.AppendJSONString(append(b, `,"user":`...), r.User)
	return append(b, '}')
}
