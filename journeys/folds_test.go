package journeys_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/internal/eventdb"
	"github.com/gateledger/gateledger/journeys"
)

// Two services on one store stand for two ledger instances (or another process) writing
// the same journeys: what one caches must never hide what the other wrote.
func TestCachedJourneysSeeOtherWriters(t *testing.T) {
	ctx := context.Background()
	a := newService(t)
	b := &journeys.Service{Store: a.Store, Policy: a.Policy, Clock: a.Clock, Logger: a.Logger}
	need := func(id string) aggregates.AgreeAction {
		return aggregates.AgreeAction{ActionID: id, Pathway: aggregates.PathwayAccommodation, Description: "action " + id, At: t0.Add(2 * time.Hour)}
	}
	tests := []struct {
		name string
		// when b writes these between a's reads,
		byB []aggregates.Command
		// then a's next command decides on b's writes too.
		thenA aggregates.Command
	}{
		{name: "reception by another writer", byB: []aggregates.Command{receive}, thenA: aggregates.CompleteScreening{At: t0.Add(time.Hour)}},
		{name: "nothing written meanwhile", thenA: aggregates.IdentifyNeed{Pathway: aggregates.PathwayAccommodation, Description: "no address", At: t0.Add(time.Hour)}},
		{name: "several events meanwhile", byB: []aggregates.Command{need("b1"), need("b2"), need("b3")}, thenA: need("a2")},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Given a has read the journey (and cached it),
			if _, err := a.LoadStream(ctx, noms); err != nil {
				t.Fatal(err)
			}
			for j, c := range tt.byB {
				must(t)(b.Handle(ctx, noms, c, staff(fmt.Sprint("b-", i, "-", j))))
			}
			// when a reads again, it sees the store as it is now,
			got, err := a.LoadStream(ctx, noms)
			if err != nil {
				t.Fatal(err)
			}
			want, err := eventlog.LoadJourney(ctx, a.Store, noms)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("cached read differs from a whole read:\n got %+v\nwant %+v", got.Head, want.Head)
			}
			// and a command decided on that read chains on b's events.
			res := must(t)(a.Handle(ctx, noms, tt.thenA, staff(fmt.Sprint("a-", i))))
			if res.Revision != want.Revision()+1 || res.Attempts != 1 {
				t.Fatalf("a's command: revision %d after %d, attempts %d", res.Revision, want.Revision(), res.Attempts)
			}
			if res.Events[0].Metadata.PreviousHash != want.Head.Hash {
				t.Fatal("a's event does not chain on the journey's head")
			}
		})
	}
	// And the chain of what both wrote is whole.
	v, err := eventlog.VerifyStream(ctx, a.Store, aggregates.StreamName(noms))
	if err != nil || !v.OK() {
		t.Fatalf("verify: %+v %v", v.Break, err)
	}
}

// A journey deleted from the store after it was cached reads as deleted, not as cached.
// The embedded server refuses to delete a journey (eventstore.KeepsHistory), so the
// deletion is written to its storage directly, as an operator of a store the ledger
// does not control could.
func TestCachedJourneyDeletedElsewhere(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	must(t)(svc.Handle(ctx, noms, receive, staff("k0")))
	if _, err := svc.LoadStream(ctx, noms); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Store.(*eventstore.Conn).Node.DB.Delete(ctx, aggregates.StreamName(noms), eventdb.Any); err != nil {
		t.Fatal(err)
	}
	st, err := svc.LoadStream(ctx, noms)
	if err != nil {
		t.Fatal(err)
	}
	if st.Head.Exists || len(st.Events) != 0 || st.Journey.Custody == aggregates.InCustody {
		t.Fatalf("deleted journey read as %+v", st.Head)
	}
}

// With the cache off, and with a cache of one journey that two journeys take turns in,
// every read is still right.
func TestCacheSizes(t *testing.T) {
	ctx := context.Background()
	for _, size := range []int{-1, 1} {
		t.Run(fmt.Sprint("size ", size), func(t *testing.T) {
			svc := newService(t)
			svc.CacheSize = size
			people := []string{"A1111AA", "B2222BB"}
			for round := range 3 {
				for _, p := range people {
					var c aggregates.Command
					switch round {
					case 0:
						c = aggregates.ReceivePrisoner{NOMS: p, Kind: aggregates.ReceptionSentence, Prison: "SWI", At: t0}
					case 1:
						c = aggregates.IdentifyNeed{Pathway: aggregates.PathwayHealth, Description: "registration with a GP", At: t0.Add(time.Hour)}
					default:
						c = aggregates.AgreeAction{ActionID: fmt.Sprint("act", round), Pathway: aggregates.PathwayHealth, Description: "register", At: t0.Add(2 * time.Hour)}
					}
					res := must(t)(svc.Handle(ctx, p, c, staff(fmt.Sprint(p, round))))
					if res.Revision != int64(round) {
						t.Fatalf("%s round %d: revision %d", p, round, res.Revision)
					}
				}
			}
		})
	}
}
