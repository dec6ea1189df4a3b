package handlers_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"testing"
)

// TestTokenRequestBodyPlainNotEncoded: the Join button's body is read as
// sent; a body with a Content-Encoding is refused (415) before anything
// decodes it. Decoding has no bound in Fiber's c.Body: the gzip body
// below, 64 KB on the wire, is 64 MB decoded, and 512 KB (the body limit)
// would be half a gigabyte. Browsers never encode what they post.
func TestTokenRequestBodyPlainNotEncoded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openHosting, unlimitedJoins)
	e.host("Enc", "Ann")
	var bomb bytes.Buffer
	w := gzip.NewWriter(&bomb)
	_, _ = w.Write([]byte(`{"user":"Ann","x":"`))
	_, _ = w.Write(make([]byte, 64<<20))
	_ = w.Close()
	var small bytes.Buffer
	w = gzip.NewWriter(&small)
	_, _ = w.Write([]byte(`{"user":"Ann"}`))
	_ = w.Close()
	for name, req := range map[string]struct {
		body   []byte
		header []string
		status int
	}{
		"plain":       {[]byte(`{"user":"Ann"}`), nil, http.StatusOK},
		"identity":    {[]byte(`{"user":"Ann"}`), []string{"Content-Encoding", "identity"}, http.StatusOK},
		"gzipped":     {small.Bytes(), []string{"Content-Encoding", "gzip"}, http.StatusUnsupportedMediaType},
		"gzip bomb":   {bomb.Bytes(), []string{"Content-Encoding", "gzip"}, http.StatusUnsupportedMediaType},
		"deflate, br": {[]byte(`{"user":"Ann"}`), []string{"Content-Encoding", "deflate, br"}, http.StatusUnsupportedMediaType},
	} {
		header := append([]string{"Content-Type", "application/json", "Accept", "application/json", "X-Csrf-Token", e.csrf}, req.header...)
		resp, raw := e.do(http.MethodPost, "/rooms/Enc/token", bytes.NewReader(req.body), header...)
		if resp.StatusCode != req.status {
			t.Errorf("%s: got %d %.120q, want %d", name, resp.StatusCode, raw, req.status)
			continue
		}
		var a struct{ Token, Seat, Role, User string }
		if req.status == http.StatusOK && (json.Unmarshal([]byte(raw), &a) != nil || a.Token == "" || a.User != "Ann") {
			t.Errorf("%s: got %.120q, want Ann's token", name, raw)
		}
	}
}
