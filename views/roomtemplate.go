package views

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/a-h/templ"
)

// A room page is the same 15 KB of markup for every request of one role
// but for a handful of values: the room, the name typed, the invite, the
// CSRF token and the island's config. Rendering it with templ costs a
// context and a closure per component, an escape per attribute and a
// reflection pass over the config, on every page; a RoomTemplate does that
// once per process. It renders Layout(Room) with a marker in place of each
// value that changes, cuts the output at the markers, and then writes a
// page as the constant runs with the values escaped between them, as templ
// escapes them there. TestRoomTemplateMatchesTempl holds the two ways to
// the same bytes.

// Writer is where a RoomTemplate writes: a response body, or a buffer.
type Writer interface {
	io.Writer
	io.StringWriter
}

// RoomTemplate is the room page of one role, compiled by CompileRoom. It is
// immutable and safe for concurrent use.
type RoomTemplate struct {
	role   string
	invite bool     // the page has the invite popover (moderators)
	parts  []string // constant runs: len(holes)+1
	holes  []hole   // between parts[i] and parts[i+1]
	// shell and page render a page templ's way when its values do not
	// fit the cut (see fits).
	shell Shell
	page  func(room string) RoomPage
	bufs  sync.Pool // *[]byte for the config's JSON
}

// hole is one value of a page, and how it is escaped where it stands.
type hole uint8

const (
	holeRoom          hole = iota // plain: escapes to itself in text, attributes, URLs and JSON
	holeCSRF                      // plain, as holeRoom
	holeUser                      // HTML-escaped
	holeInviteURL                 // HTML-escaped
	holeInviteExpires             // HTML-escaped
	holeConfig                    // the island's config, as JSON
	numHoles
)

// The markers stand for the values while the page is compiled: lower-case
// letters and digits, which no escaper changes, and which no page's
// markup holds otherwise (CompileRoom checks that each one shows up).
// CompileRoom cuts the page twice, the second time with each marker
// lengthened by markerTail: a page that uses a value other than as it is
// (in capitals, by its length) differs outside the markers, and is
// refused rather than frozen with the marker's variant in it.
var holeMarkers = [numHoles]string{
	holeRoom:          "zq7x0roomhole",
	holeCSRF:          "zq7x1csrfhole",
	holeUser:          "zq7x2userhole",
	holeInviteURL:     "zq7x3invitehole",
	holeInviteExpires: "zq7x4expireshole",
	holeConfig:        "zq7x5confighole",
}

const markerTail = "k9"

// CompileRoom compiles the room page of the role of page(room): page
// gives the parts that depend only on the role and the room (role, script
// URLs, tabs, pre-join extra); s gives the layout's constants (sandbox,
// assets, open hosting). Its title and CSRF token, and the page's room,
// user, invite and config, are a request's own: RoomTemplate.Render takes
// them. It fails when a value's marker does not show up in the page, which
// means the template and this file disagree about where values go, or
// when the page changes otherwise with a value.
func CompileRoom(s Shell, page func(room string) RoomPage) (*RoomTemplate, error) {
	role := page(holeMarkers[holeRoom]).Role
	t := &RoomTemplate{role: role, invite: role == RoleModerator, shell: s, page: page}
	var err error
	if t.parts, t.holes, err = t.cut(holeMarkers); err != nil {
		return nil, err
	}
	var longer [numHoles]string
	for h, m := range holeMarkers {
		longer[h] = m + markerTail
	}
	parts, holes, err := t.cut(longer)
	if err != nil {
		return nil, err
	}
	if !slices.Equal(parts, t.parts) || !slices.Equal(holes, t.holes) {
		return nil, fmt.Errorf("compile the %s room page: the page changes with a value other than where the value stands", role)
	}
	return t, nil
}

// cut renders the page of t's role with markers standing for a request's
// values and cuts it at them: the constant runs, and the value between
// each two.
func (t *RoomTemplate) cut(markers [numHoles]string) (parts []string, holes []hole, err error) {
	p := t.page(markers[holeRoom])
	if p.Role != t.role {
		return nil, nil, fmt.Errorf("compile the %s room page: the page's role changes with the room", t.role)
	}
	p.Room = markers[holeRoom]
	p.User = markers[holeUser]
	if t.invite {
		p.InviteURL = markers[holeInviteURL]
		p.InviteExpires = markers[holeInviteExpires]
	}
	p.Config = IslandConfig{marker: markers[holeConfig]}
	s := t.shell
	s.Title = markers[holeRoom]
	s.CSRFToken = markers[holeCSRF]
	var b strings.Builder
	if err := Layout(s, Room(p)).Render(context.Background(), &b); err != nil {
		return nil, nil, fmt.Errorf("compile the %s room page: %w", t.role, err)
	}
	out := b.String()
	var seen [numHoles]bool
	for {
		at, which := -1, hole(0)
		for h, m := range markers {
			if i := strings.Index(out, m); i >= 0 && (at < 0 || i < at) {
				at, which = i, hole(h)
			}
		}
		if at < 0 {
			break
		}
		parts = append(parts, out[:at])
		holes = append(holes, which)
		seen[which] = true
		out = out[at+len(markers[which]):]
	}
	parts = append(parts, out)
	for h, ok := range seen {
		inviteHole := hole(h) == holeInviteURL || hole(h) == holeInviteExpires
		if !ok && (!inviteHole || t.invite) {
			return nil, nil, fmt.Errorf("compile the %s room page: value %d (%s) is not in the page", t.role, h, markers[h])
		}
	}
	return parts, holes, nil
}

// errWrongRole is a page rendered with another role's template: a bug.
var errWrongRole = errors.New("views: room page rendered with another role's template")

// Render writes the page p of the template's role, with the layout around
// it, to w. It uses p's Room, User, InviteURL, InviteExpires and Config
// (whose CSRF token the layout carries too); the rest comes from
// CompileRoom. A page whose room or CSRF token holds a character some
// escaper would change (never a valid room name or a token of ours), or
// that has no CSRF token, is rendered templ's way.
func (t *RoomTemplate) Render(ctx context.Context, w Writer, p RoomPage) error {
	if p.Role != t.role {
		return errWrongRole
	}
	if !t.fits(p) {
		full := t.page(p.Room)
		full.Room, full.User, full.InviteURL, full.InviteExpires, full.Config = p.Room, p.User, p.InviteURL, p.InviteExpires, p.Config
		s := t.shell
		s.Title, s.CSRFToken = p.Room, p.Config.CSRF
		return Layout(s, Room(full)).Render(ctx, w)
	}
	for i, h := range t.holes {
		if _, err := w.WriteString(t.parts[i]); err != nil {
			return err
		}
		var err error
		switch h {
		case holeRoom:
			_, err = w.WriteString(p.Room)
		case holeCSRF:
			_, err = w.WriteString(p.Config.CSRF)
		case holeUser:
			err = writeHTML(w, p.User)
		case holeInviteURL:
			err = writeHTML(w, p.InviteURL)
		case holeInviteExpires:
			err = writeHTML(w, p.InviteExpires)
		case holeConfig:
			err = t.writeConfig(w, p.Config)
		}
		if err != nil {
			return err
		}
	}
	_, err := w.WriteString(t.parts[len(t.parts)-1])
	return err
}

// writeConfig writes the config JSON through a buffer kept for the next
// page.
func (t *RoomTemplate) writeConfig(w Writer, c IslandConfig) error {
	bp, _ := t.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	*bp = appendConfigJSON((*bp)[:0], c)
	_, err := w.Write(*bp)
	if cap(*bp) <= 8<<10 { // a config with a huge name is not kept
		t.bufs.Put(bp)
	}
	return err
}

// fits reports whether p's values can go into the cut as they are. An
// empty CSRF token does not: the layout then leaves hx-headers empty
// rather than naming an empty token.
func (t *RoomTemplate) fits(p RoomPage) bool {
	return plain(p.Room) && p.Config.CSRF != "" && plain(p.Config.CSRF) && (p.InviteURL != "") == t.invite
}

// plain reports whether no escaper changes s: HTML's, JSON's and URL
// paths' all keep letters, digits, '_', '-' and '.' as they are.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// writeHTML writes s as templ.EscapeString (html.EscapeString) would, in
// pieces rather than as a new string.
func writeHTML(w Writer, s string) error {
	start := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '\'':
			esc = "&#39;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '"':
			esc = "&#34;"
		default:
			continue
		}
		if _, err := w.WriteString(s[start:i]); err != nil {
			return err
		}
		if _, err := w.WriteString(esc); err != nil {
			return err
		}
		start = i + 1
	}
	_, err := w.WriteString(s[start:])
	return err
}

// appendConfigJSON appends c, with the table of layout names, as
// templ.JSONScript writes it: encoding/json's output with HTML escaping,
// and a newline. Field for field as IslandConfig's tags say;
// TestConfigJSONMatchesEncodingJSON holds it to encoding/json's.
func appendConfigJSON(b []byte, c IslandConfig) []byte {
	b = append(b, `{"room":`...)
	b = AppendJSONString(b, c.Room)
	b = append(b, `,"role":`...)
	b = AppendJSONString(b, c.Role)
	b = append(b, `,"user":`...)
	b = AppendJSONString(b, c.User)
	b = append(b, `,"tokenURL":`...)
	b = AppendJSONString(b, c.TokenURL)
	b = append(b, `,"eventsURL":`...)
	b = AppendJSONString(b, c.EventsURL)
	b = append(b, `,"joinFailedURL":`...)
	b = AppendJSONString(b, c.JoinFailedURL)
	b = append(b, `,"csrf":`...)
	b = AppendJSONString(b, c.CSRF)
	if inv := c.Invite; inv != nil {
		b = append(b, `,"invite":{"room":`...)
		b = AppendJSONString(b, inv.Room)
		b = append(b, `,"exp":`...)
		b = appendInt(b, inv.Exp)
		b = append(b, `,"sig":`...)
		b = AppendJSONString(b, inv.Sig)
		if inv.V != 0 {
			b = append(b, `,"v":`...)
			b = appendInt(b, int64(inv.V))
		}
		b = append(b, '}')
	}
	if c.Sandbox {
		b = append(b, `,"sandbox":true`...)
	}
	b = append(b, `,"layoutNames":`...)
	b = append(b, layoutNamesJSON...)
	return append(b, "}\n"...)
}

func appendInt(b []byte, n int64) []byte {
	if n < 0 {
		b = append(b, '-')
		// -n overflows for the smallest int64; its digits are known.
		if n == -n {
			return append(b, "9223372036854775808"...)
		}
		n = -n
	}
	var d [20]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, d[i:]...)
}

// AppendJSONString appends s as a JSON string the way encoding/json does
// with HTML escaping on (its default): <, > and & as \u003c, \u003e and
// \u0026, so that no value can close the script element it sits in or
// read as markup; invalid UTF-8 as U+FFFD; U+2028 and U+2029 escaped.
// For JSON that a browser reads: the island's config, the token answer.
func AppendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// islandConfigScript is the <script> element that hands the island its
// config (templ.JSONScript's element, without its reflection). While a
// RoomTemplate compiles, it holds the config's marker instead.
func islandConfigScript(c IslandConfig) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		if _, err := io.WriteString(w, `<script id="room-config" type="application/json">`); err != nil {
			return err
		}
		var err error
		if c.marker != "" {
			_, err = io.WriteString(w, c.marker)
		} else {
			_, err = w.Write(appendConfigJSON(nil, c))
		}
		if err != nil {
			return err
		}
		_, err = io.WriteString(w, "</script>")
		return err
	})
}
