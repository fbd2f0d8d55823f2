package hmpps

import (
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
		for _, c := range r.Commands {
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

	j, dead := ingest(t, aggregates.Journey{}, intake, intake, release, release)
	if len(dead) != 0 || j.Custody != aggregates.Released || j.Version != 2 || j.ReceptionKind != aggregates.ReceptionAdmission {
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
	j, dead = ingest(t, aggregates.Journey{}, release, intake)
	if len(dead) != 1 || !errors.Is(dead[0], aggregates.ErrNotReceived) || j.Custody != aggregates.InCustody {
		t.Fatalf("release first: %+v %v", j, dead)
	}
	j, dead = ingest(t, j, release)
	if len(dead) != 0 || j.Custody != aggregates.Released {
		t.Fatalf("replayed release: %+v %v", j, dead)
	}
}
