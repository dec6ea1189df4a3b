package public

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/swrooms/swrooms/internal/browsertest"
)

// TestMain starts one browser for the package's browser tests.
func TestMain(m *testing.M) { browsertest.Main(m) }

// testServer serves the embedded public files at / and testdata at
// /testdata/, for test pages that import the island's modules directly.
func testServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/testdata/", http.StripPrefix("/testdata/", http.FileServer(http.Dir("testdata"))))
	mux.Handle("/", http.FileServerFS(FS()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}
