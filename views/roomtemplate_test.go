package views

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// testRoomPage is a page as the handlers build it: tabs whose chat panel
// posts to the room, and the guest's waiting-room slot.
func testRoomPage(role string) func(room string) RoomPage {
	return func(room string) RoomPage {
		tabs := DefaultTabs(role)
		out := []PanelTab{tabs[0], {ID: "chat", Label: "Chat", Icon: "chat", Toolbar: true, Badge: true, Panel: ChatPanel(ChatForm{Room: room})}}
		if role == RoleModerator {
			out = append(out, PanelTab{ID: "lobby", Label: "Lobby", Icon: "people", Panel: LobbyArea()})
		}
		p := RoomPage{Room: room, Role: role, SDKURL: "/public/vendor/sdk.js", IslandURL: "/public/js/room.js?v=1", Tabs: append(out, tabs[1:]...)}
		if role == RoleGuest {
			p.PrejoinExtra = LobbySlot()
		}
		return p
	}
}

var testShell = Shell{Assets: Assets{CSS: "/c.css?v=1", HTMX: "/h.js", Favicon: "/f.svg", SDK: "/sdk.js", Room: "/room.js", SSE: "/sse.js"}}

// values is a request's own part of a room page.
type values struct {
	room, user, csrf, inviteURL, expires string
	invite                               *Invite
	sandbox                              bool
}

func (v values) page(role string) RoomPage {
	p := RoomPage{Room: v.room, Role: role, User: v.user, Config: IslandConfig{
		Room: v.room, Role: role, User: v.user, TokenURL: "/rooms/" + v.room + "/token",
		EventsURL: "/rooms/" + v.room + "/events", JoinFailedURL: "/rooms/" + v.room + "/join-failed",
		CSRF: v.csrf, Invite: v.invite, Sandbox: v.sandbox,
	}}
	if role == RoleModerator {
		p.InviteURL, p.InviteExpires = v.inviteURL, v.expires
	}
	return p
}

// viaTempl renders the page the plain way, Layout(Room(p)).
func viaTempl(t testing.TB, s Shell, role string, v values) string {
	t.Helper()
	full := testRoomPage(role)(v.room)
	p := v.page(role)
	full.User, full.InviteURL, full.InviteExpires, full.Config = p.User, p.InviteURL, p.InviteExpires, p.Config
	s.Title, s.CSRFToken = v.room, v.csrf
	var b bytes.Buffer
	if err := Layout(s, Room(full)).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func viaTemplate(t testing.TB, tpl *RoomTemplate, role string, v values) string {
	t.Helper()
	var b bytes.Buffer
	if err := tpl.Render(context.Background(), &b, v.page(role)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func compile(t testing.TB, s Shell, role string) *RoomTemplate {
	t.Helper()
	tpl, err := CompileRoom(s, testRoomPage(role))
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func TestRoomTemplateMatchesTempl(t *testing.T) {
	sandbox := testShell
	sandbox.Sandbox, sandbox.OpenHosting = true, true
	hostile := `<script>alert("x")</script> & 'Ann' ` + "\u2028\u2029\x00\x1f\x7f\xff é 日本"
	for _, tc := range []struct {
		name string
		s    Shell
		role string
		v    values
	}{
		{"moderator page", testShell, RoleModerator, values{room: "Main_Office", user: "Ann", csrf: "1796090120.ywv621rUe_TwDUtBtpQJXk3hDFNG_Nx8t4cmGe4LWZI",
			inviteURL: "http://rooms.test/guest?exp=1796007320&room=Main_Office&sig=xW3z0q5K", expires: "30 Nov 2026 02:55 UTC"}},
		{"moderator page in sandbox mode", sandbox, RoleModerator, values{room: "r-1", user: "Bo", csrf: "1.a", inviteURL: "http://x/guest?a=1", expires: "now", sandbox: true}},
		{"hostile name, link and expiry", testShell, RoleModerator, values{room: "R", user: hostile, csrf: "1.b", inviteURL: hostile, expires: hostile}},
		{"empty name", testShell, RoleModerator, values{room: "R", csrf: "1.b", inviteURL: "u", expires: "e"}},
		{"guest page", testShell, RoleGuest, values{room: "Main_Office", user: "Gus", csrf: "1.c", invite: &Invite{Room: "Main_Office", Exp: 1796007320, Sig: "xW3z"}}},
		{"guest page of a versioned link", sandbox, RoleGuest, values{room: "Main_Office", user: hostile, csrf: "1.c", invite: &Invite{Room: "Main_Office", Exp: -5, Sig: hostile, V: 3}, sandbox: true}},
		{"room that escapes: templ's way", testShell, RoleModerator, values{room: `a"b<c`, user: "Ann", csrf: "1.d", inviteURL: "u", expires: "e"}},
		{"CSRF token that escapes: templ's way", testShell, RoleGuest, values{room: "R", user: "Ann", csrf: `1.&x"`}},
		{"moderator page without an invite: templ's way", testShell, RoleModerator, values{room: "R", user: "Ann", csrf: "1.e"}},
		{"no CSRF token: templ's way", testShell, RoleModerator, values{room: "R", user: "Ann", inviteURL: "u", expires: "e"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := viaTempl(t, tc.s, tc.role, tc.v)
			if got := viaTemplate(t, compile(t, tc.s, tc.role), tc.role, tc.v); got != want {
				t.Errorf("compiled page differs from templ's at byte %d:\ngot  %.200q\nwant %.200q", diffAt(got, want), got[diffAt(got, want):], want[diffAt(got, want):])
			}
		})
	}
}

func diffAt(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestRoomTemplateIsCutAtEveryValue(t *testing.T) {
	for role, want := range map[string]int{RoleModerator: int(numHoles), RoleGuest: int(numHoles) - 2} {
		tpl := compile(t, testShell, role)
		seen := map[hole]bool{}
		for _, h := range tpl.holes {
			seen[h] = true
		}
		if len(seen) != want {
			t.Errorf("%s page: got %d kinds of values cut out, want %d", role, len(seen), want)
		}
		for _, part := range tpl.parts {
			if strings.Contains(part, "zq7x") {
				t.Errorf("%s page: a marker is left in the constant markup: %.80q", role, part)
			}
		}
	}
}

func TestRoomTemplateRefusesAnotherRolesPage(t *testing.T) {
	tpl := compile(t, testShell, RoleModerator)
	if err := tpl.Render(context.Background(), &bytes.Buffer{}, values{room: "R", csrf: "1.a"}.page(RoleGuest)); err == nil {
		t.Error("got no error for a guest page on the moderator template")
	}
}

func FuzzRoomTemplate(f *testing.F) {
	f.Add("Main_Office", "Ann", "1.abc", "http://x/guest?a=1&b=2", "30 Nov", "sig", int64(17), 0, false)
	f.Add("a b", "<>&'\"", "1.&", "\u2028", "\xff", "\x00", int64(-1), 2, true)
	f.Add("R", "Ann", "", "u", "e", "s", int64(1), 0, false) // no CSRF token: hx-headers stays empty
	mod, guest := compile(f, testShell, RoleModerator), compile(f, testShell, RoleGuest)
	f.Fuzz(func(t *testing.T, room, user, csrf, inviteURL, expires, sig string, exp int64, v int, guestPage bool) {
		val := values{room: room, user: user, csrf: csrf, inviteURL: inviteURL, expires: expires}
		tpl, role := mod, RoleModerator
		if guestPage {
			tpl, role = guest, RoleGuest
			val.invite = &Invite{Room: room, Exp: exp, Sig: sig, V: v}
		}
		if got, want := viaTemplate(t, tpl, role, val), viaTempl(t, testShell, role, val); got != want {
			t.Errorf("compiled page differs from templ's at byte %d", diffAt(got, want))
		}
	})
}

// FuzzConfigJSON holds appendConfigJSON to encoding/json's encoding of
// IslandConfig (plus the layout names the page adds): a field added to
// the struct and not to the encoder fails here.
func FuzzConfigJSON(f *testing.F) {
	f.Add("Main_Office", "moderator", "Ann", "/t", "1.a", "sig", int64(1796007320), 0, false, false)
	f.Add("<", "\u2028", "\xff\xfe", "\x00\b\f\n\r\t\x7f", "&", "\"\\", int64(-9223372036854775808), -3, true, true)
	f.Fuzz(func(t *testing.T, room, role, user, url, csrf, sig string, exp int64, v int, invite, sandbox bool) {
		c := IslandConfig{Room: room, Role: role, User: user, TokenURL: url, EventsURL: url + "e", JoinFailedURL: "j" + url, CSRF: csrf, Sandbox: sandbox}
		if invite {
			c.Invite = &Invite{Room: room, Exp: exp, Sig: sig, V: v}
		}
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(c); err != nil {
			t.Fatal(err)
		}
		w := want.String()
		w = w[:len(w)-2] + `,"layoutNames":` + layoutNamesJSON + "}\n"
		if got := string(appendConfigJSON(nil, c)); got != w {
			t.Errorf("got  %q\nwant %q", got, w)
		}
	})
}

// BenchmarkRoomPage is the moderator page rendered each way: templ's
// components, and the template compiled from them.
func BenchmarkRoomPage(b *testing.B) {
	v := values{room: "Main_Office", user: "Ann", csrf: "1796090120.ywv621rUe_TwDUtBtpQJXk3hDFNG_Nx8t4cmGe4LWZI",
		inviteURL: "http://rooms.test/guest?exp=1796007320&room=Main_Office&sig=xW3z0q5K", expires: "30 Nov 2026 02:55 UTC"}
	var buf bytes.Buffer
	b.Run("templ", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			full := testRoomPage(RoleModerator)(v.room)
			p := v.page(RoleModerator)
			full.User, full.InviteURL, full.InviteExpires, full.Config = p.User, p.InviteURL, p.InviteExpires, p.Config
			s := testShell
			s.Title, s.CSRFToken = v.room, v.csrf
			if err := Layout(s, Room(full)).Render(context.Background(), &buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("compiled", func(b *testing.B) {
		tpl := compile(b, testShell, RoleModerator)
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			if err := tpl.Render(context.Background(), &buf, v.page(RoleModerator)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestCompileRoomRefusesAPageThatTransformsItsValues: a page that uses a
// value in a way the cut cannot follow (here the room in capitals, which
// no marker matches) would freeze the marker's transform into every page;
// CompileRoom refuses it, and the handlers render that role templ's way.
func TestCompileRoomRefusesAPageThatTransformsItsValues(t *testing.T) {
	for name, page := range map[string]func(room string) RoomPage{
		"room in capitals": func(room string) RoomPage {
			p := testRoomPage(RoleModerator)(room)
			p.IslandURL += "#" + strings.ToUpper(room)
			return p
		},
		"room's length": func(room string) RoomPage {
			p := testRoomPage(RoleGuest)(room)
			p.SDKURL += "?n=" + strings.Repeat("x", len(room))
			return p
		},
	} {
		if _, err := CompileRoom(testShell, page); err == nil {
			t.Errorf("%s: got the page compiled, want an error", name)
		}
	}
}

// TestRoomTemplateEveryByte: a room or a CSRF token holding any one byte,
// on each page: the page is templ's, whether the byte goes into the cut
// as it is (plain) or the page falls back to templ. A byte let into plain
// that some escaper changes fails here.
func TestRoomTemplateEveryByte(t *testing.T) {
	mod, guest := compile(t, testShell, RoleModerator), compile(t, testShell, RoleGuest)
	for b := range 256 {
		s := "a" + string([]byte{byte(b)}) + "b"
		for _, v := range []values{
			{room: s, user: "Ann", csrf: "1.a", inviteURL: "u", expires: "e"},
			{room: "R", user: "Ann", csrf: s, inviteURL: "u", expires: "e"},
		} {
			if got, want := viaTemplate(t, mod, RoleModerator, v), viaTempl(t, testShell, RoleModerator, v); got != want {
				t.Errorf("moderator page, room %q, token %q: differs from templ's at byte %d", v.room, v.csrf, diffAt(got, want))
			}
			v.invite = &Invite{Room: v.room, Exp: 1, Sig: "s"}
			if got, want := viaTemplate(t, guest, RoleGuest, v), viaTempl(t, testShell, RoleGuest, v); got != want {
				t.Errorf("guest page, room %q, token %q: differs from templ's at byte %d", v.room, v.csrf, diffAt(got, want))
			}
		}
	}
}
