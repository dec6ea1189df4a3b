package handlers

import "testing"

func TestBlockKeyFoldsLookAlikes(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"case", "GUS"},
		{"spaces around", "  gus "},
		{"zero-width joiner", "Gus\u200d"},
		{"zero-width non-joiner inside", "G\u200cus"},
		{"word joiner", "G\u2060us"},
		{"zero-width space", "Gu\u200bs"},
		{"soft hyphen", "Gu\u00ads"},
		{"variation selector", "Gus\ufe0f"},
		{"combining grapheme joiner", "Gu\u034fs"},
		{"bidi override", "\u202eGus\u202c"},
		{"bidi marks", "\u200fGus\u200e"},
		{"bidi isolate", "\u2066Gus\u2069"},
		{"byte order mark", "\ufeffGus"},
		{"Hangul filler", "Gus\u3164"},
		{"fullwidth letters", "Ｇｕｓ"},
		{"mathematical bold", "𝐆𝐮𝐬"},
		{"long s", "Guſ"},
	} {
		if got, want := blockKey(tc.in), blockKey("Gus"); got != want {
			t.Errorf("%s: got key %+q for %+q, want %+q as for Gus", tc.name, got, tc.in, want)
		}
	}
	for _, tc := range []struct{ a, b string }{
		{"Gus Smith", "Gus\u00a0 Smith"},
		{"ΣΟΦΙΑ", "σοφια"},
		{"Σοφίας", "σοφίασ"},
	} {
		if blockKey(tc.a) != blockKey(tc.b) {
			t.Errorf("got %+q and %+q apart, want one key", tc.a, tc.b)
		}
	}
	for _, other := range []string{"Gustav", "Gu s", "Gus2", "Güs"} {
		if blockKey(other) == blockKey("Gus") {
			t.Errorf("got %+q blocked as Gus", other)
		}
	}
}
