package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/calendar"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventlog/eventlogtest"
	"github.com/gateledger/gateledger/journeys"
	"github.com/gateledger/gateledger/ledger"
	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/projections/readmodel"
)

var (
	now = time.Now().UTC().Truncate(time.Second)
	t0  = now.Add(-48 * time.Hour)

	mdi       = auth.Principal{ID: "token:mdi", Name: "MDI", Role: auth.RolePrison, Org: "MDI"}
	lei       = auth.Principal{ID: "token:lei", Name: "LEI", Role: auth.RolePrison, Org: "LEI"}
	inspector = auth.Principal{ID: "token:insp", Name: "Inspector", Role: auth.RoleInspector}
	provider  = auth.Principal{ID: "token:nps", Name: "NPS", Role: auth.RoleProvider, Org: "NPS-C"}
)

// world is a ledger on a real embedded store on loopback, with its read
// models running. moves, when set, is called by the command service's clock:
// after a command was authorised and before it is decided, so a test can move
// the journey at exactly that moment.
type world struct {
	t      *testing.T
	svc    *journeys.Service // the ledger's command service
	other  *journeys.Service // another writer on the same store
	runner *readmodel.Runner
	access *auth.AccessLog
	l      *ledger.Ledger
	n      int

	mu    sync.Mutex
	moves func()
}

func newWorld(t *testing.T) *world {
	t.Helper()
	store := eventlogtest.Store(t)
	log := eventlogtest.Logger()
	policy := aggregates.DefaultPolicy(calendar.New(time.UTC))
	w := &world{t: t}
	w.svc = &journeys.Service{Store: store, Policy: policy, Logger: log, CacheSize: -1, Clock: func() time.Time {
		w.mu.Lock()
		move := w.moves
		w.mu.Unlock()
		if move != nil {
			move()
		}
		return now
	}}
	w.other = &journeys.Service{Store: store, Policy: policy, Logger: log, CacheSize: -1, Clock: func() time.Time { return now }}
	runner, err := readmodel.Open(filepath.Join(t.TempDir(), "projections.db"), store.Client, log, projections.All(policy)...)
	if err != nil {
		t.Fatal(err)
	}
	w.runner = runner
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = runner.Run(ctx) }()
	w.access = auth.NewAccessLog(store.Client, auth.AccessLogConfig{Logger: log})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		_ = runner.Close()
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer ccancel()
		_ = w.access.Close(cctx)
	})
	if w.l, err = ledger.New(ledger.Config{Journeys: w.svc, Runner: runner, AccessLog: w.access, WaitTimeout: 10 * time.Second, Logger: log}); err != nil {
		t.Fatal(err)
	}
	return w
}

// setMoves makes the command service's clock call f (nil: nothing).
func (w *world) setMoves(f func()) {
	w.mu.Lock()
	w.moves = f
	w.mu.Unlock()
}

// do records cmd on noms as the other writer, with no authorisation.
func (w *world) do(noms string, cmd aggregates.Command) journeys.Result {
	w.t.Helper()
	w.n++
	res, err := w.other.Handle(context.Background(), noms, cmd, journeys.CommandMeta{UserID: "test", Role: "system",
		Source: aggregates.SourceSystem, IdempotencyKey: fmt.Sprintf("test-%d", w.n)})
	if err != nil {
		w.t.Fatalf("%s on %s: %v", cmd.CommandName(), noms, err)
	}
	return res
}

func (w *world) receive(noms, prison string) journeys.Result {
	return w.do(noms, aggregates.ReceivePrisoner{NOMS: noms, Kind: aggregates.ReceptionSentence, Prison: prison, At: t0})
}

// transfer moves noms from prison from to prison to.
func (w *world) transfer(noms, from, to string, at time.Time) {
	w.do(noms, aggregates.RecordMovement{Kind: aggregates.MovementTransferOut, Prison: from, At: at})
	w.do(noms, aggregates.RecordMovement{Kind: aggregates.MovementTransferIn, Prison: to, FromPrison: from, At: at.Add(time.Hour)})
}

// accesses are the access log's entries of subject.
func (w *world) accesses(subject string) []auth.AccessEntry {
	w.t.Helper()
	es, err := w.access.Read(context.Background(), now.Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		w.t.Fatal(err)
	}
	var out []auth.AccessEntry
	for _, e := range es {
		if e.Subject == subject {
			out = append(out, e)
		}
	}
	return out
}

// A journey p may not read answers exactly as one that does not exist, builds
// nothing and records nothing.
func TestReadOfUnreadableJourney(t *testing.T) {
	w := newWorld(t)
	w.receive("A1234BC", "MDI")
	for _, tc := range []struct {
		name string
		p    auth.Principal
		noms string
	}{
		{"another prison's person", lei, "A1234BC"},
		{"a provider's stranger", provider, "A1234BC"},
		{"a person never recorded", mdi, "Z9999ZZ"},
		{"a person never recorded, to an inspector", inspector, "Z9999ZZ"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			built := false
			_, err := ledger.Read(context.Background(), w.l, tc.p, tc.noms, ledger.ReadOptions{Access: auth.AccessReadPlan,
				Projection: projections.PlansName}, func(st eventlog.JourneyStream) (eventlog.JourneyStream, error) {
				built = true
				return st, nil
			})
			if !errors.Is(err, auth.ErrNotFound) || built {
				t.Fatalf("err %v, view built %v; want not found, nothing built", err, built)
			}
			if es := w.accesses(tc.noms); len(es) != 0 {
				t.Fatalf("a refused read was recorded: %+v", es)
			}
		})
	}
}

// A read is recorded before its answer is returned; the read model answering
// has applied the journey's last event (read-your-writes).
func TestReadRecordsThenDiscloses(t *testing.T) {
	w := newWorld(t)
	w.receive("A1234BC", "MDI")
	res := w.do("A1234BC", aggregates.CompleteScreening{At: t0.Add(time.Hour)})
	ctx := context.Background()
	var recordedBefore int
	v, err := ledger.Read(ctx, w.l, mdi, "A1234BC", ledger.ReadOptions{Access: auth.AccessReadPlan, Projection: projections.PlansName},
		func(st eventlog.JourneyStream) (projections.PlanView, error) {
			recordedBefore = len(w.accesses("A1234BC"))
			return projections.Plan(w.runner, st.NOMS, now, aggregates.DefaultPolicy(nil))
		})
	if err != nil {
		t.Fatal(err)
	}
	if recordedBefore != 0 {
		t.Fatalf("recorded before the answer was built: %d", recordedBefore)
	}
	if v.Position < res.Position.Commit {
		t.Fatalf("plan at %d, before the screening at %d", v.Position, res.Position.Commit)
	}
	es := w.accesses("A1234BC")
	if len(es) != 1 || es[0].What != auth.AccessReadPlan || es[0].PrincipalID != mdi.ID {
		t.Fatalf("access log %+v, want one read of the plan by MDI", es)
	}

	// An error building the answer records nothing: nothing was disclosed.
	boom := errors.New("boom")
	if _, err := ledger.Read(ctx, w.l, mdi, "A1234BC", ledger.ReadOptions{Access: auth.AccessReadJourney},
		func(eventlog.JourneyStream) (int, error) { return 0, boom }); !errors.Is(err, boom) {
		t.Fatalf("view error: %v", err)
	}
	if es := w.accesses("A1234BC"); len(es) != 1 {
		t.Fatalf("a read that failed was recorded: %+v", es)
	}
}

// A read that cannot be recorded is refused and returns nothing.
func TestReadRefusedWhenAccessLogFails(t *testing.T) {
	w := newWorld(t)
	w.receive("A1234BC", "MDI")
	ctx := context.Background()
	if err := w.access.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := ledger.Read(ctx, w.l, mdi, "A1234BC", ledger.ReadOptions{Access: auth.AccessReadJourney}, ledger.Stream)
	if !errors.Is(err, ledger.ErrNotRecorded) || st.NOMS != "" || st.Journey.Version != 0 {
		t.Fatalf("err %v, answer %+v; want not recorded and nothing", err, st)
	}
	n, err := ledger.ReadOrganisation(ctx, w.l, mdi, ledger.OrganisationRead{Org: "MDI", Access: auth.AccessReadCaseload},
		func() (int, error) { return 7, nil })
	if !errors.Is(err, ledger.ErrNotRecorded) || n != 0 {
		t.Fatalf("organisation read: %v %d", err, n)
	}
}

// Who may read an organisation's lists, and what is recorded.
func TestReadOrganisation(t *testing.T) {
	w := newWorld(t)
	inspectors := func(p auth.Principal) bool { return p.Role == auth.RoleInspector }
	for _, tc := range []struct {
		name string
		p    auth.Principal
		o    ledger.OrganisationRead
		ok   bool
	}{
		{"a prison, its own", mdi, ledger.OrganisationRead{Org: "MDI"}, true},
		{"a prison, another's", lei, ledger.OrganisationRead{Org: "MDI"}, false},
		{"a provider, a prison's", provider, ledger.OrganisationRead{Org: "MDI"}, false},
		{"an inspector, any", inspector, ledger.OrganisationRead{Org: "MDI"}, true},
		{"a narrower rule", mdi, ledger.OrganisationRead{Org: "MDI", Allow: inspectors}, false},
		{"across organisations, allowed", inspector, ledger.OrganisationRead{Allow: inspectors}, true},
		{"across organisations, refused", mdi, ledger.OrganisationRead{Allow: inspectors}, false},
		{"no rule at all", inspector, ledger.OrganisationRead{}, false},
		{"an invalid principal", auth.Principal{Role: auth.RoleInspector}, ledger.OrganisationRead{Org: "MDI"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			subject := "subject-" + tc.name
			tc.o.Access, tc.o.Subject, tc.o.Projections = auth.AccessReadCaseload, subject, []string{projections.CaseloadName}
			built := false
			_, err := ledger.ReadOrganisation(context.Background(), w.l, tc.p, tc.o, func() (bool, error) { built = true; return true, nil })
			if tc.ok != (err == nil) || built != tc.ok || (!tc.ok && !errors.Is(err, auth.ErrForbidden)) {
				t.Fatalf("err %v, built %v; want allowed %v", err, built, tc.ok)
			}
			if n := len(w.accesses(subject)); (n == 1) != tc.ok {
				t.Fatalf("%d reads recorded", n)
			}
		})
	}
}

// A command is decided on the revision it was authorised on; a journey that
// moves in between is authorised again on the new state, and refused when the
// new state forbids the command.
func TestCommandAuthorisedAndDecidedOnOneRevision(t *testing.T) {
	screen := aggregates.CompleteScreening{At: t0.Add(time.Hour)}
	for _, tc := range []struct {
		name     string
		p        auth.Principal
		move     func(w *world)
		err      error
		attempts int
	}{
		{name: "still", p: mdi, attempts: 1},
		{name: "moved, still allowed", p: mdi, move: func(w *world) {
			w.do("A1234BC", aggregates.IdentifyNeed{Pathway: aggregates.PathwayAccommodation, Description: "no address", At: t0.Add(30 * time.Minute)})
		}, attempts: 2},
		{name: "moved away", p: mdi, move: func(w *world) { w.transfer("A1234BC", "MDI", "LEI", t0.Add(30*time.Minute)) }, err: auth.ErrNotFound},
		{name: "another prison", p: lei, err: auth.ErrNotFound},
		{name: "an inspector", p: inspector, err: auth.ErrForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			before := w.receive("A1234BC", "MDI")
			if tc.move != nil {
				once := sync.Once{}
				w.setMoves(func() { once.Do(func() { tc.move(w) }) })
			}
			res, err := w.l.Command(context.Background(), tc.p, "A1234BC", screen, ledger.CommandOptions{Source: aggregates.SourceUI,
				IdempotencyKey: "ui:test:" + tc.name})
			w.setMoves(nil)
			st, lerr := w.svc.LoadStream(context.Background(), "A1234BC")
			if lerr != nil {
				t.Fatal(lerr)
			}
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				if !st.Journey.ScreenedAt.IsZero() {
					t.Fatal("a refused command recorded its event")
				}
				return
			}
			if err != nil || len(res.Events) != 1 || res.Attempts != tc.attempts {
				t.Fatalf("err %v, %d events, %d attempts; want 1 event in %d", err, len(res.Events), res.Attempts, tc.attempts)
			}
			// Decided on the state the last authorisation saw: the revision
			// right after the journey's head when it was read.
			if res.Revision != st.Revision() || (tc.move == nil && res.Revision != before.Revision+1) {
				t.Fatalf("revision %d, journey at %d (reception at %d)", res.Revision, st.Revision(), before.Revision)
			}
			if src := st.Events[len(st.Events)-1].Metadata.Source; src != aggregates.SourceUI {
				t.Errorf("source %q, want ui", src)
			}
		})
	}
}

// A retried key answers from what it recorded without authorising again: the
// principal may no longer be allowed to send the command at all.
func TestCommandReplayIsNotAuthorisedAgain(t *testing.T) {
	w := newWorld(t)
	w.receive("A1234BC", "MDI")
	ctx := context.Background()
	cmd := aggregates.CompleteScreening{At: t0.Add(time.Hour)}
	o := ledger.CommandOptions{Source: aggregates.SourceUI, IdempotencyKey: "ui:mdi:1"}
	first, err := w.l.Command(ctx, mdi, "A1234BC", cmd, o)
	if err != nil || len(first.Events) != 1 {
		t.Fatalf("first: %v %+v", err, first)
	}
	w.transfer("A1234BC", "MDI", "LEI", t0.Add(2*time.Hour))
	again, err := w.l.Command(ctx, mdi, "A1234BC", cmd, o)
	if err != nil || !again.Duplicate || again.Revision != first.Revision || again.Events[0].ID != first.Events[0].ID {
		t.Fatalf("replay: %v %+v", err, again)
	}
	// A new key is a new command, and authorised: MDI no longer sees the person.
	o.IdempotencyKey = "ui:mdi:2"
	if _, err := w.l.Command(ctx, mdi, "A1234BC", cmd, o); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("new key: %v, want not found", err)
	}
}

// If-Match: a journey at another revision is refused without retrying, but
// only after the authorisation, so that it says nothing to a stranger.
func TestCommandIfRevision(t *testing.T) {
	w := newWorld(t)
	rec := w.receive("A1234BC", "MDI")
	ctx := context.Background()
	cmd := aggregates.CompleteScreening{At: t0.Add(time.Hour)}
	stale := rec.Revision - 1
	_, err := w.l.Command(ctx, mdi, "A1234BC", cmd, ledger.CommandOptions{Source: aggregates.SourceAPI, IfRevision: &stale})
	var mismatch *journeys.RevisionMismatchError
	if !errors.As(err, &mismatch) || mismatch.Current != rec.Revision || mismatch.Expected != stale {
		t.Fatalf("stale If-Match: %v", err)
	}
	if _, err := w.l.Command(ctx, lei, "A1234BC", cmd, ledger.CommandOptions{Source: aggregates.SourceAPI, IfRevision: &stale}); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("stranger with a stale If-Match: %v, want not found", err)
	}
	cur := rec.Revision
	res, err := w.l.Command(ctx, mdi, "A1234BC", cmd, ledger.CommandOptions{Source: aggregates.SourceAPI, IfRevision: &cur})
	if err != nil || res.Revision != cur+1 {
		t.Fatalf("current If-Match: %v %+v", err, res)
	}
}

// A journey that keeps moving answers ErrConflict after the command service's
// attempts, each authorised again.
func TestCommandConflictAfterAttempts(t *testing.T) {
	w := newWorld(t)
	w.receive("A1234BC", "MDI")
	pathways := aggregates.Pathways()
	calls := 0
	w.setMoves(func() {
		w.do("A1234BC", aggregates.IdentifyNeed{Pathway: pathways[calls%len(pathways)], Description: "need", At: t0.Add(time.Duration(calls+1) * time.Minute)})
		calls++
	})
	w.svc.MaxAttempts = 3
	_, err := w.l.Command(context.Background(), mdi, "A1234BC", aggregates.CompleteScreening{At: t0.Add(time.Hour)},
		ledger.CommandOptions{Source: aggregates.SourceAPI})
	w.setMoves(nil)
	var conflict *journeys.ConflictError
	if !errors.As(err, &conflict) || !errors.Is(err, journeys.ErrConflict) || conflict.Attempts != 3 || calls != 3 {
		t.Fatalf("err %v, %d moves; want a conflict after 3 attempts", err, calls)
	}
}
