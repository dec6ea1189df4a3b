package roomstate

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swrooms/swrooms/internal/redisconn"
)

// Redis keeps rooms' live state in Redis, shared by every instance that
// uses the same Redis; see the package doc for the keys. Every operation
// is one command or one call of room.lua, so each is atomic. Its errors
// are *redisconn.UnavailableError when Redis cannot be reached.
type Redis struct {
	c    redis.UniversalClient
	lim  Limits
	ttl  TTLs
	conf []any // ARGV[1..11] of every script call
}

//go:embed room.lua
var roomLua string

var roomScript = redis.NewScript(roomLua)

// NewRedis returns a store on c.
func NewRedis(c redis.UniversalClient, lim Limits, ttl TTLs) *Redis {
	lim, ttl = lim.withDefaults(), ttl.withDefaults()
	return &Redis{c: c, lim: lim, ttl: ttl, conf: []any{
		lim.Lobby, lim.Decided, lim.Blocked, lim.Seats, lim.Revoked, lim.Chat, lim.Leases,
		ttl.Invite.Milliseconds(), ttl.Seat.Milliseconds(), ttl.Decision.Milliseconds(), ttl.Room.Milliseconds(),
	}}
}

// Key parts, in the order room.lua takes them as KEYS.
var keyParts = []string{"state", "invite", "entries", "waiting", "decided", "leases", "blocked", "seats", "members", "revoked", "chat", "chatseq", "rivals"}

// keys are room's keys; the braces make them one hash slot.
func keys(room string) []string {
	out := make([]string, len(keyParts))
	for i, p := range keyParts {
		out[i] = key(room, p)
	}
	return out
}

func key(room, part string) string { return "swr:room:{" + room + "}:" + part }

// run calls room.lua's operation op.
func (s *Redis) run(ctx context.Context, room, op string, args ...any) (any, error) {
	argv := append(append(append(make([]any, 0, len(s.conf)+1+len(args)), s.conf...), op), args...)
	v, err := roomScript.Run(ctx, s.c, keys(room), argv...).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil // the script returned false or nil
	}
	return v, redisconn.Wrap("room "+op, err)
}

// entryJSON is an Entry as room.lua keeps it: numbers as strings.
type entryJSON struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	NameKey string `json:"key"`
	GuestID string `json:"gid"`
	Addr    string `json:"addr"`
	V       int    `json:"v,string"`
	Since   int64  `json:"since,string"`
	N       int64  `json:"n,string"`
}

// reply decodes what room.lua answered; a reply of another shape is a
// broken script or a foreign key, reported as Redis being unusable.
type reply struct {
	op  string
	err error
}

func (r *reply) fail(what string, v any) {
	if r.err == nil {
		r.err = redisconn.Wrap("room "+r.op, fmt.Errorf("unexpected reply: %s %T", what, v))
	}
}

func (r *reply) list(v any, n int) []any {
	l, ok := v.([]any)
	if !ok || len(l) < n {
		r.fail("list", v)
		return make([]any, n)
	}
	return l
}

func (r *reply) str(v any) string {
	s, ok := v.(string)
	if !ok {
		r.fail("string", v)
	}
	return s
}

// strs is a list of strings (seat ids); nil for an empty one.
func (r *reply) strs(v any) []string {
	var out []string
	for _, x := range r.list(v, 0) {
		out = append(out, r.str(x))
	}
	return out
}

func (r *reply) num(v any) int64 {
	n, ok := v.(int64)
	if !ok {
		r.fail("integer", v)
	}
	return n
}

func (r *reply) flag(v any) bool { return r.num(v) == 1 }

func (r *reply) change(l []any) Change {
	return Change{Lobby: r.flag(l[0]), Host: r.flag(l[1]), HostPresent: r.flag(l[2])}
}

func (r *reply) entry(v any) Entry {
	var e entryJSON
	if err := json.Unmarshal([]byte(r.str(v)), &e); err != nil {
		r.fail("entry", v)
	}
	return Entry{ID: e.ID, Name: e.Name, NameKey: e.NameKey, GuestID: e.GuestID, Addr: e.Addr, V: e.V, Since: time.UnixMilli(e.Since)}
}

func (r *reply) entries(l []any) []Entry {
	var out []Entry
	for _, v := range l {
		out = append(out, r.entry(v))
	}
	return out
}

func (r *reply) seat(v any) Seat {
	var s Seat
	if err := json.Unmarshal([]byte(r.str(v)), &s); err != nil {
		r.fail("seat", v)
	}
	return s
}

// SetLobby turns room's lobby on or off.
func (s *Redis) SetLobby(ctx context.Context, room string, on bool) error {
	v := "0"
	if on {
		v = "1"
	}
	_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key(room, "state"), "lobby", v)
		p.PExpire(ctx, key(room, "state"), s.ttl.Room)
		return nil
	})
	return redisconn.Wrap("room setlobby", err)
}

// Knock: see Memory.Knock.
func (s *Redis) Knock(ctx context.Context, room string, k Knock) (KnockResult, error) {
	v, err := s.run(ctx, room, "knock", ms(k.Now), k.ID, k.Name, k.NameKey, k.GuestID, k.Addr, strconv.Itoa(k.V), k.PerAddress, strconv.FormatInt(ms(k.Since), 10), k.Grace.Milliseconds())
	if err != nil {
		return KnockResult{}, err
	}
	r := reply{op: "knock"}
	l := r.list(v, 5)
	res := KnockResult{Outcome: Outcome(r.str(l[0])), Change: r.change(l[2:])}
	res.Host = res.Change.HostPresent
	if raw := r.str(l[1]); raw != "" {
		res.Entry = r.entry(raw)
	}
	return res, r.err
}

// Lobby: see Memory.Lobby.
func (s *Redis) Lobby(ctx context.Context, room string, now time.Time) (Lobby, error) {
	v, err := s.run(ctx, room, "lobby", ms(now))
	if err != nil {
		return Lobby{}, err
	}
	r := reply{op: "lobby"}
	l := r.list(v, 2)
	return Lobby{On: r.flag(l[0]), Host: r.flag(l[1]), Waiting: r.entries(l[2:])}, r.err
}

// Decide: see Memory.Decide.
func (s *Redis) Decide(ctx context.Context, room, id string, d Decision, now time.Time) (Entry, Change, error) {
	v, err := s.run(ctx, room, "decide", ms(now), id, string(d))
	if err != nil {
		return Entry{}, Change{}, err
	}
	r := reply{op: "decide"}
	l := r.list(v, 4)
	ch := r.change(l[1:])
	if r.str(l[0]) == "" && r.err == nil {
		return Entry{}, ch, ErrNotWaiting
	}
	return r.entry(l[0]), ch, r.err
}

// AdmitAll: see Memory.AdmitAll.
func (s *Redis) AdmitAll(ctx context.Context, room string, closeLobby bool, now time.Time) ([]Entry, Change, error) {
	v, err := s.run(ctx, room, "admitall", ms(now), boolArg(closeLobby))
	if err != nil {
		return nil, Change{}, err
	}
	r := reply{op: "admitall"}
	l := r.list(v, 3)
	return r.entries(l[3:]), r.change(l), r.err
}

// EntryState: see Memory.EntryState.
func (s *Redis) EntryState(ctx context.Context, room, id string, now time.Time) (EntryState, error) {
	v, err := s.run(ctx, room, "entrystate", ms(now), id)
	if err != nil {
		return EntryState{}, err
	}
	r := reply{op: "entrystate"}
	l := r.list(v, 3)
	return EntryState{Decision: Decision(r.str(l[0])), Waiting: r.flag(l[1]), Host: r.flag(l[2])}, r.err
}

// Admission: see Memory.Admission.
func (s *Redis) Admission(ctx context.Context, room, guestID, nameKey, id string) (Admission, error) {
	v, err := s.run(ctx, room, "admission", guestID, nameKey, id)
	if err != nil {
		return Admission{}, err
	}
	r := reply{op: "admission"}
	l := r.list(v, 3)
	return Admission{Blocked: r.flag(l[0]), LobbyOn: r.flag(l[1]), Admitted: r.flag(l[2])}, r.err
}

// Lease: see Memory.Lease.
func (s *Redis) Lease(ctx context.Context, room string, l Lease, now time.Time) (Change, error) {
	return s.change(ctx, room, "lease", ms(now), l.Kind, l.ID, l.Stream, ms(l.Until), s.lim.HolderLeases)
}

// EndLease: see Memory.EndLease.
func (s *Redis) EndLease(ctx context.Context, room string, l Lease, now time.Time) (Change, error) {
	return s.change(ctx, room, "endlease", ms(now), l.Kind, l.ID, l.Stream, l.Grace.Milliseconds())
}

// Sweep: see Memory.Sweep.
func (s *Redis) Sweep(ctx context.Context, room string, now time.Time) (Change, error) {
	return s.change(ctx, room, "sweep", ms(now))
}

func (s *Redis) change(ctx context.Context, room, op string, args ...any) (Change, error) {
	v, err := s.run(ctx, room, op, args...)
	if err != nil {
		return Change{}, err
	}
	r := reply{op: op}
	ch := r.change(r.list(v, 3))
	return ch, r.err
}

// Moderators: see Memory.Moderators.
func (s *Redis) Moderators(ctx context.Context, room string, now time.Time) ([]string, error) {
	v, err := s.run(ctx, room, "moderators", ms(now))
	if err != nil {
		return nil, err
	}
	r := reply{op: "moderators"}
	out := r.strs(v)
	slices.Sort(out)
	return slices.Compact(out), r.err
}

// TakeSeat: see Memory.TakeSeat.
func (s *Redis) TakeSeat(ctx context.Context, room, id string, st Seat) error {
	raw, _ := json.Marshal(st) // strings only: cannot fail
	_, err := s.run(ctx, room, "takeseat", id, raw)
	return err
}

// Seat: see Memory.Seat.
func (s *Redis) Seat(ctx context.Context, room, id string) (Seat, bool, error) {
	raw, err := s.c.HGet(ctx, key(room, "seats"), id).Result()
	if errors.Is(err, redis.Nil) {
		return Seat{}, false, nil
	}
	if err != nil {
		return Seat{}, false, redisconn.Wrap("room seat", err)
	}
	r := reply{op: "seat"}
	st := r.seat(raw)
	return st, r.err == nil, r.err
}

// SeatIsMember: see Memory.SeatIsMember.
func (s *Redis) SeatIsMember(ctx context.Context, room, id, member string) (bool, error) {
	v, err := s.run(ctx, room, "seatismember", id, member, s.lim.Rivals)
	if err != nil {
		return false, err
	}
	r := reply{op: "seatismember"}
	return r.flag(v), r.err
}

// SeatLeft: see Memory.SeatLeft.
func (s *Redis) SeatLeft(ctx context.Context, room, id string) error {
	_, err := s.run(ctx, room, "seatleft", id)
	return err
}

// MemberSeat: see Memory.MemberSeat.
func (s *Redis) MemberSeat(ctx context.Context, room, member string) (string, Seat, bool, error) {
	v, err := s.run(ctx, room, "memberseat", member)
	if err != nil {
		return "", Seat{}, false, err
	}
	r := reply{op: "memberseat"}
	l := r.list(v, 0)
	if len(l) < 2 {
		return "", Seat{}, false, r.err
	}
	var st Seat
	if raw := r.str(l[1]); raw != "" {
		st = r.seat(raw)
	}
	return r.str(l[0]), st, r.err == nil, r.err
}

// Members: see Memory.Members.
func (s *Redis) Members(ctx context.Context, room string) ([]string, error) {
	out, err := s.c.HKeys(ctx, key(room, "members")).Result()
	if err != nil {
		return nil, redisconn.Wrap("room members", err)
	}
	slices.Sort(out)
	return out, nil
}

// Revoked: see Memory.Revoked.
func (s *Redis) Revoked(ctx context.Context, room, id string) (bool, error) {
	v, err := s.run(ctx, room, "revoked", id)
	if err != nil {
		return false, err
	}
	r := reply{op: "revoked"}
	return r.flag(v), r.err
}

// RevokeMember: see Memory.RevokeMember.
func (s *Redis) RevokeMember(ctx context.Context, room, member, except string, now time.Time) ([]string, error) {
	v, err := s.run(ctx, room, "revokemember", member, except, ms(now))
	if err != nil {
		return nil, err
	}
	r := reply{op: "revokemember"}
	out := r.strs(v)
	if r.err != nil {
		return nil, r.err
	}
	return out, nil
}

// Block: see Memory.Block.
func (s *Redis) Block(ctx context.Context, room string, b Block) (Blocked, error) {
	v, err := s.run(ctx, room, "block", ms(b.Now), b.GuestID, b.NameKey, b.Seat)
	if err != nil {
		return Blocked{}, err
	}
	r := reply{op: "block"}
	l := r.list(v, 5)
	out := Blocked{Change: r.change(l), Seats: r.strs(l[3]), Denied: r.entries(r.list(l[4], 0))}
	slices.Sort(out.Seats)
	return out, r.err
}

// InviteVersion: see Memory.InviteVersion. Reading it renews its expiry
// (see the package doc).
func (s *Redis) InviteVersion(ctx context.Context, room string) (int, error) {
	v, err := s.c.GetEx(ctx, key(room, "invite"), s.ttl.Invite).Int()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return v, redisconn.Wrap("room invite", err)
}

// NewInvite: see Memory.NewInvite.
func (s *Redis) NewInvite(ctx context.Context, room string, now time.Time) (int, []Entry, Change, error) {
	v, err := s.run(ctx, room, "newinvite", ms(now))
	if err != nil {
		return 0, nil, Change{}, err
	}
	r := reply{op: "newinvite"}
	l := r.list(v, 4)
	return int(r.num(l[0])), r.entries(l[4:]), r.change(l[1:]), r.err
}

// messageJSON is a Message as room.lua keeps it: numbers as strings.
type messageJSON struct {
	ID     uint64 `json:"id,string"`
	Author string `json:"author"`
	Role   string `json:"role"`
	At     int64  `json:"at,string"`
	Text   string `json:"text"`
}

func (m messageJSON) message() Message {
	return Message{ID: m.ID, Author: m.Author, Role: m.Role, At: time.UnixMilli(m.At), Text: m.Text}
}

// Chat: see Memory.Chat.
func (s *Redis) Chat(ctx context.Context, room string, p Post) (Message, error) {
	v, err := s.run(ctx, room, "chat", p.Seat, p.Role, p.Fallback, p.Text, strconv.FormatInt(ms(p.At), 10))
	if err != nil {
		return Message{}, err
	}
	if v == nil {
		return Message{}, ErrRevoked
	}
	r := reply{op: "chat"}
	var m messageJSON
	if err := json.Unmarshal([]byte(r.str(v)), &m); err != nil {
		r.fail("message", v)
	}
	return m.message(), r.err
}

// ChatHistory: see Memory.ChatHistory.
func (s *Redis) ChatHistory(ctx context.Context, room string) ([]Message, error) {
	raws, err := s.c.LRange(ctx, key(room, "chat"), 0, -1).Result()
	if err != nil {
		return nil, redisconn.Wrap("room chat history", err)
	}
	out := make([]Message, 0, len(raws))
	for _, raw := range raws {
		var m messageJSON
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			return nil, redisconn.Wrap("room chat history", err)
		}
		out = append(out, m.message())
	}
	return out, nil
}

func boolArg(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// WaitingGuests counts the guests waiting in every room's lobby, shared by
// all instances, for the swrooms_lobby_waiting gauge: a SCAN of the
// waiting keys (one per room with a lobby in use, expiring with it) and a
// ZCARD each, which a scrape every few seconds can afford; lapsed entries
// count until a sweep.
func (s *Redis) WaitingGuests(ctx context.Context) (int, error) {
	n := 0
	iter := s.c.Scan(ctx, 0, "swr:room:{*}:waiting", 1000).Iterator()
	for iter.Next(ctx) {
		c, err := s.c.ZCard(ctx, iter.Val()).Result()
		if err != nil {
			return 0, redisconn.Wrap("lobby count", err)
		}
		n += int(c)
	}
	return n, redisconn.Wrap("lobby count", iter.Err())
}
