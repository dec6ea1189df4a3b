// Package views renders swrooms' pages and fragments with templ. It knows
// nothing of Fiber or SignalWire: handlers translate their state into the
// plain view models below.
package views

import (
	"github.com/a-h/templ"
)

// Shell is what the layout needs on every page.
type Shell struct {
	Title     string
	Sandbox   bool
	CSRFToken string
	Assets    Assets
	// OpenHosting shows that anyone can host rooms.
	OpenHosting bool
}

// Assets holds the versioned URLs of the static files a page loads.
type Assets struct {
	CSS     string
	HTMX    string
	Favicon string
	// SDK is the vendored SignalWire SDK, in every mode.
	SDK  string
	Room string
	// SSE is htmx's SSE extension, after htmx.
	SSE string
}

// SetupURL is where the sandbox banner sends people who want a real space:
// the app's own setup page, rendered from the README's steps.
const SetupURL = "/setup"

// HTMXConfig makes htmx work under a strict Content-Security-Policy (no
// eval, no injected <style>) and lets 4xx and 5xx answers swap in, since the
// server renders a message for them.
const HTMXConfig = `{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,` +
	`"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},` +
	`{"code":"[45]..","swap":true,"error":false}]}`

// ErrorPage describes a failure in words a user can act on.
type ErrorPage struct {
	Status  int
	Title   string
	Message string
	// Action is a link that helps, such as "try again"; empty for none.
	ActionURL   string
	ActionLabel string
}

// Picker is the room picker form with what the user typed and what is wrong
// with it.
type Picker struct {
	Room string
	User string
	// NeedPasscode asks for HOST_PASSCODE: hosting is closed and this browser
	// holds no host session yet.
	NeedPasscode bool
	OpenHosting  bool
	// IsHost shows the rooms live right now.
	IsHost    bool
	CSRFToken string
	Errors    FieldErrors
	// FormError is a problem with the form as a whole.
	FormError string
	// LobbyOff unticks "Guests wait in a lobby" (?lobby=off, or a post
	// without it).
	LobbyOff bool
}

// FieldErrors maps a form field's name to what is wrong with it.
type FieldErrors map[string]string

// LiveRoom is a room with a session in progress.
type LiveRoom struct {
	Name        string
	DisplayName string
	Since       string
}

// LiveRooms is the list the picker refreshes.
type LiveRooms struct {
	Rooms []LiveRoom
	// Unavailable says SignalWire could not be asked; the list is then stale
	// or empty and the page says so instead of showing an error.
	Unavailable bool
}

// Role names, as the page and the island use them.
const (
	RoleModerator = "moderator"
	RoleGuest     = "guest"
)

// RoomPage is the call page for a moderator or a guest.
type RoomPage struct {
	Room string
	Role string
	User string
	// InviteURL is the absolute guest link; moderators only.
	InviteURL string
	// InviteExpires says until when the link works, for people.
	InviteExpires string
	Config        IslandConfig
	// SDKURL is the vendored SignalWire SDK; IslandURL is the JS island,
	// an ES module.
	SDKURL    string
	IslandURL string
	// Tabs are the side panel's tabs, first one shown; nil means
	// DefaultTabs(Role).
	Tabs []PanelTab
	// PrejoinExtra, when set, is rendered in the pre-join card above Join
	// (a waiting-room notice, for example).
	PrejoinExtra templ.Component
}

// PanelTab is one tab of the room page's side panel.
type PanelTab struct {
	// ID names the tab: the tab button is #tab-<ID>, its panel
	// #panel-<ID> with data-panel="<ID>".
	ID    string
	Label string
	// Icon is a symbol of public/img/icons.svg, for the toolbar button.
	Icon string
	// Toolbar puts a button opening this tab in the toolbar.
	Toolbar bool
	// Badge puts an unread count on the tab (#tab-<ID>-badge), hidden
	// until the island fills it in.
	Badge bool
	// Panel renders the tab's panel; nil for the roster's own tabs
	// (people, controls), which the roster fragment renders.
	Panel templ.Component
}

// DefaultTabs are the side panel's tabs for a role: People for everyone,
// Room controls for moderators.
func DefaultTabs(role string) []PanelTab {
	tabs := []PanelTab{{ID: "people", Label: "People", Icon: "people", Toolbar: true}}
	if role == RoleModerator {
		tabs = append(tabs, PanelTab{ID: "controls", Label: "Room controls", Icon: "sliders"})
	}
	return tabs
}

// tabsOf is the page's tabs, defaulted.
func tabsOf(p RoomPage) []PanelTab {
	if p.Tabs != nil {
		return p.Tabs
	}
	return DefaultTabs(p.Role)
}

// IslandConfig is handed to the JS island as JSON. It holds no token: the
// island asks for one when the user clicks Join.
type IslandConfig struct {
	Room      string `json:"room"`
	Role      string `json:"role"`
	User      string `json:"user"`
	TokenURL  string `json:"tokenURL"`
	EventsURL string `json:"eventsURL"`
	// JoinFailedURL is where the island reports a join the SDK could not
	// complete, so the server can tell a forgotten room from a blip.
	JoinFailedURL string  `json:"joinFailedURL"`
	CSRF          string  `json:"csrf"`
	Invite        *Invite `json:"invite,omitempty"`
	// Sandbox says that a restart of the server ends host sessions and
	// invite links (a random SECRET_KEY per start), for the end screen.
	Sandbox bool `json:"sandbox,omitempty"`
	// The page adds "layoutNames": SignalWire's layout ids in words, so
	// that the island's layout picker says what the server's "Layout:"
	// line says (layoutNamesJSON).

	// marker stands for the whole config while a RoomTemplate compiles.
	marker string
}

// Invite is a guest link's signed parts, which the guest's token request
// carries.
type Invite struct {
	Room string `json:"room"`
	Exp  int64  `json:"exp"`
	Sig  string `json:"sig"`
	// V is the room's invite key version the link was signed with.
	V int `json:"v,omitempty"`
}

// Roster is the panel the server renders from the SDK's events: room
// state, room-wide controls for moderators, and the members.
type Roster struct {
	Moderator bool
	Joined    bool
	Count     int
	Members   []MemberRow
	Room      RoomState
	// Left says the viewer has left the call.
	Left bool
}

// RosterChange is what changed in a roster since the version a page shows,
// as rows and parts to swap in out of band.
type RosterChange struct {
	// Controls gives rows and the room moderator controls, as the full
	// render does for a moderator who is in the call.
	Controls bool
	// Deleted are the member ids of rows to remove.
	Deleted []string
	// Replaced are rows that changed in place.
	Replaced []MemberRow
	// Inserted are new and moved rows, in the order to insert them.
	Inserted []RowInsert
	// Count is shown when CountChanged; Room when RoomChanged.
	Count        int
	CountChanged bool
	Room         RoomState
	RoomChanged  bool
}

// RowInsert puts Row before the row of member Before, or at the end of the
// list when Before is "".
type RowInsert struct {
	Row    MemberRow
	Before string
}

// RoomState is what the room events say about the room.
type RoomState struct {
	Layout         string
	Layouts        []string
	Locked         bool
	Recording      bool
	HideVideoMuted bool
}

// MemberRow is one person, with their screen shares and extra devices.
type MemberRow struct {
	ID         string
	Name       string
	Type       string
	Self       bool
	AudioMuted bool
	VideoMuted bool
	Talking    bool
	HandRaised bool
	Children   []MemberRow
	// ForcedUnmute offers moderators Unmute and Start video
	// (MODERATOR_CAN_UNMUTE) instead of asking.
	ForcedUnmute bool
	// Askable offers moderators Ask to unmute and Ask for video: this
	// server knows the member's page, which can be asked.
	Askable bool
}
