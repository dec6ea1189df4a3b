package swtest_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swrooms/swrooms/signalwire/swtest"
)

// These tests speak raw HTTP and check the fake against
// SignalWire's documentation, so that the fake cannot drift into agreeing with a
// wrong client.

const (
	key   = "project-key"
	token = "PT-secret-api-token"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// answer is a decoded response.
type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func start(t *testing.T, opts ...swtest.Option) (*swtest.Fake, *httptest.Server) {
	t.Helper()
	f, srv := swtest.NewServer(key, token, opts...)
	t.Cleanup(srv.Close)
	return f, srv
}

// send makes one authenticated request; path is below /api/video.
func send(t *testing.T, srv *httptest.Server, method, path, body string) answer {
	t.Helper()
	return sendAs(t, srv, key, token, method, path, body)
}

func sendAs(t *testing.T, srv *httptest.Server, user, pass, method, path, body string) answer {
	t.Helper()
	target := path
	if !strings.HasPrefix(path, "http") {
		target = srv.URL + "/api/video" + path
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &a.body); err != nil {
			t.Fatalf("%s %s: body is not a JSON object: %q", method, path, raw)
		}
	}
	return a
}

func wantStatus(t *testing.T, a answer, want int) {
	t.Helper()
	if a.status != want {
		t.Fatalf("status: got %d, want %d (body %s)", a.status, want, a.raw)
	}
}

// wantValidation checks the documented 422 body with an error on attr.
func wantValidation(t *testing.T, a answer, status int, attr string) {
	t.Helper()
	wantStatus(t, a, status)
	errs, ok := a.body["errors"].([]any)
	if !ok || len(errs) == 0 {
		t.Fatalf("body: got %s, want an errors array", a.raw)
	}
	for _, e := range errs {
		m := e.(map[string]any)
		if m["type"] != "validation_error" || m["code"] != "invalid_parameter" || m["message"] == "" ||
			m["url"] != "https://developer.signalwire.com/rest/overview/error-codes#invalid_parameter" {
			t.Errorf("error entry: got %v, want type, code, message and url as documented", m)
		}
		if _, has := m["attribute"]; !has {
			t.Errorf("error entry: got %v, want an attribute key (possibly null)", m)
		}
		if m["attribute"] == attr || (attr == "" && m["attribute"] == nil) {
			return
		}
	}
	t.Fatalf("errors: got %s, want one on attribute %q", a.raw, attr)
}

func wantErrorBody(t *testing.T, a answer, status int, msg string) {
	t.Helper()
	wantStatus(t, a, status)
	if got := a.body["error"]; got != msg {
		t.Fatalf("error: got %q, want %q", got, msg)
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	_, srv := start(t)
	tests := []struct {
		name, user, pass string
		want             int
	}{
		{"no credentials get 401", "", "", 401},
		{"a wrong token gets 401", key, "wrong", 401},
		{"a wrong project key gets 401", "other", token, 401},
		{"the right credentials get 200", key, token, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := sendAs(t, srv, tt.user, tt.pass, "GET", "/rooms", "")
			wantStatus(t, a, tt.want)
			if tt.want == 401 {
				wantErrorBody(t, a, 401, "Unauthorized")
			}
		})
	}
}

func TestUnknownRoutesAnswer404JSON(t *testing.T) {
	t.Parallel()
	_, srv := start(t)
	for _, p := range []struct{ method, path string }{
		{"GET", "/nothing"}, {"PATCH", "/rooms"}, {"GET", "/rooms/"}, {"POST", "/room_sessions"},
		{"GET", "/rooms//x"}, {"GET", "/rooms/../rooms"},
	} {
		wantErrorBody(t, send(t, srv, p.method, p.path, ""), 404, "Not Found")
	}
	a := sendAs(t, srv, key, token, "GET", srv.URL+"/elsewhere", "")
	wantErrorBody(t, a, 404, "Not Found")
}

func TestMalformedJSONIsBadRequest(t *testing.T) {
	t.Parallel()
	_, srv := start(t)
	for _, body := range []string{`{"name":`, `[1,2]`, `"x"`, `{"name":"a"} {"name":"b"}`} {
		wantErrorBody(t, send(t, srv, "POST", "/rooms", body), 400, "Bad Request")
		wantErrorBody(t, send(t, srv, "POST", "/room_tokens", body), 400, "Bad Request")
	}
}

func TestCreateRoomAnswersTheDocumentedFields(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	_, srv := start(t, swtest.WithClock(func() time.Time { return now }))
	a := send(t, srv, "POST", "/rooms", `{"name":"Main_Office","max_participants":5,"delete_on_end":false}`)
	wantStatus(t, a, 200)
	want := map[string]any{
		"name": "Main_Office", "display_name": "Main_Office", "max_members": 20.0,
		"layout": "grid-responsive", "quality": "720p", "record_on_start": false,
		"enable_room_previews": false, "description": nil,
		"created_at": "2025-03-04T05:06:07Z", "updated_at": "2025-03-04T05:06:07Z",
	}
	for k, v := range want {
		if got, has := a.body[k]; !has || got != v {
			t.Errorf("%s: got %v, want %v", k, got, v)
		}
	}
	if id, _ := a.body["id"].(string); !uuidRE.MatchString(id) {
		t.Errorf("id: got %q, want a UUID", id)
	}
	if _, has := a.body["max_participants"]; has {
		t.Errorf("max_participants: got a value, want the unknown field ignored")
	}

	a = send(t, srv, "POST", "/rooms", `{"name":"Big","display_name":"Big room","description":"d","max_members":300,
		"quality":"1080p","layout":"2x2","record_on_start":true,"enable_room_previews":true,"meta":{"k":"v"},
		"join_from":"2025-03-04T05:06:07Z","remove_after_seconds_elapsed":60}`)
	wantStatus(t, a, 200)
	for k, v := range map[string]any{"display_name": "Big room", "description": "d", "max_members": 300.0,
		"quality": "1080p", "layout": "2x2", "record_on_start": true, "enable_room_previews": true} {
		if got := a.body[k]; got != v {
			t.Errorf("%s: got %v, want %v", k, got, v)
		}
	}
}

func TestCreateRoomValidation(t *testing.T) {
	t.Parallel()
	_, srv := start(t)
	long := strings.Repeat("a", 101)
	tests := []struct {
		name, body, attr string
	}{
		{"a missing name is rejected", `{}`, "name"},
		{"an empty name is rejected", `{"name":""}`, "name"},
		{"a name with a space is rejected", `{"name":"Main Office"}`, "name"},
		{"a name with a slash is rejected", `{"name":"a/b"}`, "name"},
		{"a name of 101 characters is rejected", `{"name":"` + long + `"}`, "name"},
		{"a name that is not a string is rejected", `{"name":5}`, "name"},
		{"a display name of 201 characters is rejected", `{"name":"a","display_name":"` + strings.Repeat("é", 201) + `"}`, "display_name"},
		{"zero max members is rejected", `{"name":"a","max_members":0}`, "max_members"},
		{"301 max members is rejected", `{"name":"a","max_members":301}`, "max_members"},
		{"fractional max members is rejected", `{"name":"a","max_members":2.5}`, "max_members"},
		{"max members as a string is rejected", `{"name":"a","max_members":"5"}`, "max_members"},
		{"an unknown quality is rejected", `{"name":"a","quality":"4k"}`, "quality"},
		{"an unknown layout is rejected", `{"name":"a","layout":"3x2"}`, "layout"},
		{"a non-boolean record_on_start is rejected", `{"name":"a","record_on_start":"yes"}`, "record_on_start"},
		{"a bad join_from is rejected", `{"name":"a","join_from":"tomorrow"}`, "join_from"},
		{"meta that is not an object is rejected", `{"name":"a","meta":[1]}`, "meta"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantValidation(t, send(t, srv, "POST", "/rooms", tt.body), 422, tt.attr)
		})
	}
	t.Run("a name of 100 characters is accepted", func(t *testing.T) {
		wantStatus(t, send(t, srv, "POST", "/rooms", `{"name":"`+long[:100]+`"}`), 200)
	})
	t.Run("several problems give several entries", func(t *testing.T) {
		a := send(t, srv, "POST", "/rooms", `{"name":"a b","max_members":0,"layout":"x"}`)
		wantStatus(t, a, 422)
		if n := len(a.body["errors"].([]any)); n != 3 {
			t.Errorf("errors: got %d, want 3", n)
		}
	})
}

func TestDuplicateRoomNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		opts   []swtest.Option
		status int
	}{
		{"a duplicate name is a 422 on name by default", nil, 422},
		{"a duplicate name is a 409 when configured", []swtest.Option{swtest.WithDuplicateStatus(409)}, 409},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, srv := start(t, tt.opts...)
			wantStatus(t, send(t, srv, "POST", "/rooms", `{"name":"Dup"}`), 200)
			wantValidation(t, send(t, srv, "POST", "/rooms", `{"name":"Dup"}`), tt.status, "name")
			if n := len(f.Rooms()); n != 1 {
				t.Errorf("rooms: got %d, want 1", n)
			}
		})
	}
}

func TestGetUpdateDeleteRoom(t *testing.T) {
	t.Parallel()
	_, srv := start(t)
	created := send(t, srv, "POST", "/rooms", `{"name":"R1"}`)
	id := created.body["id"].(string)

	wantStatus(t, send(t, srv, "GET", "/rooms/R1", ""), 200)
	if got := send(t, srv, "GET", "/rooms/"+id, "").body["name"]; got != "R1" {
		t.Errorf("room by id: got %v, want R1", got)
	}
	wantErrorBody(t, send(t, srv, "GET", "/rooms/Nope", ""), 404, "Not Found")

	a := send(t, srv, "PUT", "/rooms/"+id, `{"display_name":"Room one","max_members":5}`)
	wantStatus(t, a, 200)
	if a.body["display_name"] != "Room one" || a.body["max_members"] != 5.0 || a.body["name"] != "R1" {
		t.Errorf("updated room: got %s", a.raw)
	}
	wantValidation(t, send(t, srv, "PUT", "/rooms/"+id, `{"max_members":500}`), 422, "max_members")
	wantErrorBody(t, send(t, srv, "PUT", "/rooms/R1", `{}`), 404, "Not Found") // by id only
	wantStatus(t, send(t, srv, "POST", "/rooms", `{"name":"R2"}`), 200)
	wantValidation(t, send(t, srv, "PUT", "/rooms/"+id, `{"name":"R2"}`), 422, "name")
	wantStatus(t, send(t, srv, "PUT", "/rooms/"+id, `{"name":"R3"}`), 200)
	wantStatus(t, send(t, srv, "GET", "/rooms/R3", ""), 200)
	wantStatus(t, send(t, srv, "GET", "/rooms/R1", ""), 404)

	a = send(t, srv, "DELETE", "/rooms/"+id, "")
	wantStatus(t, a, 204)
	if a.raw != "" {
		t.Errorf("204 body: got %q, want empty", a.raw)
	}
	wantStatus(t, send(t, srv, "GET", "/rooms/"+id, ""), 404)
	wantStatus(t, send(t, srv, "DELETE", "/rooms/"+id, ""), 404)
	wantStatus(t, send(t, srv, "POST", "/rooms", `{"name":"R3"}`), 200) // the name is free again
}

func TestRoomPaging(t *testing.T) {
	t.Parallel()
	_, srv := start(t)
	for i := range 5 {
		wantStatus(t, send(t, srv, "POST", "/rooms", fmt.Sprintf(`{"name":"room_%d"}`, i)), 200)
	}
	var names []string
	next := srv.URL + "/api/video/rooms?page_size=2"
	pages := 0
	for next != "" {
		a := send(t, srv, "GET", next, "")
		wantStatus(t, a, 200)
		pages++
		l := a.body["links"].(map[string]any)
		for _, k := range []string{"self", "first"} {
			if s, _ := l[k].(string); !strings.HasPrefix(s, srv.URL+"/api/video/rooms") {
				t.Errorf("links.%s: got %q, want an absolute URL on %s", k, s, srv.URL)
			}
		}
		if pages > 1 && l["prev"] == nil {
			t.Errorf("links.prev: got none on page %d, want one", pages)
		}
		if pages == 1 && l["prev"] != nil {
			t.Errorf("links.prev: got %v on page 1, want none", l["prev"])
		}
		for _, r := range a.body["data"].([]any) {
			names = append(names, r.(map[string]any)["name"].(string))
		}
		next, _ = l["next"].(string)
		if next != "" && !strings.HasPrefix(next, srv.URL) {
			t.Fatalf("links.next: got %q, want an absolute URL on %s", next, srv.URL)
		}
	}
	if pages != 3 || strings.Join(names, ",") != "room_0,room_1,room_2,room_3,room_4" {
		t.Errorf("paging: got %d pages %v, want 3 pages of all rooms in order", pages, names)
	}
	wantValidation(t, send(t, srv, "GET", "/rooms?page_size=0", ""), 422, "page_size")
	wantValidation(t, send(t, srv, "GET", "/rooms?page_size=1001", ""), 422, "page_size")
	wantValidation(t, send(t, srv, "GET", "/rooms?page_token=bogus", ""), 422, "page_token")
	if n := len(send(t, srv, "GET", "/rooms", "").body["data"].([]any)); n != 5 {
		t.Errorf("default page: got %d rooms, want 5", n)
	}
}

func TestRoomTokens(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	f, srv := start(t, swtest.WithClock(func() time.Time { return now }))
	wantStatus(t, send(t, srv, "POST", "/rooms", `{"name":"Main_Office"}`), 200)

	tests := []struct {
		name, body string
		check      func(t *testing.T, c swtest.TokenClaims)
	}{
		{"a moderator token carries its permissions", `{"room_name":"Main_Office","user_name":"Alice","permissions":["room.self.audio_mute","room.member.remove"]}`,
			func(t *testing.T, c swtest.TokenClaims) {
				if c.UserName != "Alice" || c.RoomName != "Main_Office" || c.JoinAs != "member" ||
					!slices.Equal(c.Permissions, []string{"room.self.audio_mute", "room.member.remove"}) {
					t.Errorf("claims: got %+v", c)
				}
				if c.Version != "1.0" || !uuidRE.MatchString(c.ID) || c.IssuedAt != now.Unix() ||
					!c.AutoCreateRoom || c.MediaAllowed != "all" || c.JoinAudioMuted || c.JoinVideoMuted {
					t.Errorf("claims defaults: got %+v", c)
				}
			}},
		{"an audience token has no permissions", `{"room_name":"Main_Office","user_name":"Bob","join_as":"audience","permissions":["room.member.remove"]}`,
			func(t *testing.T, c swtest.TokenClaims) {
				if c.JoinAs != "audience" || c.Permissions == nil || len(c.Permissions) != 0 {
					t.Errorf("claims: got ja %q s %v, want audience and []", c.JoinAs, c.Permissions)
				}
			}},
		{"explicit falses and options are carried", `{"room_name":"Main_Office","auto_create_room":false,"join_audio_muted":true,"join_video_muted":true,"media_allowed":"audio-only","end_room_session_on_leave":false}`,
			func(t *testing.T, c swtest.TokenClaims) {
				if c.AutoCreateRoom || !c.JoinAudioMuted || !c.JoinVideoMuted || c.MediaAllowed != "audio-only" {
					t.Errorf("claims: got %+v", c)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := send(t, srv, "POST", "/room_tokens", tt.body)
			wantStatus(t, a, 200)
			tok, _ := a.body["token"].(string)
			if len(a.body) != 1 || strings.Count(tok, ".") != 2 {
				t.Fatalf("body: got %s, want {\"token\": a JWT-shaped string}", a.raw)
			}
			c, err := f.VerifyToken(tok)
			if err != nil {
				t.Fatalf("VerifyToken: %v", err)
			}
			tt.check(t, c)
			if !slices.Contains(f.IssuedTokens(), tok) {
				t.Errorf("IssuedTokens: got no %q", "token")
			}
		})
	}

	t.Run("the token header is the VRT header", func(t *testing.T) {
		tok := send(t, srv, "POST", "/room_tokens", `{"room_name":"Main_Office"}`).body["token"].(string)
		// The VRT header plus ch, the relay the SDK connects to (RELAY.md).
		hb, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
		if got, want := string(hb), `{"typ":"VRT","ver":"1.0","alg":"HS512","ch":"`+swtest.RelayURL(srv.URL)+`"}`; got != want {
			t.Errorf("header: got %s, want %s", got, want)
		}
	})
	t.Run("a tampered token fails verification", func(t *testing.T) {
		tok := send(t, srv, "POST", "/room_tokens", `{"room_name":"Main_Office"}`).body["token"].(string)
		parts := strings.Split(tok, ".")
		forged := swtest.New(key, token)
		if _, err := forged.VerifyToken(tok); err == nil {
			t.Errorf("VerifyToken by another fake: got nil, want an error")
		}
		if _, err := swtest.DecodeToken(parts[0] + "." + parts[1]); err == nil {
			t.Errorf("DecodeToken of two parts: got nil, want an error")
		}
	})
}

func TestRoomTokenValidation(t *testing.T) {
	t.Parallel()
	_, srv := start(t)
	tests := []struct{ name, body, attr string }{
		{"a missing room name is rejected", `{"user_name":"a"}`, "room_name"},
		{"a room name with a space is rejected", `{"room_name":"a b"}`, "room_name"},
		{"a user name of 101 characters is rejected", `{"room_name":"a","user_name":"` + strings.Repeat("u", 101) + `"}`, "user_name"},
		{"an old-style permission is rejected", `{"room_name":"a","permissions":["room.screen_share"]}`, "permissions"},
		{"a video.* permission is rejected", `{"room_name":"a","permissions":["video.member.remove"]}`, "permissions"},
		{"permissions that are not strings are rejected", `{"room_name":"a","permissions":[1]}`, "permissions"},
		{"an unknown join_as is rejected", `{"room_name":"a","join_as":"moderator"}`, "join_as"},
		{"an unknown media_allowed is rejected", `{"room_name":"a","media_allowed":"none"}`, "media_allowed"},
		{"a non-boolean auto_create_room is rejected", `{"room_name":"a","auto_create_room":"false"}`, "auto_create_room"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantValidation(t, send(t, srv, "POST", "/room_tokens", tt.body), 422, tt.attr)
		})
	}
	t.Run("all 44 documented permissions are accepted", func(t *testing.T) {
		perms, _ := json.Marshal(swtest.ValidPermissions())
		if n := len(swtest.ValidPermissions()); n != 44 {
			t.Fatalf("ValidPermissions: got %d, want 44", n)
		}
		wantStatus(t, send(t, srv, "POST", "/room_tokens", `{"room_name":"a","permissions":`+string(perms)+`}`), 200)
	})
	t.Run("unknown fields are ignored", func(t *testing.T) {
		wantStatus(t, send(t, srv, "POST", "/room_tokens", `{"room_name":"a","future_field":1}`), 200)
	})
}

func TestRoomTokenAutoCreate(t *testing.T) {
	t.Parallel()
	f, srv := start(t)
	wantStatus(t, send(t, srv, "POST", "/room_tokens", `{"room_name":"NotThere","auto_create_room":false}`), 200)
	wantStatus(t, send(t, srv, "GET", "/rooms/NotThere", ""), 404)
	wantStatus(t, send(t, srv, "POST", "/room_tokens", `{"room_name":"Auto"}`), 200)
	a := send(t, srv, "GET", "/rooms/Auto", "")
	wantStatus(t, a, 200)
	if a.body["max_members"] != 20.0 || a.body["display_name"] != "Auto" {
		t.Errorf("auto-created room: got %s, want the defaults", a.raw)
	}
	if n := len(f.Rooms()); n != 1 {
		t.Errorf("rooms: got %d, want 1", n)
	}
}

func TestRoomSessions(t *testing.T) {
	t.Parallel()
	f, srv := start(t)
	room, err := f.SeedRoom(swtest.Room{Name: "Main_Office", MaxMembers: 5})
	if err != nil {
		t.Fatal(err)
	}
	ended := time.Now().Add(-time.Hour)
	done := f.SeedRoomSession(swtest.RoomSession{Name: "Main_Office", EndTime: &ended})
	live := f.SeedRoomSession(swtest.RoomSession{Name: "Main_Office"})
	other := f.SeedRoomSession(swtest.RoomSession{Name: "Other"})
	if live.RoomID != room.ID || live.MaxMembers != 5 || live.Status != "in-progress" || done.Status != "completed" {
		t.Fatalf("seeded sessions: got %+v and %+v", live, done)
	}
	alice, err := f.SeedMember(live.ID, swtest.Member{Name: "Alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.SeedMember("nope", swtest.Member{Name: "x"}); err == nil {
		t.Errorf("SeedMember of an unknown session: got nil, want an error")
	}

	ids := func(a answer) []string {
		var out []string
		for _, s := range a.body["data"].([]any) {
			out = append(out, s.(map[string]any)["id"].(string))
		}
		return out
	}
	tests := []struct {
		name, query string
		want        []string
	}{
		{"all sessions are listed newest first", "", []string{other.ID, live.ID, done.ID}},
		{"status in-progress lists live sessions", "?status=in-progress", []string{other.ID, live.ID}},
		{"status completed lists ended sessions", "?status=completed", []string{done.ID}},
		{"room_name filters by room", "?room_name=Main_Office&status=in-progress", []string{live.ID}},
		{"room_id filters by room", "?room_id=" + room.ID, []string{live.ID, done.ID}},
		{"room_name_matches filters by part of the name", "?room_name_matches=Oth", []string{other.ID}},
		{"page_size pages", "?page_size=1", []string{other.ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := send(t, srv, "GET", "/room_sessions"+tt.query, "")
			wantStatus(t, a, 200)
			if got := ids(a); !slices.Equal(got, tt.want) {
				t.Errorf("ids: got %v, want %v", got, tt.want)
			}
		})
	}
	wantValidation(t, send(t, srv, "GET", "/room_sessions?status=live", ""), 422, "status")

	a := send(t, srv, "GET", "/room_sessions/"+live.ID, "")
	wantStatus(t, a, 200)
	for _, k := range []string{"id", "room_id", "name", "display_name", "max_members", "layout", "locked", "start_time", "end_time", "status"} {
		if _, has := a.body[k]; !has {
			t.Errorf("session: got no %q in %s", k, a.raw)
		}
	}
	if a.body["end_time"] != nil {
		t.Errorf("end_time of a live session: got %v, want null", a.body["end_time"])
	}
	wantErrorBody(t, send(t, srv, "GET", "/room_sessions/nope", ""), 404, "Not Found")
	wantErrorBody(t, send(t, srv, "GET", "/room_sessions/nope/members", ""), 404, "Not Found")

	a = send(t, srv, "GET", "/room_sessions/"+live.ID+"/members", "")
	wantStatus(t, a, 200)
	data := a.body["data"].([]any)
	if len(data) != 1 {
		t.Fatalf("members: got %s, want Alice", a.raw)
	}
	m := data[0].(map[string]any)
	if m["id"] != alice.ID || m["name"] != "Alice" || m["leave_time"] != nil || m["join_time"] == nil || m["duration"] == nil {
		t.Errorf("member: got %v", m)
	}
}

func TestLiveSessionsFromTokens(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	f, srv := start(t, swtest.WithLiveSessionsFromTokens(), swtest.WithClock(clock))

	wantStatus(t, send(t, srv, "POST", "/room_tokens", `{"room_name":"Live","user_name":"Alice"}`), 200)
	advance(5 * time.Minute)
	wantStatus(t, send(t, srv, "POST", "/room_tokens", `{"room_name":"Live","user_name":"Bob"}`), 200)
	wantStatus(t, send(t, srv, "POST", "/room_tokens", `{"room_name":"Live","user_name":"Bob"}`), 200)
	wantStatus(t, send(t, srv, "POST", "/room_tokens", `{"room_name":"Ghost","auto_create_room":false}`), 200)

	a := send(t, srv, "GET", "/room_sessions?status=in-progress", "")
	data := a.body["data"].([]any)
	if len(data) != 1 || data[0].(map[string]any)["name"] != "Live" {
		t.Fatalf("live sessions: got %s, want one for Live", a.raw)
	}
	id := data[0].(map[string]any)["id"].(string)
	var names []string
	for _, m := range f.Members(id) {
		names = append(names, m.Name)
	}
	if !slices.Equal(names, []string{"Alice", "Bob"}) {
		t.Errorf("members: got %v, want [Alice Bob]", names)
	}

	advance(swtest.LiveSessionTTL + time.Second)
	a = send(t, srv, "GET", "/room_sessions?status=in-progress", "")
	if n := len(a.body["data"].([]any)); n != 0 {
		t.Errorf("live sessions after the TTL: got %d, want 0", n)
	}
	a = send(t, srv, "GET", "/room_sessions/"+id, "")
	if a.body["status"] != "completed" || a.body["end_time"] == nil {
		t.Errorf("expired session: got %s, want completed with an end_time", a.raw)
	}
}

func TestWithoutLiveSessionsTokensStartNothing(t *testing.T) {
	t.Parallel()
	f, srv := start(t)
	wantStatus(t, send(t, srv, "POST", "/room_tokens", `{"room_name":"Live","user_name":"Alice"}`), 200)
	if n := len(f.RoomSessions()); n != 0 {
		t.Errorf("sessions: got %d, want 0", n)
	}
}

func TestRecorder(t *testing.T) {
	t.Parallel()
	f, srv := start(t, swtest.WithLimits(swtest.Limits{Calls: 3}))
	send(t, srv, "POST", "/rooms", `{"name":"A","max_members":5}`)
	send(t, srv, "GET", "/rooms?page_size=1", "")
	sendAs(t, srv, "", "", "GET", "/rooms/A", "")

	calls := f.Calls()
	if len(calls) != 3 {
		t.Fatalf("calls: got %d, want 3", len(calls))
	}
	c := calls[0]
	if c.Method != "POST" || c.Path != "/api/video/rooms" || c.Status != 200 || c.Body["name"] != "A" || c.Body["max_members"] != 5.0 {
		t.Errorf("first call: got %+v", c)
	}
	if got := calls[1].Query.Get("page_size"); got != "1" {
		t.Errorf("query: got %q, want %q", got, "1")
	}
	if calls[2].Status != 401 {
		t.Errorf("unauthenticated call status: got %d, want 401", calls[2].Status)
	}
	if n := len(f.CallsTo("POST", "/rooms")); n != 1 {
		t.Errorf("CallsTo without prefix: got %d, want 1", n)
	}
	if n := len(f.CallsTo("POST", "/api/video/rooms")); n != 1 {
		t.Errorf("CallsTo with prefix: got %d, want 1", n)
	}
	for range 10 {
		send(t, srv, "GET", "/rooms", "")
	}
	if n := len(f.Calls()); n != 3 {
		t.Errorf("calls past the limit: got %d, want 3 (the most recent)", n)
	}
	f.ResetCalls()
	if n := len(f.Calls()); n != 0 {
		t.Errorf("calls after ResetCalls: got %d, want 0", n)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	t.Run("a counted 503 fails that many requests, then the route answers", func(t *testing.T) {
		t.Parallel()
		f, srv := start(t)
		f.Fail("GET", "/rooms", swtest.Fault{Status: 503, Count: 2})
		wantErrorBody(t, send(t, srv, "GET", "/rooms", ""), 503, "Service Unavailable")
		wantErrorBody(t, sendAs(t, srv, "", "", "GET", "/rooms/x", ""), 503, "Service Unavailable") // prefix, before auth
		wantStatus(t, send(t, srv, "GET", "/rooms", ""), 200)
	})
	t.Run("a 429 carries Retry-After", func(t *testing.T) {
		t.Parallel()
		f, srv := start(t)
		f.Fail("POST", "/api/video/room_tokens", swtest.Fault{Status: 429, RetryAfter: "1"})
		a := send(t, srv, "POST", "/room_tokens", `{"room_name":"a"}`)
		wantStatus(t, a, 429)
		if got := a.header.Get("Retry-After"); got != "1" {
			t.Errorf("Retry-After: got %q, want %q", got, "1")
		}
		wantStatus(t, send(t, srv, "POST", "/rooms", `{"name":"a"}`), 200) // other routes unaffected
		f.ClearFaults()
		wantStatus(t, send(t, srv, "POST", "/room_tokens", `{"room_name":"a"}`), 200)
	})
	t.Run("a custom body is sent as is", func(t *testing.T) {
		t.Parallel()
		f, srv := start(t)
		f.Fail("", "", swtest.Fault{Status: 200, Body: `{"data": [`})
		resp, err := srv.Client().Get(srv.URL + "/api/video/rooms")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != `{"data": [` {
			t.Errorf("body: got %q, want %q", b, `{"data": [`)
		}
	})
	t.Run("a delay slows the answer", func(t *testing.T) {
		t.Parallel()
		f, srv := start(t)
		f.Fail("GET", "/rooms", swtest.Fault{Delay: 100 * time.Millisecond, Count: 1})
		t0 := time.Now()
		wantStatus(t, send(t, srv, "GET", "/rooms", ""), 200)
		if d := time.Since(t0); d < 100*time.Millisecond {
			t.Errorf("delay: got %v, want at least 100ms", d)
		}
	})
	t.Run("a hangup is a transport failure", func(t *testing.T) {
		t.Parallel()
		f, srv := start(t)
		f.Fail("GET", "/rooms", swtest.Fault{Hangup: true, Count: 1})
		if resp, err := srv.Client().Get(srv.URL + "/api/video/rooms"); err == nil {
			resp.Body.Close()
			t.Fatalf("hangup: got status %d, want a transport error", resp.StatusCode)
		}
		wantStatus(t, send(t, srv, "GET", "/rooms", ""), 200)
		if c := f.Calls()[0]; c.Status != 0 {
			t.Errorf("recorded status of a hangup: got %d, want 0", c.Status)
		}
	})
}

func TestLimits(t *testing.T) {
	t.Parallel()
	f, srv := start(t, swtest.WithLimits(swtest.Limits{Rooms: 2, Sessions: 2, Members: 1}))
	wantStatus(t, send(t, srv, "POST", "/rooms", `{"name":"a"}`), 200)
	wantStatus(t, send(t, srv, "POST", "/rooms", `{"name":"b"}`), 200)
	wantValidation(t, send(t, srv, "POST", "/rooms", `{"name":"c"}`), 422, "")
	wantValidation(t, send(t, srv, "POST", "/room_tokens", `{"room_name":"c"}`), 422, "room_name")
	if _, err := f.SeedRoom(swtest.Room{Name: "c"}); err == nil {
		t.Errorf("SeedRoom past the limit: got nil, want an error")
	}
	s1 := f.SeedRoomSession(swtest.RoomSession{Name: "a"})
	f.SeedRoomSession(swtest.RoomSession{Name: "b"})
	f.SeedRoomSession(swtest.RoomSession{Name: "b"})
	if n := len(f.RoomSessions()); n != 2 {
		t.Errorf("sessions: got %d, want 2", n)
	}
	if f.Members(s1.ID) != nil {
		t.Errorf("oldest session: still there, want it dropped")
	}
	s := f.RoomSessions()[0]
	if _, err := f.SeedMember(s.ID, swtest.Member{Name: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.SeedMember(s.ID, swtest.Member{Name: "y"}); err == nil {
		t.Errorf("SeedMember past the limit: got nil, want an error")
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	f, srv := start(t, swtest.WithLiveSessionsFromTokens())
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 10 {
				name := fmt.Sprintf("r%d_%d", i, j%3)
				send(t, srv, "POST", "/rooms", `{"name":"`+name+`"}`)
				send(t, srv, "POST", "/room_tokens", `{"room_name":"`+name+`","user_name":"u"}`)
				send(t, srv, "GET", "/room_sessions?status=in-progress", "")
				f.Calls()
			}
		})
	}
	wg.Wait()
	if n := len(f.Rooms()); n != 24 {
		t.Errorf("rooms: got %d, want 24", n)
	}
}

func TestAnEscapedSlashInARoomNameIsNotFound(t *testing.T) {
	t.Parallel()
	_, srv := start(t)
	a := send(t, srv, "GET", "/rooms/"+url.PathEscape("a/b"), "")
	wantErrorBody(t, a, 404, "Not Found")
}
