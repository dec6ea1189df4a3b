package swtest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/swrooms/swrooms/signalwire/swtest"
)

// FuzzServeHTTP: whatever arrives, the fake answers with a documented
// status and a JSON body, and never panics (sandbox mode serves it).
func FuzzServeHTTP(f *testing.F) {
	f.Add("POST", "/api/video/rooms", `{"name":"Main_Office","max_members":5}`)
	f.Add("POST", "/api/video/room_tokens", `{"room_name":"a","permissions":["room.self.audio_mute"],"join_as":"audience"}`)
	f.Add("GET", "/api/video/rooms?page_size=2&page_token=PAMg", "")
	f.Add("PUT", "/api/video/rooms/x", `{"name":1e400}`)
	f.Add("GET", "/api/video/room_sessions?status=in-progress&room_name=a", "")
	f.Add("POST", "/api/video/rooms", `{"name":"a","meta":{"k":[1,{"x":null}]}}`)
	f.Fuzz(func(t *testing.T, method, target, body string) {
		if method != "GET" && method != "POST" && method != "PUT" && method != "DELETE" {
			method = "GET"
		}
		if !strings.HasPrefix(target, "/") {
			target = "/api/video/" + target
		}
		req, err := http.NewRequest(method, "http://127.0.0.1"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		req.SetBasicAuth("k", "t")
		fake := swtest.New("k", "t", swtest.WithLiveSessionsFromTokens())
		fake.SeedRoom(swtest.Room{Name: "x"})
		rec := httptest.NewRecorder()
		fake.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 404, 422:
			var v map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
				t.Errorf("%s %s: status %d body %q is not a JSON object", method, target, rec.Code, rec.Body)
			}
		case 204:
		default:
			t.Errorf("%s %s: got status %d", method, target, rec.Code)
		}
	})
}
