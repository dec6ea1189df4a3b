package views

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestLayoutNamesAreWords(t *testing.T) {
	for id, want := range map[string]string{
		"grid-responsive": "Grid", "highlight-1-responsive": "Speaker highlight", "2x2": "Grid 2x2",
		"brand-new-layout": "Brand new layout",
	} {
		if got := LayoutName(id); got != want {
			t.Errorf("LayoutName(%q): got %q, want %q", id, got, want)
		}
	}
}

func TestShareRowsNameTheirOwner(t *testing.T) {
	if got := deviceLabel("Ada", MemberRow{Type: "screen"}); got != "Ada's screen" {
		t.Errorf("got %q, want %q", got, "Ada's screen")
	}
	if got := deviceLabel("James", MemberRow{Type: "screen"}); got != "James' screen" {
		t.Errorf("got %q, want %q", got, "James' screen")
	}
}

func TestSetupStepsRenderTheirMarkdown(t *testing.T) {
	var buf bytes.Buffer
	if err := Setup(true).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{"<code>SIGNALWIRE_SPACE</code>", "<strong>Video</strong>", `<a href="http://localhost:8080">`} {
		if !strings.Contains(html, want) {
			t.Errorf("setup page lacks %s", want)
		}
	}
	if strings.Contains(html, "`") || strings.Contains(html, "**") {
		t.Error("setup page shows raw Markdown")
	}
}
