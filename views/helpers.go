package views

import (
	"encoding/hex"
	"encoding/json"
)

// csrfHeaders is the hx-headers value that makes every htmx request carry
// the CSRF token; JSON-encoding keeps any token byte from breaking out.
func csrfHeaders(token string) string {
	if token == "" {
		return ""
	}
	// A struct, not a map: encoding/json sorts and copies a map's keys.
	b, _ := json.Marshal(struct {
		Token string `json:"X-Csrf-Token"`
	}{token})
	return string(b)
}

// deviceLabel names a screen share or extra device for the roster by its
// owner: "Ada's screen", not the owner's name again.
func deviceLabel(owner string, d MemberRow) string {
	switch d.Type {
	case "screen":
		return possessive(owner) + " screen"
	case "device":
		return possessive(owner) + " other device"
	}
	return d.Name
}

// RowID is the element id of a member's row: member ids are arbitrary
// strings, so they are hex-encoded into a valid, selector-safe id.
func RowID(memberID string) string {
	return "member-" + hex.EncodeToString([]byte(memberID))
}

// insertAt is the hx-swap-oob value that inserts a row before the row of
// member before, or at the end of the list when before is "".
func insertAt(before string) string {
	if before == "" {
		return "beforeend:#roster-list"
	}
	return "beforebegin:#" + RowID(before)
}

// memberLabel is how buttons name a member: its name, or for a screen
// share or device, its owner's.
func memberLabel(m MemberRow, owner string) string {
	if owner == "" {
		return m.Name
	}
	return deviceLabel(owner, m)
}

// deviceIcon is the sprite symbol of a screen share or extra device row.
func deviceIcon(d MemberRow) string {
	if d.Type == "screen" {
		return "screen"
	}
	return "camera"
}
