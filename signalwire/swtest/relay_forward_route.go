package swtest

import (
	"fmt"
	"sort"
)

// Who gets whom. For each browser call R, the router ranks the room's
// other members with media (browser calls and the bots' stream), as an
// active-speaker SFU would:
//
//  1. members talking now, the one who started last first;
//  2. then those who talked before, the most recent first;
//  3. then browsers that never talked, the last to join first (a screen
//     share ranks as its owner talked and, having joined later, ahead of
//     the owner's camera);
//  4. then the bots (one stream; their script talks, so they usually rank
//     by 1 or 2).
//
// R gets the video of the first one not video-muted and the audio of the
// first one not audio-muted (SignalWire mutes on its side, so a muted
// member's media goes nowhere). With nobody else in the room, R gets its
// own media back (so a lone user sees frames); with others but no video
// among them, its own video. R never gets its own audio while anyone else
// is in. Its own screen share is not a source for R.
//
// The router runs under Fake.mu whenever a member joins or leaves, a
// member's state changes (updateLocked: mute, talking) or a track starts,
// and hands each source the list of sinks it feeds.

// roomMedia is a room session's forwarding state; the zero value is
// ready. Guarded by Fake.mu, except bots, which is safe on its own.
type roomMedia struct {
	bots    mediaSource           // the bots' stream (relay_bots_media.go)
	talking map[string]bool       // member id → talking as last seen
	spoke   map[string]uint64     // member id → when talking last changed, in changes
	clock   uint64                // counts talking changes
	fed     map[*mediaSource]bool // sources given sink lists last time
}

// candidate is one source as the router ranks it.
type candidate struct {
	src     *mediaSource
	owner   string // the member whose call it is ("" for the bots)
	parent  string // the owner's parent (a screen share's member)
	talking bool
	spoke   uint64 // 0: never talked
	order   int    // position in join order
	bots    bool
	ok      [kinds]bool   // its media of that kind may be forwarded
	ids     [kinds]string // the member reported as the source of each kind
}

// before reports whether a ranks ahead of b.
func (a *candidate) before(b *candidate) bool {
	switch {
	case a.talking != b.talking:
		return a.talking
	case a.spoke != b.spoke:
		return a.spoke > b.spoke
	case a.bots != b.bots:
		return b.bots
	}
	return a.order > b.order
}

// mediaJoinedLocked binds a browser call's peer to its member (so its
// talking and tracks reach the room) and re-plans the room.
func (f *Fake) mediaJoinedLocked(m *liveMember) {
	if m.peer != nil {
		m.peer.member = m
	}
	f.rerouteLocked(m.room)
}

// rerouteLocked decides the source of every sink in the room and gives
// each source the sinks it feeds.
func (f *Fake) rerouteLocked(lr *liveRoom) {
	if lr == nil {
		return
	}
	rm := &lr.media
	if rm.talking == nil {
		rm.talking, rm.spoke, rm.fed = map[string]bool{}, map[string]uint64{}, map[*mediaSource]bool{}
	}
	// Talking changes since the last run order the speakers.
	var hush []*liveMember
	for _, m := range lr.members {
		if m.Talking != rm.talking[m.ID] {
			rm.clock++
			rm.talking[m.ID], rm.spoke[m.ID] = m.Talking, rm.clock
		}
		if m.peer != nil {
			m.peer.muted.Store(m.AudioMuted)
			if m.AudioMuted && m.Talking {
				hush = append(hush, m) // muted on SignalWire's side: it stops talking
			}
		}
	}
	for id := range rm.spoke {
		if lr.byID[id] == nil {
			delete(rm.spoke, id)
			delete(rm.talking, id)
		}
	}

	cands := f.candidatesLocked(lr)
	feeds := map[*mediaSource]*[kinds][]*sink{}
	feed := func(src *mediaSource, k mediaKind, s *sink) {
		if src == nil {
			return
		}
		if feeds[src] == nil {
			feeds[src] = &[kinds][]*sink{}
		}
		feeds[src][k] = append(feeds[src][k], s)
	}
	for _, m := range lr.members {
		p := m.peer
		if p == nil {
			continue
		}
		own := [kinds]bool{p.src.has[kindVideo].Load() && !m.VideoMuted, p.src.has[kindAudio].Load() && !m.AudioMuted}
		others := 0
		for i := range cands {
			if c := &cands[i]; c.src != &p.src && c.parent != m.ID {
				others++
			}
		}
		for k := range kinds {
			s := p.sinks[k]
			if s == nil {
				continue
			}
			var src *mediaSource
			target := ""
			allowed := map[*mediaSource]bool{}
			for i := range cands {
				c := &cands[i]
				if c.src == &p.src || c.parent == m.ID || !c.ok[k] {
					continue
				}
				allowed[c.src] = true
				if src == nil {
					src, target = c.src, c.ids[k]
				}
			}
			// The echo: the lone member's media, or its own video when
			// nobody else has any.
			if own[k] && (others == 0 || k == kindVideo) {
				allowed[&p.src] = true
				if src == nil {
					src, target = &p.src, m.ID
				}
			}
			cur, _ := s.sources()
			s.retarget(src, allowed[cur])
			s.target = target
			cur, next := s.sources()
			feed(cur, mediaKind(k), s)
			feed(next, mediaKind(k), s)
		}
	}
	for src := range rm.fed {
		if feeds[src] == nil {
			src.unplug()
			delete(rm.fed, src)
		}
	}
	for src, lists := range feeds {
		for k := range kinds {
			l := lists[k]
			src.sinks[k].Store(&l)
		}
		rm.fed[src] = true
	}
	for _, m := range hush {
		f.updateLocked(m, MemberChange{Talking: ptr(false)}) // runs the router again, once
	}
}

// candidatesLocked lists the room's sources, ranked.
func (f *Fake) candidatesLocked(lr *liveRoom) []candidate {
	rm := &lr.media
	var cands []candidate
	for i, m := range lr.members {
		p := m.peer
		if p == nil {
			continue
		}
		c := candidate{src: &p.src, owner: m.ID, parent: m.ParentID, order: i,
			talking: m.Talking && !m.AudioMuted, spoke: rm.spoke[m.ID], ids: [kinds]string{m.ID, m.ID}}
		if par := lr.byID[m.ParentID]; par != nil {
			c.talking, c.spoke = par.Talking && !par.AudioMuted, rm.spoke[par.ID]
		}
		c.ok[kindVideo] = p.src.has[kindVideo].Load() && !m.VideoMuted
		c.ok[kindAudio] = p.src.has[kindAudio].Load() && !m.AudioMuted
		cands = append(cands, c)
	}
	if c, ok := f.botsCandidateLocked(lr); ok {
		cands = append(cands, c)
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].before(&cands[j]) })
	return cands
}

// botsCandidateLocked is the bots' stream as a source: ranked as the bot
// that talks (or talked) last, its video the camera clip unless every bot
// is video-muted (or the screen clip while one shares), its audio the
// voice while an unmuted bot talks. It reports that bot (or the first bot
// in, or the screen share) as the source.
func (f *Fake) botsCandidateLocked(lr *liveRoom) (candidate, bool) {
	br := lr.bots
	if br == nil || f.relay.botMedia == nil {
		return candidate{}, false
	}
	rm := &lr.media
	c := candidate{src: &rm.bots, bots: true}
	first, speaker := "", ""
	for _, b := range br.bots {
		if b.m == nil {
			continue
		}
		if first == "" {
			first = b.m.ID
		}
		talking, spoke := b.m.Talking && !b.m.AudioMuted, rm.spoke[b.m.ID]
		if spoke > 0 && (talking && !c.talking || talking == c.talking && spoke > c.spoke) {
			c.talking, c.spoke, speaker = talking, spoke, b.m.ID
		}
		c.ok[kindVideo] = c.ok[kindVideo] || !b.m.VideoMuted || b.screen != nil
		c.ok[kindAudio] = c.ok[kindAudio] || !b.m.AudioMuted
		if b.screen != nil {
			c.ids[kindVideo] = b.screen.ID
		}
	}
	if first == "" {
		return candidate{}, false
	}
	if speaker == "" {
		speaker = first
	}
	if c.ids[kindVideo] == "" {
		c.ids[kindVideo] = speaker
	}
	c.ids[kindAudio] = speaker
	return c, true
}

// ForwardingSource reports whose media the relay sends to the browser
// member memberID of room: the member ids of its video and audio sources
// (memberID itself for its own echo, a bot's id for the bots' stream, ""
// for none). A video switch takes effect on the source's next key frame;
// this reports the chosen source. It fails with ErrNoMember for a room or
// member that is not live, or a member without a browser call.
func (f *Fake) ForwardingSource(room, memberID string) (video, audio string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	lr := f.relay.live[room]
	var m *liveMember
	if lr != nil {
		m = lr.byID[memberID]
	}
	if m == nil || m.peer == nil {
		return "", "", fmt.Errorf("swtest: ForwardingSource %q in %q: %w", memberID, room, ErrNoMember)
	}
	if s := m.peer.sinks[kindVideo]; s != nil {
		video = s.target
	}
	if s := m.peer.sinks[kindAudio]; s != nil {
		audio = s.target
	}
	return video, audio, nil
}
