package joinbench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/swrooms/swrooms/internal/proctest"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// buildBinary compiles the package at pkg (a module-relative path such as
// "." or "./internal/joinbench/anchor") into dir and returns the binary.
func buildBinary(t *testing.T, dir, pkg, name string, tags ...string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	args := []string{"build", "-o", out}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = moduleRoot(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// moduleRoot is the repository's root: two folders up from this package.
func moduleRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Clean(filepath.Join(wd, "..", ".."))
}

// child is a server process the benchmark started and measures.
type child struct {
	cmd   *exec.Cmd
	url   string // http://127.0.0.1:PORT
	pprof string // the pprof server's URL, when the binary has one
	done  chan struct{}
}

var (
	listeningLine = regexp.MustCompile(`listening.*?(http://127\.0\.0\.1:\d+)`)
	pprofLine     = regexp.MustCompile(`msg=pprof addr=(http://127\.0\.0\.1:\d+)`)
)

// startChild runs bin with args and environ (nothing inherited but PATH
// and HOME), waits for its "listening http://ADDR" line, and drains its
// output from then on: the app's log lines cost it a write each, as in
// production, but nobody keeps them. It is stopped with SIGTERM when the
// test ends.
func startChild(t *testing.T, bin string, args, environ []string) *child {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, environ...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	found := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if m := pprofLine.FindStringSubmatch(line); m != nil {
				c.pprof = m[1]
			}
			if m := listeningLine.FindStringSubmatch(line); m != nil {
				c.url = m[1]
				found <- nil
				break
			}
		}
		if c.url == "" {
			found <- fmt.Errorf("%s exited or closed its output before listening", filepath.Base(bin))
		}
		_, _ = io.Copy(io.Discard, out)
		_ = cmd.Wait()
		close(c.done)
	}()
	select {
	case err := <-found:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("%s did not listen within 20 s", filepath.Base(bin))
	}
	t.Cleanup(c.stop)
	return c
}

// stop sends SIGTERM and waits up to 10 s, then kills.
func (c *child) stop() { proctest.Stop(c.cmd.Process, c.done, 10*time.Second) }

// cpu is the process's CPU time so far, user and system, all threads
// (/proc/<pid>/stat utime+stime, 10 ms resolution).
func (c *child) cpu(t *testing.T) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		t.Fatalf("read the child's CPU time: %v", err)
	}
	// The command name may hold spaces and parentheses: fields start after
	// the last ')'. utime and stime are fields 14 and 15 of the line.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("parse /proc/%d/stat: %q", c.cmd.Process.Pid, s)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks
}
