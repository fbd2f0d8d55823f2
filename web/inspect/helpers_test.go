package inspect

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/calendar"
	"github.com/gateledger/gateledger/eventlog/eventlogtest"
	"github.com/gateledger/gateledger/journeys"
	"github.com/gateledger/gateledger/ledger"
	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/projections/readmodel"
)

// clock is the command service's clock: the tests set the day commands are
// recorded on, so that "as at" a date has something to tell apart.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// world is the embedded store, the command service, a running runner with
// every read model, the access log, and an Inspector over them. No mocks.
type world struct {
	t      *testing.T
	svc    *journeys.Service
	runner *readmodel.Runner
	access *auth.AccessLog
	clock  *clock
	insp   *Inspector
	n      int
	last   uint64
}

var (
	inspector = auth.Principal{ID: "tok-insp", Name: "HMI Probation", Role: auth.RoleInspector}
	provider  = auth.Principal{ID: "tok-c05", Name: "C05 staff", Role: auth.RoleProvider, Org: "C05"}
)

func newWorld(t *testing.T) *world {
	t.Helper()
	store := eventlogtest.Store(t)
	log := eventlogtest.Logger()
	policy := aggregates.DefaultPolicy(calendar.New(time.UTC))
	c := &clock{t: time.Date(2024, 6, 3, 12, 0, 0, 0, time.UTC)}
	svc := &journeys.Service{Store: store, Policy: policy, Logger: log, Clock: c.Now}
	runner, err := readmodel.Open(filepath.Join(t.TempDir(), "projections.db"), store.Client, log, projections.All(policy)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = runner.Run(ctx) }()
	access := auth.NewAccessLog(store.Client, auth.AccessLogConfig{Logger: log})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		_ = runner.Close()
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer ccancel()
		_ = access.Close(cctx)
	})
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(ledger.Config{Journeys: svc, Runner: runner, AccessLog: access, WaitTimeout: 10 * time.Second, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	insp, err := New(Config{Store: store, Ledger: l, Journeys: svc, Runner: runner, Policy: policy, Location: london,
		Clock: func() time.Time { return time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, svc: svc, runner: runner, access: access, clock: c, insp: insp}
}

// do records cmd for noms as a user of org.
func (w *world) do(noms, org string, cmd aggregates.Command) {
	w.t.Helper()
	w.n++
	res, err := w.svc.Handle(context.Background(), noms, cmd, journeys.CommandMeta{
		UserID: "user-" + org, Role: "STAFF", Organisation: org, Source: aggregates.SourceUI,
		IdempotencyKey: fmt.Sprintf("key-%d", w.n)})
	if err != nil {
		w.t.Fatalf("%s for %s: %v", cmd.CommandName(), noms, err)
	}
	w.last = max(w.last, res.Position.Commit)
}

// sync waits until every read model has applied everything recorded.
func (w *world) sync() {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, name := range []string{projections.AuditName, projections.CaseloadName, projections.PlansName, projections.OutcomesName} {
		if err := w.runner.WaitFor(ctx, name, w.last); err != nil {
			w.t.Fatal(err)
		}
	}
}

func day(d, h int) time.Time { return time.Date(2024, 6, d, h, 0, 0, 0, time.UTC) }

// journey: received and screened on 3 June, a need identified on 4 June, the
// plan drafted and an action agreed on 6 June, each recorded the same day.
// Returns the prison number.
func (w *world) journey() string {
	const noms = "A1234BC"
	w.clock.set(day(3, 12))
	w.do(noms, "MDI", aggregates.ReceivePrisoner{NOMS: noms, Kind: aggregates.ReceptionSentence, Prison: "MDI", At: day(3, 9)})
	w.do(noms, "MDI", aggregates.CompleteScreening{At: day(3, 10)})
	w.clock.set(day(4, 12))
	w.do(noms, "MDI", aggregates.IdentifyNeed{Pathway: aggregates.PathwayAccommodation, Description: "no fixed abode", At: day(4, 10)})
	w.clock.set(day(6, 12))
	w.do(noms, "MDI", aggregates.DraftPlan{Summary: "housing first", At: day(6, 9)})
	w.do(noms, "MDI", aggregates.AgreeAction{ActionID: "acc-1", Pathway: aggregates.PathwayAccommodation,
		Description: "=refer to housing", Due: aggregates.NewDate(2024, 6, 20), At: day(6, 10)})
	w.do(noms, "MDI", aggregates.LinkCRN{CRN: "X123456", At: day(6, 11)})
	w.sync()
	return noms
}

// accesses reads the access log: "principal what subject" -> count.
func (w *world) accesses() map[string]int {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	es, err := w.access.Read(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		w.t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range es {
		out[e.PrincipalID+" "+e.What+" "+e.Subject]++
	}
	return out
}
