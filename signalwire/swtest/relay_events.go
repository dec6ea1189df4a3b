package swtest

import (
	"math"
	"strconv"
	"time"
)

// The payloads of the relay's signalwire.event frames. Field names and
// nesting follow the 3.30.0 core types (dist/core/src/types/videoMember.d.ts,
// videoRoomSession.d.ts, videoLayout.d.ts, videoRecording.d.ts, index.d.ts
// SwEvent) and the workers that read them; RELAY.md has the table.

// event is the params of one signalwire.event: {event_type, event_channel,
// timestamp (Unix seconds, fractional), params} (SwEvent in
// core/src/types/index.d.ts).
func event(eventType, channel string, now time.Time, params any) map[string]any {
	return map[string]any{
		"event_type":    eventType,
		"event_channel": channel,
		"timestamp":     float64(now.UnixMicro()) / 1e6,
		"params":        params,
	}
}

// sendEvent sends one signalwire.event request with these params.
func (c *relayConn) sendEvent(params any) {
	c.send(rpcRequest{JSONRPC: "2.0", ID: newUUID(), Method: "signalwire.event", Params: params})
}

// sendVerto sends a verto request from the relay (verto.answer, verto.bye)
// as a webrtc.message event. The SDK copies node_id into the verto params
// and routes it by params.callID (webrtc vertoEventWorker.js).
func (c *relayConn) sendVerto(method string, params map[string]any) {
	c.sendEvent(map[string]any{"event_type": "webrtc.message", "node_id": c.f.relay.nodeID, "params": map[string]any{
		"jsonrpc": "2.0", "id": newUUID(), "method": method, "params": params,
	}})
}

// memberJSON is a full member (InternalVideoMemberEntity): what
// video.member.joined, video.room.subscribed and video.members.get carry.
func (m *liveMember) json(lr *liveRoom) map[string]any {
	parent := any(nil)
	if m.ParentID != "" {
		parent = m.ParentID
	}
	return map[string]any{
		"id":                 m.ID,
		"room_id":            lr.roomID,
		"room_session_id":    lr.sessionID,
		"name":               m.Name,
		"type":               m.Type,
		"parent_id":          parent,
		"requested_position": "auto",
		"visible":            m.Visible,
		"audio_muted":        m.AudioMuted,
		"video_muted":        m.VideoMuted,
		"deaf":               m.Deaf,
		"input_volume":       m.InputVolume,
		"output_volume":      m.OutputVolume,
		"input_sensitivity":  m.InputSensitivity,
		"meta":               map[string]any{},
		"talking":            m.Talking,
		"handraised":         m.HandRaised,
	}
}

// memberParams is {room_session_id, room_id, member} of the member events
// (VideoMemberJoinedEventParams and friends).
func (lr *liveRoom) memberParams(member map[string]any) map[string]any {
	return map[string]any{"room_session_id": lr.sessionID, "room_id": lr.roomID, "member": member}
}

// sessionJSON is the room session entity (InternalVideoRoomSessionEntity,
// VideoRoomSessionContract in snake_case). withMembers adds the full member
// list, as video.room.subscribed carries it.
func (lr *liveRoom) sessionJSON(withMembers bool) map[string]any {
	recs := make([]any, 0, len(lr.recordings))
	recording := false
	for _, r := range lr.recordings {
		recs = append(recs, r.json())
		recording = recording || r.state == "recording"
	}
	s := map[string]any{
		"id":               lr.sessionID,
		"room_id":          lr.roomID,
		"room_session_id":  lr.sessionID,
		"event_channel":    lr.channel,
		"name":             lr.name,
		"display_name":     lr.displayName,
		"recording":        recording,
		"hide_video_muted": lr.hideVideoMuted,
		"locked":           lr.locked,
		"meta":             map[string]any{},
		"layout_name":      lr.layout,
		"recordings":       recs,
		"streams":          []any{},
		"playbacks":        []any{},
	}
	if withMembers {
		s["members"] = lr.membersJSON()
	}
	return s
}

// membersJSON is every member in join order, as video.room.subscribed and
// video.members.get list them.
func (lr *liveRoom) membersJSON() []any {
	ms := make([]any, 0, len(lr.members))
	for _, m := range lr.members {
		ms = append(ms, m.json(lr))
	}
	return ms
}

// roomUpdatedParams is video.room.updated (and video.room.ended):
// {room_id, room_session_id, room, room_session} (VideoRoomUpdatedEventParams),
// with updated naming the changed fields.
func (lr *liveRoom) roomUpdatedParams(updated ...string) map[string]any {
	s := lr.sessionJSON(false)
	if len(updated) > 0 {
		s["updated"] = updated
	}
	return map[string]any{"room_id": lr.roomID, "room_session_id": lr.sessionID, "room": s, "room_session": s}
}

// layoutParams is video.layout.changed: {room_session_id, room_id,
// layout:{name, room_id, room_session_id, layers:[...]}} with one layer per
// visible member, laid out in a square grid of 16:9 cells.
// (VideoLayoutChangedEventParams, InternalVideoLayoutLayer; the SDK's
// member-position worker reads layers[].member_id and position.)
func (lr *liveRoom) layoutParams() map[string]any {
	var shown []*liveMember
	for _, m := range lr.members {
		if lr.shownLocked(m) {
			shown = append(shown, m)
		}
	}
	cols := int(math.Ceil(math.Sqrt(float64(len(shown)))))
	layers := make([]any, 0, len(shown))
	for i, m := range shown {
		w := 100.0 / float64(cols)
		layers = append(layers, map[string]any{
			"member_id":    m.ID,
			"x":            float64(i%cols) * w,
			"y":            float64(i/cols) * w,
			"width":        w,
			"height":       w,
			"layer_index":  i,
			"z_index":      0,
			"position":     "standard-" + strconv.Itoa(i+1),
			"visible":      true,
			"playing_file": false,
			"reservation":  "",
		})
	}
	return map[string]any{
		"room_session_id": lr.sessionID, "room_id": lr.roomID,
		"layout": map[string]any{
			"name": lr.layout, "room_id": lr.roomID, "room_session_id": lr.sessionID, "layers": layers,
		},
	}
}

// liveRecording is one recording of a live session.
type liveRecording struct {
	id             string
	state          string // "recording", "paused", "completed"
	started, ended time.Time
}

// json is InternalVideoRecordingEntity: {id, state, duration (seconds),
// started_at, ended_at (Unix seconds)} (videoRecording.d.ts; the SDK's
// RoomSessionRecording reads these).
func (r *liveRecording) json() map[string]any {
	out := map[string]any{"id": r.id, "state": r.state, "started_at": float64(r.started.Unix())}
	if !r.ended.IsZero() {
		out["ended_at"] = float64(r.ended.Unix())
		out["duration"] = r.ended.Sub(r.started).Seconds()
	}
	return out
}

// recordingParams is video.recording.*: {room_id, room_session_id,
// recording} (VideoRecordingStartedEventParams; js videoRecordWorker.ts).
func (lr *liveRoom) recordingParams(r *liveRecording) map[string]any {
	return map[string]any{"room_id": lr.roomID, "room_session_id": lr.sessionID, "recording": r.json()}
}
