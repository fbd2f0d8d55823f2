package hmpps

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
)

// ingest parses messages and runs them through the aggregate the way the
// ingestion service does (without the store), returning the dead letters.
func ingest(t *testing.T, j aggregates.Journey, msgs ...[]byte) (aggregates.Journey, []error) {
	t.Helper()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := aggregates.DefaultPolicy(nil)
	var dead []error
	for _, m := range msgs {
		r, err := Parse(m)
		if err != nil {
			dead = append(dead, err)
			continue
		}
		for _, st := range r.Steps {
			c := st.Command
			evs, err := aggregates.Decide(j, c, now, p)
			if err != nil {
				dead = append(dead, err)
				continue
			}
			for _, ev := range evs {
				j = aggregates.Evolve(j, ev)
			}
		}
	}
	return j, dead
}

func TestSamplesThroughTheAggregate(t *testing.T) {
	intake, recall, release := sample(t, "intake-event.json"), sample(t, "recall-event.json"), sample(t, "release-event.json")
	// The intake sample receives the person at SWI, the release sample
	// releases them from MDI: the transfer between them is needed.
	out := withNOMS(event(EventReleased, "TRANSFERRED", "INT"), "SWI", "2024-11-15T09:00:00Z")
	in := withNOMS(event(EventReceived, "TRANSFERRED", "INT"), "MDI", "2024-11-15T14:00:00Z")

	j, dead := ingest(t, aggregates.Journey{}, intake, intake, out, in, release, release)
	if len(dead) != 0 || j.Custody != aggregates.Released || j.Version != 4 || j.ReceptionKind != aggregates.ReceptionAdmission {
		t.Fatalf("intake+release twice: %+v %v", j, dead)
	}
	// The recall sample alone is a recall reception.
	j, dead = ingest(t, aggregates.Journey{}, recall)
	if len(dead) != 0 || j.ReceptionKind != aggregates.ReceptionRecall || j.Recalls != 1 {
		t.Fatalf("recall: %+v %v", j, dead)
	}
	// The recall sample after the intake sample describes the same movement
	// differently: dead-lettered as a conflict, not guessed.
	_, dead = ingest(t, aggregates.Journey{}, intake, recall)
	if len(dead) != 1 || !errors.Is(dead[0], aggregates.ErrConflictingDuplicate) {
		t.Fatalf("intake then recall: %v", dead)
	}
	// Release before its reception: dead-lettered, and applied on replay.
	j, dead = ingest(t, aggregates.Journey{}, release, intake, out, in)
	if len(dead) != 1 || !errors.Is(dead[0], aggregates.ErrNotReceived) || j.Custody != aggregates.InCustody {
		t.Fatalf("release first: %+v %v", j, dead)
	}
	j, dead = ingest(t, j, release)
	if len(dead) != 0 || j.Custody != aggregates.Released {
		t.Fatalf("replayed release: %+v %v", j, dead)
	}
}

// withNOMS makes a bare event from event() one for the person of the shared
// samples (A4092EA), at prison, at time at.
func withNOMS(b []byte, prison, at string) []byte {
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	m["occurredAt"] = at
	m["personReference"] = map[string]any{"identifiers": []any{map[string]string{"type": "NOMS", "value": "A4092EA"}}}
	info := m["additionalInformation"].(map[string]any)
	info["nomsNumber"], info["prisonId"] = "A4092EA", prison
	out, _ := json.Marshal(m)
	return out
}
