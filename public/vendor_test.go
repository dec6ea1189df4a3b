package public

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"
)

// sumLine is one line of `sha256sum` output for a file in the same folder:
// the digest, two spaces (or a space and "*" in binary mode), the name.
var sumLine = regexp.MustCompile(`^([0-9a-f]{64}) [ *]([^/\\]+)$`)

// TestVendoredFilesMatchTheirChecksums keeps vendor/ honest: every file is
// listed once in SHA256SUMS and has the listed digest, so an edited or
// re-downloaded asset cannot slip in unnoticed.
func TestVendoredFilesMatchTheirChecksums(t *testing.T) {
	sums, err := fs.ReadFile(FS(), "vendor/SHA256SUMS")
	if err != nil {
		t.Fatalf("reading vendor/SHA256SUMS: %v", err)
	}
	listed := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(sums))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		m := sumLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("SHA256SUMS line %d: got %q, want \"<sha256>  <file name in vendor/>\"", n, line)
			continue
		}
		want, name := m[1], m[2]
		if listed[name] {
			t.Errorf("SHA256SUMS line %d: %s is listed twice", n, name)
		}
		listed[name] = true
		data, err := fs.ReadFile(FS(), "vendor/"+name)
		if err != nil {
			t.Errorf("SHA256SUMS line %d: %v", n, err)
			continue
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("vendor/%s: got sha256 %s, want %s", name, got, want)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading vendor/SHA256SUMS: %v", err)
	}

	entries, err := fs.ReadDir(FS(), "vendor")
	if err != nil {
		t.Fatalf("listing vendor/: %v", err)
	}
	for _, e := range entries {
		if e.Name() == "SHA256SUMS" {
			continue
		}
		if e.IsDir() {
			t.Errorf("vendor/%s: got a folder, want only files", e.Name())
			continue
		}
		if !listed[e.Name()] {
			t.Errorf("vendor/%s is not listed in SHA256SUMS", e.Name())
		}
	}
}

// TestVendoredSDKIsThePinnedPackage checks that the bundle in vendor/ is the
// one that package.json pins, when npm has installed it: the type check runs
// against node_modules, so the two must not drift apart.
func TestVendoredSDKIsThePinnedPackage(t *testing.T) {
	installed, err := os.ReadFile("../node_modules/@signalwire/js/dist/index.umd.js")
	if err != nil {
		t.Skipf("no installed @signalwire/js to compare with (run npm ci): %v", err)
	}
	vendored, err := fs.ReadFile(FS(), "vendor/signalwire-js-3.30.0.umd.js")
	if err != nil {
		t.Fatalf("reading the vendored SDK: %v", err)
	}
	if !bytes.Equal(installed, vendored) {
		t.Errorf("vendor/signalwire-js-3.30.0.umd.js differs from node_modules/@signalwire/js/dist/index.umd.js; run task vendor")
	}
}

// TestVendoredSSEExtensionIsPinned: htmx's SSE extension (htmx-ext-sse
// 2.2.4, issue 16) is vendored under its pinned name, listed in SHA256SUMS
// (checked above) and is the extension itself, which the room page's
// streams need.
func TestVendoredSSEExtensionIsPinned(t *testing.T) {
	b, err := fs.ReadFile(FS(), "vendor/htmx-ext-sse-2.2.4.min.js")
	if err != nil {
		t.Fatalf("reading the vendored SSE extension: %v", err)
	}
	for _, want := range []string{`htmx.defineExtension("sse"`, "createEventSource", "sse-swap"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("vendor/htmx-ext-sse-2.2.4.min.js lacks %q", want)
		}
	}
	sums, _ := fs.ReadFile(FS(), "vendor/SHA256SUMS")
	if !bytes.Contains(sums, []byte("  htmx-ext-sse-2.2.4.min.js\n")) {
		t.Errorf("SHA256SUMS does not list htmx-ext-sse-2.2.4.min.js")
	}
}
