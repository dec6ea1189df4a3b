package swtest

// The bots' script: a table of beats, the same in every room, so that what
// a newcomer sees is predictable and a test can wait for it. A beat is
// Bots.Step long (2 s by default: the cycle takes 30 s). Every change goes
// through updateLocked, joinedLocked and leaveLocked, the paths a real
// member's change takes, so the browsers get the same events.

// botNames are the bots of every room, in join order; the script refers to
// them by index.
var botNames = [...]string{"Ada (bot)", "Grace (bot)", "Linus (bot)"}

// botAction is one thing a bot does on a beat.
type botAction uint8

const (
	botJoin botAction = iota
	botLeave
	botTalk
	botQuiet
	botMute
	botUnmute
	botRaiseHand
	botLowerHand
	botShare
	botStopShare
)

// botBeat is one line of the script: on beat at of the cycle, bot does do.
type botBeat struct {
	at, bot int
	do      botAction
}

// botCycle is the script's length in beats; it then starts over.
const botCycle = 15

// botScript: Ada talks, Grace raises her hand, talks and shares her
// screen, Linus mutes, unmutes, talks, leaves and comes back.
var botScript = [...]botBeat{
	{0, 0, botTalk},
	{2, 0, botQuiet},
	{2, 1, botRaiseHand},
	{3, 2, botMute},
	{4, 1, botTalk},
	{5, 1, botQuiet},
	{5, 1, botLowerHand},
	{6, 1, botShare},
	{7, 2, botUnmute},
	{7, 2, botTalk},
	{8, 2, botQuiet},
	{10, 1, botStopShare},
	{10, 0, botTalk},
	{11, 0, botQuiet},
	{12, 2, botLeave},
	{14, 2, botJoin},
}

// beatLocked plays beat k of the cycle and returns peers to close.
func (br *botRoom) beatLocked(k int) []*mediaPeer {
	var peers []*mediaPeer
	for _, s := range botScript {
		if s.at == k {
			peers = append(peers, br.doLocked(br.bots[s.bot], s.do)...)
		}
	}
	return peers
}

// doLocked makes b do a. A removed bot does nothing; a bot out of the room
// only joins; a held bot neither unmutes nor talks.
func (br *botRoom) doLocked(b *bot, a botAction) []*mediaPeer {
	f, lr := br.f, br.lr
	if b.removed {
		return nil
	}
	if a == botJoin {
		b.wantIn = true // joinLocked brings it in after the beat
		return nil
	}
	if b.m == nil {
		return nil
	}
	switch a {
	case botLeave:
		b.wantIn = false
		peers := f.leaveLocked(b.m, false)
		b.m, b.screen = nil, nil
		return peers
	case botTalk:
		if !b.m.AudioMuted {
			f.updateLocked(b.m, MemberChange{Talking: ptr(true)})
		}
	case botQuiet:
		f.updateLocked(b.m, MemberChange{Talking: ptr(false)})
	case botMute:
		b.muted = true
		f.updateLocked(b.m, MemberChange{Talking: ptr(false)})
		f.updateLocked(b.m, MemberChange{AudioMuted: ptr(true)})
	case botUnmute:
		if !b.held {
			b.muted = false
			f.updateLocked(b.m, MemberChange{AudioMuted: ptr(false)})
		}
	case botRaiseHand:
		f.updateLocked(b.m, MemberChange{HandRaised: ptr(true)})
	case botLowerHand:
		f.updateLocked(b.m, MemberChange{HandRaised: ptr(false)})
	case botShare:
		if b.screen == nil && lr.admitLocked("screen") == nil {
			// A screen share is a member of type "screen" whose parent is
			// the sharer, as the relay makes one for a browser's share.
			s := f.newLiveMember(lr, b.name, "screen")
			s.ParentID = b.m.ID
			f.addLocked(s)
			f.joinedLocked(s, nil)
			f.broadcastLocked(lr, "video.layout.changed", lr.layoutParams(), nil)
			b.screen = s
		}
	case botStopShare:
		if b.screen != nil {
			peers := f.leaveLocked(b.screen, false)
			b.screen = nil
			return peers
		}
	}
	return nil
}
