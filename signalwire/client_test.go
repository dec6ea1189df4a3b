package signalwire_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swrooms/swrooms/signalwire"
	"github.com/swrooms/swrooms/signalwire/swtest"
)

// roundTripFunc lets a test see requests without any network.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNewClient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, space string
		opts        []signalwire.Option
		wantURL     string // URL of Ping; "" when NewClient must fail
		wantErr     string // part of the error
	}{
		{"a bare host becomes an https URL", "example.signalwire.com", nil, "https://example.signalwire.com/api/video/rooms?page_size=1", ""},
		{"a bare host with a port keeps it", "example.signalwire.com:8443", nil, "https://example.signalwire.com:8443/api/video/rooms?page_size=1", ""},
		{"an https URL is used as is", "https://example.signalwire.com", nil, "https://example.signalwire.com/api/video/rooms?page_size=1", ""},
		{"an https URL ending in /api/video is not doubled", "https://example.signalwire.com/api/video/", nil, "https://example.signalwire.com/api/video/rooms?page_size=1", ""},
		{"spaces around the space are trimmed", "  example.signalwire.com\n", nil, "https://example.signalwire.com/api/video/rooms?page_size=1", ""},
		{"http on 127.0.0.1 is allowed", "http://127.0.0.1:8089", nil, "http://127.0.0.1:8089/api/video/rooms?page_size=1", ""},
		{"http on 127.1.2.3 is allowed", "http://127.1.2.3", nil, "http://127.1.2.3/api/video/rooms?page_size=1", ""},
		{"http on localhost is allowed", "http://localhost:8089", nil, "http://localhost:8089/api/video/rooms?page_size=1", ""},
		{"http on ::1 is allowed", "http://[::1]:8089", nil, "http://[::1]:8089/api/video/rooms?page_size=1", ""},
		{"WithBaseURL is the API root and the space may be empty", "", []signalwire.Option{signalwire.WithBaseURL("http://127.0.0.1:9/x/api/video")}, "http://127.0.0.1:9/x/api/video/rooms?page_size=1", ""},

		{"an empty space is rejected", " ", nil, "", "space is empty"},
		{"http to a remote host is rejected", "http://example.signalwire.com", nil, "", "must use https"},
		{"http to a private address is rejected", "http://10.0.0.5:8080", nil, "", "must use https"},
		{"another scheme is rejected", "ftp://example.signalwire.com", nil, "", "must use https"},
		{"a bare host with a path is rejected", "example.signalwire.com/api", nil, "", "not a valid host"},
		{"a bare host with credentials is rejected", key + ":" + token + "@example.signalwire.com", nil, "", "not a valid host"},
		{"a URL with credentials is rejected", "https://" + key + ":" + token + "@example.signalwire.com", nil, "", "must not contain credentials"},
		{"a URL with a query is rejected", "https://example.signalwire.com?x=1", nil, "", "query"},
		{"WithBaseURL over http to a remote host is rejected", "", []signalwire.Option{signalwire.WithBaseURL("http://example.com/api/video")}, "", "must use https"},
		{"a zero timeout is rejected", "example.signalwire.com", []signalwire.Option{signalwire.WithTimeout(0)}, "", "timeout"},
		{"zero attempts are rejected", "example.signalwire.com", []signalwire.Option{signalwire.WithRetry(0, 0, 0)}, "", "maxAttempts"},
		{"a max delay below the base delay is rejected", "example.signalwire.com", []signalwire.Option{signalwire.WithRetry(2, time.Second, time.Millisecond)}, "", "baseDelay"},
		{"a nil HTTP client is rejected", "example.signalwire.com", []signalwire.Option{signalwire.WithHTTPClient(nil)}, "", "nil"},
		{"a nil logger is rejected", "example.signalwire.com", []signalwire.Option{signalwire.WithLogger(nil)}, "", "nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				got = r.URL.String()
				return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(`{"links":{},"data":[]}`)), Header: http.Header{}}, nil
			})}
			opts := append([]signalwire.Option{signalwire.WithHTTPClient(hc)}, tt.opts...)
			c, err := signalwire.NewClient(tt.space, key, token, opts...)
			seen(err)
			if tt.wantURL == "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error: got %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewClient: %v", err)
			}
			if err := seen(c.Ping(t.Context())); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			if got != tt.wantURL {
				t.Errorf("URL: got %q, want %q", got, tt.wantURL)
			}
		})
	}
}

func TestNewClientRejectsBadCredentials(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, key, token, want string }{
		{"an empty project key is rejected", "", token, "project key is empty"},
		{"a project key with a colon is rejected", "a:b", token, "project key contains"},
		{"an empty token is rejected", key, "", "API token is empty"},
		{"a token with a newline is rejected", key, token + "\n", "API token contains"},
		{"a token with a control character is rejected", key, "PT-secret\x00-api-token", "API token contains"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := signalwire.NewClient("example.signalwire.com", tt.key, tt.token)
			seen(err)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error: got %v, want one containing %q", err, tt.want)
			}
			if tt.token != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.token)) {
				t.Errorf("error %q contains the token", err)
			}
		})
	}
}

func TestClientPrintsNoSecrets(t *testing.T) {
	t.Parallel()
	c := newClient(t, "example.signalwire.com")
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, c); strings.Contains(s, token) || !strings.Contains(s, "example.signalwire.com") {
			t.Errorf("fmt %s: got %q, want the space and no token", verb, s)
		}
	}
	if got, want := c.Space(), "example.signalwire.com"; got != want {
		t.Errorf("Space: got %q, want %q", got, want)
	}
}

func TestCreateRoom(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t)
	c := newClient(t, srv.URL)

	t.Run("a new room comes back with the documented fields", func(t *testing.T) {
		room, err := c.CreateRoom(t.Context(), signalwire.CreateRoomParams{Name: "Main_Office", MaxMembers: 5})
		if err := seen(err); err != nil {
			t.Fatal(err)
		}
		if room.Name != "Main_Office" || room.DisplayName != "Main_Office" || room.MaxMembers != 5 ||
			room.Layout != "grid-responsive" || room.ID == "" || room.CreatedAt.IsZero() || room.UpdatedAt.IsZero() {
			t.Errorf("room: got %+v", room)
		}
		body := f.CallsTo("POST", "/rooms")[0].Body
		if body["max_members"] != 5.0 {
			t.Errorf("max_members sent: got %v, want 5", body["max_members"])
		}
		for _, k := range []string{"max_participants", "delete_on_end", "display_name", "record_on_start", "enable_room_previews", "meta", "layout"} {
			if v, has := body[k]; has {
				t.Errorf("%s sent: got %v, want it left out", k, v)
			}
		}
	})
	t.Run("explicit false booleans are sent", func(t *testing.T) {
		_, err := c.CreateRoom(t.Context(), signalwire.CreateRoomParams{Name: "Falses",
			RecordOnStart: signalwire.Bool(false), EnableRoomPreviews: signalwire.Bool(true), Layout: "2x2", Quality: "1080p"})
		if err := seen(err); err != nil {
			t.Fatal(err)
		}
		body := f.CallsTo("POST", "/rooms")[1].Body
		if v, has := body["record_on_start"]; !has || v != false {
			t.Errorf("record_on_start sent: got %v (present %v), want false", v, has)
		}
		if body["enable_room_previews"] != true || body["layout"] != "2x2" || body["quality"] != "1080p" {
			t.Errorf("body: got %v", body)
		}
	})
	t.Run("an invalid name is a validation error on name", func(t *testing.T) {
		f.ResetCalls()
		_, err := c.CreateRoom(t.Context(), signalwire.CreateRoomParams{Name: "Main Office"})
		seen(err)
		var apiErr *signalwire.APIError
		if !errors.As(err, &apiErr) || !signalwire.IsValidation(err) || len(apiErr.Errors) == 0 || apiErr.Errors[0].Attribute != "name" {
			t.Fatalf("error: got %#v, want a 422 on name", err)
		}
		if d := apiErr.Errors[0]; d.Type != "validation_error" || d.Code != "invalid_parameter" || d.URL == "" || d.Message == "" {
			t.Errorf("detail: got %+v", d)
		}
		if want := "signalwire: POST /rooms: 422 validation_error: name: "; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Error: got %q, want prefix %q", err.Error(), want)
		}
		if n := len(f.Calls()); n != 1 {
			t.Errorf("calls: got %d, want 1 (a 422 is not retried)", n)
		}
	})
}

func TestErrorClasses(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t)
	good := newClient(t, srv.URL)
	if _, err := f.SeedRoom(swtest.Room{Name: "Exists"}); err != nil {
		t.Fatal(err)
	}
	bad, err := signalwire.NewClient(srv.URL, key, "wrong-token", signalwire.WithLogger(leaks.logger()))
	if err != nil {
		t.Fatal(err)
	}
	type class struct{ notFound, validation, rateLimited, unauthorized, transport bool }
	tests := []struct {
		name    string
		call    func(ctx context.Context) error
		want    class
		wantMsg string
	}{
		{"a missing room is not found", func(ctx context.Context) error { _, err := good.GetRoom(ctx, "Nope"); return err },
			class{notFound: true}, "signalwire: GET /rooms/Nope: 404 Not Found"},
		{"a wrong token is unauthorized", func(ctx context.Context) error { _, err := bad.GetRoom(ctx, "Exists"); return err },
			class{unauthorized: true}, "signalwire: GET /rooms/Exists: 401 Unauthorized"},
		{"a bad permission is a validation error", func(ctx context.Context) error {
			_, err := good.CreateRoomToken(ctx, signalwire.RoomTokenParams{RoomName: "Exists", Permissions: []signalwire.Permission{"room.screen_share"}})
			return err
		}, class{validation: true}, "signalwire: POST /room_tokens: 422 validation_error: permissions: "},
		{"an unknown session is not found", func(ctx context.Context) error { _, err := good.ListRoomSessionMembers(ctx, "nope"); return err },
			class{notFound: true}, "signalwire: GET /room_sessions/nope/members: 404 Not Found"},
		{"a bad status filter is a validation error", func(ctx context.Context) error {
			_, err := good.ListRoomSessions(ctx, signalwire.ListRoomSessionsParams{Status: "live"})
			return err
		}, class{validation: true}, "signalwire: GET /room_sessions: 422 validation_error: status: "},
		{"an empty room name fails before any call", func(ctx context.Context) error { _, err := good.GetRoom(ctx, ""); return err },
			class{}, "signalwire: GetRoom: empty room name"},
		{"an empty session id fails before any call", func(ctx context.Context) error { _, err := good.ListRoomSessionMembers(ctx, ""); return err },
			class{}, "signalwire: ListRoomSessionMembers: empty session id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := seen(tt.call(t.Context()))
			got := class{signalwire.IsNotFound(err), signalwire.IsValidation(err), signalwire.IsRateLimited(err),
				signalwire.IsUnauthorized(err), errors.Is(err, signalwire.ErrTransport)}
			if got != tt.want {
				t.Errorf("class of %v: got %+v, want %+v", err, got, tt.want)
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantMsg) {
				t.Errorf("Error: got %v, want prefix %q", err, tt.wantMsg)
			}
		})
	}
}

func TestGetRoom(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t)
	c := newClient(t, srv.URL)
	seeded, err := f.SeedRoom(swtest.Room{Name: "Main_Office", MaxMembers: 7})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, arg string }{
		{"a room is found by name", "Main_Office"},
		{"a room is found by id", seeded.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			room, err := c.GetRoom(t.Context(), tt.arg)
			if err := seen(err); err != nil {
				t.Fatal(err)
			}
			if room.ID != seeded.ID || room.MaxMembers != 7 || room.Name != "Main_Office" {
				t.Errorf("room: got %+v", room)
			}
		})
	}
	t.Run("a name with reserved characters is escaped into one path segment", func(t *testing.T) {
		f.ResetCalls()
		_, err := c.GetRoom(t.Context(), "a/b c?d")
		if !signalwire.IsNotFound(seen(err)) {
			t.Fatalf("error: got %v, want not found", err)
		}
		if got := f.Calls()[0].Path; got != "/api/video/rooms/a/b c?d" {
			t.Errorf("path seen by the server (unescaped): got %q, want %q", got, "/api/video/rooms/a/b c?d")
		}
	})
}

func TestListRooms(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t)
	c := newClient(t, srv.URL)
	for i := range 5 {
		if _, err := f.SeedRoom(swtest.Room{Name: fmt.Sprintf("room_%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name      string
		p         signalwire.ListParams
		wantRooms int
		wantCalls int
		wantSize  string
	}{
		{"pages are followed to the end", signalwire.ListParams{PageSize: 2}, 5, 3, "2"},
		{"MaxPages stops early", signalwire.ListParams{PageSize: 2, MaxPages: 2}, 4, 2, "2"},
		{"one page holds all with the server's default size", signalwire.ListParams{}, 5, 1, ""},
		{"a page size above 1000 is clamped", signalwire.ListParams{PageSize: 5000}, 5, 1, "1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Subtests share the fake's recorder, so they run one by one.
			f.ResetCalls()
			rooms, err := c.ListRooms(t.Context(), tt.p)
			if err := seen(err); err != nil {
				t.Fatal(err)
			}
			if len(rooms) != tt.wantRooms || rooms[0].Name != "room_0" {
				t.Errorf("rooms: got %d starting %q, want %d starting room_0", len(rooms), rooms[0].Name, tt.wantRooms)
			}
			calls := f.CallsTo("GET", "/rooms")
			if len(calls) != tt.wantCalls {
				t.Errorf("calls: got %d, want %d", len(calls), tt.wantCalls)
			}
			if got := calls[0].Query.Get("page_size"); got != tt.wantSize {
				t.Errorf("page_size: got %q, want %q", got, tt.wantSize)
			}
		})
	}
}

func TestEnsureRoom(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		opts      []swtest.Option
		seed      bool
		room      string
		wantPosts int
		wantGets  int
		wantErr   func(error) bool
	}{
		{"a new room is created with one POST", nil, false, "Fresh", 1, 0, nil},
		{"a duplicate answered 422 is resolved with one GET", nil, true, "Main_Office", 1, 1, nil},
		{"a duplicate answered 409 is resolved with one GET", []swtest.Option{swtest.WithDuplicateStatus(409)}, true, "Main_Office", 1, 1, nil},
		{"an invalid name returns the original 422", nil, false, "Main Office", 1, 1, signalwire.IsValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, srv := newFake(t, tt.opts...)
			c := newClient(t, srv.URL)
			var want swtest.Room
			if tt.seed {
				want, _ = f.SeedRoom(swtest.Room{Name: tt.room, MaxMembers: 9})
			}
			room, err := c.EnsureRoom(t.Context(), signalwire.CreateRoomParams{Name: tt.room, MaxMembers: 5})
			seen(err)
			if tt.wantErr != nil {
				if !tt.wantErr(err) {
					t.Fatalf("error: got %v", err)
				}
				var apiErr *signalwire.APIError
				if errors.As(err, &apiErr) && apiErr.Method != "POST" {
					t.Errorf("error from: got %s, want the POST's", apiErr.Method)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if room.Name != tt.room || (tt.seed && (room.ID != want.ID || room.MaxMembers != 9)) {
				t.Errorf("room: got %+v, want the existing one", room)
			}
			posts, gets := f.CallsTo("POST", "/rooms"), f.CallsTo("GET", "/rooms/"+tt.room)
			if len(posts) != tt.wantPosts || len(gets) != tt.wantGets {
				t.Errorf("calls: got %d POST and %d GET, want %d and %d", len(posts), len(gets), tt.wantPosts, tt.wantGets)
			}
			if got := posts[0].Body["display_name"]; got != tt.room {
				t.Errorf("display_name sent: got %v, want %q", got, tt.room)
			}
		})
	}
	t.Run("a failed confirmation returns the GET's error", func(t *testing.T) {
		t.Parallel()
		f, srv := newFake(t)
		c := newClient(t, srv.URL, signalwire.WithRetry(1, 0, 0))
		f.SeedRoom(swtest.Room{Name: "Main_Office"})
		f.Fail("GET", "/rooms/Main_Office", swtest.Fault{Status: 503})
		_, err := c.EnsureRoom(t.Context(), signalwire.CreateRoomParams{Name: "Main_Office"})
		var apiErr *signalwire.APIError
		if !errors.As(seen(err), &apiErr) || apiErr.StatusCode != 503 || signalwire.IsValidation(err) {
			t.Errorf("error: got %v, want the GET's 503", err)
		}
	})
}

func TestCreateRoomToken(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t)
	c := newClient(t, srv.URL)
	moderator := []signalwire.Permission{signalwire.PermSelfAudioMute, signalwire.PermMemberRemove}
	tests := []struct {
		name  string
		p     signalwire.RoomTokenParams
		body  map[string]any // fields that must be sent with these values
		unset []string       // fields that must not be sent
		check func(t *testing.T, c swtest.TokenClaims)
	}{
		{"a moderator token carries the permissions asked for",
			signalwire.RoomTokenParams{RoomName: "Main_Office", UserName: "Alice", Permissions: moderator},
			map[string]any{"room_name": "Main_Office", "user_name": "Alice", "permissions": []any{"room.self.audio_mute", "room.member.remove"}},
			[]string{"auto_create_room", "join_audio_muted", "join_video_muted", "end_room_session_on_leave", "join_as", "media_allowed", "meta"},
			func(t *testing.T, c swtest.TokenClaims) {
				if c.UserName != "Alice" || c.RoomName != "Main_Office" || len(c.Permissions) != 2 || c.JoinAs != "member" {
					t.Errorf("claims: got %+v", c)
				}
			}},
		{"auto_create_room false and join_audio_muted false are sent",
			signalwire.RoomTokenParams{RoomName: "Main_Office", UserName: "Bob", AutoCreateRoom: signalwire.Bool(false),
				JoinAudioMuted: signalwire.Bool(false), JoinVideoMuted: signalwire.Bool(true), EndRoomSessionOnLeave: signalwire.Bool(false)},
			map[string]any{"auto_create_room": false, "join_audio_muted": false, "join_video_muted": true, "end_room_session_on_leave": false},
			[]string{"permissions"},
			func(t *testing.T, c swtest.TokenClaims) {
				if c.AutoCreateRoom || c.JoinAudioMuted || !c.JoinVideoMuted {
					t.Errorf("claims: got %+v", c)
				}
			}},
		{"an audience token has no permissions",
			signalwire.RoomTokenParams{RoomName: "Main_Office", UserName: "Eve", JoinAs: signalwire.JoinAsAudience, Permissions: moderator, MediaAllowed: "video-only"},
			map[string]any{"join_as": "audience", "media_allowed": "video-only"}, nil,
			func(t *testing.T, c swtest.TokenClaims) {
				if c.JoinAs != "audience" || len(c.Permissions) != 0 || c.MediaAllowed != "video-only" {
					t.Errorf("claims: got %+v", c)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.ResetCalls()
			tok, err := c.CreateRoomToken(t.Context(), tt.p)
			if err := seen(err); err != nil {
				t.Fatal(err)
			}
			claims, err := f.VerifyToken(tok)
			if err != nil {
				t.Fatalf("VerifyToken: %v", err)
			}
			tt.check(t, claims)
			body := f.CallsTo("POST", "/room_tokens")[0].Body
			for k, want := range tt.body {
				got, has := body[k]
				if !has || fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s sent: got %v (present %v), want %v", k, got, has, want)
				}
			}
			for _, k := range tt.unset {
				if v, has := body[k]; has {
					t.Errorf("%s sent: got %v, want it left out", k, v)
				}
			}
		})
	}
	t.Run("an answer without a token is a decode error", func(t *testing.T) {
		f.Fail("POST", "/room_tokens", swtest.Fault{Status: 200, Body: `{"token":""}`, Count: 1})
		_, err := c.CreateRoomToken(t.Context(), signalwire.RoomTokenParams{RoomName: "Main_Office"})
		if !errors.Is(seen(err), signalwire.ErrTransport) {
			t.Errorf("error: got %v, want a transport error", err)
		}
	})
}

func TestRoomSessions(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t)
	c := newClient(t, srv.URL)
	f.SeedRoom(swtest.Room{Name: "Main_Office"})
	ended := time.Now().Add(-time.Hour)
	f.SeedRoomSession(swtest.RoomSession{Name: "Main_Office", EndTime: &ended})
	live := f.SeedRoomSession(swtest.RoomSession{Name: "Main_Office", Locked: true})
	other := f.SeedRoomSession(swtest.RoomSession{Name: "Other"})
	left := time.Now()
	f.SeedMember(live.ID, swtest.Member{Name: "Alice", Duration: 42})
	f.SeedMember(live.ID, swtest.Member{Name: "Bob", LeaveTime: &left})

	tests := []struct {
		name      string
		p         signalwire.ListRoomSessionsParams
		want      []string
		wantCalls int
	}{
		{"live sessions are listed", signalwire.ListRoomSessionsParams{Status: "in-progress"}, []string{other.ID, live.ID}, 1},
		{"room_name narrows the list", signalwire.ListRoomSessionsParams{Status: "in-progress", RoomName: "Main_Office"}, []string{live.ID}, 1},
		{"pages are followed", signalwire.ListRoomSessionsParams{PageSize: 1}, nil, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.ResetCalls()
			got, err := c.ListRoomSessions(t.Context(), tt.p)
			if err := seen(err); err != nil {
				t.Fatal(err)
			}
			calls := f.CallsTo("GET", "/room_sessions")
			if len(calls) != tt.wantCalls {
				t.Errorf("calls: got %d, want %d", len(calls), tt.wantCalls)
			}
			if q := calls[0].Query; q.Get("status") != tt.p.Status || q.Get("room_name") != tt.p.RoomName {
				t.Errorf("query: got %v, want status %q room_name %q", q, tt.p.Status, tt.p.RoomName)
			}
			if tt.want == nil {
				if len(got) != 3 {
					t.Errorf("sessions: got %d, want 3", len(got))
				}
				return
			}
			var ids []string
			for _, s := range got {
				ids = append(ids, s.ID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(tt.want) {
				t.Errorf("ids: got %v, want %v", ids, tt.want)
			}
		})
	}
	t.Run("a live session has its fields", func(t *testing.T) {
		got, err := c.ListRoomSessions(t.Context(), signalwire.ListRoomSessionsParams{Status: "in-progress", RoomName: "Main_Office"})
		if err := seen(err); err != nil || len(got) != 1 {
			t.Fatalf("got %v, %v", got, err)
		}
		s := got[0]
		if s.RoomID == "" || s.Name != "Main_Office" || s.DisplayName != "Main_Office" || s.MaxMembers != 20 ||
			s.Layout != "grid-responsive" || !s.Locked || s.StartTime == nil || s.EndTime != nil || s.Status != "in-progress" {
			t.Errorf("session: got %+v", s)
		}
	})
	t.Run("members are listed with their times", func(t *testing.T) {
		got, err := c.ListRoomSessionMembers(t.Context(), live.ID)
		if err := seen(err); err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Name != "Alice" || got[0].Duration != 42 || got[0].JoinTime == nil ||
			got[0].LeaveTime != nil || got[1].Name != "Bob" || got[1].LeaveTime == nil || got[0].ID == "" {
			t.Errorf("members: got %+v", got)
		}
	})
}

func TestPing(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t)
	if err := seen(newClient(t, srv.URL).Ping(t.Context())); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if c := f.Calls()[0]; c.Method != "GET" || c.Path != "/api/video/rooms" || c.Query.Get("page_size") != "1" {
		t.Errorf("call: got %s %s?%s, want GET /api/video/rooms?page_size=1", c.Method, c.Path, c.Query.Encode())
	}
	bad, _ := signalwire.NewClient(srv.URL, key, "not-the-token")
	if err := seen(bad.Ping(t.Context())); !signalwire.IsUnauthorized(err) {
		t.Errorf("Ping with a wrong token: got %v, want unauthorized", err)
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		method    string
		path      string
		fault     swtest.Fault
		call      func(c *signalwire.Client, ctx context.Context) error
		wantCalls int
		wantErr   func(error) bool // nil: success
	}{
		{"two 503s then success gives success after three calls", "GET", "/rooms",
			swtest.Fault{Status: 503, Count: 2},
			func(c *signalwire.Client, ctx context.Context) error {
				_, err := c.ListRooms(ctx, signalwire.ListParams{})
				return err
			},
			3, nil},
		{"a POST /rooms answered 500 twice is retried", "POST", "/rooms",
			swtest.Fault{Status: 500, Count: 2},
			func(c *signalwire.Client, ctx context.Context) error {
				_, err := c.CreateRoom(ctx, signalwire.CreateRoomParams{Name: "R"})
				return err
			}, 3, nil},
		{"a POST /room_tokens answered 429 is retried", "POST", "/room_tokens",
			swtest.Fault{Status: 429, Count: 1},
			func(c *signalwire.Client, ctx context.Context) error {
				_, err := c.CreateRoomToken(ctx, signalwire.RoomTokenParams{RoomName: "R"})
				return err
			}, 2, nil},
		{"a 422 is not retried", "POST", "/rooms",
			swtest.Fault{Status: 422},
			func(c *signalwire.Client, ctx context.Context) error {
				_, err := c.CreateRoom(ctx, signalwire.CreateRoomParams{Name: "R"})
				return err
			}, 1, signalwire.IsValidation},
		{"a 401 is not retried", "GET", "/rooms",
			swtest.Fault{Status: 401},
			func(c *signalwire.Client, ctx context.Context) error { return c.Ping(ctx) },
			1, signalwire.IsUnauthorized},
		{"a 404 is not retried", "GET", "/rooms/x",
			swtest.Fault{Status: 404},
			func(c *signalwire.Client, ctx context.Context) error { _, err := c.GetRoom(ctx, "x"); return err },
			1, signalwire.IsNotFound},
		{"a 429 that never ends gives up after the last attempt", "GET", "/rooms",
			swtest.Fault{Status: 429},
			func(c *signalwire.Client, ctx context.Context) error { return c.Ping(ctx) },
			4, signalwire.IsRateLimited},
		{"a dropped connection of a GET is retried", "GET", "/rooms/x",
			swtest.Fault{Hangup: true, Count: 1},
			func(c *signalwire.Client, ctx context.Context) error { _, err := c.GetRoom(ctx, "x"); return err },
			2, signalwire.IsNotFound},
		{"a dropped connection of a POST is not retried", "POST", "/rooms",
			swtest.Fault{Hangup: true, Count: 1},
			func(c *signalwire.Client, ctx context.Context) error {
				_, err := c.CreateRoom(ctx, signalwire.CreateRoomParams{Name: "R"})
				return err
			}, 1, isTransportNotAPI},
		{"malformed JSON is a decode error and not retried", "GET", "/rooms/x",
			swtest.Fault{Status: 200, Body: `{"id": `},
			func(c *signalwire.Client, ctx context.Context) error { _, err := c.GetRoom(ctx, "x"); return err },
			1, isTransportNotAPI},
		{"JSON of the wrong shape is a decode error", "GET", "/rooms",
			swtest.Fault{Status: 200, Body: `{"data": {"not": "a list"}}`},
			func(c *signalwire.Client, ctx context.Context) error {
				_, err := c.ListRooms(ctx, signalwire.ListParams{})
				return err
			},
			1, isTransportNotAPI},
		{"an HTML error page is still classified by status", "GET", "/rooms",
			swtest.Fault{Status: 502, Body: `<html>Bad Gateway</html>`},
			func(c *signalwire.Client, ctx context.Context) error { return c.Ping(ctx) },
			4, func(err error) bool {
				var e *signalwire.APIError
				return errors.As(err, &e) && e.StatusCode == 502 && e.Message == "" && strings.HasSuffix(err.Error(), "502 Bad Gateway")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, srv := newFake(t)
			c := newClient(t, srv.URL)
			f.Fail(tt.method, tt.path, tt.fault)
			err := seen(tt.call(c, t.Context()))
			if tt.wantErr == nil && err != nil {
				t.Fatalf("error: got %v, want success", err)
			}
			if tt.wantErr != nil && !tt.wantErr(err) {
				t.Fatalf("error: got %#v (%v)", err, err)
			}
			// Go's transport may itself replay a GET whose reused connection
			// dropped; count only what our client decides.
			if n := len(f.CallsTo(tt.method, tt.path)); n != tt.wantCalls {
				t.Errorf("calls: got %d, want %d", n, tt.wantCalls)
			}
		})
	}
}

func isTransportNotAPI(err error) bool {
	var apiErr *signalwire.APIError
	var te *signalwire.TransportError
	return errors.Is(err, signalwire.ErrTransport) && errors.As(err, &te) && !errors.As(err, &apiErr)
}

func TestRetryAfterOfOneSecondIsHonoured(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t)
	c := newClient(t, srv.URL)
	f.Fail("GET", "/rooms", swtest.Fault{Status: 429, RetryAfter: "1", Count: 1})
	start := time.Now()
	if err := seen(c.Ping(t.Context())); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if d := time.Since(start); d < 900*time.Millisecond || d > 3*time.Second {
		t.Errorf("wait: got %v, want about 1s", d)
	}
	if n := len(f.Calls()); n != 2 {
		t.Errorf("calls: got %d, want 2", n)
	}
}

func TestRetryAfterAnHTTPDateIsHonoured(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t)
	c := newClient(t, srv.URL)
	// A date in the past means "retry now".
	f.Fail("GET", "/rooms", swtest.Fault{Status: 503, RetryAfter: "Wed, 21 Oct 2015 07:28:00 GMT", Count: 1})
	if err := seen(c.Ping(t.Context())); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func TestAWaitPastTheDeadlineReturnsAtOnce(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t)
	c := newClient(t, srv.URL)
	f.Fail("GET", "/rooms", swtest.Fault{Status: 429, RetryAfter: "5"})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	start := time.Now()
	err := seen(c.Ping(ctx))
	if !signalwire.IsRateLimited(err) {
		t.Fatalf("error: got %v, want the 429", err)
	}
	var apiErr *signalwire.APIError
	if errors.As(err, &apiErr); apiErr.RetryAfter != 5*time.Second {
		t.Errorf("RetryAfter: got %v, want 5s", apiErr.RetryAfter)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("elapsed: got %v, want an immediate answer", d)
	}
	if n := len(f.Calls()); n != 1 {
		t.Errorf("calls: got %d, want 1", n)
	}
}

func TestACancelledContextStopsAtOnce(t *testing.T) {
	t.Parallel()
	t.Run("before the first attempt", func(t *testing.T) {
		t.Parallel()
		f, srv := newFake(t)
		c := newClient(t, srv.URL)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := seen(c.Ping(ctx))
		if !errors.Is(err, context.Canceled) || !errors.Is(err, signalwire.ErrTransport) {
			t.Errorf("error: got %v, want context.Canceled as a transport error", err)
		}
		if n := len(f.Calls()); n != 0 {
			t.Errorf("calls: got %d, want 0", n)
		}
	})
	t.Run("while waiting to retry", func(t *testing.T) {
		t.Parallel()
		f, srv := newFake(t)
		c := newClient(t, srv.URL)
		f.Fail("GET", "/rooms", swtest.Fault{Status: 503, RetryAfter: "30"})
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		err := seen(c.Ping(ctx))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error: got %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("elapsed: got %v, want about 50ms", d)
		}
		if n := len(f.Calls()); n != 1 {
			t.Errorf("calls: got %d, want 1", n)
		}
	})
	t.Run("during a slow answer", func(t *testing.T) {
		t.Parallel()
		f, srv := newFake(t)
		c := newClient(t, srv.URL)
		f.Fail("GET", "/rooms", swtest.Fault{Delay: 10 * time.Second})
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		err := seen(c.Ping(ctx))
		if !errors.Is(err, context.Canceled) || !errors.Is(err, signalwire.ErrTransport) {
			t.Errorf("error: got %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("elapsed: got %v, want about 50ms", d)
		}
	})
}

func TestASlowAnswerTimesOutPerAttempt(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t)
	c := newClient(t, srv.URL, signalwire.WithTimeout(100*time.Millisecond))
	f.Fail("GET", "/rooms", swtest.Fault{Delay: 5 * time.Second, Count: 1})
	start := time.Now()
	if err := seen(c.Ping(t.Context())); err != nil {
		t.Fatalf("Ping: %v (want the retry to succeed)", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("elapsed: got %v, want about 100ms", d)
	}

	f.Fail("POST", "/rooms", swtest.Fault{Delay: 5 * time.Second, Count: 1})
	_, err := c.CreateRoom(t.Context(), signalwire.CreateRoomParams{Name: "Slow"})
	if !errors.Is(seen(err), context.DeadlineExceeded) || !errors.Is(err, signalwire.ErrTransport) {
		t.Errorf("slow POST: got %v, want a timeout transport error", err)
	}
}

func TestARefusedConnectionIsATransportError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c := newClient(t, url)
	err := seen(c.Ping(t.Context()))
	if !isTransportNotAPI(err) {
		t.Fatalf("error: got %#v, want a transport error", err)
	}
	if strings.Contains(err.Error(), url) {
		t.Errorf("error %q repeats the URL; want method and path only", err)
	}
}

// foreignNext wraps a fake and rewrites links.next of GET /rooms to point
// at target, as a compromised or misconfigured server might.
func foreignNext(fake http.Handler, rewrite func(next string) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		fake.ServeHTTP(rec, r)
		if r.Method != "GET" || rec.Code != 200 {
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return
		}
		var body map[string]any
		json.Unmarshal(rec.Body.Bytes(), &body)
		if l, ok := body["links"].(map[string]any); ok {
			if next, ok := l["next"].(string); ok {
				l["next"] = rewrite(next)
			}
		}
		json.NewEncoder(w).Encode(body)
	})
}

func TestAPagingLinkToAnotherOriginIsNotFollowed(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var foreignHits []string
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		foreignHits = append(foreignHits, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Write([]byte(`{"links":{},"data":[{"name":"stolen"}]}`))
	}))
	t.Cleanup(foreign.Close)
	foreignPort := foreign.URL[strings.LastIndexByte(foreign.URL, ':')+1:]

	tests := []struct {
		name    string
		rewrite func(own, next string) string
	}{
		{"another host", func(own, next string) string { return strings.Replace(next, own, "http://localhost:"+foreignPort, 1) }},
		{"another port on the same host", func(own, next string) string { return strings.Replace(next, own, foreign.URL, 1) }},
		{"https on the same host and port", func(own, next string) string { return strings.Replace(next, "http://", "https://", 1) }},
		{"credentials in the link", func(own, next string) string { return strings.Replace(next, "http://", "http://u:p@", 1) }},
		{"a protocol-relative link", func(own, next string) string {
			return "//" + strings.TrimPrefix(foreign.URL, "http://") + "/api/video/rooms"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := swtest.New(key, token)
			for i := range 3 {
				fake.SeedRoom(swtest.Room{Name: fmt.Sprintf("r%d", i)})
			}
			var srv *httptest.Server
			srv = httptest.NewServer(foreignNext(fake, func(next string) string { return tt.rewrite(srv.URL, next) }))
			t.Cleanup(srv.Close)
			c := newClient(t, srv.URL)
			rooms, err := c.ListRooms(t.Context(), signalwire.ListParams{PageSize: 1})
			if err := seen(err); err != nil {
				t.Fatal(err)
			}
			if len(rooms) != 1 || rooms[0].Name != "r0" {
				t.Errorf("rooms: got %+v, want only the first page", rooms)
			}
			if n := len(fake.CallsTo("GET", "/rooms")); n != 1 {
				t.Errorf("calls to the API: got %d, want 1", n)
			}
		})
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if len(foreignHits) != 0 {
			t.Errorf("requests to the foreign host: got %d (Authorization %q), want 0", len(foreignHits), foreignHits)
		}
	})
}

func TestAPagingLinkToItselfStops(t *testing.T) {
	t.Parallel()
	fake := swtest.New(key, token)
	fake.SeedRoom(swtest.Room{Name: "a"})
	fake.SeedRoom(swtest.Room{Name: "b"})
	srv := httptest.NewServer(foreignNext(fake, func(string) string { return "/api/video/rooms?page_size=1" }))
	t.Cleanup(srv.Close)
	rooms, err := newClient(t, srv.URL).ListRooms(t.Context(), signalwire.ListParams{PageSize: 1})
	if err := seen(err); err != nil || len(rooms) != 1 {
		t.Fatalf("got %d rooms, %v; want 1 and no loop", len(rooms), err)
	}
}

func TestLogLines(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t)
	var mu sync.Mutex
	var buf strings.Builder
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); leaks.Write(p); return buf.Write(p) })
	c := newClient(t, srv.URL, signalwire.WithLogger(slogText(w)))
	f.Fail("POST", "/room_tokens", swtest.Fault{Status: 503, Count: 1})
	tok, err := c.CreateRoomToken(t.Context(), signalwire.RoomTokenParams{RoomName: "Main_Office", UserName: "Alice-body-only"})
	if err := seen(err); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	logs := buf.String()
	mu.Unlock()
	for _, want := range []string{
		`level=DEBUG msg="signalwire request" method=POST path=/room_tokens status=503 attempt=1 duration=`,
		`level=INFO msg="signalwire retry" method=POST path=/room_tokens status=503 attempt=1 wait=`,
		`level=DEBUG msg="signalwire request" method=POST path=/room_tokens status=200 attempt=2 duration=`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs: got %q, want a line containing %q", logs, want)
		}
	}
	for _, secret := range []string{"Alice-body-only", tok, token} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
}

func TestAPIErrorStrings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		status     int
		want       string
	}{
		{"a validation error names the attribute", `{"errors":[{"type":"validation_error","code":"invalid_parameter","message":"Name is invalid","attribute":"name","url":"u"}]}`, 422,
			"signalwire: POST /rooms: 422 validation_error: name: Name is invalid"},
		{"several entries are counted", `{"errors":[{"type":"validation_error","message":"a","attribute":null},{"message":"b"},{"message":"c"}]}`, 422,
			"signalwire: POST /rooms: 422 validation_error: a (and 2 more)"},
		{"the error shape gives its message", `{"error":"Not Found"}`, 404, "signalwire: POST /rooms: 404 Not Found"},
		{"an empty body gives the status text", ``, 503, "signalwire: POST /rooms: 503 Service Unavailable"},
		{"control characters are flattened", `{"error":"line\nbreak\u001b[31m"}`, 500, "signalwire: POST /rooms: 500 line break [31m"},
		{"long messages are cut", `{"error":"` + strings.Repeat("x", 500) + `"}`, 500, "signalwire: POST /rooms: 500 " + strings.Repeat("x", 160) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := signalwire.ParseAPIError(tt.status, []byte(tt.body))
			e.Method, e.Path = "POST", "/rooms"
			if got := seen(e).Error(); got != tt.want {
				t.Errorf("Error: got %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("a 409 and a 422 on name may mean the name is taken", func(t *testing.T) {
		e409 := signalwire.ParseAPIError(409, nil)
		e422 := signalwire.ParseAPIError(422, []byte(`{"errors":[{"attribute":"name"}]}`))
		eOther := signalwire.ParseAPIError(422, []byte(`{"errors":[{"attribute":"max_members"}]}`))
		if !e409.IsNameTaken() || !e422.IsNameTaken() || eOther.IsNameTaken() {
			t.Errorf("IsNameTaken: got %v %v %v, want true true false", e409.IsNameTaken(), e422.IsNameTaken(), eOther.IsNameTaken())
		}
	})
}

func TestPermissions(t *testing.T) {
	t.Parallel()
	all := signalwire.AllPermissions()
	if len(all) != 44 {
		t.Fatalf("AllPermissions: got %d, want 44", len(all))
	}
	// The fake keeps its own copy of the documented list; they must agree.
	fromFake := map[string]bool{}
	for _, p := range swtest.ValidPermissions() {
		fromFake[p] = true
	}
	seenPerm := map[signalwire.Permission]bool{}
	for _, p := range all {
		if !p.Valid() || !fromFake[string(p)] || seenPerm[p] {
			t.Errorf("permission %q: valid %v, in the fake's list %v, duplicate %v", p, p.Valid(), fromFake[string(p)], seenPerm[p])
		}
		seenPerm[p] = true
	}
	for _, p := range []signalwire.Permission{"", "room.screen_share", "room.layout_change", "video.member.remove", "room.self.audio_mute "} {
		if p.Valid() {
			t.Errorf("Valid(%q): got true, want false", p)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
