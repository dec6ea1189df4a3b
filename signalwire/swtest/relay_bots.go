package swtest

import "time"

// Bots: scripted members that live in the relay, for sandbox mode. When
// the first browser joins a room session, a few bots join it too and play
// a short script (talk, mute, raise a hand, share a screen, leave and come
// back) through the same code paths as AddMembers and UpdateMember, so
// every browser in the room sees the same bots the same way. They obey the
// moderator (a muted bot stays muted, a removed bot leaves for good) and
// send pre-encoded media to the browsers (relay_bots_media.go). Files:
//
//	relay_bots.go         options, one room's director: start, tick, stop
//	relay_bots_script.go  the script and what each step does
//	relay_bots_media.go   the embedded VP8/Opus clips and their RTP pump

// Bots configures WithBots. A zero field takes its default.
type Bots struct {
	// Step is one beat of the script (default 2 s; the script repeats
	// every botCycle beats). Tests shorten it.
	Step time.Duration
	// MaxRun bounds how long the bots stay in one room session (default
	// 1 h); after it they leave, and that session gets no new ones.
	MaxRun time.Duration
}

// WithBots makes the relay add scripted members to every room session a
// browser starts. Sandbox mode enables it; tests only when they ask.
func WithBots(b Bots) Option {
	if b.Step <= 0 {
		b.Step = 2 * time.Second
	}
	if b.MaxRun <= 0 {
		b.MaxRun = time.Hour
	}
	return func(f *Fake) {
		f.relay.bots = &b
		// The clips are committed and checked by a test; should one fail
		// to parse, the bots still play their script, without media.
		f.relay.botMedia, _ = loadBotMedia()
	}
}

// botTick is how often a room's director wakes: one Opus frame (20 ms),
// so audio goes out at its own pace; video frames and script beats are
// due on some ticks only.
const botTick = 20 * time.Millisecond

// botRoom is the director of one room session's bots: a single goroutine
// that plays the script and pumps the media. Its fields are guarded by
// Fake.mu except stream, which only its goroutine uses.
type botRoom struct {
	f       *Fake
	lr      *liveRoom
	cfg     Bots
	bots    []*bot
	started time.Time
	beat    int       // the next beat to play
	due     time.Time // when it is due
	stream  *botStream
}

// bot is one scripted member.
type bot struct {
	name    string
	m       *liveMember // in the room now; nil while out
	screen  *liveMember // its screen share, nil when not sharing
	wantIn  bool        // the script has it in the room
	muted   bool        // audio muted, as the bot last knew it
	held    bool        // a moderator muted it: the script does not unmute it
	removed bool        // a moderator removed it: its script has stopped
}

// startBotsLocked starts the bots of a room session when its first
// browser member has joined (invite calls it), unless bots are off, the
// session had bots already, or the relay is closing. The director counts
// in relay.wg, so CloseRelay waits for it.
func (f *Fake) startBotsLocked(lr *liveRoom) {
	if f.relay.bots == nil || lr.bots != nil || f.relay.closed {
		return
	}
	now := time.Now()
	br := &botRoom{f: f, lr: lr, cfg: *f.relay.bots, started: now, due: now,
		stream: newBotStream(f.relay.botMedia, now)}
	for _, name := range botNames {
		br.bots = append(br.bots, &bot{name: name, wantIn: true})
	}
	lr.bots = br
	f.relay.wg.Add(1)
	go func() {
		defer f.relay.wg.Done()
		br.run()
	}()
}

// run ticks until the session ends, its last browser leaves, MaxRun
// passes or the relay closes; the bots then leave.
func (br *botRoom) run() {
	t := time.NewTicker(botTick)
	defer t.Stop()
	for now := time.Now(); ; now = <-t.C {
		out, peers, done := br.tick(now)
		closePeers(peers)
		if done {
			return
		}
		br.stream.send(now, out)
	}
}

// tick does, under Fake.mu, what is due at now: notice the moderator's
// removals, play a due beat, bring in the bots that want in. It returns
// where the media goes, the peers to close, and whether to stop.
func (br *botRoom) tick(now time.Time) (botOutput, []*mediaPeer, bool) {
	f, lr := br.f, br.lr
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.relay.live[lr.name] != lr {
		return botOutput{}, nil, true // the session ended (remove all, or empty)
	}
	if f.relay.closed || !lr.hasBrowserLocked() || now.Sub(br.started) > br.cfg.MaxRun {
		return botOutput{}, br.leaveAllLocked(), true
	}
	br.reconcileLocked()
	var peers []*mediaPeer
	if !now.Before(br.due) {
		peers = br.beatLocked(br.beat % botCycle)
		br.beat++
		br.due = br.due.Add(br.cfg.Step)
		if now.Sub(br.due) > br.cfg.Step {
			br.due = now.Add(br.cfg.Step) // late (a pause): skip, do not race to catch up
		}
		br.joinLocked()
	}
	return br.outputLocked(), peers, false
}

// hasBrowserLocked reports whether a browser's member is in the room.
func (lr *liveRoom) hasBrowserLocked() bool {
	for _, m := range lr.members {
		if m.conn != nil && m.Type == "member" {
			return true
		}
	}
	return false
}

// reconcileLocked notices what others did to the bots since the last
// tick: a bot (or its screen share) that is gone without leaving by
// itself was removed, and a removed bot's script stops for good.
func (br *botRoom) reconcileLocked() {
	for _, b := range br.bots {
		if b.m != nil && br.lr.byID[b.m.ID] != b.m {
			b.m, b.screen, b.removed, b.wantIn = nil, nil, true, false
		}
		if b.screen != nil && br.lr.byID[b.screen.ID] != b.screen {
			b.screen = nil
		}
	}
}

// moderatedLocked records a moderator's change of a bot's member, made
// through a room method (bots have no browser, so any method that targets
// one is someone else's): audio_mute holds the bot muted, and stops its
// talking, until a moderator unmutes it.
func (br *botRoom) moderatedLocked(target *liveMember, ch MemberChange) {
	for _, b := range br.bots {
		if b.m != target || ch.AudioMuted == nil {
			continue
		}
		b.muted, b.held = *ch.AudioMuted, *ch.AudioMuted
		if b.muted && b.m.Talking {
			br.f.updateLocked(b.m, MemberChange{Talking: ptr(false)})
		}
	}
}

// joinLocked brings in the bots the script wants in and that are out, as
// the room allows (a locked or full room keeps them out until a later
// beat), then sends one video.layout.changed.
func (br *botRoom) joinLocked() {
	f, lr := br.f, br.lr
	joined := false
	for _, b := range br.bots {
		if !b.wantIn || b.removed || b.m != nil || lr.admitLocked("member") != nil {
			continue
		}
		m := f.newLiveMember(lr, b.name, "member")
		m.AudioMuted = b.muted // a bot muted by the moderator comes back muted
		f.addLocked(m)
		f.joinedLocked(m, nil)
		b.m, joined = m, true
	}
	if joined {
		f.broadcastLocked(lr, "video.layout.changed", lr.layoutParams(), nil)
	}
}

// leaveAllLocked takes every bot out of the room; the session ends with
// the last member as usual.
func (br *botRoom) leaveAllLocked() []*mediaPeer {
	var peers []*mediaPeer
	for _, b := range br.bots {
		b.wantIn = false
		if b.m != nil {
			peers = append(peers, br.f.leaveLocked(b.m, false)...)
			b.m, b.screen = nil, nil
		}
	}
	return peers
}

// outputLocked says what the bots send now: whether a bot is talking
// (unmuted) and whether one shares its screen, into the room's bots
// source, which the router connects to the browsers that get it.
func (br *botRoom) outputLocked() botOutput {
	out := botOutput{feed: &br.lr.media.bots}
	for _, b := range br.bots {
		if b.m != nil && b.m.Talking && !b.m.AudioMuted {
			out.talking = true
		}
		if b.screen != nil {
			out.sharing = true
		}
	}
	return out
}
