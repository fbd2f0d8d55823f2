package projections

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventlog/eventlogtest"
	"github.com/gateledger/gateledger/internal/journeygen"
	"github.com/gateledger/gateledger/projections/readmodel"
)

// The proof: state built incrementally, while a generated history of thousands
// of journeys is being written, is byte for byte the state rebuilt from position zero.
func TestIncrementalStateEqualsRebuiltState(t *testing.T) {
	people := 2000
	if testing.Short() {
		people = 300
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	store := eventlogtest.Store(t)
	policy := testPolicy()
	// One person in six is received at some time in the last four years, so that every
	// stage of a journey occurs (releases, recalls, closures, the 2021 policy change);
	// the others in the last two months, which keeps thousands of histories short
	// enough to be written in seconds.
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	long, short := journeygen.New(17, now, 4*365*24*time.Hour, policy), journeygen.New(17, now, 60*24*time.Hour, policy)
	js := make([]journeygen.Journey, people)
	total := 0
	stages := map[aggregates.CustodyStatus]int{}
	closed := 0
	for i := range js {
		if i%6 == 0 {
			js[i] = long.Journey(i)
		} else {
			js[i] = short.Journey(i)
		}
		total += js[i].EventCount()
		stages[js[i].Final.Custody]++
		if js[i].Final.Closed {
			closed++
		}
	}
	if stages[aggregates.InCustody] == 0 || stages[aggregates.Released] == 0 || closed == 0 {
		t.Fatalf("the generated history lacks a stage: %v, %d closed", stages, closed)
	}

	r, err := readmodel.Open(filepath.Join(t.TempDir(), "projections.db"), store.Client, quiet(), All(policy)...)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	stop := run(t, r)
	for !r.Live() {
		select {
		case <-ctx.Done():
			t.Fatal("the runner never caught up with the empty store")
		case <-time.After(5 * time.Millisecond):
		}
	}
	// Write the journeys in small interleaved appends while the runner applies them live.
	var appliedMidway atomic.Uint64
	w := &journeygen.Writer{Client: store.Client, Concurrency: 32, StepsPerAppend: 16, Progress: func(n int64) {
		if n >= int64(total)/2 && appliedMidway.Load() == 0 {
			appliedMidway.Store(r.Applied() + 1)
		}
	}}
	if err := w.Write(ctx, js); err != nil {
		t.Fatal(err)
	}
	last, err := eventlog.LastPosition(ctx, store.Client)
	if err != nil {
		t.Fatal(err)
	}
	waitAll := func() {
		t.Helper()
		for _, p := range All(policy) {
			if err := r.WaitFor(ctx, p.Name(), last); err != nil {
				t.Fatalf("wait for %s: %v", p.Name(), err)
			}
		}
	}
	waitAll()
	stop()
	if appliedMidway.Load() <= 1 {
		t.Fatalf("nothing was applied while the history was written (%d applied midway)", appliedMidway.Load())
	}
	if got := r.Applied(); got < uint64(total) {
		t.Fatalf("applied %d events of %d", got, total)
	}
	incremental := map[string]string{}
	for _, p := range All(policy) {
		incremental[p.Name()] = dump(t, r, p.Name())
	}

	// Rebuild everything from position zero with the same runner.
	if err := r.Reset(); err != nil {
		t.Fatal(err)
	}
	for _, p := range All(policy) {
		if d := dump(t, r, p.Name()); d != "" {
			t.Fatalf("%s not empty after Reset", p.Name())
		}
	}
	stop = run(t, r)
	waitAll()
	stop()
	for _, p := range All(policy) {
		inc, reb := incremental[p.Name()], dump(t, r, p.Name())
		if inc == "" {
			t.Errorf("%s: no incremental state", p.Name())
		}
		if inc != reb {
			t.Errorf("%s: rebuilt state (%d bytes of dump) differs from incremental state (%d bytes)%s", p.Name(), len(reb), len(inc), firstDiff(inc, reb))
		}
	}

	// The history is what was generated, for a sample of the people: the plan is at
	// their last event, the trail has all of them, and the chain verifies.
	for i := 0; i < people; i += people / 20 {
		j := js[i]
		pv, err := Plan(r, j.NOMS, time.Now(), policy)
		if err != nil || pv.Revision != uint64(j.EventCount()-1) || pv.Custody != j.Final.Custody || pv.Plan != j.Final.Plan {
			t.Fatalf("plan of %s: %+v, %v; want revision %d, custody %s", j.NOMS, pv, err, j.EventCount()-1, j.Final.Custody)
		}
		if trail, err := Trail(r, j.NOMS); err != nil || len(trail) != j.EventCount() {
			t.Fatalf("trail of %s: %d events, %v; want %d", j.NOMS, len(trail), err, j.EventCount())
		}
		if v, err := VerifyPerson(ctx, r, store.Client, j.NOMS); err != nil || !v.OK() || v.Checked != j.EventCount() {
			t.Fatalf("verify %s: %+v, %v", j.NOMS, v, err)
		}
	}
}

// firstDiff shows where two dumps first differ.
func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-200)
	return "\nincremental: …" + a[lo:min(len(a), i+200)] + "\nrebuilt:     …" + b[lo:min(len(b), i+200)]
}
