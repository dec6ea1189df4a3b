package joinbench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// browser is one browser identity: its own cookie jar (the CSRF binding
// and the host session), the CSRF token of the last page it rendered, and
// the room it hosts. Browsers share one transport, so that the app sees
// kept-alive connections as it does behind a proxy.
type browser struct {
	http *http.Client
	base string
	room string
	user string
	csrf string
	body bytes.Buffer // the last answer; kept for the next, as a browser's worker runs one request at a time
}

var (
	formToken   = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	islandToken = regexp.MustCompile(`"csrf":"([^"]+)"`)
	headerToken = regexp.MustCompile(`X-Csrf-Token":"([^"]+)"`)
)

func newBrowser(tr http.RoundTripper, base, room, user string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{base: base, room: room, user: user, http: &http.Client{
		Jar: jar, Transport: tr, Timeout: 20 * time.Second,
		// A form post answers 303: the benchmark wants the answer itself.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// host becomes the host of b.room the way a person does: the picker (a
// CSRF binding cookie and the form's token), then the form with the
// passcode (the host cookie).
func (b *browser) host(passcode string) error {
	body, err := b.get("/")
	if err != nil {
		return err
	}
	m := formToken.FindSubmatch(body)
	if m == nil {
		return fmt.Errorf("GET /: no CSRF token in the picker")
	}
	form := url.Values{"room": {b.room}, "user": {b.user}, "passcode": {passcode}, "_csrf": {string(m[1])}}
	resp, err := b.http.PostForm(b.base+"/rooms", form)
	if err != nil {
		return fmt.Errorf("POST /rooms: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("POST /rooms: got %d, want 303", resp.StatusCode)
	}
	return nil
}

// page opens the moderator page and keeps its CSRF token.
func (b *browser) page() error {
	body, err := b.get("/rooms/" + b.room + "?user=" + url.QueryEscape(b.user))
	if err != nil {
		return err
	}
	tok := lastIslandToken(body)
	if tok == nil {
		tok = headerToken.FindSubmatch([]byte(html.UnescapeString(string(body))))
	}
	if tok == nil {
		return fmt.Errorf("GET /rooms/%s: no CSRF token in the page", b.room)
	}
	b.csrf = string(tok[1])
	return nil
}

// lastIslandToken finds the island's CSRF token from the page's end,
// where its config is: the load generator's CPU is the machine's too, and
// a scan of the whole page from its start would cost more than the app's
// answer.
func lastIslandToken(body []byte) [][]byte {
	const key = `"csrf":"`
	i := bytes.LastIndex(body, []byte(key))
	if i < 0 {
		return islandToken.FindSubmatch(body)
	}
	v := body[i+len(key):]
	n := bytes.IndexByte(v, '"')
	if n <= 0 {
		return nil
	}
	return [][]byte{body[i : i+len(key)+n+1], v[:n]}
}

// token clicks Join: POST /rooms/{room}/token as the island sends it.
func (b *browser) token() error {
	req, _ := http.NewRequest(http.MethodPost, b.base+"/rooms/"+b.room+"/token",
		strings.NewReader(`{"user":`+quote(b.user)+`}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Csrf-Token", b.csrf)
	resp, err := b.http.Do(req)
	if err != nil {
		return fmt.Errorf("POST token: %w", err)
	}
	b.body.Reset()
	_, err = b.body.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("POST token: %w", err)
	}
	body := b.body.Bytes()
	if resp.StatusCode != http.StatusOK {
		return &statusError{what: "POST /rooms/" + b.room + "/token", got: resp.StatusCode}
	}
	var a struct{ Token, Seat, Role string }
	if err := json.Unmarshal(body, &a); err != nil || a.Token == "" || a.Seat == "" || a.Role != "moderator" {
		return fmt.Errorf("POST token: answer %.80q is not a moderator's token and seat", body)
	}
	return nil
}

// get returns the answer's body, valid until b's next request.
func (b *browser) get(path string) ([]byte, error) {
	resp, err := b.http.Get(b.base + path)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	b.body.Reset()
	_, err = b.body.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &statusError{what: "GET " + path, got: resp.StatusCode}
	}
	return b.body.Bytes(), nil
}

// statusError is an answer other than the one expected; the benchmark
// counts 429 and 503 apart, since the limits are meant to let it through.
type statusError struct {
	what string
	got  int
}

func (e *statusError) Error() string { return fmt.Sprintf("%s: got %d", e.what, e.got) }

func quote(s string) string {
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(s)
	return strings.TrimSpace(buf.String())
}
