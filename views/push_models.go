package views

import "encoding/json"

// LobbyState is a guest's view of the lobby. State is "waiting" (a host is
// in the call), "no-host" (none yet), "admitted" or "denied"; Ticket is the
// lobby ticket the page's token request carries once admitted; StreamURL
// is where the page hears what the host decides ("" when there is nothing
// to wait for).
type LobbyState struct {
	Room      string
	Name      string
	State     string
	Ticket    string
	StreamURL string
	// Replaced says why a denied guest was turned away: the invite link
	// they came with was replaced by a newer one ("New invite link").
	Replaced bool
}

// Lobby is the moderators' lobby panel: whether guests wait, and who does.
type Lobby struct {
	Room   string
	On     bool
	Guests []LobbyGuest
}

// LobbyGuest is one waiting guest; Waiting says for how long, in words.
type LobbyGuest struct {
	ID      string
	Name    string
	Waiting string
}

// ChatForm is the chat input with what was typed and what is wrong with it.
type ChatForm struct {
	Room  string
	Text  string
	Error string
}

// ChatLine is one chat message: At is RFC 3339 for <time datetime>, Time
// the time as shown; Parts are its text and links in order.
type ChatLine struct {
	ID     string
	Author string
	Host   bool
	At     string
	Time   string
	Parts  []ChatPart
}

// ChatPart is plain text, or a link when URL is set (an http(s) URL the
// handler has checked).
type ChatPart struct {
	Text string
	URL  string
}

// UnmuteAsk is a moderator's request to turn on Kind ("audio" or "video").
type UnmuteAsk struct {
	Room string
	Kind string
	From string
}

// NoticeView is a short notice; Kind names it for tests and styles
// (for example "muted", "blocked", "unmute-decline").
type NoticeView struct {
	Kind string
	Text string
}

// InviteView is the invite box: the current guest link and until when it
// works.
type InviteView struct {
	Room    string
	URL     string
	Expires string
}

// hxVals is an hx-vals attribute value sending one field.
func hxVals(name, value string) string {
	b, _ := json.Marshal(map[string]string{name: value})
	return string(b)
}

// roomPath is a room's base path; room names need no escaping.
func roomPath(room string) string { return "/rooms/" + room }
