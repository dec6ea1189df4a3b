package handlers

import (
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"

	"github.com/swrooms/swrooms/public"
	"github.com/swrooms/swrooms/views"
)

// Pinned vendored files; their names carry the version, so a new version
// is a new URL and browsers may cache each one forever.
const (
	vendorHTMX = "/public/vendor/htmx-2.0.11.min.js"
	vendorSDK  = "/public/vendor/signalwire-js-3.30.0.umd.js"
	vendorSSE  = "/public/vendor/htmx-ext-sse-2.2.4.min.js"
)

// newAssets builds the versioned URLs: our own files get a content hash in
// the query, so they too can be cached for a year. The SDK is the vendored
// file in every mode: sandbox mode runs it against the fake relay.
func newAssets() views.Assets {
	return views.Assets{
		CSS:     views.VersionedAsset("css/app.css"),
		HTMX:    vendorHTMX,
		Favicon: views.VersionedAsset("favicon.svg"),
		SDK:     vendorSDK,
		SSE:     vendorSSE,
		Room:    views.VersionedAsset("js/room.js"),
	}
}

// static serves the embedded files.
func (h *Handlers) static() fiber.Handler {
	files := filesystem.New(filesystem.Config{Root: http.FS(public.FS())})
	return func(c *fiber.Ctx) error {
		p := strings.TrimPrefix(c.Path(), "/public")
		if strings.HasSuffix(p, "/") || strings.HasSuffix(p, ".go") {
			return fiber.ErrNotFound
		}
		if strings.HasPrefix(p, "/vendor/") || c.Query("v") != "" {
			c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
		} else {
			c.Set(fiber.HeaderCacheControl, "no-cache")
		}
		return files(c)
	}
}

func (h *Handlers) favicon(c *fiber.Ctx) error {
	return c.Redirect(h.assets.Favicon, fiber.StatusMovedPermanently)
}
