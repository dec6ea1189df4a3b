package signalwire_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swrooms/swrooms/signalwire"
	"github.com/swrooms/swrooms/signalwire/swtest"
)

// Credentials of every test; distinctive so that a leak is easy to spot.
const (
	key   = "proj-7c1e-key"
	token = "PT-4a9f0d2e-secret-api-token"
)

// leaks collects every log line, every error string and every issued room
// token of this package's tests; TestMain fails the run if a log line or an
// error string contains a secret.
var leaks = &leakSink{}

type leakSink struct {
	mu     sync.Mutex
	logs   bytes.Buffer
	errs   []string
	tokens []string
}

func (s *leakSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.Write(p)
}

// seen records err's text (and its %+v and %#v forms) for the leak check
// and returns err.
func seen(err error) error {
	if err != nil {
		leaks.mu.Lock()
		leaks.errs = append(leaks.errs, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
		leaks.mu.Unlock()
	}
	return err
}

func (s *leakSink) logger() *slog.Logger { return slogText(s) }

// slogText logs everything, debug included, as text into w.
func slogText(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// check reports the first secret found, or "".
func (s *leakSink) check() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	basic := base64.StdEncoding.EncodeToString([]byte(key + ":" + token))
	secrets := map[string]string{"API token": token, "Basic auth header": "Basic " + basic, "Basic auth value": basic}
	for i, tok := range s.tokens {
		secrets[fmt.Sprintf("room token %d", i)] = tok
		if j := strings.LastIndexByte(tok, '.'); j > 0 {
			secrets[fmt.Sprintf("room token %d signature", i)] = tok[j+1:]
		}
	}
	if s.logs.Len() == 0 || len(s.errs) == 0 || len(s.tokens) == 0 {
		return fmt.Sprintf("leak check is vacuous: %d log bytes, %d errors, %d tokens", s.logs.Len(), len(s.errs), len(s.tokens))
	}
	logs := s.logs.String()
	for what, v := range secrets {
		if strings.Contains(logs, v) {
			return "a log line contains the " + what
		}
		for _, e := range s.errs {
			if strings.Contains(e, v) {
				return "an error string contains the " + what + ": " + e
			}
		}
	}
	return ""
}

func TestMain(m *testing.M) {
	code := m.Run()
	// Only a full run exercises enough paths for the check to mean something.
	if code == 0 && !testing.Short() && isFullRun() {
		if msg := leaks.check(); msg != "" {
			fmt.Fprintln(os.Stderr, "FAIL: secret leak check:", msg)
			code = 1
		}
	}
	os.Exit(code)
}

// isFullRun reports whether the run was not narrowed with -run or -fuzz.
func isFullRun() bool {
	for _, a := range os.Args[1:] {
		if strings.HasPrefix(a, "-test.run") || strings.HasPrefix(a, "-test.fuzz") {
			return false
		}
	}
	return true
}

// newFake starts a fake whose issued tokens join the leak check.
func newFake(t *testing.T, opts ...swtest.Option) (*swtest.Fake, *httptest.Server) {
	t.Helper()
	f, srv := swtest.NewServer(key, token, opts...)
	t.Cleanup(func() {
		srv.Close()
		leaks.mu.Lock()
		leaks.tokens = append(leaks.tokens, f.IssuedTokens()...)
		leaks.mu.Unlock()
	})
	return f, srv
}

// newClient returns a client for baseURL that logs into the leak sink and
// retries fast; opts come last and so win.
func newClient(t *testing.T, baseURL string, opts ...signalwire.Option) *signalwire.Client {
	t.Helper()
	all := append([]signalwire.Option{
		signalwire.WithLogger(leaks.logger()),
		signalwire.WithRetry(4, time.Millisecond, 5*time.Millisecond),
		signalwire.WithTimeout(5 * time.Second),
	}, opts...)
	c, err := signalwire.NewClient(baseURL, key, token, all...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}
