package swtest

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
)

// tokenHeader is the header of the room tokens the fake issues: SignalWire's
// fixed VRT header plus "ch", the relay the browser must connect to. The
// 3.30.0 SDK takes the relay host from the header's ch before any host
// option (src/JWTSession.ts: `decoded.ch || options.host`) and uses a ws://
// value as is (core checkWebSocketHost), so pages need no configuration.
type tokenHeader struct {
	Typ     string `json:"typ"`
	Ver     string `json:"ver"`
	Alg     string `json:"alg"`
	Channel string `json:"ch,omitempty"`
}

// TokenClaims is the payload of a room token the fake issues, with
// SignalWire's short claim names.
type TokenClaims struct {
	Version        string   `json:"ver"`
	ID             string   `json:"jti"` // a UUID, new for every token
	IssuedAt       int64    `json:"iat"` // Unix seconds
	UserName       string   `json:"u"`
	JoinAs         string   `json:"ja"` // "member" (default) or "audience"
	RoomName       string   `json:"r"`
	Permissions    []string `json:"s"` // always [] for audience
	AutoCreateRoom bool     `json:"acr"`
	MediaAllowed   string   `json:"ma"` // "all" (default), "video-only", "audio-only"
	JoinAudioMuted bool     `json:"amd"`
	JoinVideoMuted bool     `json:"vmd"`
}

// DecodeToken reads the claims of a JWT-shaped room token without checking
// its signature (only the issuer can; see Fake.VerifyToken). It checks the
// three-part shape and the VRT header.
func DecodeToken(tok string) (TokenClaims, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return TokenClaims{}, errors.New("swtest: token does not have three parts")
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return TokenClaims{}, errors.New("swtest: token header is not base64url")
	}
	var h tokenHeader
	if json.Unmarshal(hb, &h) != nil || h.Typ != "VRT" {
		return TokenClaims{}, errors.New("swtest: token header is not a VRT header")
	}
	pb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return TokenClaims{}, errors.New("swtest: token payload is not base64url")
	}
	var c TokenClaims
	if err := json.Unmarshal(pb, &c); err != nil {
		return TokenClaims{}, errors.New("swtest: token payload is not JSON claims")
	}
	if _, err := base64.RawURLEncoding.DecodeString(parts[2]); err != nil || parts[2] == "" {
		return TokenClaims{}, errors.New("swtest: token signature is not base64url")
	}
	return c, nil
}

// VerifyToken checks that this fake issued tok (HMAC-SHA512 over its
// secret) and returns the claims.
func (f *Fake) VerifyToken(tok string) (TokenClaims, error) {
	c, err := DecodeToken(tok)
	if err != nil {
		return c, err
	}
	i := strings.LastIndexByte(tok, '.')
	sig, _ := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if !hmac.Equal(sig, f.sign(tok[:i])) {
		return TokenClaims{}, errors.New("swtest: token signature does not match")
	}
	return c, nil
}

func (f *Fake) sign(signingInput string) []byte {
	m := hmac.New(sha512.New, f.secret)
	m.Write([]byte(signingInput))
	return m.Sum(nil)
}

// issue signs the claims into a token whose header names the relay at ch
// ("" for none).
func (f *Fake) issue(c TokenClaims, ch string) string {
	h, _ := json.Marshal(tokenHeader{Typ: "VRT", Ver: "1.0", Alg: "HS512", Channel: ch})
	p, _ := json.Marshal(c)
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	return in + "." + base64.RawURLEncoding.EncodeToString(f.sign(in))
}

// IssuedTokens returns the most recent tokens the fake issued (at most
// Limits.Tokens), oldest first; tests use it to check that no token leaks
// into logs.
func (f *Fake) IssuedTokens() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	start := max(0, len(f.tokens)-f.limits.Tokens)
	return slices.Clone(f.tokens[start:])
}

// createToken handles "POST /room_tokens": 200 {"token": ...}, 400 or 422.
//
// With auto_create_room true (the default) a missing room is created with
// default settings. With false the token is still issued, as SignalWire
// does: the room must exist when the browser joins, not when the token is
// made, so the failure would only show at join time.
func (f *Fake) createToken(w http.ResponseWriter, r *http.Request) {
	body, err := decodeBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Bad Request")
		return
	}
	var errs problems
	v := fields{m: body, errs: &errs}
	c := TokenClaims{Version: "1.0", JoinAs: "member", AutoCreateRoom: true, MediaAllowed: "all", Permissions: []string{}}
	c.RoomName, _ = v.roomName("room_name")
	c.UserName, _ = v.str("user_name", 100)
	if perms, ok := v.strings("permissions"); ok {
		for _, p := range perms {
			if !slices.Contains(permissionList, p) {
				errs.add("permissions", "permissions contains an invalid permission: "+p)
			}
		}
		c.Permissions = perms
	}
	if s, ok := v.enum("join_as", joinAsValues); ok {
		c.JoinAs = s
	}
	if b, ok := v.boolean("auto_create_room"); ok {
		c.AutoCreateRoom = b
	}
	c.JoinAudioMuted, _ = v.boolean("join_audio_muted")
	c.JoinVideoMuted, _ = v.boolean("join_video_muted")
	v.boolean("end_room_session_on_leave")
	if s, ok := v.enum("media_allowed", mediaAllowed); ok {
		c.MediaAllowed = s
	}
	v.integer("remove_after_seconds_elapsed", 0, 1<<31-1)
	v.timestamp("join_from")
	v.timestamp("join_until")
	v.timestamp("remove_at")
	v.object("meta")
	v.object("room_meta")
	if len(errs) > 0 {
		writeProblems(w, http.StatusUnprocessableEntity, errs)
		return
	}
	if c.JoinAs == "audience" {
		c.Permissions = []string{} // the audience watches; it controls nothing
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	rm := f.roomsByName[c.RoomName]
	if rm == nil && c.AutoCreateRoom {
		if len(f.rooms) >= f.limits.Rooms {
			roomLimit(w, "room_name")
			return
		}
		rm = f.insertRoomLocked(&room{Room: Room{Name: c.RoomName}})
	}
	c.ID = newUUID()
	c.IssuedAt = now.Unix()
	tok := f.issue(c, relayURLFromRequest(r))
	f.tokens = append(f.tokens, tok)
	if len(f.tokens) >= 2*f.limits.Tokens {
		f.tokens = slices.Clone(f.tokens[len(f.tokens)-f.limits.Tokens:])
	}
	if f.liveFromTokens && rm != nil {
		f.touchLiveSessionLocked(rm, c.UserName, now)
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": tok})
}
