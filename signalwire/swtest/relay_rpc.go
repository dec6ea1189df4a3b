package swtest

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
)

// JSON-RPC 2.0 error codes the relay answers with. The numeric error object
// {code, message} is the shape parseRPCResponse passes through
// (signalwire/signalwire-js packages/core/src/utils/parseRPCResponse.test.ts,
// "should handle the error": code -32601).
const (
	codeParseError     = -32700 // not JSON
	codeInvalidRequest = -32600 // JSON but not a request
	codeMethodNotFound = -32601
	codeInvalidParams  = -32602
	// codeAuthFailed is what signalwire.connect answers for a token the
	// relay does not accept (parseRPCResponse.test.ts "signalwire.connect
	// failure", packages/js/src/createClient.test.ts).
	codeAuthFailed = -32002
)

// authFailedMessage is SignalWire's text for a refused token, from the same
// two tests.
const authFailedMessage = "Authentication service failed with status ProtocolError, 401 Unauthorized: {}"

// rpcFrame is any frame on the socket; which fields are present decides
// whether it is a request (method), or a response (result or error) such as
// the SDK's ack of an event.
type rpcFrame struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   json.RawMessage `json:"error,omitempty"`
}

type rpcResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// rpcRequest is a request the relay sends (signalwire.event).
type rpcRequest struct {
	JSONRPC string `json:"jsonrpc"`
	ID      string `json:"id"`
	Method  string `json:"method"`
	Params  any    `json:"params"`
}

var jsonNull = json.RawMessage("null")

func (c *relayConn) reply(id json.RawMessage, result any) {
	c.send(rpcResponse{JSONRPC: "2.0", ID: id, Result: result})
}

func (c *relayConn) replyError(id json.RawMessage, code int, msg string) {
	if len(id) == 0 {
		id = jsonNull
	}
	c.send(rpcResponse{JSONRPC: "2.0", ID: id, Error: &rpcError{Code: code, Message: msg}})
}

// status is the {code, message} result of a Blade request: code "200"
// resolves the SDK's promise; any code outside 2xx rejects it with this
// object (core parseResponse; parseRPCResponse.test.ts "should handle the
// error code within result" shows {"code":"-32001","message":"Permission
// Denied."}).
func status(code, msg string) map[string]any {
	return map[string]any{"code": code, "message": msg}
}

// permissionDenied is the result of a room method the token does not allow.
func permissionDenied() map[string]any { return status("-32001", "Permission Denied.") }

// validID reports whether id is a JSON string or number, as JSON-RPC
// requires of a request that expects an answer.
func validID(id json.RawMessage) bool {
	id = bytes.TrimSpace(id)
	if len(id) == 0 {
		return false
	}
	return id[0] == '"' || id[0] == '-' || (id[0] >= '0' && id[0] <= '9')
}

// handle answers one frame. Every request gets exactly one answer; frames
// that are responses (the SDK's event acks) get none.
func (c *relayConn) handle(data []byte) {
	if !json.Valid(data) {
		c.replyError(nil, codeParseError, "Parse error")
		return
	}
	var fr rpcFrame
	if err := json.Unmarshal(data, &fr); err != nil {
		c.replyError(nil, codeInvalidRequest, "Invalid Request: not an object")
		return
	}
	if fr.Method == "" {
		if fr.Result != nil || fr.Error != nil {
			return // an ack of an event the relay sent; needs no reply
		}
		c.replyError(fr.ID, codeInvalidRequest, "Invalid Request: no method")
		return
	}
	if fr.JSONRPC != "2.0" || !validID(fr.ID) {
		id := fr.ID
		if !validID(id) {
			id = nil
		}
		c.replyError(id, codeInvalidRequest, "Invalid Request: jsonrpc must be \"2.0\" and id a string or number")
		return
	}
	switch fr.Method {
	case "signalwire.connect", "signalwire.reauthenticate":
		c.connect(fr)
		return
	case "signalwire.ping":
		// The SDK answers the relay's pings and sends none of its own
		// (core BaseSession._pingHandler); answer one anyway.
		c.reply(fr.ID, map[string]any{})
		return
	}
	c.f.mu.Lock()
	authed := c.claims != nil
	c.f.mu.Unlock()
	if !authed {
		// The SDK sends nothing before connect has resolved (BaseSession
		// queues requests until then), so the source is silent here.
		c.replyError(fr.ID, codeAuthFailed, "Authentication required: send signalwire.connect first")
		return
	}
	switch {
	case fr.Method == "video.message" || fr.Method == "webrtc.verto":
		c.vertoMessage(fr)
	case roomMethods[fr.Method] != nil:
		c.roomMethod(fr)
	default:
		c.replyError(fr.ID, codeMethodNotFound, "Method not found: "+fr.Method)
	}
}

// connectParams is what signalwire.connect carries (core RPCConnect and
// JWTSession.authenticate): {version, event_acks, agent,
// authentication:{jwt_token}, protocol?, authorization_state?}.
// signalwire.reauthenticate carries {project, jwt_token} directly.
type connectParams struct {
	Authentication struct {
		JWTToken string `json:"jwt_token"`
	} `json:"authentication"`
	JWTToken string `json:"jwt_token"`
}

// connect answers signalwire.connect (and signalwire.reauthenticate) with
// the authorization the token's grants imply, or error -32002 for a token
// this Fake did not issue.
func (c *relayConn) connect(fr rpcFrame) {
	var p connectParams
	if json.Unmarshal(fr.Params, &p) != nil {
		c.replyError(fr.ID, codeInvalidParams, "Invalid params")
		return
	}
	tok := p.Authentication.JWTToken
	if tok == "" {
		tok = p.JWTToken
	}
	claims, err := c.f.VerifyToken(tok)
	if err != nil {
		c.replyError(fr.ID, codeAuthFailed, authFailedMessage)
		return
	}
	f := c.f
	f.mu.Lock()
	if fr.Method == "signalwire.connect" && c.claims != nil {
		f.mu.Unlock()
		c.replyError(fr.ID, codeInvalidRequest, "Invalid Request: already connected")
		return
	}
	if c.claims != nil && c.claims.RoomName != claims.RoomName {
		f.mu.Unlock()
		c.replyError(fr.ID, codeAuthFailed, authFailedMessage)
		return
	}
	c.claims = &claims
	display := claims.RoomName
	if rm := f.roomsByName[claims.RoomName]; rm != nil {
		display = rm.DisplayName
	}
	project := f.projectKey
	f.mu.Unlock()
	c.reply(fr.ID, connectResult(claims, display, project))
}

// connectResult is the result of signalwire.connect, shaped like core's
// testUtils rpcConnectResultVRT (core/dist/index.esm.js) and
// parseRPCResponse.test.ts "signalwire.connect success".
func connectResult(c TokenClaims, roomDisplay, project string) map[string]any {
	audio, video := allowed(c.JoinAs, c.MediaAllowed)
	sig := randomHex(32)
	scopes := c.Permissions
	if scopes == nil {
		scopes = []string{}
	}
	return map[string]any{
		"identity": newUUID() + "@" + newUUID() + ".fake-relay",
		"authorization": map[string]any{
			"type":       "video", // join's media checks need it (js RoomSession.join)
			"project_id": project,
			"project":    project,
			"scopes":     []string{"video"},
			"scope_id":   newUUID(),
			"resource":   c.ID,
			"join_as":    c.JoinAs,
			"user_name":  c.UserName,
			"room": map[string]any{
				"name": c.RoomName, "display_name": roomDisplay, "scopes": scopes, "meta": map[string]any{},
			},
			"signature":        sig,
			"media_allowed":    c.MediaAllowed,
			"audio_allowed":    audio,
			"video_allowed":    video,
			"join_audio_muted": c.JoinAudioMuted,
			"join_video_muted": c.JoinVideoMuted,
			"auto_create_room": c.AutoCreateRoom,
			"meta":             map[string]any{},
		},
		// The SDK keeps the protocol and checks that its second "_" field
		// is the signature (BaseSession._relayProtocolIsValid).
		"protocol":    "signalwire_" + sig + "_" + newUUID() + "_" + project,
		"ice_servers": []any{},
	}
}

// allowed maps join_as and media_allowed to audio_allowed and
// video_allowed ("both", "receive" or "none"), the values js
// src/utils/roomSession.ts getJoinMediaParams reads. The mapping is this
// fake's reading of the REST fields; the SDK source shows only the values.
func allowed(joinAs, media string) (audio, video string) {
	send := "both"
	if joinAs == "audience" {
		send = "receive"
	}
	audio, video = send, send
	switch media {
	case "video-only":
		audio = "none"
	case "audio-only":
		video = "none"
	}
	return audio, video
}

// hasPermissionLocked reports whether the connection's token grants perm (its
// "s" claim, answered as authorization.room.scopes).
func (c *relayConn) hasPermissionLocked(perm string) bool {
	return c.claims != nil && slices.Contains(c.claims.Permissions, perm)
}

// subscribedLocked reports whether the browser asked for this event type
// in its invite's subscribe list. The relay sends only subscribed events;
// webrtc.message always goes.
func (c *relayConn) subscribedLocked(eventType string) bool {
	if eventType == "webrtc.message" || eventType == "video.room.subscribed" {
		return true
	}
	return c.subs[eventType] || c.subs[strings.TrimPrefix(eventType, "video.")]
}
