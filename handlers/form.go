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

// normalizeUser trims and checks a display name: 1 to 100 printable
// characters, counted in runes so that names in any script fit.
func normalizeUser(in string) (string, string) {
	user := strings.TrimSpace(in)
	switch {
	case user == "":
		return user, "Enter your name."
	case !utf8.ValidString(user):
		return user, "Your name contains characters that are not text."
	case utf8.RuneCountInString(user) > maxUserName:
		return user, fmt.Sprintf("Names can be at most %d characters.", maxUserName)
	}
	for _, r := range user {
		if !unicode.IsPrint(r) {
			return user, "Your name can only use printable characters."
		}
	}
	return user, ""
}
