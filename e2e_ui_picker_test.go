package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/swrooms/swrooms/views"
)

// TestE2EUIPickerAnswersForTheFieldThatChanged (issue 15, problems 1 and
// 8): typing in one field validates that field only, each field has one
// error element, aria-invalid follows the message, and a failed submit
// puts focus on the first bad field.
func TestE2EUIPickerAnswersForTheFieldThatChanged(t *testing.T) {
	t.Parallel()
	app := startFakeApp(t, "HOST_PASSCODE=let-me-host-please")
	tab := participant(t)
	tab.AllowConsoleError("422") // a failed submit is a 422 with the form
	tab.Navigate(app.URL + "/")
	tab.WaitJS(`typeof htmx === 'object'`)
	tab.AxeSerious("the picker")

	// A bad room, then typing a good name: the name's message is empty and
	// the room's stays, each in its own element.
	typeInto(t, tab, `#room`, "bad/name")
	tab.WaitJS(`document.getElementById('room-error').textContent.includes('only letters')`)
	waitAttr(t, tab, `#room`, "aria-invalid", "true")
	typeInto(t, tab, `#user`, "")
	tab.WaitJS(`document.getElementById('user-error').textContent.includes('Enter your name')`)
	typeInto(t, tab, `#user`, "Ann")
	tab.WaitJS(`document.getElementById('user-error').textContent === ''`)
	for _, id := range []string{"room-error", "user-error", "passcode-error"} {
		if n := tab.Count("#" + id); n != 1 {
			t.Errorf("%d elements #%s, want 1", n, id)
		}
	}
	if got := tab.Text(`#user-error`); got != "" {
		t.Errorf("the name's message after typing a good name: %q, want none", got)
	}
	if got := tab.Text(`#room-error`); !strings.Contains(got, "only letters") {
		t.Errorf("the room's message after typing in the name: %q, want the room's", got)
	}
	// aria-invalid follows the message (it was set while the name was empty).
	tab.WaitJS(`!document.getElementById('user').hasAttribute('aria-invalid')`)
	// Emptying the name: its own message, under it.
	typeInto(t, tab, `#user`, " ")
	tab.WaitJS(`document.getElementById('user-error').textContent.includes('Enter your name')`)
	waitAttr(t, tab, `#user`, "aria-invalid", "true")

	// Submit with a good room and a wrong passcode: focus on the passcode,
	// which says it is invalid.
	typeInto(t, tab, `#room`, "Good_Room")
	typeInto(t, tab, `#user`, "Ann")
	typeInto(t, tab, `#passcode`, "wrong")
	tab.Click(`[data-testid="start-room"]`)
	tab.WaitJS(`document.getElementById('passcode-error')?.textContent.includes('not right')`)
	waitAttr(t, tab, `#passcode`, "aria-invalid", "true")
	waitFocused(t, tab, "#passcode")
	// A bad room and a bad passcode: focus on the room, the first.
	typeInto(t, tab, `#room`, "bad/again")
	tab.Click(`[data-testid="start-room"]`)
	tab.WaitJS(`document.getElementById('room-error')?.textContent.includes('only letters')`)
	waitFocused(t, tab, "#room")
}

// TestE2EUISetupPageAndNoscript: the sandbox banner links to the app's
// own setup page, whose steps are the README's, word for word; the room
// page says that a call needs JavaScript when it is off.
func TestE2EUISetupPageAndNoscript(t *testing.T) {
	t.Parallel()
	app := startSandboxApp(t)
	doc := func(path string) *goquery.Document {
		resp := app.get(t, path)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		d, err := goquery.NewDocumentFromReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	home := doc("/")
	href, _ := home.Find(`[data-testid="sandbox-banner"] a`).Attr("href")
	if href != "/setup" {
		t.Fatalf("sandbox banner links to %q, want /setup", href)
	}
	setup := doc(href)
	if n := setup.Find(`[data-testid="setup-steps"] li`).Length(); n != len(views.SetupSteps) {
		t.Errorf("setup page: %d steps, want %d", n, len(views.SetupSteps))
	}
	if !strings.Contains(setup.Find(`[data-testid="setup-steps"]`).Text(), "SIGNALWIRE_PROJECT_KEY") {
		t.Error("setup page does not name the variables")
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	space := regexp.MustCompile(`\s+`)
	flat := space.ReplaceAllString(string(readme), " ")
	for i, step := range views.SetupSteps {
		if !strings.Contains(flat, space.ReplaceAllString(step, " ")) {
			t.Errorf("setup step %d is not what the README says: %q", i+1, step)
		}
	}

	// A room page, as a browser without JavaScript gets it.
	tab := participant(t)
	hostRoom(t, tab, app, "e2e_ui_noscript", "Nora")
	var html string
	tab.Eval(`document.querySelector('noscript').textContent`, &html)
	if !strings.Contains(html, "needs JavaScript") {
		t.Errorf("room page noscript: %q", html)
	}
}
