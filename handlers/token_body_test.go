package handlers_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"testing"
)

// TestTokenRequestBodyPlainOrEncoded: the Join button's body is read as
// sent, and a gzip-encoded one is decoded first, as Fiber's c.Body does.
func TestTokenRequestBodyPlainOrEncoded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openHosting, unlimitedJoins)
	e.host("Enc", "Ann")
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, _ = w.Write([]byte(`{"user":"Ann"}`))
	_ = w.Close()
	for name, req := range map[string]struct {
		body   []byte
		header []string
	}{
		"plain":   {[]byte(`{"user":"Ann"}`), nil},
		"gzipped": {gz.Bytes(), []string{"Content-Encoding", "gzip"}},
	} {
		header := append([]string{"Content-Type", "application/json", "Accept", "application/json", "X-Csrf-Token", e.csrf}, req.header...)
		resp, raw := e.do(http.MethodPost, "/rooms/Enc/token", bytes.NewReader(req.body), header...)
		var a struct{ Token, Seat, Role, User string }
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(raw), &a) != nil || a.Token == "" || a.User != "Ann" {
			t.Errorf("%s: got %d %.120q, want 200 and Ann's token", name, resp.StatusCode, raw)
		}
	}
}
