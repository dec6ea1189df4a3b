package swtest

import (
	"fmt"
	"slices"
)

// Members without browsers: tests, and later sandbox mode's bots, add,
// change and remove members of a room's live session from Go. Every change
// sends the browsers in the room the same events a real member's change
// causes, so the pages cannot tell the difference.

// MemberSpec describes a member for AddMembers. Type is "member" (the
// default), "screen" or "device"; the latter two need ParentID, the id of a
// member in the room.
type MemberSpec struct {
	Name                               string
	AudioMuted, VideoMuted, HandRaised bool
	Type, ParentID                     string
}

// MemberChange is a partial change of a member: nil fields stay as they
// are. Talking goes out as video.member.talking, the rest as one
// video.member.updated naming the fields that really changed.
type MemberChange struct {
	AudioMuted, VideoMuted, Deaf, HandRaised, Visible, Talking *bool
	InputVolume, OutputVolume, InputSensitivity                *int
}

// AddMembers joins members to the room's live session, starting the
// session when nobody is in, and sends video.member.joined for each (in
// order) and then one video.layout.changed to every browser in the room.
// It returns their ids. The room must exist on the REST side
// (ErrRoomNotFound); a locked room refuses them (ErrRoomLocked), and so
// does one that cannot take them all (ErrRoomFull): all or none join.
func (f *Fake) AddMembers(room string, ms ...MemberSpec) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fresh := f.relay.live[room] == nil
	lr, err := f.liveRoomLocked(room, true, false)
	if err != nil {
		return nil, fmt.Errorf("swtest: AddMembers to %q: %w", room, err)
	}
	fail := func(err error) ([]string, error) {
		if fresh {
			f.discardLocked(lr)
		}
		return nil, fmt.Errorf("swtest: AddMembers to %q: %w", room, err)
	}
	if len(lr.members)+len(ms) > maxLiveMembers {
		return fail(ErrRoomFull)
	}
	people := 0
	for _, s := range ms {
		switch s.Type {
		case "", "member":
			people++
		case "screen", "device":
			if lr.byID[s.ParentID] == nil {
				return fail(fmt.Errorf("parent %q of a %s: %w", s.ParentID, s.Type, ErrNoMember))
			}
		default:
			return fail(fmt.Errorf("member type %q is not member, screen or device", s.Type))
		}
	}
	if people > 0 {
		if lr.locked {
			return fail(ErrRoomLocked)
		}
		if lr.peopleLocked()+people > lr.maxMembers {
			return fail(ErrRoomFull)
		}
	}
	ids := make([]string, 0, len(ms))
	for _, s := range ms {
		m := f.newLiveMember(lr, s.Name, s.Type)
		m.AudioMuted, m.VideoMuted, m.HandRaised, m.ParentID = s.AudioMuted, s.VideoMuted, s.HandRaised, s.ParentID
		f.addLocked(m)
		f.joinedLocked(m, nil)
		ids = append(ids, m.ID)
	}
	if len(ms) > 0 {
		f.broadcastLocked(lr, "video.layout.changed", lr.layoutParams(), nil)
	}
	return ids, nil
}

// UpdateMember applies a partial change to a member of the room's live
// session (one with or without a browser) and sends the events for what
// changed; a change that changes nothing sends nothing. It fails with
// ErrNoMember for an unknown room or member.
func (f *Fake) UpdateMember(room, memberID string, change MemberChange) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	lr := f.relay.live[room]
	if lr == nil || lr.byID[memberID] == nil {
		return fmt.Errorf("swtest: UpdateMember %q in %q: %w", memberID, room, ErrNoMember)
	}
	f.updateLocked(lr.byID[memberID], change)
	return nil
}

// RemoveMember removes a member as a moderator would: everyone in the room,
// the member's own browser included, gets video.member.left, and a browser
// member's call is then hung up with verto.bye. It fails with ErrNoMember
// for an unknown room or member.
func (f *Fake) RemoveMember(room, memberID string) error {
	f.mu.Lock()
	lr := f.relay.live[room]
	if lr == nil || lr.byID[memberID] == nil {
		f.mu.Unlock()
		return fmt.Errorf("swtest: RemoveMember %q from %q: %w", memberID, room, ErrNoMember)
	}
	peers := f.removeLocked(lr.byID[memberID])
	f.mu.Unlock()
	closePeers(peers)
	return nil
}

// RoomMembers returns the members of the room's live session in join
// order, browsers and AddMembers alike; nil when nobody is in.
func (f *Fake) RoomMembers(room string) []LiveMember {
	f.mu.Lock()
	defer f.mu.Unlock()
	lr := f.relay.live[room]
	if lr == nil {
		return nil
	}
	out := make([]LiveMember, 0, len(lr.members))
	for _, m := range lr.members {
		out = append(out, m.LiveMember)
	}
	return out
}

// RoomSessionID returns the id of the room's live session ("" when nobody
// is in), the room_session_id of its events and of GET /room_sessions.
func (f *Fake) RoomSessionID(room string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if lr := f.relay.live[room]; lr != nil {
		return lr.sessionID
	}
	return ""
}

// updateLocked applies ch to m and sends video.member.talking (talking)
// and video.member.updated with {id, room_id, room_session_id, <changed
// fields>, updated:[<their names>]} (VideoMemberUpdatedEventParams; the
// SDK merges it into its copy of the member, core memberUpdatedWorker).
func (f *Fake) updateLocked(m *liveMember, ch MemberChange) {
	lr := m.room
	partial := map[string]any{"id": m.ID, "room_id": lr.roomID, "room_session_id": lr.sessionID}
	var updated []string
	flag := func(key string, dst *bool, v *bool) {
		if v != nil && *dst != *v {
			*dst = *v
			partial[key] = *v
			updated = append(updated, key)
		}
	}
	num := func(key string, dst *int, v *int) {
		if v != nil && *dst != *v {
			*dst = *v
			partial[key] = *v
			updated = append(updated, key)
		}
	}
	wasShown := lr.shownLocked(m)
	flag("audio_muted", &m.AudioMuted, ch.AudioMuted)
	flag("video_muted", &m.VideoMuted, ch.VideoMuted)
	flag("deaf", &m.Deaf, ch.Deaf)
	flag("visible", &m.Visible, ch.Visible)
	flag("handraised", &m.HandRaised, ch.HandRaised)
	num("input_volume", &m.InputVolume, ch.InputVolume)
	num("output_volume", &m.OutputVolume, ch.OutputVolume)
	num("input_sensitivity", &m.InputSensitivity, ch.InputSensitivity)
	if len(updated) > 0 {
		partial["updated"] = updated
		f.broadcastLocked(lr, "video.member.updated", lr.memberParams(partial), nil)
	}
	if ch.Talking != nil && m.Talking != *ch.Talking {
		m.Talking = *ch.Talking
		f.broadcastLocked(lr, "video.member.talking",
			lr.memberParams(map[string]any{"id": m.ID, "talking": m.Talking}), nil)
	}
	if lr.shownLocked(m) != wasShown {
		f.broadcastLocked(lr, "video.layout.changed", lr.layoutParams(), nil)
	}
	f.rerouteLocked(lr) // mutes and talking decide who gets whose media
}

// removeLocked removes m (and its screen shares and devices) as a
// moderator does: video.member.left to everyone including m's browser,
// then verto.bye for each of its calls. It returns peers to close.
func (f *Fake) removeLocked(m *liveMember) []*mediaPeer {
	type call struct {
		c  *relayConn
		id string
	}
	var calls []call
	for _, x := range slices.Clone(m.room.members) {
		if (x == m || x.ParentID == m.ID) && x.conn != nil {
			calls = append(calls, call{x.conn, x.callID})
		}
	}
	peers := f.leaveLocked(m, true)
	for _, cl := range calls {
		cl.c.hangupLocked(cl.id)
	}
	return peers
}
