package handlers_test

import (
	"net/http"
	"testing"
)

func TestSeatCheck(t *testing.T) {
	e := newEnv(t)
	e.host("standup", "Host")
	_, a := e.token("standup", map[string]any{"user": "Host"})
	if a.Seat == "" {
		t.Fatalf("host got no seat: %s", a.Error)
	}
	for _, tc := range []struct {
		name, room, seat string
		want             int
	}{
		{"a seat of the room is honoured", "standup", a.Seat, http.StatusNoContent},
		{"a seat of another room is refused", "other", a.Seat, http.StatusForbidden},
		{"a forged seat is refused", "standup", a.Seat + "x", http.StatusForbidden},
		{"no seat is refused", "standup", "", http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := e.do(http.MethodGet, "/rooms/"+tc.room+"/seat", nil, "X-Seat", tc.seat)
			if resp.StatusCode != tc.want {
				t.Errorf("got %d, want %d", resp.StatusCode, tc.want)
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control: got %q, want no-store", got)
			}
		})
	}
}
