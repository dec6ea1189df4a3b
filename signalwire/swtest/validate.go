package swtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"
)

// errorCodesURL is the "url" of every validation entry, as SignalWire sends.
const errorCodesURL = "https://developer.signalwire.com/rest/overview/error-codes#invalid_parameter"

// roomNamePattern is the documented rule for room names.
var roomNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Documented enums.
var (
	qualities = []string{"720p", "1080p"}
	layouts   = []string{
		"grid-responsive", "grid-responsive-mobile", "highlight-1-responsive",
		"1x1", "2x1", "2x2", "5up", "3x3", "4x4", "5x5", "6x6", "8x8", "10x10",
	}
	joinAsValues   = []string{"member", "audience"}
	mediaAllowed   = []string{"all", "video-only", "audio-only"}
	sessionStatus  = []string{"in-progress", "completed"}
	permissionList = []string{
		"room.self.audio_mute", "room.self.audio_unmute", "room.self.video_mute",
		"room.self.video_unmute", "room.self.deaf", "room.self.undeaf",
		"room.self.set_input_volume", "room.self.set_output_volume",
		"room.self.set_input_sensitivity", "room.self.set_position", "room.self.set_meta",
		"room.self.raisehand", "room.self.lowerhand", "room.self.screenshare",
		"room.self.additional_source",

		"room.member.audio_mute", "room.member.audio_unmute", "room.member.video_mute",
		"room.member.video_unmute", "room.member.deaf", "room.member.undeaf",
		"room.member.set_input_volume", "room.member.set_output_volume",
		"room.member.set_input_sensitivity", "room.member.set_position",
		"room.member.set_meta", "room.member.raisehand", "room.member.lowerhand",
		"room.member.remove", "room.member.promote", "room.member.demote",

		"room.hide_video_muted", "room.show_video_muted", "room.list_available_layouts",
		"room.set_layout", "room.set_position", "room.set_meta", "room.lock", "room.unlock",
		"room.playback", "room.playback_seek", "room.prioritize_handraise",
		"room.recording", "room.stream",
	}
)

// ValidPermissions returns the 44 permission strings the fake accepts in
// POST /room_tokens (the REST spec's list), so that a client's own list can
// be checked against an independent copy.
func ValidPermissions() []string { return slices.Clone(permissionList) }

// problem is one entry of a 422 {"errors":[...]} body.
type problem struct {
	Type      string  `json:"type"`
	Code      string  `json:"code"`
	Message   string  `json:"message"`
	Attribute *string `json:"attribute"` // null when no single field is at fault
	URL       string  `json:"url"`
}

type problems []problem

func (p *problems) add(attr, msg string) {
	var a *string
	if attr != "" {
		a = &attr
	}
	*p = append(*p, problem{Type: "validation_error", Code: "invalid_parameter", Message: msg, Attribute: a, URL: errorCodesURL})
}

func writeProblems(w http.ResponseWriter, status int, p problems) {
	writeJSON(w, status, map[string]any{"errors": p})
}

// errBadJSON means "answer 400 Bad Request".
var errBadJSON = errors.New("malformed JSON body")

// decodeBody reads a JSON object body (numbers kept as json.Number so that
// integers can be told from fractions). An empty body is an empty object.
func decodeBody(r *http.Request) (map[string]any, error) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, errBadJSON
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errBadJSON
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errBadJSON // trailing data
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errBadJSON
	}
	return m, nil
}

// fields reads typed values out of a decoded body, adding a problem for
// each value of the wrong type or out of range. Each getter returns ok=false
// when the field is absent (or null) or invalid. Unknown fields are ignored,
// as by the API.
type fields struct {
	m    map[string]any
	errs *problems
}

func (f fields) has(k string) bool {
	v, ok := f.m[k]
	return ok && v != nil
}

func (f fields) str(k string, maxLen int) (string, bool) {
	if !f.has(k) {
		return "", false
	}
	s, ok := f.m[k].(string)
	if !ok {
		f.errs.add(k, k+" must be a string")
		return "", false
	}
	if maxLen > 0 && utf8.RuneCountInString(s) > maxLen {
		f.errs.add(k, fmt.Sprintf("%s is too long (maximum is %d characters)", k, maxLen))
		return "", false
	}
	return s, true
}

func (f fields) integer(k string, lo, hi int64) (int, bool) {
	if !f.has(k) {
		return 0, false
	}
	n, ok := f.m[k].(json.Number)
	if !ok {
		f.errs.add(k, k+" must be an integer")
		return 0, false
	}
	i, err := n.Int64()
	if err != nil {
		f.errs.add(k, k+" must be an integer")
		return 0, false
	}
	if i < lo || i > hi {
		f.errs.add(k, fmt.Sprintf("%s must be between %d and %d", k, lo, hi))
		return 0, false
	}
	return int(i), true
}

func (f fields) boolean(k string) (bool, bool) {
	if !f.has(k) {
		return false, false
	}
	b, ok := f.m[k].(bool)
	if !ok {
		f.errs.add(k, k+" must be a boolean")
		return false, false
	}
	return b, true
}

func (f fields) enum(k string, allowed []string) (string, bool) {
	s, ok := f.str(k, 0)
	if !ok {
		return "", false
	}
	if !slices.Contains(allowed, s) {
		f.errs.add(k, fmt.Sprintf("%s is not included in the list", k))
		return "", false
	}
	return s, true
}

func (f fields) timestamp(k string) {
	s, ok := f.str(k, 0)
	if !ok {
		return
	}
	if _, err := time.Parse(time.RFC3339, s); err != nil {
		f.errs.add(k, k+" must be an RFC 3339 timestamp")
	}
}

func (f fields) object(k string) (map[string]any, bool) {
	if !f.has(k) {
		return nil, false
	}
	m, ok := f.m[k].(map[string]any)
	if !ok {
		f.errs.add(k, k+" must be an object")
		return nil, false
	}
	return m, true
}

func (f fields) strings(k string) ([]string, bool) {
	if !f.has(k) {
		return nil, false
	}
	arr, ok := f.m[k].([]any)
	if !ok {
		f.errs.add(k, k+" must be an array of strings")
		return nil, false
	}
	out := make([]string, 0, len(arr))
	for _, v := range arr {
		s, ok := v.(string)
		if !ok {
			f.errs.add(k, k+" must be an array of strings")
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// roomName validates a required room name field (name or room_name).
func (f fields) roomName(k string) (string, bool) {
	if !f.has(k) {
		f.errs.add(k, k+" is required")
		return "", false
	}
	s, ok := f.str(k, 0)
	if !ok {
		return "", false
	}
	return s, validRoomName(f.errs, k, s)
}

func validRoomName(errs *problems, k, s string) bool {
	switch {
	case s == "":
		errs.add(k, k+" can't be blank")
	case len(s) > 100:
		errs.add(k, k+" is too long (maximum is 100 characters)")
	case !roomNamePattern.MatchString(s):
		errs.add(k, k+" may contain only letters, digits, '_' and '-'")
	default:
		return true
	}
	return false
}
