package handlers

import (
	"strings"
	"testing"
	"time"
)

// TestSignatureHasOneSpelling: a signature's last base64 character carries
// two unused bits; a value whose signature differs only there is another
// string, and is refused, so that a sealed value has one spelling (a
// ticket or seat used as a key cannot be told apart by its copies).
func TestSignatureHasOneSpelling(t *testing.T) {
	s := newSigner([]byte("0123456789abcdef0123456789abcdef"))
	now := time.Unix(1_800_000_000, 0)
	v := s.seal("seat", now.Add(time.Hour).Unix(), "R", "guest", "id")
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, v[len(v)-1])
	for low := range 4 {
		c := alphabet[last&^3|low]
		if c == v[len(v)-1] {
			continue
		}
		other := v[:len(v)-1] + string(c)
		if _, _, ok := s.open(other, "seat", 3, now); ok {
			t.Errorf("got %q accepted as well as %q", other, v)
		}
	}
	if _, _, ok := s.open(v, "seat", 3, now); !ok {
		t.Error("got the value itself refused")
	}
}
