package views

import "strings"

// SetupSteps are the README's "Setup with a real SignalWire space" steps,
// in its own Markdown. The setup page renders them; a test checks that the
// README says exactly the same, so the two cannot drift apart.
var SetupSteps = []string{
	"In your SignalWire space, create an API token with the **Video** scope; note the project ID.",
	"`cp env.example .env` and set `SIGNALWIRE_SPACE` (e.g. `example.signalwire.com`), " +
		"`SIGNALWIRE_PROJECT_KEY` (the project ID), `SIGNALWIRE_TOKEN`, a `SECRET_KEY` " +
		"(`openssl rand -hex 32`) and a `HOST_PASSCODE` (or `OPEN_HOSTING=true`).",
	"`go run .` and open <http://localhost:8080>. At start the app makes one cheap authenticated call; " +
		"if SignalWire rejects the credentials, the log says so in one line, every page says so, and " +
		"`/readyz` stays 503.",
	"Browsers share cameras and microphones only on HTTPS or `localhost`. In production, serve behind " +
		"a TLS-terminating proxy (set `TRUSTED_PROXIES` and `PUBLIC_URL`) or set `TLS_CERT_FILE` and " +
		"`TLS_KEY_FILE`.",
}

// span is a run of inline Markdown: plain text, `code`, **strong** or an
// <autolink>.
type span struct {
	Kind string // "", "code", "strong", "link"
	Text string
}

// inline splits the little Markdown the steps use into spans. Anything
// else stays text, and templ escapes every span.
func inline(md string) []span {
	var out []span
	for md != "" {
		i := strings.IndexAny(md, "`*<")
		if i < 0 {
			out = append(out, span{Text: md})
			break
		}
		if i > 0 {
			out = append(out, span{Text: md[:i]})
			md = md[i:]
		}
		open, close, kind := md[:1], "`", "code"
		switch {
		case strings.HasPrefix(md, "**"):
			open, close, kind = "**", "**", "strong"
		case md[0] == '<':
			close, kind = ">", "link"
		case md[0] == '*':
			out = append(out, span{Text: "*"})
			md = md[1:]
			continue
		}
		end := strings.Index(md[len(open):], close)
		if end < 0 {
			out = append(out, span{Text: md})
			break
		}
		out = append(out, span{Kind: kind, Text: md[len(open) : len(open)+end]})
		md = md[len(open)+end+len(close):]
	}
	return out
}
