package public

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestScriptsTypecheck runs tsc over public/js against the real
// @signalwire/js types (see jsconfig.json), so that a wrong method, event or
// payload field in the island fails go test.
func TestScriptsTypecheck(t *testing.T) {
	t.Parallel()
	out, err := tsc(t, "jsconfig.json")
	if err != nil {
		t.Fatalf("tsc -p jsconfig.json: %v\n%s", err, out)
	}
}

// TestTypecheckRejectsMisuse proves that the type check has teeth: tsc must
// fail on each negative fixture under testdata/tsc-negative, once for each
// line of it marked "want" and nowhere else.
func TestTypecheckRejectsMisuse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		project string
		wants   []struct{ line, text string }
	}{
		{
			name:    "misuse of the SDK itself",
			project: "public/testdata/tsc-negative/jsconfig.json",
			wants: []struct{ line, text string }{
				{"bad.js(5,", "'muteEveryone' does not exist"},
				{"bad.js(6,", `"member.mutedd"`},
				{"bad.js(7,", "'member' does not exist"},
			},
		},
		{
			name:    "the island's subscription helper with a wrong event or field",
			project: "public/testdata/tsc-negative/wrong-event.jsconfig.json",
			wants: []struct{ line, text string }{
				{"wrong-event.js(10,", `"member.updated.handraised"`},
				{"wrong-event.js(11,", `"memberList.updatedd"`},
				{"wrong-event.js(12,", "'talkin' does not exist"},
				{"wrong-event.js(13,", "'layoutName' does not exist"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := tsc(t, tt.project)
			if err == nil {
				t.Fatalf("tsc passed on %s; want errors\n%s", tt.project, out)
			}
			var errs []string
			for _, line := range strings.Split(out, "\n") {
				if strings.Contains(line, "error TS") {
					errs = append(errs, line)
				}
			}
			if len(errs) != len(tt.wants) {
				t.Errorf("got %d errors, want %d:\n%s", len(errs), len(tt.wants), out)
			}
			for _, w := range tt.wants {
				found := false
				for _, e := range errs {
					if strings.Contains(e, w.line) && strings.Contains(e, w.text) {
						found = true
					}
				}
				if !found {
					t.Errorf("no error at %s mentioning %s:\n%s", w.line, w.text, out)
				}
			}
		})
	}
}

// tsc runs the project's pinned TypeScript from the repository root. Without
// node or node_modules it skips, or fails when CI is set, so that CI cannot
// pass without checking.
func tsc(t *testing.T, project string) (string, error) {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	missing := ""
	if _, err := exec.LookPath("node"); err != nil {
		missing = "node is not installed"
	} else if _, err := exec.LookPath("npx"); err != nil {
		missing = "npx is not installed"
	} else if _, err := os.Stat(filepath.Join(root, "node_modules", "typescript", "package.json")); err != nil {
		missing = "node_modules has no typescript (run npm ci in the repository root)"
	} else if _, err := os.Stat(filepath.Join(root, "node_modules", "@signalwire", "js", "package.json")); err != nil {
		missing = "node_modules has no @signalwire/js (run npm ci in the repository root)"
	}
	if missing != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("cannot type-check and CI is set: %s", missing)
		}
		t.Skipf("skipping the type check: %s", missing)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npx", "--no-install", "tsc", "-p", project)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	return string(out), err
}
