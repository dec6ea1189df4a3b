package views

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"html"
	"io"
	"io/fs"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/swrooms/swrooms/public"
)

// layoutNames are SignalWire's layout ids in words people use. The page
// hands the same table to the island (appendConfigJSON), so the picker the
// island fills and the server's "Layout:" line say the same thing.
var layoutNames = map[string]string{
	"grid-responsive":        "Grid",
	"grid-responsive-mobile": "Grid for phones",
	"highlight-1-responsive": "Speaker highlight",
	"1x1":                    "One person",
	"2x1":                    "Side by side",
	"5up":                    "Speaker and four",
	"2x2":                    "Grid 2x2",
	"3x3":                    "Grid 3x3",
	"4x4":                    "Grid 4x4",
	"5x5":                    "Grid 5x5",
	"6x6":                    "Grid 6x6",
	"8x8":                    "Grid 8x8",
	"10x10":                  "Grid 10x10",
	"screen-share":           "Screen share",
}

// layoutNamesJSON is the table as the island reads it, encoded once: a
// map costs encoding/json a copy and a sort of its keys on every page.
var layoutNamesJSON = func() string {
	b, err := json.Marshal(layoutNames)
	if err != nil {
		panic(err) // a map of strings always encodes
	}
	return string(b)
}()

// LayoutName is a layout id in words: the table's name, else the id with
// its dashes as spaces and a capital, so that a new SignalWire layout still
// reads as words.
func LayoutName(id string) string {
	if n, ok := layoutNames[id]; ok {
		return n
	}
	s := strings.ReplaceAll(id, "-", " ")
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[size:]
}

// possessive is "Ada's", or "James'" for a name ending in s.
func possessive(name string) string {
	if name == "" {
		return "Someone's"
	}
	if strings.HasSuffix(name, "s") {
		return name + "'"
	}
	return name + "'s"
}

// iconSprite is the URL of the one SVG sprite, versioned by content like
// the other assets so that browsers may cache it for a year.
var iconSprite = VersionedAsset("img/icons.svg")

// PickerScript is the picker's small module (aria-invalid follows live
// validation).
var PickerScript = VersionedAsset("js/picker.js")

// VersionedAsset is the URL of an embedded public file with a content hash
// in the query, so that browsers may cache it for a year.
func VersionedAsset(name string) string {
	b, err := fs.ReadFile(public.FS(), name)
	if err != nil {
		return "/public/" + name
	}
	sum := sha256.Sum256(b)
	return "/public/" + name + "?v=" + hex.EncodeToString(sum[:6])
}

// IconHref is the reference of one icon of the sprite, for <use href>.
func IconHref(name string) string { return iconSprite + "#" + name }

// iconUse is the <use> element of one icon of the sprite,
// <use href="IconHref(name)"></use>, written in pieces: a room page has a
// few dozen icons, and an attribute expression costs a concatenation, an
// interface and templ's URL check for each. The sprite's URL is the app's
// own path, so no scheme can slip in; the name is HTML-escaped.
type iconUse string

// Render writes the element.
func (n iconUse) Render(_ context.Context, w io.Writer) error {
	for _, s := range [...]string{`<use href="`, iconSprite, "#", html.EscapeString(string(n)), `"></use>`} {
		if _, err := io.WriteString(w, s); err != nil {
			return err
		}
	}
	return nil
}
