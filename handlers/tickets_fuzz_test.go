package handlers

import (
	"strings"
	"testing"
	"time"
)

// FuzzStreamAndLobbyTickets: a stream or lobby ticket decodes only when
// this key sealed its fields, and then to those fields. (The signature's
// base64 is decoded leniently, as for every sealed value: a last character
// that differs only in unused bits decodes to the same MAC.)
func FuzzStreamAndLobbyTickets(f *testing.F) {
	s := signer{key: []byte("fuzz-key-of-at-least-thirty-two-bytes!!")}
	now := time.Unix(1_800_000_000, 0)
	good := s.encodeStreamTicket(streamTicket{Room: "R", Kind: streamSeat, ID: "abc", Role: "guest", Exp: now.Add(time.Minute).Unix()})
	f.Add(good)
	f.Add(s.encodeLobbyTicket(lobbyTicket{Room: "R", ID: "e1", Exp: now.Add(time.Minute).Unix()}))
	f.Add("R.seat.abc.guest.1.x")
	f.Add("")
	f.Fuzz(func(t *testing.T, v string) {
		if st, ok := s.decodeStreamTicket(v, now); ok {
			if again, ok := s.decodeStreamTicket(s.encodeStreamTicket(st), now); !ok || again != st || !strings.HasPrefix(v, strings.Join([]string{st.Room, st.Kind, st.ID, st.Role}, ".")+".") {
				t.Errorf("accepted %q as %+v, which this key did not seal", v, st)
			}
		}
		if lt, ok := s.decodeLobbyTicket(v, now); ok {
			if again, ok := s.decodeLobbyTicket(s.encodeLobbyTicket(lt), now); !ok || again != lt || !strings.HasPrefix(v, lt.Room+"."+lt.ID+".") {
				t.Errorf("accepted lobby ticket %q as %+v, which this key did not seal", v, lt)
			}
		}
	})
}
