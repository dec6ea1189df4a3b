package swtest

import (
	"context"
	"encoding/json"
)

// video.message carries verto, the call protocol of SignalWire's media
// servers, inside Blade's JSON-RPC (webrtc BaseConnection.vertoExecute;
// webrtc.verto only for SAT tokens). Its params are {message, callID?,
// node_id?, subscribe?}; message is a verto request (verto.invite,
// verto.bye, verto.modify) or the SDK's result for a verto request the
// relay sent (verto.answer, verto.bye), which it must answer as well.

// maxCallsPerConn bounds the calls (each a pion peer) one browser may
// hold: its room call plus screen shares and extra devices.
const maxCallsPerConn = 8

// vertoParams is video.message's params.
type vertoParams struct {
	Message   json.RawMessage `json:"message"`
	CallID    string          `json:"callID"`
	NodeID    string          `json:"node_id"`
	Subscribe []string        `json:"subscribe"`
}

// dialog is the params of verto.invite, verto.modify and verto.bye:
// {dialogParams:{callID, screenShare, additionalDevice, userVariables, ...},
// sdp, action} (core VertoInvite/filterVertoParams maps dialogParams.id to
// callID; webrtc BaseConnection.dialogParams lists the rest).
type dialog struct {
	DialogParams struct {
		CallID           string `json:"callID"`
		ScreenShare      bool   `json:"screenShare"`
		AdditionalDevice bool   `json:"additionalDevice"`
		CallerName       string `json:"caller_id_name"`
		UserVariables    struct {
			MemberID string `json:"memberId"`
		} `json:"userVariables"`
	} `json:"dialogParams"`
	SDP    string `json:"sdp"`
	Action string `json:"action"`
	Cause  string `json:"cause"`
}

// bladeResult wraps a verto response the way the relay answers
// video.message: {code:"200", message, node_id, result:<verto response>}
// (parseRPCResponse.test.ts "should handle Verto result over Blade").
func (c *relayConn) bladeResult(id json.RawMessage, verto any) {
	c.reply(id, map[string]any{
		"code": "200", "message": "Message sent successfully",
		"node_id": c.f.relay.nodeID, "result": verto,
	})
}

// vertoOK is a verto success response to request vid.
func vertoOK(vid json.RawMessage, result map[string]any) map[string]any {
	return map[string]any{"jsonrpc": "2.0", "id": vid, "result": result}
}

// vertoErr is a verto error response; the SDK rejects with its error
// object (parseRPCResponse.test.ts "should handle Verto error over Blade":
// {message, callID, code} with a string code).
func vertoErr(vid json.RawMessage, callID, code, msg string) map[string]any {
	return map[string]any{"jsonrpc": "2.0", "id": vid,
		"error": map[string]any{"code": code, "message": msg, "callID": callID}}
}

// vertoMessage answers one video.message.
func (c *relayConn) vertoMessage(fr rpcFrame) {
	var p vertoParams
	if json.Unmarshal(fr.Params, &p) != nil || len(p.Message) == 0 {
		c.replyError(fr.ID, codeInvalidParams, "Invalid params: message is required")
		return
	}
	var msg rpcFrame
	if json.Unmarshal(p.Message, &msg) != nil {
		c.replyError(fr.ID, codeInvalidParams, "Invalid params: message is not a JSON-RPC object")
		return
	}
	if msg.Method == "" {
		// The SDK's result for our verto.answer or verto.bye
		// (vertoEventWorker.js sends VertoResult(id, method)); Blade
		// answers it like any request.
		c.reply(fr.ID, status("200", "Message sent successfully"))
		return
	}
	var d dialog
	if json.Unmarshal(msg.Params, &d) != nil || d.DialogParams.CallID == "" {
		c.bladeResult(fr.ID, vertoErr(msg.ID, "", "-32602", "Invalid params: dialogParams.callID is required"))
		return
	}
	switch msg.Method {
	case "verto.invite":
		c.invite(fr.ID, msg.ID, d, p.Subscribe)
	case "verto.bye":
		c.bye(fr.ID, msg.ID, d)
	case "verto.modify":
		c.modify(fr.ID, msg.ID, d)
	default:
		c.bladeResult(fr.ID, vertoErr(msg.ID, d.DialogParams.CallID, "-32601", "Method not found: "+msg.Method))
	}
}

// invite joins the caller's room: checks the room (exists, not locked, not
// full; screen shares need room.self.screenshare), answers the offer with
// pion, then sends in order: the invite's result {message:"CALL CREATED",
// callID}, webrtc.message verto.answer {callID, sdp}, video.room.subscribed
// to the joiner, and video.member.joined and video.layout.changed to the
// others.
func (c *relayConn) invite(id, vid json.RawMessage, d dialog, subscribe []string) {
	f := c.f
	callID := d.DialogParams.CallID
	typ := "member"
	switch {
	case d.DialogParams.ScreenShare:
		typ = "screen"
	case d.DialogParams.AdditionalDevice:
		typ = "device"
	}
	if d.SDP == "" {
		c.bladeResult(id, vertoErr(vid, callID, "-32602", "Invalid params: sdp is required"))
		return
	}

	// check decides under Fake.mu whether the call may join now; it runs
	// before the (slow) WebRTC answer and again after it.
	check := func(create bool) (*liveRoom, *liveMember, string) {
		if c.calls[callID] != nil {
			return nil, nil, "Call already exists"
		}
		if len(c.calls) >= maxCallsPerConn {
			return nil, nil, "Too many calls on this connection"
		}
		var parent *liveMember
		if typ != "member" {
			perm := "room.self.screenshare"
			if typ == "device" {
				perm = "room.self.additional_source"
			}
			if !c.hasPermissionLocked(perm) {
				return nil, nil, "Permission Denied."
			}
			for _, m := range c.calls {
				if m.Type == "member" && (d.DialogParams.UserVariables.MemberID == "" || m.ID == d.DialogParams.UserVariables.MemberID) {
					parent = m
				}
			}
			if parent == nil {
				return nil, nil, "Unknown parent member"
			}
			return parent.room, parent, ""
		}
		if !create && f.relay.live[c.claims.RoomName] == nil {
			// Nobody is in: the room only has to exist (or be creatable).
			if f.roomsByName[c.claims.RoomName] == nil && !c.claims.AutoCreateRoom {
				return nil, nil, joinError(ErrRoomNotFound)
			}
			return nil, nil, ""
		}
		lr, err := f.liveRoomLocked(c.claims.RoomName, true, c.claims.AutoCreateRoom)
		if err == nil {
			err = lr.admitLocked(typ)
		}
		if err != nil {
			if lr != nil && len(lr.members) == 0 {
				f.discardLocked(lr) // do not leave an empty session behind
			}
			return nil, nil, joinError(err)
		}
		return lr, nil, ""
	}

	f.mu.Lock()
	_, _, why := check(false)
	f.mu.Unlock()
	if why != "" {
		c.bladeResult(id, vertoErr(vid, callID, "403", why))
		return
	}

	ctx, cancel := context.WithTimeout(c.ctx, relayTimeout)
	peer, answer, err := f.answer(ctx, d.SDP)
	cancel()
	if err != nil {
		c.bladeResult(id, vertoErr(vid, callID, "488", "Not acceptable here: "+err.Error()))
		return
	}

	f.mu.Lock()
	lr, parent, why := check(true)
	if why != "" {
		f.mu.Unlock()
		peer.close()
		c.bladeResult(id, vertoErr(vid, callID, "403", why))
		return
	}
	name := c.claims.UserName
	if d.DialogParams.CallerName != "" && typ != "member" {
		name = d.DialogParams.CallerName
	}
	m := f.newLiveMember(lr, name, typ)
	m.conn, m.callID, m.peer, m.Browser = c, callID, peer, true
	if typ == "member" {
		m.AudioMuted, m.VideoMuted = c.claims.JoinAudioMuted, c.claims.JoinVideoMuted
		for _, s := range subscribe {
			c.subs[s] = true
		}
	} else {
		m.ParentID = parent.ID
	}
	f.addLocked(m)

	c.bladeResult(id, vertoOK(vid, map[string]any{"message": "CALL CREATED", "callID": callID}))
	c.sendVerto("verto.answer", map[string]any{"callID": callID, "sdp": answer})
	now := f.now()
	if typ == "member" {
		// call_id must be the invite's callID: the roomSubscribedWorker
		// takes the first video.room.subscribed whose call_id is its own
		// RTCPeer's id, and join() resolves on it.
		s := lr.sessionJSON(true)
		c.eventLocked("video.room.subscribed", lr.channel, now, map[string]any{
			"call_id": callID, "member_id": m.ID, "room_session": s, "room": s,
		})
		f.joinedLocked(m, c)
	} else {
		// The owner's childMemberJoinedWorker waits for this event with
		// parent_id = its member id, so the owner hears it too.
		f.joinedLocked(m, nil)
	}
	f.broadcastLocked(lr, "video.layout.changed", lr.layoutParams(), nil)
	if typ == "member" {
		f.startBotsLocked(lr) // WithBots: the session's first browser brings them
	}
	f.mu.Unlock()
}

// bye ends one of the connection's calls at the browser's request
// (room.leave(), a stopped screen share): answer {callID, message:"CALL
// ENDED"}, then the member leaves.
func (c *relayConn) bye(id, vid json.RawMessage, d dialog) {
	f := c.f
	callID := d.DialogParams.CallID
	f.mu.Lock()
	m := c.calls[callID]
	var peers []*mediaPeer
	if m != nil {
		peers = f.leaveLocked(m, false)
	}
	f.mu.Unlock()
	closePeers(peers)
	c.bladeResult(id, vertoOK(vid, map[string]any{"callID": callID, "message": "CALL ENDED"}))
}

// modify renegotiates a call: action "updateMedia" with a new offer gets
// {callID, action, sdp} with pion's answer (webrtc
// BaseConnection.executeUpdateMedia reads response.sdp); "hold" and
// "unhold" get {callID, action, holdState}.
func (c *relayConn) modify(id, vid json.RawMessage, d dialog) {
	f := c.f
	callID := d.DialogParams.CallID
	f.mu.Lock()
	m := c.calls[callID]
	var peer *mediaPeer
	if m != nil {
		peer = m.peer
	}
	f.mu.Unlock()
	if m == nil {
		c.bladeResult(id, vertoErr(vid, callID, "404", "Call not found"))
		return
	}
	switch d.Action {
	case "hold", "unhold":
		state := "held"
		if d.Action == "unhold" {
			state = "active"
		}
		c.bladeResult(id, vertoOK(vid, map[string]any{"callID": callID, "action": d.Action, "holdState": state}))
	case "updateMedia":
		if d.SDP == "" || peer == nil {
			c.bladeResult(id, vertoErr(vid, callID, "-32602", "Invalid params: sdp is required"))
			return
		}
		ctx, cancel := context.WithTimeout(c.ctx, relayTimeout)
		answer, err := peer.renegotiate(ctx, d.SDP)
		cancel()
		if err != nil {
			c.bladeResult(id, vertoErr(vid, callID, "488", "Not acceptable here: "+err.Error()))
			return
		}
		c.bladeResult(id, vertoOK(vid, map[string]any{"callID": callID, "action": d.Action, "sdp": answer}))
	default:
		c.bladeResult(id, vertoErr(vid, callID, "-32602", "Invalid params: unknown action "+d.Action))
	}
}

// hangupLocked ends a browser's call from the relay's side, as when a
// moderator removes the member: webrtc.message verto.bye {callID, cause,
// causeCode}. The SDK hangs up that RTCPeer, which destroys the room
// session and emits room.left (webrtc BaseConnection.onVertoBye; js
// video/RoomSession.ts), then answers with a verto result.
func (c *relayConn) hangupLocked(callID string) {
	c.sendVerto("verto.bye", map[string]any{"callID": callID, "cause": "NORMAL_CLEARING", "causeCode": "16"})
}
