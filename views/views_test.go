package views_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/swrooms/swrooms/views"
)

func render(t *testing.T, c templ.Component) *goquery.Document {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func byID(doc *goquery.Document, id string) *goquery.Selection {
	return doc.Find(`[data-testid="` + id + `"]`)
}

func TestRosterRowsCarryStateAsAttributesAndText(t *testing.T) {
	doc := render(t, views.RosterPanel(views.Roster{
		Moderator: true, Joined: true, Count: 2,
		Room: views.RoomState{Recording: true, Locked: true, Layout: "2x2", Layouts: []string{"grid-responsive", "2x2"}},
		Members: []views.MemberRow{
			{ID: "a", Name: "<img src=x onerror=alert(1)>", AudioMuted: true, Talking: true, HandRaised: true, Askable: true,
				Children: []views.MemberRow{{ID: "s", Name: "screen", Type: "screen"}}},
			{ID: "me", Name: "Host", Self: true},
		},
	}))
	rows := byID(doc, "member")
	if rows.Length() != 2 {
		t.Fatalf("got %d rows, want 2", rows.Length())
	}
	first := rows.First()
	for attr, want := range map[string]string{"data-member-id": "a", "data-audio-muted": "true", "data-video-muted": "false", "data-talking": "true", "data-hand-raised": "true"} {
		if got, _ := first.Attr(attr); got != want {
			t.Errorf("got %s=%q, want %q", attr, got, want)
		}
	}
	if got := first.Find(`[data-testid="member-name"]`).Text(); got != "<img src=x onerror=alert(1)>" {
		t.Errorf("got name %q, want it as text", got)
	}
	if doc.Find("img").Length() != 0 {
		t.Errorf("got an img element from a name")
	}
	for _, id := range []string{"member-mic", "member-talking", "member-hand"} {
		if first.Find(`[data-testid="`+id+`"]`).Text() == "" {
			t.Errorf("got no text for %s: state must not be colour alone", id)
		}
	}
	if got := first.Find(`[data-action="ask-unmute"]`).Length(); got != 1 {
		t.Errorf("got %d ask-unmute buttons for a muted member, want 1", got)
	}
	if got := first.Find(`[data-action="audio-unmute"]`).Length(); got != 0 {
		t.Errorf("got %d forced unmute buttons without MODERATOR_CAN_UNMUTE, want 0", got)
	}
	if first.Find(`[data-action="lower-hand"]`).Length() != 1 {
		t.Errorf("got no lower-hand button for a raised hand")
	}
	if first.Find(`[data-testid="member-device"][data-parent-id="a"]`).Length() != 1 {
		t.Errorf("got no screen share under its owner")
	}
	if rows.Last().Find("[data-action]").Length() != 0 {
		t.Errorf("got controls on the viewer's own row")
	}
	if byID(doc, "recording-indicator").Length() != 1 || byID(doc, "locked-indicator").Length() != 1 {
		t.Errorf("got no recording or lock indicator")
	}
	if byID(doc, "unlock").Length() != 1 || byID(doc, "stop-recording").Length() != 1 {
		t.Errorf("got the wrong lock or recording button for the state")
	}
	if got, _ := doc.Find(`[data-action="set-layout"] option[selected]`).Attr("value"); got != "2x2" {
		t.Errorf("got selected layout %q, want 2x2", got)
	}
	if got := byID(doc, "roster-count").Text(); got != "2" {
		t.Errorf("got count %q, want 2", got)
	}
}

func TestUnmuteButtonsOnlyForMembersThatCanBeAsked(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		row                    views.MemberRow
		wantAsk, wantForced    int
		wantAskVid, wantForcVd int
	}{
		{"a member whose page this server knows is asked", views.MemberRow{Askable: true}, 1, 0, 1, 0},
		{"a member without a page here (a bot, another instance) gets no unmute button", views.MemberRow{}, 0, 0, 0, 0},
		{"forced unmute is offered for anyone under MODERATOR_CAN_UNMUTE", views.MemberRow{ForcedUnmute: true}, 0, 1, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.row.ID, tc.row.Name, tc.row.AudioMuted, tc.row.VideoMuted = "b", "Bot", true, true
			doc := render(t, views.RosterPanel(views.Roster{Moderator: true, Joined: true, Count: 1, Members: []views.MemberRow{tc.row}}))
			for action, want := range map[string]int{"ask-unmute": tc.wantAsk, "audio-unmute": tc.wantForced, "ask-video-unmute": tc.wantAskVid, "video-unmute": tc.wantForcVd, "remove": 1} {
				if got := doc.Find(`[data-action="` + action + `"]`).Length(); got != want {
					t.Errorf("got %d %s buttons, want %d", got, action, want)
				}
			}
		})
	}
}

func TestChatMessageIsolatesItsTextAndAuthor(t *testing.T) {
	doc := render(t, views.ChatMessage(views.ChatLine{ID: "1", Author: "\u202eevil", Parts: []views.ChatPart{{Text: "abc \u202e gnp.exe"}}}))
	for _, id := range []string{"chat-text", "chat-author"} {
		if got, _ := byID(doc, id).Attr("dir"); got != "auto" {
			t.Errorf("got %s dir=%q, want auto (isolated from what follows)", id, got)
		}
	}
}

func TestGuestRosterHasNoControls(t *testing.T) {
	doc := render(t, views.RosterPanel(views.Roster{Joined: true, Count: 1, Room: views.RoomState{Recording: true},
		Members: []views.MemberRow{{ID: "a", Name: "Ann"}}}))
	if n := doc.Find("[data-action]").Length(); n != 0 {
		t.Errorf("got %d controls, want none", n)
	}
	if byID(doc, "recording-indicator").Length() != 1 {
		t.Errorf("got no recording indicator for a guest")
	}
}

func TestLayoutShowsSandboxBannerOnlyInSandbox(t *testing.T) {
	for _, sandbox := range []bool{true, false} {
		doc := render(t, views.Layout(views.Shell{Title: "T", Sandbox: sandbox, CSRFToken: `a"b`}, views.Error(views.ErrorPage{Title: "x", Message: "m"})))
		if got := byID(doc, "sandbox-banner").Length() == 1; got != sandbox {
			t.Errorf("got banner %v, want %v", got, sandbox)
		}
		if v, _ := doc.Find("body").Attr("hx-headers"); v != `{"X-Csrf-Token":"a\"b"}` {
			t.Errorf("got hx-headers %q", v)
		}
	}
}

func TestRosterPanelGivesEverySwapTargetAnID(t *testing.T) {
	doc := render(t, views.RosterPanel(views.Roster{Moderator: true, Joined: true, Count: 1,
		Members: []views.MemberRow{{ID: `a "b"/é`, Name: "Ann", Children: []views.MemberRow{{ID: "s", Type: "screen"}}}}}))
	for _, sel := range []string{"#roster-list", "#roster-count", "#room-state", "#room-controls", "li#member-61202262222fc3a9"} {
		if doc.Find(sel).Length() != 1 {
			t.Errorf("got no %s", sel)
		}
	}
	if got := views.RowID(`a "b"/é`); got != "member-61202262222fc3a9" {
		t.Errorf("got row id %q", got)
	}
	if doc.Find(`[data-testid="member-device"][id]`).Length() != 0 {
		t.Errorf("got an id on a child row, which changes with its parent's")
	}
}

func TestRosterDeltaIsOnlyOutOfBandSwapsInOrder(t *testing.T) {
	var buf bytes.Buffer
	err := views.RosterDelta(views.RosterChange{
		Controls: true,
		Deleted:  []string{"gone", "moved"},
		Replaced: []views.MemberRow{{ID: "r", Name: "Rae"}},
		Inserted: []views.RowInsert{{Row: views.MemberRow{ID: "moved", Name: "Mo", HandRaised: true}, Before: "r"}, {Row: views.MemberRow{ID: "new", Name: "Zed"}}},
		Count:    2, CountChanged: true,
		Room: views.RoomState{Locked: true}, RoomChanged: true,
	}).Render(context.Background(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	doc.Find("body > *").Each(func(_ int, s *goquery.Selection) {
		oob, _ := s.Attr("hx-swap-oob")
		id, _ := s.Attr("id")
		got = append(got, goquery.NodeName(s)+"#"+id+" "+oob)
	})
	want := []string{
		"li#" + views.RowID("gone") + " delete",
		"li#" + views.RowID("moved") + " delete",
		"li#" + views.RowID("r") + " true",
		"ul# beforebegin:#" + views.RowID("r"),
		"ul# beforeend:#roster-list",
		"span#roster-count true",
		"div#room-state true",
		"div#room-controls true",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if doc.Find("ul li#"+views.RowID("moved")+`[data-action], ul li#`+views.RowID("moved")+` [data-action="lower-hand"]`).Length() == 0 {
		t.Errorf("got no controls in an inserted row")
	}
}

// TestNamesAreIsolated: a name from an SDK event may carry bidi controls
// (U+202E reverses what follows); every rendered name sits in an element
// with dir="auto", which isolates it, so it cannot reorder the text around
// it.
func TestNamesAreIsolated(t *testing.T) {
	const evil = "\u202eAda"
	doc := render(t, views.RosterPanel(views.Roster{
		Moderator: true, Joined: true, Count: 1,
		Members: []views.MemberRow{{ID: "a", Name: evil, Children: []views.MemberRow{{ID: "d", Name: evil, Type: "device"}}}},
	}))
	names := doc.Find(".member-name")
	if names.Length() != 2 {
		t.Fatalf("got %d names, want the member's and the device's", names.Length())
	}
	names.Each(func(i int, s *goquery.Selection) {
		if !strings.Contains(s.Text(), evil) {
			t.Errorf("name %d: got %q, want the name inside", i, s.Text())
		}
		if dir, _ := s.Attr("dir"); dir != "auto" {
			t.Errorf("name %d: dir=%q, want auto", i, dir)
		}
	})
}
