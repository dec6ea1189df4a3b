package swtest

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// LiveMember is a member of a room's live session as the relay sees it:
// the state the video.member.* events carry. RoomMembers returns them.
type LiveMember struct {
	ID       string
	Name     string
	Type     string // "member", "screen" or "device"
	ParentID string // the member a screen share or device belongs to

	AudioMuted, VideoMuted, Deaf bool
	HandRaised, Talking, Visible bool
	InputVolume, OutputVolume    int // dB, -50..50; 0 by default
	InputSensitivity             int // 0..100; 30 by default
	JoinedAt                     time.Time

	// Browser is true for a member that joined through the relay's
	// WebSocket, false for one added with AddMembers.
	Browser bool
}

// liveMember is a LiveMember with what the relay needs to reach it.
type liveMember struct {
	LiveMember
	room   *liveRoom
	conn   *relayConn // nil for members without a browser
	callID string     // the verto call; "" without a browser
	peer   *mediaPeer // nil without a browser or media
}

// liveRoom is a room session in progress: what the relay knows that the
// REST API does not show (mute state, layout, recordings), plus the REST
// session it keeps up to date.
type liveRoom struct {
	roomID, name, displayName string
	sessionID, channel        string
	maxMembers                int
	layout                    string
	locked, hideVideoMuted    bool
	members                   []*liveMember // join order
	byID                      map[string]*liveMember
	recordings                []*liveRecording
	sess                      *session
	bots                      *botRoom  // nil: no bots (yet)
	media                     roomMedia // who gets whose media (relay_forward_route.go)
}

// Why a join is refused. The relay answers the invite with these messages;
// AddMembers returns them wrapped.
var (
	ErrRoomNotFound = errors.New("swtest: room not found")
	ErrRoomLocked   = errors.New("swtest: room is locked")
	ErrRoomFull     = errors.New("swtest: room is full")
	ErrNoMember     = errors.New("swtest: no such member in the room's live session")
)

// maxLiveMembers bounds a live session's members of every type (people
// are bounded by max_members, at most 300; this bounds their screen
// shares and devices too).
const maxLiveMembers = 1000

// liveRoomLocked returns the live session of the named room, starting one
// when there is none and create is set. A room the REST side does not have
// yields ErrRoomNotFound (autoCreate creates it first, as a token with
// auto_create_room does).
func (f *Fake) liveRoomLocked(name string, create, autoCreate bool) (*liveRoom, error) {
	if lr := f.relay.live[name]; lr != nil {
		return lr, nil
	}
	if !create {
		return nil, ErrNoMember
	}
	rm := f.roomsByName[name]
	if rm == nil && autoCreate && len(f.rooms) < f.limits.Rooms {
		rm = f.insertRoomLocked(&room{Room: Room{Name: name}})
	}
	if rm == nil {
		return nil, ErrRoomNotFound
	}
	now := f.now()
	f.expireLocked(now)
	// A session that tokens started (WithLiveSessionsFromTokens) becomes
	// this one: from now on who joined decides who is a member.
	s := f.tokenSessionLocked(rm)
	if s != nil {
		s.fromTokens = false
		for i := range s.members {
			if s.members[i].LeaveTime == nil {
				s.members[i].LeaveTime = &now
			}
		}
	} else {
		s = &session{RoomSession: RoomSession{StartTime: now}}
		f.fillSessionLocked(&s.RoomSession, rm)
		f.addSessionLocked(s)
	}
	lr := &liveRoom{
		roomID: rm.ID, name: rm.Name, displayName: rm.DisplayName,
		sessionID: s.ID, channel: "room." + s.ID,
		maxMembers: rm.MaxMembers, layout: rm.Layout,
		byID: map[string]*liveMember{}, sess: s,
	}
	f.relay.live[name] = lr
	return lr, nil
}

// admitLocked refuses a new member of type typ: a locked room refuses
// everyone, a full one (max_members) the next member. Screen shares and
// devices belong to a member already inside and do not count.
func (lr *liveRoom) admitLocked(typ string) error {
	if len(lr.members) >= maxLiveMembers {
		return ErrRoomFull
	}
	if typ != "member" {
		return nil
	}
	if lr.locked {
		return ErrRoomLocked
	}
	if lr.peopleLocked() >= lr.maxMembers {
		return ErrRoomFull
	}
	return nil
}

// peopleLocked counts the members of type "member", the ones max_members
// bounds.
func (lr *liveRoom) peopleLocked() int {
	n := 0
	for _, m := range lr.members {
		if m.Type == "member" {
			n++
		}
	}
	return n
}

// shownLocked reports whether m has a layer in the layout: visible, and not
// hidden for being video-muted.
func (lr *liveRoom) shownLocked(m *liveMember) bool {
	return m.Visible && !(lr.hideVideoMuted && m.VideoMuted)
}

// newLiveMember fills the defaults of a member joining now.
func (f *Fake) newLiveMember(lr *liveRoom, name, typ string) *liveMember {
	if typ == "" {
		typ = "member"
	}
	return &liveMember{room: lr, LiveMember: LiveMember{
		ID: newUUID(), Name: name, Type: typ, Visible: true,
		InputSensitivity: 30, JoinedAt: f.now(),
	}}
}

// addLocked puts m into its room and the REST session's member list. It
// sends nothing; see joinedLocked.
func (f *Fake) addLocked(m *liveMember) {
	lr := m.room
	lr.members = append(lr.members, m)
	lr.byID[m.ID] = m
	if f.memberCount < f.limits.Members {
		lr.sess.members = append(lr.sess.members, Member{ID: m.ID, Name: m.Name, JoinTime: m.JoinedAt})
		f.memberCount++
	}
	if m.conn != nil {
		m.conn.calls[m.callID] = m
	}
	f.mediaJoinedLocked(m)
}

// joinedLocked sends video.member.joined for m to every browser in the
// room except skip (the joiner itself learns of itself from
// video.room.subscribed).
func (f *Fake) joinedLocked(m *liveMember, skip *relayConn) {
	lr := m.room
	f.broadcastLocked(lr, "video.member.joined", lr.memberParams(m.json(lr)), skip)
}

// leaveLocked takes m, and the screen shares and devices it owns, out of
// the room: each leaves the REST session, the browsers that remain get
// video.member.left, and the room session ends when nobody is left. It
// returns the peers to close once Fake.mu is released.
func (f *Fake) leaveLocked(m *liveMember, tellSelf bool) []*mediaPeer {
	lr := m.room
	if lr == nil || lr.byID[m.ID] != m {
		return nil
	}
	var peers []*mediaPeer
	for _, child := range slices.Clone(lr.members) {
		if child.ParentID == m.ID {
			peers = append(peers, f.leaveLocked(child, tellSelf)...)
		}
	}
	skip := m.conn
	if tellSelf || m.Type != "member" {
		skip = nil // a screen share's owner must hear that it left
	}
	f.broadcastLocked(lr, "video.member.left", lr.memberParams(m.json(lr)), skip)
	lr.members = slices.DeleteFunc(lr.members, func(x *liveMember) bool { return x == m })
	delete(lr.byID, m.ID)
	now := f.now()
	for i := len(lr.sess.members) - 1; i >= 0; i-- {
		if sm := &lr.sess.members[i]; sm.ID == m.ID && sm.LeaveTime == nil {
			sm.LeaveTime = &now
			break
		}
	}
	if m.conn != nil {
		delete(m.conn.calls, m.callID)
	}
	if m.peer != nil {
		peers = append(peers, m.peer)
		m.peer = nil
	}
	f.rerouteLocked(lr)
	if len(lr.members) == 0 {
		f.endLocked(lr)
	}
	return peers
}

// endLocked completes the room session: the REST session ends and its
// recordings stop.
func (f *Fake) endLocked(lr *liveRoom) {
	now := f.now()
	for _, r := range lr.recordings {
		if r.state != "completed" {
			r.state, r.ended = "completed", now
		}
	}
	lr.sess.Status, lr.sess.EndTime = "completed", &now
	if f.relay.live[lr.name] == lr {
		delete(f.relay.live, lr.name)
	}
}

// discardLocked forgets a live session that nobody joined after all, and
// its REST session, so that a refused join leaves no trace.
func (f *Fake) discardLocked(lr *liveRoom) {
	if f.relay.live[lr.name] == lr {
		delete(f.relay.live, lr.name)
	}
	delete(f.sessionsByID, lr.sess.ID)
	f.sessions = slices.DeleteFunc(f.sessions, func(s *session) bool { return s == lr.sess })
}

// connsLocked returns the distinct browsers with a call in the room.
func (lr *liveRoom) connsLocked() []*relayConn {
	var out []*relayConn
	for _, m := range lr.members {
		if m.conn != nil && !slices.Contains(out, m.conn) {
			out = append(out, m.conn)
		}
	}
	return out
}

// broadcastLocked sends a signalwire.event to every browser in the room
// that subscribed to its type, except skip.
func (f *Fake) broadcastLocked(lr *liveRoom, eventType string, params any, skip *relayConn) {
	now := f.now()
	for _, c := range lr.connsLocked() {
		if c != skip {
			c.eventLocked(eventType, lr.channel, now, params)
		}
	}
}

// eventLocked sends one signalwire.event to c if it subscribed to it.
func (c *relayConn) eventLocked(eventType, channel string, now time.Time, params any) {
	if !c.subscribedLocked(eventType) {
		return
	}
	c.sendEvent(event(eventType, channel, now, params))
}

// mainMemberLocked returns the connection's own member (type "member") in
// the room session with this id, or nil.
func (c *relayConn) mainMemberLocked(sessionID string) *liveMember {
	for _, m := range c.calls {
		if m.Type == "member" && m.room != nil && m.room.sessionID == sessionID {
			return m
		}
	}
	return nil
}

// liveRoomByIDLocked finds a live session by id.
func (f *Fake) liveRoomByIDLocked(sessionID string) *liveRoom {
	for _, lr := range f.relay.live {
		if lr.sessionID == sessionID {
			return lr
		}
	}
	return nil
}

// joinError is the text a refused invite answers with.
func joinError(err error) string {
	switch {
	case errors.Is(err, ErrRoomLocked):
		return "The room is locked"
	case errors.Is(err, ErrRoomFull):
		return "The room is full"
	case errors.Is(err, ErrRoomNotFound):
		return "Room not found"
	}
	return fmt.Sprint(err)
}
