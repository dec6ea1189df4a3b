package roster

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
)

// describe renders the rows as "name [states]", children as "parent > child".
func describe(r Roster) []string {
	row := func(m Member) string {
		var st []string
		for _, f := range []struct {
			on   bool
			word string
		}{{m.ID == r.SelfID, "you"}, {m.HandRaised, "hand"}, {m.AudioMuted, "mic-off"}, {m.VideoMuted, "camera-off"}, {m.Talking, "talking"}, {m.Deaf, "deaf"}} {
			if f.on {
				st = append(st, f.word)
			}
		}
		if len(st) == 0 {
			return m.Name
		}
		return m.Name + " [" + strings.Join(st, " ") + "]"
	}
	var out []string
	for _, m := range r.Members {
		out = append(out, row(m))
		for _, c := range m.Children {
			out = append(out, m.Name+" > "+row(c))
		}
	}
	return out
}

// TestSDKShapedSequences feeds what the island sends for what
// @signalwire/js 3.30.0 hands its handlers (partial member objects, events
// for members the seat does not know, room.joined without members, replays
// and reordering) and checks the rows a viewer sees.
func testSDKShapedSequences(t *testing.T, open storeMaker) {
	const self = `"id":"h","name":"Host","type":"member"`
	join := ev(1, "room.joined", joinedData("h", "{"+self+"}",
		person("a", "Ada", `"video_muted":true`), person("b", "Bob", `"audio_muted":true`)))
	tests := []struct {
		name     string
		batches  [][]string // applied in turn, epoch "e1"
		rows     []string
		count    int
		snapshot bool
	}{
		{
			name: "a partial member.updated changes only its field",
			batches: [][]string{{join},
				{ev(2, "member.updated", memberData(`"id":"a","handraised":true`))}},
			rows:  []string{"Ada [hand camera-off]", "Bob [mic-off]", "Host [you]"},
			count: 3,
		},
		{
			name: "a member list with a partial object keeps the name and the other flags",
			batches: [][]string{{join}, {
				ev(2, "member.updated", memberData(`"id":"b","talking":true`)),
				ev(3, "members.snapshot", listData(`{"id":"a","handraised":true}`, "{"+self+"}", `{"id":"b"}`)),
			}},
			rows:  []string{"Ada [hand camera-off]", "Bob [mic-off talking]", "Host [you]"},
			count: 3,
		},
		{
			name: "member.updated for a member never seen makes no row and asks for a snapshot",
			batches: [][]string{{join},
				{ev(2, "member.updated", memberData(`"id":"x","audio_muted":true`))}},
			rows:     []string{"Ada [camera-off]", "Bob [mic-off]", "Host [you]"},
			count:    3,
			snapshot: true,
		},
		{
			name: "the snapshot that answers it adds the member with its fields",
			batches: [][]string{{join},
				{ev(2, "member.updated", memberData(`"id":"x","audio_muted":true`))},
				{ev(3, "members.snapshot", listData("{"+self+"}", `{"id":"a"}`, `{"id":"b"}`, person("x", "Xia", `"audio_muted":true`)))}},
			rows:  []string{"Ada [camera-off]", "Bob [mic-off]", "Host [you]", "Xia [mic-off]"},
			count: 4,
		},
		{
			name: "room.joined without members keeps the roster and asks for a snapshot",
			batches: [][]string{{join},
				{ev(2, "room.joined", `{"member_id":"h","room":{"locked":true}}`)}},
			rows:     []string{"Ada [camera-off]", "Bob [mic-off]", "Host [you]"},
			count:    3,
			snapshot: true,
		},
		{
			name:     "a first room.joined without members shows nobody yet and asks for a snapshot",
			batches:  [][]string{{ev(1, "room.joined", `{"member_id":"h","room":{}}`)}},
			rows:     nil,
			count:    0,
			snapshot: true,
		},
		{
			name: "a batch posted twice and a duplicated event apply once",
			batches: [][]string{{join, ev(2, "member.updated", memberData(`"id":"a","handraised":true`))},
				{join, ev(2, "member.updated", memberData(`"id":"a","handraised":true`))},
				{ev(2, "member.updated", memberData(`"id":"a","handraised":false`)), ev(3, "member.talking", memberData(`"id":"b","talking":true`))}},
			rows:  []string{"Ada [hand camera-off]", "Bob [mic-off talking]", "Host [you]"},
			count: 3,
		},
		{
			name: "events out of order in a batch apply in seq order; a late lower seq is stale",
			batches: [][]string{{join,
				ev(4, "member.updated", memberData(`"id":"a","audio_muted":false`)),
				ev(3, "member.updated", memberData(`"id":"a","audio_muted":true`)),
				ev(2, "member.joined", memberData(`"id":"c","name":"Cy"`)),
			}, {ev(6, "member.left", memberData(`"id":"c"`)), ev(5, "member.talking", memberData(`"id":"c","talking":true`))},
				{ev(5, "member.joined", memberData(`"id":"c","name":"Cy"`))}},
			rows:  []string{"Ada [camera-off]", "Bob [mic-off]", "Host [you]"},
			count: 3,
		},
		{
			name: "an update after member.left makes no ghost row and asks for a snapshot",
			batches: [][]string{{join},
				{ev(2, "member.left", memberData(`"id":"b"`)), ev(3, "member.updated", memberData(`"id":"b","audio_muted":false`)),
					ev(4, "member.talking", memberData(`"id":"b","talking":false`))}},
			rows:     []string{"Ada [camera-off]", "Host [you]"},
			count:    2,
			snapshot: true,
		},
		{
			name: "a screen share that arrives before its owner moves under the owner",
			batches: [][]string{{join},
				{ev(2, "member.joined", memberData(`"id":"s","name":"Cy (screen)","type":"screen","parent_id":"c"`))},
				{ev(3, "member.joined", memberData(`"id":"c","name":"Cy","type":"member"`))}},
			rows:  []string{"Ada [camera-off]", "Bob [mic-off]", "Cy", "Cy > Cy (screen)", "Host [you]"},
			count: 4,
		},
		{
			name: "a list that drops a member removes it and keeps the others' fields",
			batches: [][]string{{join, ev(2, "member.updated", memberData(`"id":"a","handraised":true`))},
				{ev(3, "members.snapshot", listData(`{"id":"h"}`, `{"id":"a"}`))}},
			rows:  []string{"Ada [hand camera-off]", "Host [you]"},
			count: 2,
		},
		{
			name: "a new member in a list starts with every flag false",
			batches: [][]string{{join},
				{ev(2, "members.snapshot", listData(`{"id":"h"}`, `{"id":"n","name":"Nia"}`))}},
			rows:  []string{"Host [you]", "Nia"},
			count: 2,
		},
		{
			name: "mute everyone: one partial update per member, names kept",
			batches: [][]string{{join}, {
				ev(2, "member.updated", memberData(`"id":"a","audio_muted":true`)),
				ev(3, "member.updated", memberData(`"id":"b","audio_muted":true`)),
				ev(4, "member.updated", memberData(`"id":"h","audio_muted":true`)),
			}},
			rows:  []string{"Ada [mic-off camera-off]", "Bob [mic-off]", "Host [you mic-off]"},
			count: 3,
		},
		{
			name:     "a seq gap asks for a snapshot",
			batches:  [][]string{{join}, {ev(5, "member.updated", memberData(`"id":"a","deaf":true`))}},
			rows:     []string{"Ada [camera-off deaf]", "Bob [mic-off]", "Host [you]"},
			count:    3,
			snapshot: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			s := open.one(t, Limits{Now: clk.Now})
			var r Roster
			for i, evs := range tt.batches {
				clk.Advance(time.Second)
				var err error
				if r, _, err = s.Apply(context.Background(), seatA, mustBatch(t, "e1", evs...)); err != nil {
					t.Fatalf("batch %d: %v", i+1, err)
				}
			}
			if got := describe(r); !reflect.DeepEqual(got, tt.rows) {
				t.Errorf("got rows\n\t%q\nwant\n\t%q", got, tt.rows)
			}
			if r.Count != tt.count || r.NeedsSnapshot != tt.snapshot {
				t.Errorf("got count %d, snapshot asked %v; want %d, %v", r.Count, r.NeedsSnapshot, tt.count, tt.snapshot)
			}
		})
	}
}
