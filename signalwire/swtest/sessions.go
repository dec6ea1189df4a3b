package swtest

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
)

// RoomSession is a run of a room as the fake stores it. Seed one with
// SeedRoomSession. Status is "in-progress" or "completed".
type RoomSession struct {
	ID, RoomID, Name, DisplayName string
	MaxMembers                    int
	Layout                        string
	Locked                        bool
	StartTime                     time.Time
	EndTime                       *time.Time
	Status                        string
}

// Member is a participant of a room session. Duration is in seconds; when
// zero, the fake answers with the time from JoinTime to LeaveTime (or now).
type Member struct {
	ID, Name  string
	JoinTime  time.Time
	LeaveTime *time.Time
	Duration  int
}

type session struct {
	RoomSession
	members    []Member
	fromTokens bool      // started by WithLiveSessionsFromTokens
	lastToken  time.Time // when the last token for its room was issued
}

type sessionJSON struct {
	ID          string  `json:"id"`
	RoomID      string  `json:"room_id"`
	Name        string  `json:"name"`
	DisplayName string  `json:"display_name"`
	MaxMembers  int     `json:"max_members"`
	Layout      string  `json:"layout"`
	Locked      bool    `json:"locked"`
	StartTime   string  `json:"start_time"`
	EndTime     *string `json:"end_time"`
	Status      string  `json:"status"`
}

func (s *session) json() sessionJSON {
	return sessionJSON{
		ID: s.ID, RoomID: s.RoomID, Name: s.Name, DisplayName: s.DisplayName,
		MaxMembers: s.MaxMembers, Layout: s.Layout, Locked: s.Locked,
		StartTime: ts(s.StartTime), EndTime: tsPtr(s.EndTime), Status: s.Status,
	}
}

type memberJSON struct {
	ID            string  `json:"id"`
	RoomSessionID string  `json:"room_session_id"`
	Name          string  `json:"name"`
	JoinTime      string  `json:"join_time"`
	LeaveTime     *string `json:"leave_time"`
	Duration      int     `json:"duration"`
}

func memberToJSON(sessionID string, m Member, now time.Time) memberJSON {
	d := m.Duration
	if d == 0 {
		end := now
		if m.LeaveTime != nil {
			end = *m.LeaveTime
		}
		d = max(0, int(end.Sub(m.JoinTime)/time.Second))
	}
	return memberJSON{ID: m.ID, RoomSessionID: sessionID, Name: m.Name,
		JoinTime: ts(m.JoinTime), LeaveTime: tsPtr(m.LeaveTime), Duration: d}
}

// expireLocked ends token-driven sessions LiveSessionTTL after their last
// token. It runs lazily, before anything reads sessions.
func (f *Fake) expireLocked(now time.Time) {
	if !f.liveFromTokens {
		return
	}
	for _, s := range f.sessions {
		if !s.fromTokens || s.Status != "in-progress" || now.Sub(s.lastToken) <= LiveSessionTTL {
			continue
		}
		end := s.lastToken.Add(LiveSessionTTL)
		s.Status, s.EndTime = "completed", &end
		for i := range s.members {
			if s.members[i].LeaveTime == nil {
				s.members[i].LeaveTime = &end
			}
		}
	}
}

// touchLiveSessionLocked starts or extends the token-driven session of rm
// and adds user as a member unless already present.
func (f *Fake) touchLiveSessionLocked(rm *room, user string, now time.Time) {
	f.expireLocked(now)
	if f.relay.live[rm.Name] != nil {
		return // members who really joined through the relay drive this room's session
	}
	s := f.tokenSessionLocked(rm)
	if s == nil {
		s = &session{fromTokens: true, RoomSession: RoomSession{StartTime: now}}
		f.fillSessionLocked(&s.RoomSession, rm)
		f.addSessionLocked(s)
	}
	s.lastToken = now
	if user == "" || f.memberCount >= f.limits.Members {
		return
	}
	for _, m := range s.members {
		if m.Name == user && m.LeaveTime == nil {
			return
		}
	}
	s.members = append(s.members, Member{ID: newUUID(), Name: user, JoinTime: now})
	f.memberCount++
}

// tokenSessionLocked returns rm's token-driven session in progress, the
// latest if several, or nil.
func (f *Fake) tokenSessionLocked(rm *room) *session {
	for i := len(f.sessions) - 1; i >= 0; i-- {
		if x := f.sessions[i]; x.fromTokens && x.Status == "in-progress" && x.RoomID == rm.ID {
			return x
		}
	}
	return nil
}

// fillSessionLocked fills the zero fields of rs from its room (if known)
// and the documented defaults.
func (f *Fake) fillSessionLocked(rs *RoomSession, rm *room) {
	if rm == nil {
		if rm = f.roomsByID[rs.RoomID]; rm == nil {
			rm = f.roomsByName[rs.Name]
		}
	}
	if rm != nil {
		if rs.RoomID == "" {
			rs.RoomID = rm.ID
		}
		if rs.Name == "" {
			rs.Name = rm.Name
		}
		if rs.DisplayName == "" {
			rs.DisplayName = rm.DisplayName
		}
		if rs.MaxMembers == 0 {
			rs.MaxMembers = rm.MaxMembers
		}
		if rs.Layout == "" {
			rs.Layout = rm.Layout
		}
	}
	if rs.ID == "" {
		rs.ID = newUUID()
	}
	if rs.RoomID == "" {
		rs.RoomID = newUUID()
	}
	if rs.DisplayName == "" {
		rs.DisplayName = rs.Name
	}
	if rs.MaxMembers == 0 {
		rs.MaxMembers = 20
	}
	if rs.Layout == "" {
		rs.Layout = "grid-responsive"
	}
	if rs.StartTime.IsZero() {
		rs.StartTime = f.now()
	}
	if rs.Status == "" {
		rs.Status = "in-progress"
		if rs.EndTime != nil {
			rs.Status = "completed"
		}
	}
}

// addSessionLocked stores s, dropping the oldest session at the limit.
func (f *Fake) addSessionLocked(s *session) {
	if len(f.sessions) >= f.limits.Sessions {
		old := f.sessions[0]
		f.memberCount -= len(old.members)
		delete(f.sessionsByID, old.ID)
		f.sessions = append(f.sessions[:0], f.sessions[1:]...)
	}
	f.sessions = append(f.sessions, s)
	f.sessionsByID[s.ID] = s
}

// SeedRoomSession stores a room session as if it had happened, filling
// zero fields: ID, RoomID/Name/DisplayName/MaxMembers/Layout from the room
// with that RoomID or Name when there is one, StartTime now, Status
// "in-progress" (or "completed" when EndTime is set). At Limits.Sessions
// the oldest session is dropped. It returns the stored session.
func (f *Fake) SeedRoomSession(rs RoomSession) RoomSession {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fillSessionLocked(&rs, nil)
	if old := f.sessionsByID[rs.ID]; old != nil {
		old.RoomSession = rs // re-seeding an id replaces it
		return rs
	}
	f.addSessionLocked(&session{RoomSession: rs})
	return rs
}

// SeedMember adds a member to a seeded session, filling ID and JoinTime
// (now) when zero. It fails for an unknown session and past Limits.Members.
func (f *Fake) SeedMember(sessionID string, m Member) (Member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.sessionsByID[sessionID]
	if s == nil {
		return Member{}, errNotFound
	}
	if f.memberCount >= f.limits.Members {
		return Member{}, errors.New("swtest: SeedMember: member limit reached")
	}
	if m.ID == "" {
		m.ID = newUUID()
	}
	if m.JoinTime.IsZero() {
		m.JoinTime = f.now()
	}
	s.members = append(s.members, m)
	f.memberCount++
	return m, nil
}

// RoomSessions returns a copy of the stored sessions, newest first.
func (f *Fake) RoomSessions() []RoomSession {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expireLocked(f.now())
	out := make([]RoomSession, 0, len(f.sessions))
	for i := len(f.sessions) - 1; i >= 0; i-- {
		out = append(out, f.sessions[i].RoomSession)
	}
	return out
}

// Members returns a copy of a session's members (nil if unknown).
func (f *Fake) Members(sessionID string) []Member {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expireLocked(f.now())
	if s := f.sessionsByID[sessionID]; s != nil {
		return slices.Clone(s.members)
	}
	return nil
}

// listSessions handles "GET /room_sessions": newest first, filtered by
// status, room_name, room_id and room_name_matches (a substring here).
func (f *Fake) listSessions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	status := q.Get("status")
	if status != "" && !slices.Contains(sessionStatus, status) {
		var p problems
		p.add("status", "status is not included in the list")
		writeProblems(w, http.StatusUnprocessableEntity, p)
		return
	}
	roomName, roomID, matches := q.Get("room_name"), q.Get("room_id"), q.Get("room_name_matches")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expireLocked(f.now())
	var hits []*session
	for i := len(f.sessions) - 1; i >= 0; i-- {
		s := f.sessions[i]
		if (status != "" && s.Status != status) || (roomName != "" && s.Name != roomName) ||
			(roomID != "" && s.RoomID != roomID) || (matches != "" && !strings.Contains(s.Name, matches)) {
			continue
		}
		hits = append(hits, s)
	}
	start, end, l, ok := page(w, r, len(hits))
	if !ok {
		return
	}
	data := make([]sessionJSON, 0, end-start)
	for _, s := range hits[start:end] {
		data = append(data, s.json())
	}
	writeJSON(w, http.StatusOK, map[string]any{"links": l, "data": data})
}

// getSession handles "GET /room_sessions/{id}": the session or 404.
func (f *Fake) getSession(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expireLocked(f.now())
	s := f.sessionsByID[r.PathValue("id")]
	if s == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	writeJSON(w, http.StatusOK, s.json())
}

// listMembers handles "GET /room_sessions/{id}/members": a page of members
// in join order, or 404 for an unknown session.
func (f *Fake) listMembers(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	f.expireLocked(now)
	s := f.sessionsByID[r.PathValue("id")]
	if s == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	start, end, l, ok := page(w, r, len(s.members))
	if !ok {
		return
	}
	data := make([]memberJSON, 0, end-start)
	for _, m := range s.members[start:end] {
		data = append(data, memberToJSON(s.ID, m, now))
	}
	writeJSON(w, http.StatusOK, map[string]any{"links": l, "data": data})
}
