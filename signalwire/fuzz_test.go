package signalwire_test

import (
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/swrooms/swrooms/signalwire"
)

// FuzzParseRetryAfter: any header value parses to a non-negative wait or to
// "absent", without panicking.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"1", "0", "120", "-1", "", " 3 ", "1.5", "99999999999999999999", "Wed, 21 Oct 2015 07:28:00 GMT", "Sun, 06 Nov 2094 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "soon"} {
		f.Add(s)
	}
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := signalwire.ParseRetryAfter(v, now)
		if d < 0 || (!ok && d != 0) {
			t.Errorf("ParseRetryAfter(%q): got %v, %v", v, d, ok)
		}
	})
}

// FuzzParseAPIError: any error body gives an error whose text is one short
// line starting with "signalwire: ".
func FuzzParseAPIError(f *testing.F) {
	f.Add(422, []byte(`{"errors":[{"type":"validation_error","code":"invalid_parameter","message":"m","attribute":"name","url":"u"}]}`))
	f.Add(422, []byte(`{"errors":[{"attribute":null},"text",5]}`))
	f.Add(404, []byte(`{"error":"Not Found"}`))
	f.Add(500, []byte(`{"error":{"message":"nested"}}`))
	f.Add(502, []byte(`<html>bad gateway</html>`))
	f.Add(429, []byte(``))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := signalwire.ParseAPIError(status, body)
		e.Method, e.Path = "GET", "/rooms"
		s := e.Error()
		if !strings.HasPrefix(s, "signalwire: GET /rooms: ") || len(s) > 1200 {
			t.Errorf("Error: got %q", s)
		}
		if strings.IndexFunc(s, unicode.IsControl) >= 0 {
			t.Errorf("Error has a control character: %q", s)
		}
	})
}
