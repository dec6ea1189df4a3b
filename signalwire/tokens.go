package signalwire

import (
	"context"
	"errors"
	"net/http"
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
	u, err := c.endpoint("/room_tokens", nil)
	if err != nil {
		return "", err
	}
	req, err := c.newRequest(http.MethodPost, u, p)
	if err != nil {
		return "", err
	}
	var out struct {
		Token string `json:"token"`
	}
	if err := c.do(ctx, req, &out); err != nil {
		return "", err
	}
	if out.Token == "" {
		return "", &TransportError{Method: http.MethodPost, Path: "/room_tokens",
			Err: errors.New("response has no token"), decode: true}
	}
	return out.Token, nil
}
