package journeygen

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/calendar"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventlog/eventlogtest"
)

func TestJourneysAreDeterministicValidAndVaried(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	g := New(7, now, 4*365*24*time.Hour, aggregates.DefaultPolicy(calendar.New(time.UTC)))
	seen := map[string]bool{}
	stages := map[string]int{}
	types := map[string]bool{}
	for i := 0; i < 400; i++ {
		j := g.Journey(i)
		if seen[j.NOMS] || !aggregates.ValidNOMS(j.NOMS) {
			t.Fatalf("journey %d: NOMS %q is invalid or repeated", i, j.NOMS)
		}
		seen[j.NOMS] = true
		if again := g.Journey(i); !reflect.DeepEqual(again.Steps, j.Steps) {
			t.Fatalf("journey %d differs between two generations", i)
		}
		// The history folds back to the same state, and every step is in time order.
		var evs []aggregates.Event
		var last time.Time
		for _, s := range j.Steps {
			if s.At.After(now) {
				t.Fatalf("%s: step at %v is after now", j.NOMS, s.At)
			}
			if s.At.Before(last) {
				t.Fatalf("%s: step %T at %v before the previous at %v", j.NOMS, s.Command, s.At, last)
			}
			last = s.At
			evs = append(evs, s.Events...)
			for _, e := range s.Events {
				types[e.EventType()] = true
			}
		}
		if !reflect.DeepEqual(aggregates.Rebuild(evs), j.Final) {
			t.Fatalf("%s: rebuilt state differs from the generated one", j.NOMS)
		}
		switch f := j.Final; {
		case f.Closed:
			stages["closed"]++
		case f.Custody == aggregates.Released:
			stages["released"]++
		case f.Custody == aggregates.InCustody:
			stages["custody"]++
		}
	}
	for _, s := range []string{"closed", "released", "custody"} {
		if stages[s] == 0 {
			t.Errorf("no journey ended at stage %s: %v", s, stages)
		}
	}
	for _, typ := range []string{"PrisonerReceived", "CustodyScreeningCompleted", "ResettlementPlanDrafted", "HandoverAccepted", "PrisonerReleased", "ProvenReoffenceRecorded", "JourneyClosed", "PrisonerTransferred"} {
		if !types[typ] {
			t.Errorf("no %s among generated events (have %v)", typ, types)
		}
	}
}

func TestWrittenJourneysLoadVerifyAndFold(t *testing.T) {
	store := eventlogtest.Store(t)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	g := New(11, now, 3*365*24*time.Hour, aggregates.DefaultPolicy(calendar.New(time.UTC)))
	var js []Journey
	for i := 0; i < 40; i++ {
		js = append(js, g.Journey(i))
	}
	w := &Writer{Client: store.Client, Concurrency: 4, StepsPerAppend: 3}
	if err := w.Write(context.Background(), js); err != nil {
		t.Fatal(err)
	}
	for _, j := range js {
		s, err := eventlog.LoadJourney(context.Background(), store.Client, j.NOMS)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(s.Journey, j.Final) {
			t.Fatalf("%s: the stored journey folds to a different state", j.NOMS)
		}
		v, err := eventlog.VerifyStream(context.Background(), store.Client, s.Stream)
		if err != nil || !v.OK() {
			t.Fatalf("%s: chain does not verify: %v %+v", j.NOMS, err, v.Break)
		}
	}
}
