package push

import "testing"

func fixedEpoch() string { return "e1" }

// The contract (contract_test.go) covers what every broker does; these are
// Memory's own IDs.

func TestMemoryIDsAreEpochAndSequence(t *testing.T) {
	m := NewMemory(Limits{Replay: 3}, fixedEpoch)
	for i, want := range []string{"e1-1", "e1-2", "e1-3", "e1-4"} {
		if ev := mustPublish(t, m, "R", Event{Target: "all"}); ev.ID != want {
			t.Errorf("event %d: got ID %q, want %q", i+1, ev.ID, want)
		}
	}
	if s := mustSubscribe(t, m, "R", everyone, "e1-1"); s.Gap || s.LastID != "e1-4" || len(s.Missed) != 3 {
		t.Errorf("got gap %v LastID %q missed %d, want the 3 kept after e1-1 and LastID e1-4", s.Gap, s.LastID, len(s.Missed))
	}
}

func TestMemoryGapForAnotherEpoch(t *testing.T) {
	m := NewMemory(Limits{}, fixedEpoch)
	mustPublish(t, m, "R", Event{Target: "all"})
	for _, id := range []string{"e0-1", "e1-2", "e1-x", "e1"} {
		if s := mustSubscribe(t, m, "R", everyone, id); !s.Gap {
			t.Errorf("Last-Event-ID %q: got no gap, want one", id)
		}
	}
}
