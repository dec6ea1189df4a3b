package signalwire

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"
)

// JoinAs says how a token's holder joins: as a member (sends media) or as
// audience (watches; gets no permissions whatever the token asks for).
type JoinAs string

// The two ways to join a room session.
const (
	JoinAsMember   JoinAs = "member"
	JoinAsAudience JoinAs = "audience"
)

// RoomTokenParams is the body of POST /room_tokens. The booleans are
// pointers because their zero value means something: auto_create_room
// defaults to true on the server, so false must be sent explicitly (send it
// when the server has already ensured the room).
type RoomTokenParams struct {
	RoomName                  string         `json:"room_name"`
	UserName                  string         `json:"user_name,omitempty"` // at most 100 characters
	Permissions               []Permission   `json:"permissions,omitempty"`
	JoinAs                    JoinAs         `json:"join_as,omitempty"`
	AutoCreateRoom            *bool          `json:"auto_create_room,omitempty"`
	JoinAudioMuted            *bool          `json:"join_audio_muted,omitempty"`
	JoinVideoMuted            *bool          `json:"join_video_muted,omitempty"`
	EndRoomSessionOnLeave     *bool          `json:"end_room_session_on_leave,omitempty"`
	MediaAllowed              string         `json:"media_allowed,omitempty"` // "all", "video-only", "audio-only"
	RemoveAfterSecondsElapsed int            `json:"remove_after_seconds_elapsed,omitempty"`
	Meta                      map[string]any `json:"meta,omitempty"`
}

// CreateRoomToken asks for a room token (POST /room_tokens) and returns it.
// The token is a secret bearer credential for the browser: hand it to the
// one user it names and never log it. The call is retried on 429/5xx; a
// second token issued by a retry is harmless.
func (c *Client) CreateRoomToken(ctx context.Context, p RoomTokenParams) (string, error) {
	req, err := c.newRequest(http.MethodPost, c.tokensURL, p)
	if err != nil {
		return "", err
	}
	var out tokenAnswer
	if err := c.do(ctx, req, &out); err != nil {
		return "", err
	}
	if out.Token == "" {
		return "", &TransportError{Method: http.MethodPost, Path: "/room_tokens",
			Err: errors.New("response has no token"), decode: true}
	}
	return out.Token, nil
}

// appendJSON appends p as the JSON value encoding/json makes of it, field
// for field and omitempty as tagged (FuzzRoomTokenParamsJSON holds it to
// that), without reflection: every join sends one. Strings are quoted by
// jsontext, which leaves <, > and & as they are (encoding/json escapes
// them): the same value for SignalWire, not the same bytes. Meta, a map
// of anything, is left to encoding/json.
func (p RoomTokenParams) appendJSON(b []byte) ([]byte, bool) {
	if len(p.Meta) > 0 {
		return b, false
	}
	str := func(b []byte, key, v string) []byte {
		b = append(append(append(b, ',', '"'), key...), '"', ':')
		b, _ = jsontext.AppendQuote(b, v) // invalid UTF-8 becomes U+FFFD, as encoding/json does
		return b
	}
	boolean := func(b []byte, key string, v *bool) []byte {
		if v == nil {
			return b
		}
		return strconv.AppendBool(append(append(append(b, ',', '"'), key...), '"', ':'), *v)
	}
	b = append(b, `{"room_name":`...)
	b, _ = jsontext.AppendQuote(b, p.RoomName)
	if p.UserName != "" {
		b = str(b, "user_name", p.UserName)
	}
	if len(p.Permissions) > 0 {
		b = append(b, `,"permissions":[`...)
		for i, perm := range p.Permissions {
			if i > 0 {
				b = append(b, ',')
			}
			b, _ = jsontext.AppendQuote(b, string(perm))
		}
		b = append(b, ']')
	}
	if p.JoinAs != "" {
		b = str(b, "join_as", string(p.JoinAs))
	}
	b = boolean(b, "auto_create_room", p.AutoCreateRoom)
	b = boolean(b, "join_audio_muted", p.JoinAudioMuted)
	b = boolean(b, "join_video_muted", p.JoinVideoMuted)
	b = boolean(b, "end_room_session_on_leave", p.EndRoomSessionOnLeave)
	if p.MediaAllowed != "" {
		b = str(b, "media_allowed", p.MediaAllowed)
	}
	if p.RemoveAfterSecondsElapsed != 0 {
		b = strconv.AppendInt(append(b, `,"remove_after_seconds_elapsed":`...), int64(p.RemoveAfterSecondsElapsed), 10)
	}
	return append(b, '}'), true
}

// tokenAnswer is the answer of POST /room_tokens.
type tokenAnswer struct {
	Token string `json:"token"`
}

// decodeBody reads {"token":"..."}, the answer SignalWire sends, directly
// when the token needs no unescaping (a JWT is base64url and dots); any
// other shape goes to encoding/json, which then decides as it always has.
// A token is about a kilobyte: encoding/json would scan it twice.
func (a *tokenAnswer) decodeBody(body []byte) error {
	if tok, ok := plainTokenAnswer(body); ok {
		a.Token = tok
		return nil
	}
	return json.Unmarshal(body, a)
}

// plainTokenAnswer matches `{"token":"T"}`, JSON whitespace allowed between
// tokens, with T only printable ASCII but a quote or a backslash, which JSON
// decodes to itself.
func plainTokenAnswer(b []byte) (string, bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return "", false
	}
	i = skipSpace(b, i+1)
	if !bytes.HasPrefix(b[i:], []byte(`"token"`)) {
		return "", false
	}
	i = skipSpace(b, i+len(`"token"`))
	if i >= len(b) || b[i] != ':' {
		return "", false
	}
	i = skipSpace(b, i+1)
	if i >= len(b) || b[i] != '"' {
		return "", false
	}
	start := i + 1
	n := bytes.IndexByte(b[start:], '"')
	if n < 0 {
		return "", false
	}
	for _, c := range b[start : start+n] {
		if c < 0x20 || c > 0x7e || c == '\\' {
			return "", false
		}
	}
	i = skipSpace(b, start+n+1)
	if i >= len(b) || b[i] != '}' || skipSpace(b, i+1) != len(b) {
		return "", false
	}
	return string(b[start : start+n]), true
}

// skipSpace skips JSON's whitespace from i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
