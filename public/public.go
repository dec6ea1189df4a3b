// Package public holds the static files the app serves under /public:
// the stylesheet, the JS island and the vendored npm assets (the
// SignalWire SDK among them, the only one any page loads). They are
// embedded so that the binary is all a deployment needs.
package public

import (
	"embed"
	"io/fs"
)

//go:embed css js img vendor favicon.svg
var files embed.FS

// FS returns the embedded static files.
func FS() fs.FS { return files }
