package swtest

import (
	"encoding/json"
	"slices"
)

// Room methods arrive as plain JSON-RPC requests with params
// {room_session_id, member_id?, ...} (core rooms/methods.ts:
// createRoomMethod, createRoomMemberMethod). Each is checked against the
// caller's token permissions, answered with {code:"200", message, ...}
// or an error status (see status), and followed by the events the real
// service sends; the SDK updates nothing locally after a call
// (the notes of RELAY.md), so these events are what moves every roster.

// methodParams is the union of the room methods' params.
type methodParams struct {
	RoomSessionID string   `json:"room_session_id"`
	MemberID      string   `json:"member_id"`
	Name          string   `json:"name"`         // video.set_layout
	RecordingID   string   `json:"recording_id"` // video.recording.stop/pause/resume
	Volume        *float64 `json:"volume"`       // set_input_volume, set_output_volume
	Value         *float64 `json:"value"`        // set_input_sensitivity
}

// methodCtx is one call of a room method, under Fake.mu.
type methodCtx struct {
	c              *relayConn
	lr             *liveRoom
	caller, target *liveMember
	p              methodParams
}

// roomMethodSpec describes one method. For member methods perm is the
// suffix after "room.self." (target is the caller or the caller's screen
// share) or "room.member." (anyone else); otherwise the whole permission,
// "" for none. run answers and returns a function that sends the events
// after the answer and returns peers to close.
type roomMethodSpec struct {
	member bool
	perm   string
	run    func(f *Fake, x *methodCtx) (result any, after func() []*mediaPeer)
}

// ok is the plain success result.
func ok() map[string]any { return status("200", "OK") }

// roomMethods lists the methods the relay answers. Promote/demote, meta,
// playback and streams are not implemented and answer -32601.
var roomMethods = map[string]*roomMethodSpec{
	"video.member.audio_mute":            memberChange("audio_mute", func(x *methodCtx) MemberChange { return MemberChange{AudioMuted: ptr(true)} }),
	"video.member.audio_unmute":          memberChange("audio_unmute", func(x *methodCtx) MemberChange { return MemberChange{AudioMuted: ptr(false)} }),
	"video.member.video_mute":            memberChange("video_mute", func(x *methodCtx) MemberChange { return MemberChange{VideoMuted: ptr(true)} }),
	"video.member.video_unmute":          memberChange("video_unmute", func(x *methodCtx) MemberChange { return MemberChange{VideoMuted: ptr(false)} }),
	"video.member.deaf":                  memberChange("deaf", func(x *methodCtx) MemberChange { return MemberChange{Deaf: ptr(true)} }),
	"video.member.undeaf":                memberChange("undeaf", func(x *methodCtx) MemberChange { return MemberChange{Deaf: ptr(false)} }),
	"video.member.raisehand":             memberChange("raisehand", func(x *methodCtx) MemberChange { return MemberChange{HandRaised: ptr(true)} }),
	"video.member.lowerhand":             memberChange("lowerhand", func(x *methodCtx) MemberChange { return MemberChange{HandRaised: ptr(false)} }),
	"video.member.set_input_volume":      memberChange("set_input_volume", func(x *methodCtx) MemberChange { return MemberChange{InputVolume: intPtr(x.p.Volume)} }),
	"video.member.set_output_volume":     memberChange("set_output_volume", func(x *methodCtx) MemberChange { return MemberChange{OutputVolume: intPtr(x.p.Volume)} }),
	"video.member.set_input_sensitivity": memberChange("set_input_sensitivity", func(x *methodCtx) MemberChange { return MemberChange{InputSensitivity: intPtr(x.p.Value)} }),
	"video.member.remove":                {member: true, perm: "remove", run: removeMethod},
	"video.members.get": {run: func(f *Fake, x *methodCtx) (any, func() []*mediaPeer) {
		r := ok()
		r["members"] = x.lr.membersJSON()
		return r, nil
	}},
	"video.list_available_layouts": {perm: "room.list_available_layouts", run: func(f *Fake, x *methodCtx) (any, func() []*mediaPeer) {
		r := ok()
		r["layouts"] = slices.Clone(layouts)
		return r, nil
	}},
	"video.set_layout": {perm: "room.set_layout", run: func(f *Fake, x *methodCtx) (any, func() []*mediaPeer) {
		if !slices.Contains(layouts, x.p.Name) {
			return status("422", "Invalid layout name: "+x.p.Name), nil
		}
		x.lr.layout = x.p.Name
		return ok(), func() []*mediaPeer {
			f.broadcastLocked(x.lr, "video.layout.changed", x.lr.layoutParams(), nil)
			return nil
		}
	}},
	"video.lock":             roomFlag("room.lock", "locked", true),
	"video.unlock":           roomFlag("room.unlock", "locked", false),
	"video.hide_video_muted": roomFlag("room.hide_video_muted", "hide_video_muted", true),
	"video.show_video_muted": roomFlag("room.show_video_muted", "hide_video_muted", false),
	"video.recording.start":  {perm: "room.recording", run: recordingStart},
	"video.recording.stop":   {perm: "room.recording", run: recordingState("completed", "video.recording.ended")},
	"video.recording.pause":  {perm: "room.recording", run: recordingState("paused", "video.recording.updated")},
	"video.recording.resume": {perm: "room.recording", run: recordingState("recording", "video.recording.updated")},
	"video.recording.list": {perm: "room.recording", run: func(f *Fake, x *methodCtx) (any, func() []*mediaPeer) {
		recs := make([]any, 0, len(x.lr.recordings))
		for _, r := range x.lr.recordings {
			recs = append(recs, r.json())
		}
		r := ok()
		r["recordings"] = recs
		return r, nil
	}},
}

func ptr(b bool) *bool { return &b }

func intPtr(v *float64) *int {
	if v == nil {
		return nil
	}
	i := int(*v)
	return &i
}

// memberChange is a member method that changes the target's state and
// sends video.member.updated with the changed fields.
func memberChange(perm string, change func(*methodCtx) MemberChange) *roomMethodSpec {
	return &roomMethodSpec{member: true, perm: perm, run: func(f *Fake, x *methodCtx) (any, func() []*mediaPeer) {
		ch := change(x)
		if ch == (MemberChange{}) {
			return status("400", "Invalid params"), nil
		}
		return ok(), func() []*mediaPeer {
			f.updateLocked(x.target, ch)
			if x.lr.bots != nil {
				x.lr.bots.moderatedLocked(x.target, ch)
			}
			return nil
		}
	}}
}

// roomFlag sets locked or hide_video_muted and sends video.room.updated
// naming it (and, for hide_video_muted, the layout without the muted).
func roomFlag(perm, field string, v bool) *roomMethodSpec {
	return &roomMethodSpec{perm: perm, run: func(f *Fake, x *methodCtx) (any, func() []*mediaPeer) {
		dst := &x.lr.locked
		if field == "hide_video_muted" {
			dst = &x.lr.hideVideoMuted
		}
		if *dst == v {
			return ok(), nil
		}
		*dst = v
		return ok(), func() []*mediaPeer {
			f.broadcastLocked(x.lr, "video.room.updated", x.lr.roomUpdatedParams(field), nil)
			if field == "hide_video_muted" {
				f.broadcastLocked(x.lr, "video.layout.changed", x.lr.layoutParams(), nil)
			}
			return nil
		}
	}}
}

// removeMethod is video.member.remove: member_id "all" (removeAllMembers)
// ends the room session for everyone.
func removeMethod(f *Fake, x *methodCtx) (any, func() []*mediaPeer) {
	if x.p.MemberID == "all" {
		return ok(), func() []*mediaPeer {
			f.broadcastLocked(x.lr, "video.room.ended", x.lr.roomUpdatedParams(), nil)
			var peers []*mediaPeer
			for _, m := range slices.Clone(x.lr.members) {
				if m.Type == "member" {
					peers = append(peers, f.removeLocked(m)...)
				}
			}
			return peers
		}
	}
	return ok(), func() []*mediaPeer { return f.removeLocked(x.target) }
}

// recordingStart starts a recording: the result carries it as
// {recording:{id, state, started_at}} (core startRecording reads
// `recording` from the result), then video.recording.started and
// video.room.updated (recording) follow.
func recordingStart(f *Fake, x *methodCtx) (any, func() []*mediaPeer) {
	const maxRecordings = 100 // per session; bounded memory
	if len(x.lr.recordings) >= maxRecordings {
		return status("429", "Too many recordings"), nil
	}
	rec := &liveRecording{id: newUUID(), state: "recording", started: f.now()}
	x.lr.recordings = append(x.lr.recordings, rec)
	r := ok()
	r["recording"] = rec.json()
	return r, func() []*mediaPeer {
		f.broadcastLocked(x.lr, "video.recording.started", x.lr.recordingParams(rec), nil)
		f.broadcastLocked(x.lr, "video.room.updated", x.lr.roomUpdatedParams("recording"), nil)
		return nil
	}
}

// recordingState stops, pauses or resumes the recording recording_id and
// sends the matching video.recording.* event.
func recordingState(state, eventType string) func(*Fake, *methodCtx) (any, func() []*mediaPeer) {
	return func(f *Fake, x *methodCtx) (any, func() []*mediaPeer) {
		var rec *liveRecording
		for _, r := range x.lr.recordings {
			if r.id == x.p.RecordingID {
				rec = r
			}
		}
		if rec == nil || rec.state == "completed" {
			return status("404", "Recording not found"), nil
		}
		rec.state = state
		if state == "completed" {
			rec.ended = f.now()
		}
		return ok(), func() []*mediaPeer {
			f.broadcastLocked(x.lr, eventType, x.lr.recordingParams(rec), nil)
			if state == "completed" {
				f.broadcastLocked(x.lr, "video.room.updated", x.lr.roomUpdatedParams("recording"), nil)
			}
			return nil
		}
	}
}

// roomMethod answers one room method request.
func (c *relayConn) roomMethod(fr rpcFrame) {
	spec := roomMethods[fr.Method]
	var p methodParams
	if json.Unmarshal(fr.Params, &p) != nil || p.RoomSessionID == "" {
		c.replyError(fr.ID, codeInvalidParams, "Invalid params: room_session_id is required")
		return
	}
	if spec.member && p.MemberID == "" {
		c.replyError(fr.ID, codeInvalidParams, "Invalid params: member_id is required")
		return
	}
	f := c.f
	f.mu.Lock()
	var after func() []*mediaPeer
	var peers []*mediaPeer
	defer func() {
		f.mu.Unlock()
		closePeers(peers)
	}()
	lr := f.liveRoomByIDLocked(p.RoomSessionID)
	var caller *liveMember
	if lr != nil {
		caller = c.mainMemberLocked(lr.sessionID)
	}
	if caller == nil {
		c.reply(fr.ID, status("404", "Room session not found"))
		return
	}
	x := &methodCtx{c: c, lr: lr, caller: caller, p: p}
	perm := spec.perm
	if spec.member {
		x.target = lr.byID[p.MemberID]
		self := x.target == caller || (x.target != nil && x.target.ParentID == caller.ID)
		switch {
		case spec.perm == "remove":
			perm = "room.member.remove"
		case self:
			perm = "room.self." + spec.perm
		default:
			perm = "room.member." + spec.perm
		}
	}
	if perm != "" && !c.hasPermissionLocked(perm) {
		c.reply(fr.ID, permissionDenied())
		return
	}
	// "all" names every member for removeAllMembers only; any other
	// method needs one member that is in the room.
	if spec.member && x.target == nil && (spec.perm != "remove" || p.MemberID != "all") {
		c.reply(fr.ID, status("404", "Member not found"))
		return
	}
	var result any
	result, after = spec.run(f, x)
	c.reply(fr.ID, result)
	if after != nil {
		peers = after()
	}
}
