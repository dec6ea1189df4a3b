// Package redisconn opens the Redis connection that instances share
// (REDIS_URL) and marks the errors that mean Redis cannot be reached, so
// that the handlers can say so on a page instead of failing with a 500.
package redisconn

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Timeouts of one Redis command: short, so that a Redis outage fails
// requests fast instead of piling up goroutines behind a dead connection.
const (
	DialTimeout  = 2 * time.Second
	ReadTimeout  = 2 * time.Second
	WriteTimeout = 2 * time.Second
	PoolTimeout  = 2 * time.Second
)

// Open parses rawURL (redis:// or rediss://, with user, password and DB
// number, as go-redis's ParseURL takes them) and returns a client. It
// dials lazily: a Redis that is down at start is not an error here (see
// Ping). The error names REDIS_URL and never contains the password.
func Open(rawURL string) (*redis.Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("REDIS_URL is not a URL")
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, fmt.Errorf("REDIS_URL must start with redis:// or rediss://, not %q", u.Scheme+"://")
	}
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL %s is malformed: %s", redacted(u), redactedReason(err, u))
	}
	// go-redis takes a port past 65535 (every dial then fails, and
	// /readyz stays 503 for good) and a negative DB (as DB 0).
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("REDIS_URL %s is malformed: port %s is not 1 to 65535", redacted(u), p)
		}
	}
	if opt.DB < 0 {
		return nil, fmt.Errorf("REDIS_URL %s is malformed: the database number must be 0 or more", redacted(u))
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.PoolTimeout = DialTimeout, ReadTimeout, WriteTimeout, PoolTimeout
	// One quick dial retry and one command retry: go-redis's defaults
	// (5 dial retries per attempt, 3 attempts) hold a request for seconds
	// against a Redis that is down, and requests pile up behind it.
	opt.DialerRetries, opt.DialerRetryTimeout, opt.MaxRetries = 1, 50*time.Millisecond, 1
	return redis.NewClient(opt), nil
}

// redacted is u without its password, nor the values of its query (one
// may be a password: go-redis takes none there, so such a URL is always
// malformed), nor its fragment.
func redacted(u *url.URL) string {
	c := *u
	q := c.Query()
	for k := range q {
		q[k] = []string{"xxxxx"}
	}
	c.RawQuery, c.Fragment, c.RawFragment = q.Encode(), "", ""
	return c.Redacted()
}

// redactedReason is go-redis's reason, unless it might quote the password.
func redactedReason(err error, u *url.URL) string {
	if p, ok := u.User.Password(); ok && p != "" && strings.Contains(err.Error(), p) {
		return "invalid URL"
	}
	return err.Error()
}

// UnavailableError is a Redis command that failed because Redis could not
// be reached or answered with an error: shared state is unavailable, for
// now. The handlers test for it by its Unavailable method.
type UnavailableError struct {
	Op  string // what was being done, for the log: "lobby knock"
	Err error
}

func (e *UnavailableError) Error() string { return "redis " + e.Op + ": " + e.Err.Error() }
func (e *UnavailableError) Unwrap() error { return e.Err }

// Unavailable reports true: shared state is unavailable.
func (e *UnavailableError) Unavailable() bool { return true }

// Wrap marks err from a Redis command as an *UnavailableError; nil and
// redis.Nil (no such key, which is an answer) pass through unchanged.
func Wrap(op string, err error) error {
	if err == nil || errors.Is(err, redis.Nil) {
		return err
	}
	var ue *UnavailableError
	if errors.As(err, &ue) {
		return err
	}
	return &UnavailableError{Op: op, Err: err}
}

// Ping asks Redis once, within timeout; a nil error means it answered.
func Ping(ctx context.Context, c *redis.Client, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return Wrap("ping", c.Ping(ctx).Err())
}
