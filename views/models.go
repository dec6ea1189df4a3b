// Package views renders swrooms' pages and fragments with templ. It knows
// nothing of Fiber or SignalWire: handlers translate their state into the
// plain view models below.
package views

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
}

// SetupURL is where the sandbox banner sends people who want a real space.
const SetupURL = "https://github.com/swrooms/swrooms#setup-with-a-real-signalwire-space"

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
}

// Invite is a guest link's signed parts, which the guest's token request
// carries.
type Invite struct {
	Room string `json:"room"`
	Exp  int64  `json:"exp"`
	Sig  string `json:"sig"`
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
}
