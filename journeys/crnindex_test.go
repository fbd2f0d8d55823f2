package journeys_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventlog/eventlogtest"
	"github.com/gateledger/gateledger/journeys"
)

// A CRN belongs to one person: a second link of the same CRN to another prison
// number is refused with the rule named, and the refusal names the other journey
// only through Disclosed.
func TestCRNBelongsToOnePerson(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	const other = "B1234CD"
	for _, n := range []string{noms, other} {
		must(t)(svc.Handle(ctx, n, aggregates.ReceivePrisoner{NOMS: n, Kind: aggregates.ReceptionSentence, Prison: "SWI", At: t0}, staff("")))
	}
	link := aggregates.LinkCRN{CRN: "X373878", At: t0.Add(time.Hour)}
	must(t)(svc.Handle(ctx, noms, link, staff("")))
	// The same link again, by the same person: nothing new, no refusal.
	if res := must(t)(svc.Handle(ctx, noms, link, staff(""))); res.Recorded() {
		t.Fatalf("a repeated link recorded %d events", len(res.Events))
	}
	_, err := svc.Handle(ctx, other, link, staff(""))
	var inUse *journeys.CRNInUseError
	var rule *aggregates.RuleError
	if !errors.Is(err, journeys.ErrCRNInUse) || !errors.Is(err, aggregates.ErrAlreadyRecorded) || !errors.As(err, &inUse) ||
		!errors.As(err, &rule) || rule.Rule != "crn-belongs-to-one-person" || inUse.Other != noms {
		t.Fatalf("second link: %v", err)
	}
	if strings.Contains(err.Error(), noms) {
		t.Errorf("the refusal names the other journey: %v", err)
	}
	if d := inUse.Disclosed(); !strings.Contains(d.Error(), noms) || !errors.As(error(d), &rule) || rule.Rule != "crn-belongs-to-one-person" {
		t.Errorf("disclosed: %v", d)
	}
	if j, _, _ := svc.Load(ctx, other); j.CRN != "" {
		t.Errorf("the refused link was recorded: %q", j.CRN)
	}
	// A correction to a CRN held by someone else is refused the same way.
	recs, err := eventlog.ReadStream(ctx, svc.Store, aggregates.StreamName(other))
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.Handle(ctx, other, aggregates.CorrectFact{CorrectsEventID: recs[0].ID.String(), Field: aggregates.FieldCRN, Value: "X373878",
		Reason: "typed", At: t0.Add(2 * time.Hour)}, staff(""))
	if !errors.Is(err, journeys.ErrCRNInUse) {
		t.Fatalf("correction to a taken CRN: %v", err)
	}
	// The index is one chained stream per CRN.
	if v, err := eventlog.VerifyStream(ctx, svc.Store, journeys.CRNStream("X373878")); err != nil || !v.OK() {
		t.Fatalf("index stream: %+v %v", v, err)
	}
}

// Two ledger instances on one store link one CRN to two people at once: exactly
// one link is recorded.
func TestCRNClaimAcrossInstances(t *testing.T) {
	ctx := context.Background()
	store := eventlogtest.Store(t)
	people := []string{"C1111AA", "C2222BB", "C3333CC", "C4444DD"}
	svcs := make([]*journeys.Service, len(people))
	for i, n := range people {
		svcs[i] = &journeys.Service{Store: store, Policy: aggregates.DefaultPolicy(nil), Clock: func() time.Time { return now }, Logger: eventlogtest.Logger()}
		must(t)(svcs[i].Handle(ctx, n, aggregates.ReceivePrisoner{NOMS: n, Kind: aggregates.ReceptionSentence, Prison: "SWI", At: t0}, staff("")))
	}
	var wg sync.WaitGroup
	errs := make([]error, len(people))
	for i, n := range people {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = svcs[i].Handle(ctx, n, aggregates.LinkCRN{CRN: "Y100200", At: t0.Add(time.Hour)}, staff(""))
		}()
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, journeys.ErrCRNInUse):
			t.Errorf("%s: %v", people[i], err)
		}
	}
	linked := 0
	for _, n := range people {
		if j, _, _ := svcs[0].Load(ctx, n); j.CRN == "Y100200" {
			linked++
		}
	}
	if won != 1 || linked != 1 {
		t.Fatalf("%d links accepted, %d recorded", won, linked)
	}
}
