package push

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/redis/go-redis/v9"

	"github.com/swrooms/swrooms/internal/redisconn"
)

// RedisStreamTTL is how long a room's stream outlives its last event: as
// long as a seat (the page that reads the stream) lives, 24 hours.
const RedisStreamTTL = 24 * time.Hour

const (
	// opTimeout bounds one Publish or Subscribe, retries included; each
	// command has redisconn's shorter timeouts as well.
	opTimeout = 5 * time.Second
	// readBlock is how long the reader's XREAD waits for an event; its
	// socket's read deadline is 10 s later (go-redis), which is also how
	// long a connection that died without a word takes to notice.
	readBlock = 5 * time.Second
	// readCount caps the entries one XREAD takes per room.
	readCount = 256
	// backoffMin and backoffMax bound the reader's pause after a failed
	// XREAD (Redis down): doubling from the first to the second.
	backoffMin = 100 * time.Millisecond
	backoffMax = 2 * time.Second
	// wakeTTL is how long an instance's wake key outlives its last use.
	wakeTTL = time.Hour
)

// Redis is a broker shared by all the instances on one Redis, safe for
// concurrent use. Each room is a Redis stream (see the package doc): an
// event's ID is its stream entry ID, global to the room, so a page may
// reconnect to any instance with its Last-Event-ID.
//
// One reader goroutine per process, on a connection of its own, takes
// every room with a stream open here in one XREAD BLOCK, from the last
// entry it handed out in each, and fans the entries out to the room's
// local subscribers as Memory does. Blocking reads hold their connection,
// so they never come from the shared client's pool (a reader per room
// would hold as many connections as rooms); the cost is that each XREAD
// names every room open here, which is fine for thousands of rooms, and
// that it needs one Redis, not a Cluster (its keys span hash slots). A
// room leaves the XREAD after its last local stream ends, and joins it at
// once: Subscribe writes to this instance's wake key, which the same
// XREAD watches. When Redis is down the reader backs off (100 ms to 2 s)
// and resumes from where it was, so the streams that stay open miss
// nothing Redis kept (after a restart that lost the data, new entries
// still come after the old IDs: Redis numbers a new stream from its
// clock); Publish and Subscribe fail with errors that redisconn.Wrap
// marks unavailable.
type Redis struct {
	c       *redis.Client // commands
	rc      *redis.Client // the reader's own connection
	lim     Limits
	log     *slog.Logger
	wakeKey string
	block   time.Duration // XREAD BLOCK

	mu     sync.Mutex
	rooms  *simplelru.LRU[string, *redisRoom] // rooms with local subscribers; guarded by mu
	closed bool                               // guarded by mu

	wake chan struct{} // a room became ready; wakes an idle reader
	ctx  context.Context
	stop context.CancelFunc
	done chan struct{} // closed when the reader has returned
}

// redisRoom is a room with subscribers on this instance; fields are
// guarded by Redis.mu.
type redisRoom struct {
	name   string
	key    string
	ready  bool     // cursor is known: the reader reads the room
	gone   bool     // evicted or left: the reader skips it
	cursor streamID // the newest entry handed out, or where reading starts
	subs   map[*redisSub]struct{}
}

// redisSub is a subscriber; fields past subscriber are guarded by
// Redis.mu. While Subscribe reads the room's state from Redis the
// subscriber is pending: the reader keeps what it hands out in held, and
// Subscribe then passes on the entries after the newest one it read (from).
// floor is the newest entry handed out before the subscriber could see it:
// from must not be older, or entries would fall between the two.
type redisSub struct {
	subscriber
	pending bool
	held    []heldEvent
	from    streamID
	floor   streamID
}

type heldEvent struct {
	id streamID
	ev Event
}

// NewRedis returns a broker on c (from redisconn.Open). It opens its
// reader's own connection with c's options and starts the reader; Close
// stops them (c stays open: it is the caller's). log receives the
// reader's trouble with Redis and its recovery; nil discards.
func NewRedis(c *redis.Client, lim Limits, log *slog.Logger) *Redis {
	return newRedisBlocking(c, lim, log, readBlock)
}

// newRedisBlocking is NewRedis with the reader's XREAD BLOCK time.
func newRedisBlocking(c *redis.Client, lim Limits, log *slog.Logger, block time.Duration) *Redis {
	lim = lim.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o := c.Options()
	// The reader's client takes c's address, credentials and timeouts,
	// not its per-client state (push processor, caches), and one
	// connection.
	readerOpt := &redis.Options{
		Network: o.Network, Addr: o.Addr, ClientName: o.ClientName, Dialer: o.Dialer, OnConnect: o.OnConnect,
		Protocol: o.Protocol, Username: o.Username, Password: o.Password, DB: o.DB, TLSConfig: o.TLSConfig,
		CredentialsProvider: o.CredentialsProvider, CredentialsProviderContext: o.CredentialsProviderContext,
		StreamingCredentialsProvider: o.StreamingCredentialsProvider,
		MaxRetries:                   o.MaxRetries, MinRetryBackoff: o.MinRetryBackoff, MaxRetryBackoff: o.MaxRetryBackoff,
		DialTimeout: o.DialTimeout, DialerRetries: o.DialerRetries, DialerRetryTimeout: o.DialerRetryTimeout,
		ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout, PoolTimeout: o.PoolTimeout,
		PoolSize: 1, MaxIdleConns: 1, MaxActiveConns: 1,
	}
	var tag [8]byte
	_, _ = rand.Read(tag[:]) // crypto/rand.Read never fails on supported platforms
	b := &Redis{
		c:       c,
		rc:      redis.NewClient(readerOpt),
		lim:     lim,
		log:     log,
		wakeKey: "swr:push:wake:" + hex.EncodeToString(tag[:]),
		block:   block,
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	rooms, err := simplelru.NewLRU[string, *redisRoom](lim.Rooms, func(_ string, r *redisRoom) {
		r.gone = true
		for s := range r.subs {
			s.end()
		}
		clear(r.subs)
	})
	if err != nil {
		panic(err) // only for a size below 1, excluded above
	}
	b.rooms = rooms
	b.ctx, b.stop = context.WithCancel(context.Background())
	go b.read()
	return b
}

// streamKey is room's stream.
func streamKey(room string) string { return "swr:push:room:" + room }

// Publish appends ev to the room's stream (XADD, trimmed to about
// Limits.Replay entries, the key's expiry renewed) and returns it with its
// ID. Every instance's subscribers get it from their reader. Errors:
// ErrClosed after Close, an unavailable error (redisconn) when Redis
// fails.
func (b *Redis) Publish(room string, ev Event) (Event, error) {
	if b.isClosed() {
		return ev, ErrClosed
	}
	ctx, cancel := context.WithTimeout(b.ctx, opTimeout)
	defer cancel()
	key := streamKey(room)
	var add *redis.StringCmd
	_, err := b.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		// MAXLEN ~ keeps at least Replay+1 entries (Redis trims whole
		// nodes only), so the entry before the last Replay is there to
		// tell "Replay missed" from a gap, as in Memory.
		add = p.XAdd(ctx, &redis.XAddArgs{
			Stream: key, MaxLen: int64(b.lim.Replay) + 1, Approx: true,
			Values: []any{"target", ev.Target, "name", ev.Name, "data", ev.Data},
		})
		p.Expire(ctx, key, RedisStreamTTL)
		return nil
	})
	if err != nil {
		if b.isClosed() {
			return ev, ErrClosed
		}
		return ev, redisconn.Wrap("push publish", err)
	}
	ev.ID = add.Val()
	return ev, nil
}

// Subscribe opens a subscription to the room's events for the given
// targets (for example "all", "seat:ID"). lastID is the client's
// Last-Event-ID, "" for a first connection (no replay, no gap). It reads
// the room from Redis once (twice the first time the room is opened on
// this instance, to wake the reader). Errors: ErrClosed after Close, an
// unavailable error (redisconn) when Redis fails.
func (b *Redis) Subscribe(room string, targets []string, lastID string) (*Subscription, error) {
	r, s, err := b.join(room, targets)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(b.ctx, opTimeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		read, err := b.since(ctx, r.key, s, lastID)
		if err != nil {
			b.mu.Lock()
			b.drop(r, s)
			closed := b.closed
			b.mu.Unlock()
			if closed {
				return nil, ErrClosed
			}
			return nil, redisconn.Wrap("push subscribe", err)
		}
		sub, woke, err := b.start(r, s, lastID, read, attempt < 2)
		if errors.Is(err, errReadAgain) {
			continue
		}
		if woke {
			b.wakeReader(ctx)
		}
		return sub, err
	}
}

// errReadAgain is start's answer to a read older than what the reader
// already handed out.
var errReadAgain = errors.New("push: read the room again")

// join registers a pending subscriber to room.
func (b *Redis) join(room string, targets []string) (*redisRoom, *redisSub, error) {
	s := &redisSub{subscriber: subscriber{targets: targets, ch: make(chan Event, b.lim.Buffer)}, pending: true}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, nil, ErrClosed
	}
	r, ok := b.rooms.Get(room)
	if !ok {
		r = &redisRoom{name: room, key: streamKey(room), subs: map[*redisSub]struct{}{}}
		b.rooms.Add(room, r)
	}
	if r.ready {
		s.floor = r.cursor
	}
	r.subs[s] = struct{}{}
	return r, s, nil
}

// roomRead is what Subscribe read of a room (see since).
type roomRead struct {
	newest streamID
	missed []Event
	gap    bool
}

// start makes the pending s a subscription from what was read: it gets
// the entries after read.newest. A read older than s.floor returns
// errReadAgain when mayRetry (another subscriber started the reader past
// it: Redis has more by now); otherwise Redis lost what the reader handed
// out (restarted empty), and s starts after that, with a gap for a
// Last-Event-ID. woke says the room was new here: the reader must be
// woken (wakeReader, outside b.mu).
func (b *Redis) start(r *redisRoom, s *redisSub, lastID string, read roomRead, mayRetry bool) (sub *Subscription, woke bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		b.drop(r, s)
		return nil, false, ErrClosed
	}
	if read.newest.less(s.floor) && !s.done {
		if mayRetry {
			return nil, false, errReadAgain
		}
		read = roomRead{newest: s.floor, gap: lastID != ""}
	}
	if !r.ready && !s.done {
		r.cursor, r.ready, woke = read.newest, true, true
		for o := range r.subs {
			if o.pending && o.floor.less(read.newest) {
				o.floor = read.newest
			}
		}
	}
	b.activate(r, s, read.newest)
	sub = &Subscription{C: s.ch, Missed: read.missed, Gap: read.gap, close: func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.drop(r, s)
	}}
	if !read.newest.isZero() {
		sub.LastID = read.newest.String()
	}
	return sub, woke, nil
}

// activate ends s's pending state: from now on it gets the entries after
// newest, starting with those held for it; b.mu is held.
func (b *Redis) activate(r *redisRoom, s *redisSub, newest streamID) {
	s.pending, s.from = false, newest
	held := s.held
	s.held = nil
	for _, h := range held {
		if !newest.less(h.id) || s.done {
			continue
		}
		if !s.offer(h.ev) {
			b.drop(r, s) // the room already outran its buffer
		}
	}
}

// since reads the room's newest entry ID (zero for none) and, for a
// lastID that names a kept entry with at most Limits.Replay entries after
// it, those entries for s's targets; otherwise a gap (lastID not "").
func (b *Redis) since(ctx context.Context, key string, s *redisSub, lastID string) (roomRead, error) {
	last, ok := parseStreamID(lastID)
	replay := ok && !last.isZero()
	var after, rev *redis.XMessageSliceCmd
	_, err := b.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		if replay {
			// lastID itself, up to Replay after it, and one more to tell
			// that there were too many.
			after = p.XRangeN(ctx, key, last.String(), "+", int64(b.lim.Replay)+2)
		}
		rev = p.XRevRangeN(ctx, key, "+", "-", 1)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return roomRead{}, err
	}
	var read roomRead
	if replay {
		ents := after.Val()
		if len(ents) > 0 && len(ents) <= b.lim.Replay+1 {
			if first, _ := parseStreamID(ents[0].ID); first == last {
				for _, m := range ents[1:] {
					if ev := toEvent(m); s.wants(ev.Target) {
						read.missed = append(read.missed, ev)
					}
				}
				read.newest, _ = parseStreamID(ents[len(ents)-1].ID)
				return read, nil
			}
		}
	}
	if ents := rev.Val(); len(ents) > 0 {
		read.newest, _ = parseStreamID(ents[0].ID)
	}
	read.gap = lastID != ""
	return read, nil
}

// wakeReader makes the reader take up a room that just became ready: the
// local signal wakes it when idle, the wake key's new entry ends the XREAD
// it may be blocked in. A failure only delays the room until that XREAD
// ends by itself (readBlock), or the reader is failing anyway.
func (b *Redis) wakeReader(ctx context.Context) {
	select {
	case b.wake <- struct{}{}:
	default:
	}
	_, err := b.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAdd(ctx, &redis.XAddArgs{Stream: b.wakeKey, MaxLen: 1, Values: []any{"w", "1"}})
		p.Expire(ctx, b.wakeKey, wakeTTL)
		return nil
	})
	if err != nil {
		b.log.Debug("push wake", "err", err)
	}
}

// drop ends s and forgets r with its last subscriber; b.mu is held.
func (b *Redis) drop(r *redisRoom, s *redisSub) {
	s.end()
	delete(r.subs, s)
	if len(r.subs) == 0 && !r.gone {
		b.rooms.Remove(r.name) // the eviction hook marks r gone
	}
}

func (b *Redis) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// Close ends every subscription (their streams close, so clients
// reconnect, to another instance during a deploy), stops the reader and
// refuses new subscriptions and events. It leaves the client passed to
// NewRedis open.
func (b *Redis) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	b.rooms.Purge()
	b.mu.Unlock()
	b.stop()
	_ = b.rc.Close() // ends a blocked XREAD at once
	<-b.done
}

// read is the reader: XREAD over the ready rooms and the wake key, fan
// out, repeat, until Close.
func (b *Redis) read() {
	defer close(b.done)
	wakeCursor := streamID{}
	backoff := time.Duration(0)
	for {
		select {
		case <-b.wake: // taken now, so a room readied later wakes the next wait
		default:
		}
		rooms, streams := b.readyRooms(wakeCursor)
		if len(rooms) == 0 {
			select {
			case <-b.ctx.Done():
				return
			case <-b.wake:
				continue
			}
		}
		res, err := b.rc.XRead(b.ctx, &redis.XReadArgs{Streams: streams, Count: readCount, Block: b.block}).Result()
		if b.ctx.Err() != nil {
			return
		}
		if err != nil && !errors.Is(err, redis.Nil) {
			if backoff == 0 {
				b.log.Warn("push reader: redis failed; retrying", "err", err)
				backoff = backoffMin
			} else {
				backoff = min(2*backoff, backoffMax)
			}
			select {
			case <-b.ctx.Done():
				return
			case <-time.After(backoff):
			}
			continue
		}
		if backoff != 0 {
			b.log.Info("push reader: redis is back")
			backoff = 0
		}
		for _, st := range res {
			if st.Stream == b.wakeKey && len(st.Messages) > 0 {
				wakeCursor, _ = parseStreamID(st.Messages[len(st.Messages)-1].ID)
			}
		}
		b.deliver(rooms, res)
	}
}

// readyRooms are the rooms the reader reads, by stream key, and XREAD's
// STREAMS arguments for them and the wake key: their keys, then the
// entries they were handed out up to (only the reader moves a ready
// room's cursor).
func (b *Redis) readyRooms(wakeCursor streamID) (map[string]*redisRoom, []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	rooms := map[string]*redisRoom{}
	var keys, ids []string
	for _, r := range b.rooms.Values() {
		if r.ready {
			rooms[r.key] = r
			keys = append(keys, r.key)
			ids = append(ids, r.cursor.String())
		}
	}
	return rooms, append(append(append(keys, b.wakeKey), ids...), wakeCursor.String())
}

// deliver hands the entries read out to the rooms' subscribers: held for
// a pending one, sent to an active one after its start; a subscriber whose
// buffer is full is cut off.
func (b *Redis) deliver(rooms map[string]*redisRoom, res []redis.XStream) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, st := range res {
		r := rooms[st.Stream]
		if r == nil {
			continue // the wake key
		}
		for _, m := range st.Messages {
			id, ok := parseStreamID(m.ID)
			if r.gone || !ok || !r.cursor.less(id) {
				continue
			}
			r.cursor = id
			ev := toEvent(m)
			for s := range r.subs {
				switch {
				case !s.wants(ev.Target):
				case s.pending && len(s.held) < b.lim.Buffer:
					s.held = append(s.held, heldEvent{id: id, ev: ev})
				case s.pending:
					b.drop(r, s)
				case !s.from.less(id):
				default:
					if !s.offer(ev) {
						b.drop(r, s)
					}
				}
			}
		}
	}
}

func toEvent(m redis.XMessage) Event {
	str := func(k string) string { v, _ := m.Values[k].(string); return v }
	return Event{ID: m.ID, Target: str("target"), Name: str("name"), Data: str("data")}
}

// streamID is a Redis stream entry ID, "<ms>-<seq>"; the zero value is
// "0-0", before every entry (Redis never assigns it).
type streamID struct{ ms, seq uint64 }

// parseStreamID parses a full "<ms>-<seq>"; ok is false for anything else.
func parseStreamID(s string) (id streamID, ok bool) {
	msText, seqText, found := strings.Cut(s, "-")
	ms, err1 := strconv.ParseUint(msText, 10, 64)
	seq, err2 := strconv.ParseUint(seqText, 10, 64)
	if !found || err1 != nil || err2 != nil {
		return streamID{}, false
	}
	return streamID{ms, seq}, true
}

func (a streamID) less(b streamID) bool {
	return a.ms < b.ms || a.ms == b.ms && a.seq < b.seq
}

func (a streamID) isZero() bool { return a == streamID{} }

func (a streamID) String() string {
	return strconv.FormatUint(a.ms, 10) + "-" + strconv.FormatUint(a.seq, 10)
}
