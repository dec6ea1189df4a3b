package swtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Room is a room as the fake stores it. Seed one with SeedRoom or inspect
// them with Rooms.
type Room struct {
	ID, Name, DisplayName, Description string
	MaxMembers                         int
	Quality, Layout                    string
	RecordOnStart, EnableRoomPreviews  bool
	CreatedAt, UpdatedAt               time.Time
}

// room is the stored form; meta is kept as JSON so that callers of Rooms
// never share a map with the fake.
type room struct {
	Room
	meta json.RawMessage
}

// roomJSON is a room on the wire.
type roomJSON struct {
	ID                 string          `json:"id"`
	Name               string          `json:"name"`
	DisplayName        string          `json:"display_name"`
	Description        *string         `json:"description"`
	MaxMembers         int             `json:"max_members"`
	Quality            string          `json:"quality"`
	Layout             string          `json:"layout"`
	RecordOnStart      bool            `json:"record_on_start"`
	EnableRoomPreviews bool            `json:"enable_room_previews"`
	Meta               json.RawMessage `json:"meta"`
	CreatedAt          string          `json:"created_at"`
	UpdatedAt          string          `json:"updated_at"`
}

func (rm *room) json() roomJSON {
	var desc *string
	if rm.Description != "" {
		d := rm.Description
		desc = &d
	}
	meta := rm.meta
	if len(meta) == 0 {
		meta = json.RawMessage("{}")
	}
	return roomJSON{
		ID: rm.ID, Name: rm.Name, DisplayName: rm.DisplayName, Description: desc,
		MaxMembers: rm.MaxMembers, Quality: rm.Quality, Layout: rm.Layout,
		RecordOnStart: rm.RecordOnStart, EnableRoomPreviews: rm.EnableRoomPreviews,
		Meta: meta, CreatedAt: ts(rm.CreatedAt), UpdatedAt: ts(rm.UpdatedAt),
	}
}

// roomInput holds the validated fields of a POST or PUT body; nil means
// "not given".
type roomInput struct {
	name, displayName, description, quality, layout *string
	maxMembers                                      *int
	recordOnStart, enablePreviews                   *bool
	meta                                            json.RawMessage
}

// readRoomInput validates a room body. With create, name is required.
func readRoomInput(body map[string]any, create bool) (roomInput, problems) {
	var errs problems
	v := fields{m: body, errs: &errs}
	var in roomInput
	p := func(s string) *string { return &s }
	if create {
		if s, ok := v.roomName("name"); ok {
			in.name = p(s)
		}
	} else if v.has("name") {
		if s, ok := v.str("name", 0); ok && validRoomName(&errs, "name", s) {
			in.name = p(s)
		}
	}
	if s, ok := v.str("display_name", 200); ok {
		in.displayName = p(s)
	}
	if s, ok := v.str("description", 0); ok {
		in.description = p(s)
	}
	if n, ok := v.integer("max_members", 1, 300); ok {
		in.maxMembers = &n
	}
	if s, ok := v.enum("quality", qualities); ok {
		in.quality = p(s)
	}
	if s, ok := v.enum("layout", layouts); ok {
		in.layout = p(s)
	}
	if b, ok := v.boolean("record_on_start"); ok {
		in.recordOnStart = &b
	}
	if b, ok := v.boolean("enable_room_previews"); ok {
		in.enablePreviews = &b
	}
	v.timestamp("join_from")
	v.timestamp("join_until")
	v.timestamp("remove_at")
	v.integer("remove_after_seconds_elapsed", 0, 1<<31-1)
	if m, ok := v.object("meta"); ok {
		in.meta, _ = json.Marshal(m)
	}
	return in, errs
}

// apply copies the given fields onto rm.
func (in roomInput) apply(rm *room) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&rm.Name, in.name)
	set(&rm.DisplayName, in.displayName)
	set(&rm.Description, in.description)
	set(&rm.Quality, in.quality)
	set(&rm.Layout, in.layout)
	if in.maxMembers != nil {
		rm.MaxMembers = *in.maxMembers
	}
	if in.recordOnStart != nil {
		rm.RecordOnStart = *in.recordOnStart
	}
	if in.enablePreviews != nil {
		rm.EnableRoomPreviews = *in.enablePreviews
	}
	if in.meta != nil {
		rm.meta = in.meta
	}
}

// fillRoomDefaults applies the documented defaults.
func fillRoomDefaults(r *Room) {
	if r.DisplayName == "" {
		r.DisplayName = r.Name
	}
	if r.MaxMembers == 0 {
		r.MaxMembers = 20
	}
	if r.Quality == "" {
		r.Quality = "720p"
	}
	if r.Layout == "" {
		r.Layout = "grid-responsive"
	}
}

func (f *Fake) duplicate(w http.ResponseWriter) {
	var p problems
	p.add("name", "name has already been taken")
	writeProblems(w, f.dupStatus, p)
}

func roomLimit(w http.ResponseWriter, attr string) {
	var p problems
	p.add(attr, "room limit reached for this project")
	writeProblems(w, http.StatusUnprocessableEntity, p)
}

// createRoom handles "POST /rooms": 200 with the room, 400, 422 (invalid,
// duplicate, over the limit) or the duplicate status.
func (f *Fake) createRoom(w http.ResponseWriter, r *http.Request) {
	body, err := decodeBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Bad Request")
		return
	}
	in, errs := readRoomInput(body, true)
	if len(errs) > 0 {
		writeProblems(w, http.StatusUnprocessableEntity, errs)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, taken := f.roomsByName[*in.name]; taken {
		f.duplicate(w)
		return
	}
	if len(f.rooms) >= f.limits.Rooms {
		roomLimit(w, "")
		return
	}
	rm := &room{}
	in.apply(rm)
	writeJSON(w, http.StatusOK, f.insertRoomLocked(rm).json())
}

// insertRoomLocked fills id, defaults and timestamps, and stores rm.
func (f *Fake) insertRoomLocked(rm *room) *room {
	now := f.now().UTC().Truncate(time.Second)
	if rm.ID == "" {
		rm.ID = newUUID()
	}
	fillRoomDefaults(&rm.Room)
	if rm.CreatedAt.IsZero() {
		rm.CreatedAt = now
	}
	if rm.UpdatedAt.IsZero() {
		rm.UpdatedAt = rm.CreatedAt
	}
	f.rooms = append(f.rooms, rm)
	f.roomsByID[rm.ID] = rm
	f.roomsByName[rm.Name] = rm
	return rm
}

// listRooms handles "GET /rooms": a page of rooms in creation order.
func (f *Fake) listRooms(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	start, end, l, ok := page(w, r, len(f.rooms))
	if !ok {
		return
	}
	data := make([]roomJSON, 0, end-start)
	for _, rm := range f.rooms[start:end] {
		data = append(data, rm.json())
	}
	writeJSON(w, http.StatusOK, map[string]any{"links": l, "data": data})
}

// getRoom handles "GET /rooms/{name_or_id}": the room or 404.
func (f *Fake) getRoom(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := r.PathValue("id")
	rm := f.roomsByID[key]
	if rm == nil {
		rm = f.roomsByName[key]
	}
	if rm == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	writeJSON(w, http.StatusOK, rm.json())
}

// updateRoom handles "PUT /rooms/{id}": the updated room, 404, 400 or 422.
func (f *Fake) updateRoom(w http.ResponseWriter, r *http.Request) {
	body, err := decodeBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Bad Request")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	rm := f.roomsByID[r.PathValue("id")]
	if rm == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	in, errs := readRoomInput(body, false)
	if len(errs) > 0 {
		writeProblems(w, http.StatusUnprocessableEntity, errs)
		return
	}
	if in.name != nil && *in.name != rm.Name {
		if _, taken := f.roomsByName[*in.name]; taken {
			f.duplicate(w)
			return
		}
		delete(f.roomsByName, rm.Name)
	}
	in.apply(rm)
	f.roomsByName[rm.Name] = rm
	rm.UpdatedAt = f.now().UTC().Truncate(time.Second)
	writeJSON(w, http.StatusOK, rm.json())
}

// deleteRoom handles "DELETE /rooms/{id}": 204, or 404.
func (f *Fake) deleteRoom(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rm := f.roomsByID[r.PathValue("id")]
	if rm == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	delete(f.roomsByID, rm.ID)
	delete(f.roomsByName, rm.Name)
	for i, x := range f.rooms {
		if x == rm {
			f.rooms = append(f.rooms[:i], f.rooms[i+1:]...)
			break
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// SeedRoom stores a room without an HTTP call, filling ID, defaults and
// timestamps that are zero. It fails for an invalid or taken name and past
// Limits.Rooms.
func (f *Fake) SeedRoom(r Room) (Room, error) {
	var errs problems
	if !validRoomName(&errs, "name", r.Name) {
		return Room{}, fmt.Errorf("swtest: SeedRoom: %s", errs[0].Message)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, taken := f.roomsByName[r.Name]; taken {
		return Room{}, fmt.Errorf("swtest: SeedRoom: room %q exists", r.Name)
	}
	if len(f.rooms) >= f.limits.Rooms {
		return Room{}, errors.New("swtest: SeedRoom: room limit reached")
	}
	return f.insertRoomLocked(&room{Room: r}).Room, nil
}

// Rooms returns a copy of every stored room, in creation order.
func (f *Fake) Rooms() []Room {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Room, 0, len(f.rooms))
	for _, rm := range f.rooms {
		out = append(out, rm.Room)
	}
	return out
}
