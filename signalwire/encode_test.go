package signalwire

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"testing"
)

// FuzzRoomTokenParamsJSON holds appendJSON to encoding/json: the same
// JSON value for every field (a field added to the struct and not to
// appendJSON fails here), and encoding/json's own answer for a Meta map.
func FuzzRoomTokenParamsJSON(f *testing.F) {
	f.Add("Main_Office", "Ann", "room.self.audio_mute", "member", "all", 0, uint8(0b1111), uint8(0b0101), false)
	f.Add("<&>", "\xff\u2028\"\\\x00", "", "", "", -7, uint8(0), uint8(0), true)
	f.Fuzz(func(t *testing.T, room, user, perm, joinAs, media string, remove int, set, val uint8, meta bool) {
		p := RoomTokenParams{RoomName: room, UserName: user, JoinAs: JoinAs(joinAs), MediaAllowed: media, RemoveAfterSecondsElapsed: remove}
		if perm != "" {
			p.Permissions = []Permission{Permission(perm), PermSelfAudioMute}
		}
		for i, dst := range []**bool{&p.AutoCreateRoom, &p.JoinAudioMuted, &p.JoinVideoMuted, &p.EndRoomSessionOnLeave} {
			if set&(1<<i) != 0 {
				*dst = Bool(val&(1<<i) != 0)
			}
		}
		if meta {
			p.Meta = map[string]any{"k": user}
		}
		got, err := encodeBody(p)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(p)
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("got invalid JSON %q: %v", got, err)
		}
		_ = json.Unmarshal(want, &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	})
}

// FuzzTokenAnswer: whatever the answer, the token read is encoding/json's.
func FuzzTokenAnswer(f *testing.F) {
	f.Add([]byte(`{"token":"eyJhbGciOi.eyJzdWIi.c2ln"}`))
	f.Add([]byte(" \r\n\t{ \"token\" :\t\"a-b_c.d\" }\n"))
	f.Add([]byte(`{"token":"a\"b"}`))
	f.Add([]byte(`{"token":"a\u0041"}`))
	f.Add([]byte(`{"Token":"x"}`))
	f.Add([]byte(`{"token":"x","other":1}`))
	f.Add([]byte(`{"token":"x"}}`))
	f.Add([]byte(`{"token":"é"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var got tokenAnswer
		gotErr := got.decodeBody(body)
		var want struct {
			Token string `json:"token"`
		}
		wantErr := json.Unmarshal(body, &want)
		if (gotErr == nil) != (wantErr == nil) || got.Token != want.Token {
			t.Errorf("%q: got %q, %v; want %q, %v", body, got.Token, gotErr, want.Token, wantErr)
		}
	})
}

// TestNewRequestMatchesHTTPNewRequest: the request built from a kept URL is the
// one http.NewRequest builds from its string, and u is left as it was.
func TestNewRequestMatchesHTTPNewRequest(t *testing.T) {
	c, err := NewClient("http://127.0.0.1:9/", "key", "token")
	if err != nil {
		t.Fatal(err)
	}
	before := *c.tokensURL
	p := RoomTokenParams{RoomName: "R", UserName: "Ann"}
	got, err := c.newRequest(http.MethodPost, c.tokensURL, p)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(p)
	want, _ := http.NewRequest(http.MethodPost, c.tokensURL.String(), bytes.NewReader(body))
	if got.Method != want.Method || got.URL.String() != want.URL.String() || got.Host != want.Host ||
		got.Proto != want.Proto || got.ProtoMajor != want.ProtoMajor || got.ProtoMinor != want.ProtoMinor || got.ContentLength != want.ContentLength {
		t.Errorf("got %s %s host %q %s len %d, want %s %s host %q %s len %d", got.Method, got.URL, got.Host, got.Proto, got.ContentLength,
			want.Method, want.URL, want.Host, want.Proto, want.ContentLength)
	}
	for _, h := range []string{"Authorization", "Accept", "User-Agent", "Content-Type"} {
		if got.Header.Get(h) == "" {
			t.Errorf("got no %s header", h)
		}
	}
	for i := range 2 { // each attempt reads the body anew
		rc, err := got.GetBody()
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := io.ReadAll(rc); !bytes.Equal(b, body) {
			t.Errorf("read %d: got body %q, want %q", i, b, body)
		}
	}
	if *c.tokensURL != before {
		t.Errorf("got the kept URL changed to %v", c.tokensURL)
	}
}
