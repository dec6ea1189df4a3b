package signalwire

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Room is a video room as the API returns it.
type Room struct {
	ID                 string    `json:"id"`
	Name               string    `json:"name"`
	DisplayName        string    `json:"display_name"`
	Description        string    `json:"description"`
	MaxMembers         int       `json:"max_members"`
	Quality            string    `json:"quality"`
	Layout             string    `json:"layout"`
	RecordOnStart      bool      `json:"record_on_start"`
	EnableRoomPreviews bool      `json:"enable_room_previews"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

// CreateRoomParams is the body of POST /rooms. Empty fields are left out so
// that SignalWire's defaults apply (max_members 20, layout grid-responsive,
// display_name = name); the booleans are pointers so that an explicit false
// is sent. The demo's max_participants and delete_on_end are not API fields
// and have no counterpart here.
type CreateRoomParams struct {
	Name               string         `json:"name"`
	DisplayName        string         `json:"display_name,omitempty"`
	Description        string         `json:"description,omitempty"`
	MaxMembers         int            `json:"max_members,omitempty"` // 1-300
	Quality            string         `json:"quality,omitempty"`     // "720p" or "1080p"
	Layout             string         `json:"layout,omitempty"`      // e.g. "grid-responsive"
	RecordOnStart      *bool          `json:"record_on_start,omitempty"`
	EnableRoomPreviews *bool          `json:"enable_room_previews,omitempty"`
	Meta               map[string]any `json:"meta,omitempty"`
}

// ListParams pages through a list. PageSize 0 leaves the size to the
// server (at most 1000 is sent); MaxPages 0 means DefaultMaxPages. A list
// with more pages than MaxPages is returned truncated, without an error.
type ListParams struct {
	PageSize int
	MaxPages int
}

// Bool returns a pointer to v, for the optional booleans of the params
// structs (Bool(false) sends false; nil sends nothing).
func Bool(v bool) *bool { return &v }

// CreateRoom creates a room (POST /rooms). A name that is taken is an
// *APIError (most likely a 422 on "name"); EnsureRoom handles that case.
func (c *Client) CreateRoom(ctx context.Context, p CreateRoomParams) (*Room, error) {
	u, err := c.endpoint("/rooms", nil)
	if err != nil {
		return nil, err
	}
	req, err := c.newRequest(http.MethodPost, u, p)
	if err != nil {
		return nil, err
	}
	var room Room
	if err := c.do(ctx, req, &room); err != nil {
		return nil, err
	}
	return &room, nil
}

// GetRoom fetches one room by name or id (GET /rooms/{name_or_id}); a
// missing room is an *APIError for which IsNotFound is true.
func (c *Client) GetRoom(ctx context.Context, nameOrID string) (*Room, error) {
	if nameOrID == "" {
		// "GET /rooms/" would be the list; refuse rather than misread it.
		return nil, errors.New("signalwire: GetRoom: empty room name")
	}
	u, err := c.endpoint("/rooms/"+url.PathEscape(nameOrID), nil)
	if err != nil {
		return nil, err
	}
	req, err := c.newRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	var room Room
	if err := c.do(ctx, req, &room); err != nil {
		return nil, err
	}
	return &room, nil
}

// ListRooms lists rooms (GET /rooms), following links.next within the API's
// origin for at most p.MaxPages pages.
func (c *Client) ListRooms(ctx context.Context, p ListParams) ([]Room, error) {
	u, err := c.endpoint("/rooms", pageQuery(nil, p.PageSize))
	if err != nil {
		return nil, err
	}
	return listAll[Room](ctx, c, u, p.MaxPages)
}

// EnsureRoom returns the room named p.Name, creating it if needed, with
// DisplayName defaulting to the name. SignalWire's answer to a duplicate
// name is undocumented, so any 422 or 409 from POST /rooms is checked with
// GET /rooms/{name}: a room found there is returned; when there is none, the
// original error is (it was a real validation problem). POST /rooms is
// retried on 429/5xx like every call, and a retry that lands after a
// successful first attempt is resolved the same way.
func (c *Client) EnsureRoom(ctx context.Context, p CreateRoomParams) (*Room, error) {
	if p.DisplayName == "" {
		p.DisplayName = p.Name
	}
	room, err := c.CreateRoom(ctx, p)
	if err == nil {
		return room, nil
	}
	var apiErr *APIError
	if p.Name == "" || !errors.As(err, &apiErr) ||
		(apiErr.StatusCode != http.StatusUnprocessableEntity && apiErr.StatusCode != http.StatusConflict) {
		return nil, err
	}
	existing, getErr := c.GetRoom(ctx, p.Name)
	switch {
	case getErr == nil:
		return existing, nil
	case IsNotFound(getErr):
		return nil, err
	default:
		// We could not confirm either way; report why (a 422 here would
		// wrongly suggest the name is invalid).
		return nil, getErr
	}
}

// Ping checks that the space answers and accepts the credentials, with the
// cheapest authenticated call there is (GET /rooms?page_size=1). Use it at
// startup: IsUnauthorized(err) means a wrong project key or token.
func (c *Client) Ping(ctx context.Context) error {
	u, err := c.endpoint("/rooms", pageQuery(nil, 1))
	if err != nil {
		return err
	}
	req, err := c.newRequest(http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	var page listPage[Room]
	return c.do(ctx, req, &page)
}

// pageQuery adds page_size (clamped to the documented maximum) to q.
func pageQuery(q url.Values, size int) url.Values {
	if size <= 0 {
		return q
	}
	if q == nil {
		q = url.Values{}
	}
	q.Set("page_size", strconv.Itoa(min(size, maxPageSize)))
	return q
}
