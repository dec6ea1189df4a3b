package signalwire

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// APIError is an answer from SignalWire with a status outside 2xx. Its
// fields come from the error body, which is one of
//
//	{"errors":[{"type":"validation_error","code":"invalid_parameter","message":"...","attribute":"name","url":"..."}]}
//	{"error":"Not Found"}
//
// Use errors.As to get it, or the package's Is* functions.
type APIError struct {
	StatusCode int
	// Errors lists the entries of an {"errors":[...]} body (validation).
	Errors []ErrorDetail
	// Message is the {"error":"..."} text, or else the first entry's message.
	Message string
	// RetryAfter is the server's Retry-After (seconds or HTTP date), if sent.
	RetryAfter time.Duration
	// Method and Path name the call, Path relative to /api/video ("/rooms").
	Method, Path string
}

// ErrorDetail is one entry of an {"errors":[...]} body. Attribute names
// the request field at fault and is empty when the server sent null.
type ErrorDetail struct {
	Type      string `json:"type"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	Attribute string `json:"attribute"`
	URL       string `json:"url"`
}

// Error is short and safe to log: method, path, status and the first
// problem, with server text trimmed and stripped of control characters.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("signalwire: ")
	if e.Method != "" || e.Path != "" {
		b.WriteString(cleanText(e.Method) + " " + cleanText(e.Path) + ": ")
	}
	b.WriteString(strconv.Itoa(e.StatusCode))
	switch {
	case len(e.Errors) > 0:
		d := e.Errors[0]
		if d.Type != "" {
			b.WriteString(" " + cleanText(d.Type))
		} else if d.Code != "" {
			b.WriteString(" " + cleanText(d.Code))
		}
		b.WriteString(":")
		if d.Attribute != "" {
			b.WriteString(" " + cleanText(d.Attribute) + ":")
		}
		msg := d.Message
		if msg == "" {
			msg = d.Code
		}
		if msg != "" {
			b.WriteString(" " + cleanText(msg))
		}
		if n := len(e.Errors) - 1; n > 0 {
			fmt.Fprintf(&b, " (and %d more)", n)
		}
	case e.Message != "":
		b.WriteString(" " + cleanText(e.Message))
	default:
		if t := http.StatusText(e.StatusCode); t != "" {
			b.WriteString(" " + t)
		}
	}
	return b.String()
}

// IsNotFound reports a 404: the room, session or path does not exist.
func (e *APIError) IsNotFound() bool { return e != nil && e.StatusCode == http.StatusNotFound }

// IsValidation reports a 422: SignalWire rejected a field (see Errors).
func (e *APIError) IsValidation() bool {
	return e != nil && e.StatusCode == http.StatusUnprocessableEntity
}

// IsRateLimited reports a 429: SignalWire asks us to back off.
func (e *APIError) IsRateLimited() bool {
	return e != nil && e.StatusCode == http.StatusTooManyRequests
}

// IsUnauthorized reports a 401 or 403: the project key or token was
// rejected, or the token lacks the Video scope. Retrying will not help.
func (e *APIError) IsUnauthorized() bool {
	return e != nil && (e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden)
}

// IsNameTaken reports an answer that may mean "a room with this name
// exists": a 409, or a 422 on attribute "name". SignalWire's answer to a
// duplicate is not documented, and a 422 on name can also mean an invalid
// name, so confirm with GetRoom (EnsureRoom does).
func (e *APIError) IsNameTaken() bool {
	if e == nil {
		return false
	}
	if e.StatusCode == http.StatusConflict {
		return true
	}
	if e.StatusCode != http.StatusUnprocessableEntity {
		return false
	}
	for _, d := range e.Errors {
		if d.Attribute == "name" {
			return true
		}
	}
	return false
}

// IsNotFound reports whether err is (or wraps) an APIError with status 404.
func IsNotFound(err error) bool { e := asAPIError(err); return e.IsNotFound() }

// IsValidation reports whether err is (or wraps) an APIError with status 422.
func IsValidation(err error) bool { e := asAPIError(err); return e.IsValidation() }

// IsRateLimited reports whether err is (or wraps) an APIError with status 429.
func IsRateLimited(err error) bool { e := asAPIError(err); return e.IsRateLimited() }

// IsUnauthorized reports whether err is (or wraps) an APIError with status
// 401 or 403.
func IsUnauthorized(err error) bool { e := asAPIError(err); return e.IsUnauthorized() }

func asAPIError(err error) *APIError {
	var e *APIError
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// ErrTransport matches (with errors.Is) every failure that is not an
// answer from SignalWire: timeouts, refused connections, a cancelled
// context, a success body that is not the expected JSON.
var ErrTransport = errors.New("signalwire: transport failure")

// TransportError is a call that got no usable answer. Err is the cause
// (context.DeadlineExceeded, a *net.OpError, a JSON decode error, ...).
type TransportError struct {
	Method, Path string
	Err          error
	decode       bool // the server answered 2xx with a body we cannot decode
}

// Error names the call and the cause; the cause never holds the URL (we
// unwrap *url.Error), a body or credentials.
func (e *TransportError) Error() string {
	return "signalwire: " + e.Method + " " + e.Path + ": " + cleanText(e.Err.Error())
}

// Unwrap gives errors.Is/As access to the cause, e.g. context.Canceled.
func (e *TransportError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrTransport) true.
func (e *TransportError) Is(target error) bool { return target == ErrTransport }

// IsMalformed reports whether err is an answer SignalWire did send (2xx)
// whose body was not the JSON expected: retrying will not help, and "could
// not reach SignalWire" would be untrue.
func IsMalformed(err error) bool {
	var te *TransportError
	return errors.As(err, &te) && te.decode
}

// IsRedirect reports whether err is a 3xx answer, which the Client never
// follows (the credentials would go with it).
func IsRedirect(err error) bool {
	e := asAPIError(err)
	return e != nil && e.StatusCode >= 300 && e.StatusCode < 400
}

// BudgetError is a call not made because the Client's own budget of calls
// a second (WithCallBudget) was spent. RetryAfter is when the next call
// would be allowed.
type BudgetError struct {
	Method, Path string
	RetryAfter   time.Duration
}

// Error names the call and the wait.
func (e *BudgetError) Error() string {
	return "signalwire: " + e.Method + " " + e.Path + ": call budget spent; next call in " + e.RetryAfter.Round(time.Millisecond).String()
}

// decodeError rewords JSON decode errors so that none quotes the body.
func decodeError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("malformed JSON in response at byte %d: %w", se.Offset, errDecode)
	case errors.As(err, &te):
		return fmt.Errorf("unexpected JSON %s for field %q in response: %w", te.Value, te.Field, errDecode)
	}
	return fmt.Errorf("malformed JSON in response: %w", errDecode)
}

// errDecode is wrapped by decode failures of a body the server did send.
var errDecode = errors.New("decode failed")

// parseAPIError reads an error body of either documented shape. Anything
// else (an HTML page from a proxy, nothing at all) leaves the fields empty:
// the status alone still classifies the error.
func parseAPIError(status int, body []byte) *APIError {
	e := &APIError{StatusCode: status}
	var raw struct {
		Errors json.RawMessage `json:"errors"`
		Error  json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &raw) != nil {
		return e
	}
	var s string
	if json.Unmarshal(raw.Error, &s) == nil {
		e.Message = s
	} else {
		var obj map[string]any
		if json.Unmarshal(raw.Error, &obj) == nil {
			e.Message = str(obj["message"])
		}
	}
	var entries []json.RawMessage
	if json.Unmarshal(raw.Errors, &entries) == nil {
		for _, ent := range entries {
			var m map[string]any
			if json.Unmarshal(ent, &m) == nil {
				e.Errors = append(e.Errors, ErrorDetail{
					Type: str(m["type"]), Code: str(m["code"]), Message: str(m["message"]),
					Attribute: str(m["attribute"]), URL: str(m["url"]),
				})
			} else if json.Unmarshal(ent, &s) == nil {
				e.Errors = append(e.Errors, ErrorDetail{Message: s})
			}
			if len(e.Errors) == 100 {
				break // enough to report; the rest only costs memory
			}
		}
	}
	if e.Message == "" && len(e.Errors) > 0 {
		e.Message = e.Errors[0].Message
	}
	return e
}

// str returns v if it is a string; tolerant of null and other types.
func str(v any) string {
	s, _ := v.(string)
	return s
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date.
// A date in the past means "now" (0, true).
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second) // avoid overflow; far beyond any wait we honour
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	if d < 0 {
		d = 0
	}
	return d, true
}

// cleanText makes server-supplied text fit for one log line: control
// characters become spaces, invalid UTF-8 is replaced and the length is
// bounded.
func cleanText(s string) string {
	const max = 160
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == max {
			b.WriteString("…")
			break
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			r = ' '
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
