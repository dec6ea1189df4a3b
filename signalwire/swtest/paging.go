package swtest

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
)

const (
	defaultPageSize = 50
	maxPageSize     = 1000
)

// links is the "links" object of a list answer. URLs are absolute, built
// from the request's host, like SignalWire's.
type links struct {
	Self  string `json:"self"`
	First string `json:"first"`
	Next  string `json:"next,omitempty"`
	Prev  string `json:"prev,omitempty"`
}

// page validates page_size and page_token and works out the slice
// [start:end] of n items and its links. On a problem it has already
// answered 422 and returns ok=false.
func page(w http.ResponseWriter, r *http.Request, n int) (start, end int, l links, ok bool) {
	q := r.URL.Query()
	var errs problems
	size := defaultPageSize
	if v := q.Get("page_size"); v != "" {
		s, err := strconv.Atoi(v)
		if err != nil || s < 1 || s > maxPageSize {
			errs.add("page_size", "page_size must be an integer between 1 and 1000")
		} else {
			size = s
		}
	}
	if v := q.Get("page_token"); v != "" {
		off, good := decodePageToken(v)
		if !good {
			errs.add("page_token", "page_token is invalid")
		} else {
			start = off
		}
	}
	if len(errs) > 0 {
		writeProblems(w, http.StatusUnprocessableEntity, errs)
		return 0, 0, links{}, false
	}
	start = min(start, n)
	end = min(start+size, n)

	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	base := scheme + "://" + r.Host + r.URL.EscapedPath()
	with := func(token string) string {
		q2 := r.URL.Query()
		q2.Set("page_size", strconv.Itoa(size))
		if token == "" {
			q2.Del("page_token")
		} else {
			q2.Set("page_token", token)
		}
		return base + "?" + q2.Encode()
	}
	l.Self = base
	if r.URL.RawQuery != "" {
		l.Self += "?" + r.URL.RawQuery
	}
	l.First = with("")
	if end < n {
		l.Next = with(encodePageToken(end))
	}
	if start > 0 {
		prev := max(0, start-size)
		tok := ""
		if prev > 0 {
			tok = encodePageToken(prev)
		}
		l.Prev = with(tok)
	}
	return start, end, l, true
}

// Page tokens are opaque to clients; here they carry an offset.
func encodePageToken(off int) string {
	return "PA" + base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(off)))
}

func decodePageToken(tok string) (int, bool) {
	rest, ok := strings.CutPrefix(tok, "PA")
	if !ok {
		return 0, false
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return 0, false
	}
	off, err := strconv.Atoi(string(b))
	if err != nil || off < 0 {
		return 0, false
	}
	return off, true
}
