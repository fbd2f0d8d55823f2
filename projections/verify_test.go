package projections

import (
	"context"
	"testing"

	"github.com/gateledger/gateledger/aggregates"
)

// The whole-store check holds no read transaction of the state file while it reads the
// store: between pages the runner records what arrives (a write to the state file
// completes), and what it applied during the check is not reported as a mismatch.
func TestVerifyAllHoldsNoReadTransactionAcrossTheScan(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	noms := planJourney(w)
	w.sync(w.r)

	pages, readsMidScan, recorded := 0, -1, false
	v := &StoreVerifier{Runner: w.r, Client: w.store.Client, Progress: func(uint64) {
		pages++
		if pages > 1 {
			return
		}
		readsMidScan = w.r.OpenReads()
		// Mid-scan, a command is recorded and the runner writes it to the state file.
		recorded = w.do(noms, "C05", aggregates.DraftPlan{Summary: "tamper-me: recorded while the store is verified", At: day(2024, 6, 12, 9)}).Recorded()
		w.sync(w.r)
	}}
	rep, err := v.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pages == 0 {
		t.Fatal("the check never reported a page")
	}
	if !recorded {
		t.Fatal("nothing was recorded mid-scan")
	}
	if readsMidScan != 0 {
		t.Fatalf("%d read transactions of the state file open mid-scan, want none", readsMidScan)
	}
	if !rep.OK() || rep.Streams != 1 {
		t.Fatalf("verify all: %+v", rep)
	}
	// A later check, from the new checkpoint, agrees.
	again, err := VerifyAll(ctx, w.r, w.store.Client)
	if err != nil || !again.OK() || again.Events != rep.Events {
		t.Fatalf("verify all again: %+v %v (first %d events)", again, err, rep.Events)
	}
}
