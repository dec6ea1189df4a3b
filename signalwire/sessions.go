package signalwire

import (
	"context"
	"errors"
	"net/url"
	"time"
)

// RoomSession is one run of a room, from its first member joining until it
// ends. Status is "in-progress" or "completed"; EndTime is nil while it runs.
type RoomSession struct {
	ID          string     `json:"id"`
	RoomID      string     `json:"room_id"`
	Name        string     `json:"name"`
	DisplayName string     `json:"display_name"`
	MaxMembers  int        `json:"max_members"`
	Layout      string     `json:"layout"`
	Locked      bool       `json:"locked"`
	StartTime   *time.Time `json:"start_time"`
	EndTime     *time.Time `json:"end_time"`
	Status      string     `json:"status"`
}

// ListRoomSessionsParams filters and pages GET /room_sessions. Status
// "in-progress" lists live sessions; empty fields are not sent.
type ListRoomSessionsParams struct {
	Status   string
	RoomName string
	PageSize int
	MaxPages int
}

// SessionMember is one participant of a room session as the REST API
// reports it: who and when, with no live mute or talking state (only the
// browser SDK's events carry that). Duration is in seconds.
type SessionMember struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	JoinTime  *time.Time `json:"join_time"`
	LeaveTime *time.Time `json:"leave_time"`
	Duration  int        `json:"duration"`
}

// ListRoomSessions lists room sessions (GET /room_sessions), following
// links.next within the API's origin for at most p.MaxPages pages.
func (c *Client) ListRoomSessions(ctx context.Context, p ListRoomSessionsParams) ([]RoomSession, error) {
	q := url.Values{}
	if p.Status != "" {
		q.Set("status", p.Status)
	}
	if p.RoomName != "" {
		q.Set("room_name", p.RoomName)
	}
	u, err := c.endpoint("/room_sessions", pageQuery(q, p.PageSize))
	if err != nil {
		return nil, err
	}
	return listAll[RoomSession](ctx, c, u, p.MaxPages)
}

// ListRoomSessionMembers lists the members of one room session
// (GET /room_sessions/{id}/members), all pages up to DefaultMaxPages.
func (c *Client) ListRoomSessionMembers(ctx context.Context, sessionID string) ([]SessionMember, error) {
	if sessionID == "" {
		return nil, errors.New("signalwire: ListRoomSessionMembers: empty session id")
	}
	u, err := c.endpoint("/room_sessions/"+url.PathEscape(sessionID)+"/members", nil)
	if err != nil {
		return nil, err
	}
	return listAll[SessionMember](ctx, c, u, 0)
}
