package closure

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog/eventlogtest"
	"github.com/gateledger/gateledger/journeys"
	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/projections/readmodel"
)

// A journey whose supervision ended is closed by the ledger, once: by two
// closers racing on one store (two instances), and not again after a restart.
// A remand discharge (no supervision) and a journey still supervised are left
// alone.
func TestClosesOnceAcrossInstancesAndRestarts(t *testing.T) {
	ctx := context.Background()
	store := eventlogtest.Store(t)
	log := eventlogtest.Logger()
	pol := aggregates.DefaultPolicy(nil)
	now := time.Now().UTC()
	svc := &journeys.Service{Store: store, Policy: pol, Logger: log}
	runner, err := readmodel.Open(filepath.Join(t.TempDir(), "p.db"), store.Client, log, projections.All(pol)...)
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = runner.Run(rctx) }()
	t.Cleanup(func() { cancel(); wg.Wait(); _ = runner.Close() })

	meta := journeys.CommandMeta{UserID: "test", Role: "prison", Organisation: "MDI", Source: aggregates.SourceAPI}
	var last journeys.Result
	do := func(noms string, cmd aggregates.Command) {
		t.Helper()
		res, err := svc.Handle(ctx, noms, cmd, meta)
		if err != nil {
			t.Fatalf("%s %s: %v", noms, cmd.CommandName(), err)
		}
		last = res
	}
	ago := func(months int) time.Time { return now.AddDate(0, -months, 0) }
	// Ended: released 13 months ago after a 6-month sentence (ORA: 12 months).
	const ended, remand, current = "A1000AA", "A2000AA", "A3000AA"
	do(ended, aggregates.ReceivePrisoner{NOMS: ended, Kind: aggregates.ReceptionSentence, Prison: "MDI", At: ago(16)})
	do(ended, aggregates.SentencePrisoner{Type: aggregates.SentenceDeterminate, LengthMonths: 6, SentenceDate: aggregates.DateOf(ago(16)), At: ago(16).Add(time.Hour)})
	do(ended, aggregates.ReleasePrisoner{Kind: aggregates.ReleaseOnLicence, Prison: "MDI", At: ago(13)})
	// A remand discharge: no supervision, nothing to close as ended.
	do(remand, aggregates.ReceivePrisoner{NOMS: remand, Kind: aggregates.ReceptionRemand, Prison: "MDI", At: ago(16)})
	do(remand, aggregates.ReleasePrisoner{Kind: aggregates.ReleaseDischarged, Prison: "MDI", At: ago(14)})
	// Still supervised.
	do(current, aggregates.ReceivePrisoner{NOMS: current, Kind: aggregates.ReceptionSentence, Prison: "MDI", At: ago(8)})
	do(current, aggregates.ReleasePrisoner{Kind: aggregates.ReleaseOnLicence, Prison: "MDI", At: ago(6)})
	if err := runner.WaitFor(ctx, projections.CaseloadName, last.Position.Commit); err != nil {
		t.Fatal(err)
	}

	// Two instances close at once.
	var closedBy [2][]string
	var errs [2]error
	var race sync.WaitGroup
	for i := range 2 {
		race.Add(1)
		go func() {
			defer race.Done()
			closedBy[i], errs[i] = (&Closer{Journeys: &journeys.Service{Store: store, Policy: pol, Logger: log}, Runner: runner, Logger: log}).Pass(ctx)
		}()
	}
	race.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("passes: %v, %v", errs[0], errs[1])
	}
	// Both may report the closure (the store answers an append of the same
	// events under the same key as done); the stream must hold one.
	if n := len(closedBy[0]) + len(closedBy[1]); n < 1 {
		t.Fatalf("closures reported by two closers: %v %v", closedBy[0], closedBy[1])
	}
	j, _, err := svc.Load(ctx, ended)
	if err != nil {
		t.Fatal(err)
	}
	st, err := svc.LoadStream(ctx, ended)
	if err != nil {
		t.Fatal(err)
	}
	closures := 0
	for _, ev := range st.Events {
		if c, ok := ev.Event.(aggregates.JourneyClosed); ok {
			closures++
			if c.Reason != aggregates.CloseSupervisionEnded || !c.At.Equal(j.SupervisionEnd(pol)) || ev.Metadata.Source != aggregates.SourceSystem {
				t.Fatalf("closure %+v %+v", c, ev.Metadata)
			}
		}
	}
	if closures != 1 || !j.Closed {
		t.Fatalf("%d closures; closed %v", closures, j.Closed)
	}
	for _, noms := range []string{remand, current} {
		if j, _, _ := svc.Load(ctx, noms); j.Closed {
			t.Fatalf("%s closed", noms)
		}
	}

	// A restarted closer finds nothing to do, even before the read model
	// catches up (it checks on the stream).
	again, err := (&Closer{Journeys: svc, Runner: runner, Logger: log}).Pass(ctx)
	if err != nil || len(again) != 0 {
		t.Fatalf("after a restart: %v %v", again, err)
	}
}
