// Package fakeclock provides the clock tests give to code that takes a
// "now func() time.Time": it stands still until the test moves it, and is
// safe for concurrent use.
package fakeclock

import (
	"sync"
	"time"
)

// Clock is a time that moves only by Advance.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock standing at start.
func New(start time.Time) *Clock { return &Clock{t: start} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
