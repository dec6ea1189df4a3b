package handlers

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// roomNamePattern is SignalWire's rule for room names.
var roomNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

const (
	maxRoomName = 100
	maxUserName = 100
)

// normalizeRoom trims and turns spaces into underscores, so that
// "Main Office" becomes the valid "Main_Office"; anything else that is
// not allowed is reported, not silently dropped.
func normalizeRoom(in string) (string, string) {
	room := strings.Join(strings.Fields(in), "_")
	switch {
	case room == "":
		return room, "Enter a room name."
	case utf8.RuneCountInString(room) > maxRoomName:
		return room, fmt.Sprintf("Room names can be at most %d characters.", maxRoomName)
	case !roomNamePattern.MatchString(room):
		return room, "Room names can use only letters A–Z, digits, _ and -."
	case reservedRoom(room):
		return room, "That name is reserved; pick another room name."
	}
	return room, ""
}

// reservedRoom: a name whose room page URL would be another route.
func reservedRoom(room string) bool { return room == "live" }

// validRoom reports whether a room name taken from a URL is acceptable
// as is; URLs carry normalized names only.
func validRoom(room string) bool {
	return len(room) <= maxRoomName && roomNamePattern.MatchString(room) && !reservedRoom(room)
}

// normalizeUser trims and checks a display name: 1 to 100 characters,
// counted in runes so that names in any script fit. Spaces of any script
// (an ideographic space, a no-break space) become plain spaces.
func normalizeUser(in string) (string, string) {
	if !utf8.ValidString(in) {
		return strings.TrimSpace(in), "Your name contains characters that are not text."
	}
	user := strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Zs, r) {
			return ' '
		}
		return r
	}, in))
	switch {
	case user == "":
		return user, "Enter your name."
	case utf8.RuneCountInString(user) > maxUserName:
		return user, fmt.Sprintf("Names can be at most %d characters.", maxUserName)
	}
	for _, r := range user {
		if !nameRune(r) {
			return user, "Your name can only use printable characters: no control or text-direction characters."
		}
	}
	return user, ""
}

// nameRune accepts what names are written with: printable characters,
// plus the invisible format characters that scripts and emoji need to
// render right. Other format characters stay out, above all the bidi
// embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) that
// would reorder the text around a name, and controls of every kind.
func nameRune(r rune) bool {
	switch {
	case unicode.IsPrint(r):
		return true
	case r == '\u200C', r == '\u200D': // ZWNJ (Persian, Indic scripts), ZWJ (Malayalam chillu, emoji sequences)
		return true
	case r >= '\uFE00' && r <= '\uFE0F', r >= 0xE0100 && r <= 0xE01EF: // variation selectors (emoji vs text style, CJK variants)
		return true
	case r >= 0xE0020 && r <= 0xE007F: // tag characters: subdivision flags such as Scotland's
		return true
	}
	return false
}
