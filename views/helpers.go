package views

import "encoding/json"

// csrfHeaders is the hx-headers value that makes every htmx request carry
// the CSRF token; JSON-encoding keeps any token byte from breaking out.
func csrfHeaders(token string) string {
	if token == "" {
		return ""
	}
	b, _ := json.Marshal(map[string]string{"X-Csrf-Token": token})
	return string(b)
}

// deviceLabel names a screen share or extra device for the roster.
func deviceLabel(d MemberRow) string {
	switch d.Type {
	case "screen":
		return "Screen share"
	case "device":
		return "Extra device: " + d.Name
	}
	return d.Name
}
