// Package proctest supports tests that run other programs (the app,
// redis-server, HAProxy): a buffer their output and the test share, and a
// stop that asks politely before it kills.
package proctest

import (
	"bytes"
	"os"
	"sync"
	"syscall"
	"time"
)

// Buffer is a bytes.Buffer that one goroutine may write (a process's
// output, a logger) while another reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Stop ends process p, whose exit closes done, as a deployment does:
// SIGTERM, then SIGKILL if it still runs after grace. It returns once done
// is closed; a process that has exited already is left alone.
func Stop(p *os.Process, done <-chan struct{}, grace time.Duration) {
	select {
	case <-done:
		return
	default:
	}
	_ = p.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		_ = p.Kill()
		<-done
	}
}
