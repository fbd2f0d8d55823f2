package journeys_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventlog/eventlogtest"
	"github.com/gateledger/gateledger/journeys"
)

const noms = "A4092EA"

var (
	t0  = time.Date(2024, 6, 24, 15, 6, 39, 0, time.UTC)
	now = time.Date(2025, 1, 6, 12, 0, 0, 0, time.UTC)
)

func newService(t *testing.T) *journeys.Service {
	t.Helper()
	return &journeys.Service{Store: eventlogtest.Store(t), Policy: aggregates.DefaultPolicy(nil),
		Clock: func() time.Time { return now }, Logger: eventlogtest.Logger()}
}

func staff(key string) journeys.CommandMeta {
	return journeys.CommandMeta{UserID: "officer-1", Role: "PRISON_STAFF", Organisation: "SWI", Source: aggregates.SourceAPI,
		CorrelationID: "req-1", IdempotencyKey: key}
}

var receive = aggregates.ReceivePrisoner{NOMS: noms, Kind: aggregates.ReceptionSentence, Prison: "SWI", At: t0}

// must(t)(svc.Handle(...)) fails the test on an error.
func must(t *testing.T) func(journeys.Result, error) journeys.Result {
	return func(res journeys.Result, err error) journeys.Result {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
}

func TestHandleRecordsWithMetadataAndChain(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)

	// Given nothing, when a reception is recorded,
	res := must(t)(svc.Handle(ctx, noms, receive, staff("k1")))
	// then one event is appended at revision 0 with the sender's metadata.
	if len(res.Events) != 1 || res.Revision != 0 || res.Duplicate || res.Position.Commit == 0 || res.Journey.Custody != aggregates.InCustody {
		t.Fatalf("reception: %+v", res)
	}
	m := res.Events[0].Metadata
	if m.UserID != "officer-1" || m.Organisation != "SWI" || m.Source != aggregates.SourceAPI || m.CorrelationID != "req-1" ||
		m.IdempotencyKey != "k1" || !m.OccurredAt.Equal(t0) || !m.RecordedAt.Equal(now) || m.Command != "ReceivePrisoner" ||
		m.SchemaVersion != (aggregates.PrisonerReceived{}).SchemaVersion() || m.Hash == "" {
		t.Fatalf("metadata %+v", m)
	}

	// When screening follows, it chains on.
	res = must(t)(svc.Handle(ctx, noms, aggregates.CompleteScreening{At: t0.Add(time.Hour)}, staff("k2")))
	if res.Revision != 1 || res.Events[0].Metadata.PreviousHash != m.Hash {
		t.Fatalf("screening: %+v", res)
	}
	j, rev, err := svc.Load(ctx, noms)
	if err != nil || rev != 1 || j.ScreenedAt.IsZero() || j.Version != 2 {
		t.Fatalf("load: %+v %d %v", j, rev, err)
	}
	v, err := eventlog.VerifyStream(ctx, svc.Store, aggregates.StreamName(noms))
	if err != nil || !v.OK() || v.Checked != 2 {
		t.Fatalf("verify: %+v %v", v.Break, err)
	}
}

func TestIdempotency(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	first := must(t)(svc.Handle(ctx, noms, receive, staff("k1")))

	tests := []struct {
		name    string
		cmd     aggregates.Command
		key     string
		wantErr error
		dup     bool
	}{
		// The same command under the same key: recorded once, first result.
		{"same command, same key", receive, "k1", nil, true},
		// A different command under a used key is refused.
		{"different command, same key", aggregates.CompleteScreening{At: t0.Add(time.Hour)}, "k1", journeys.ErrIdempotencyKeyReused, false},
		// The same command under a new key is already reflected: nothing recorded.
		{"same command, new key", receive, "k2", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := svc.Handle(ctx, noms, tt.cmd, staff(tt.key))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if res.Duplicate != tt.dup || res.Revision != 0 || res.Position != first.Position {
				t.Fatalf("result %+v", res)
			}
			if tt.dup && (len(res.Events) != 1 || res.Events[0].ID != first.Events[0].ID || res.Events[0].Metadata.Hash != first.Events[0].Metadata.Hash) {
				t.Fatalf("duplicate result differs from first: %+v", res.Events)
			}
			if !tt.dup && len(res.Events) != 0 {
				t.Fatalf("recorded %d events", len(res.Events))
			}
		})
	}
	var kr *journeys.KeyReusedError
	_, err := svc.Handle(ctx, noms, aggregates.CompleteScreening{At: t0.Add(time.Hour)}, staff("k1"))
	if !errors.As(err, &kr) || kr.First != "ReceivePrisoner" || kr.Command != "CompleteScreening" {
		t.Fatalf("key reuse error %#v", err)
	}
	st, err := svc.LoadStream(ctx, noms)
	if err != nil || len(st.Events) != 1 {
		t.Fatalf("stream has %d events: %v", len(st.Events), err)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	rev0 := int64(0)
	noRev := eventlog.NoRevision
	tests := []struct {
		name  string
		given []aggregates.Command
		noms  string
		cmd   aggregates.Command
		meta  func(journeys.CommandMeta) journeys.CommandMeta
		want  error
	}{
		{"release before reception is the aggregate's error", nil, noms,
			aggregates.ReleasePrisoner{Kind: aggregates.ReleaseDischarged, Prison: "SWI", At: t0}, nil, aggregates.ErrNotReceived},
		{"reception for another person", nil, noms,
			aggregates.ReceivePrisoner{NOMS: "B1234CD", Kind: aggregates.ReceptionSentence, Prison: "SWI", At: t0}, nil, aggregates.ErrInvalidValue},
		{"malformed prison number", nil, "A4092E", receive, nil, aggregates.ErrInvalidIdentifier},
		{"nobody sent it", nil, noms, receive, func(m journeys.CommandMeta) journeys.CommandMeta { m.UserID = ""; return m }, aggregates.ErrInvalidValue},
		{"unknown source", nil, noms, receive, func(m journeys.CommandMeta) journeys.CommandMeta { m.Source = "fax"; return m }, aggregates.ErrInvalidValue},
		{"nil command", nil, noms, nil, nil, aggregates.ErrUnknownCommand},
		{"If-Match on a stale revision", []aggregates.Command{receive}, noms, aggregates.CompleteScreening{At: t0.Add(time.Hour)},
			func(m journeys.CommandMeta) journeys.CommandMeta { m.IfRevision = &noRev; return m }, journeys.ErrRevisionMismatch},
		{"correction of an event not in the journey", []aggregates.Command{receive}, noms,
			aggregates.CorrectFact{CorrectsEventID: "7d9f7b4e-2a4c-4e51-9b58-0d3a56a3c2f1", Field: aggregates.FieldNote, Reason: "typo", At: t0.Add(time.Hour)},
			nil, journeys.ErrCorrectedEventNotFound},
		{"correction with a malformed id is the aggregate's error", []aggregates.Command{receive}, noms,
			aggregates.CorrectFact{CorrectsEventID: "not-a-uuid", Field: aggregates.FieldNote, Reason: "typo", At: t0.Add(time.Hour)},
			nil, aggregates.ErrInvalidIdentifier},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := tt.noms
			if len(tt.given) > 0 {
				n = fmt.Sprintf("C%04dAA", i) // a fresh journey per case
				for j, c := range tt.given {
					if r, ok := c.(aggregates.ReceivePrisoner); ok {
						r.NOMS = n
						c = r
					}
					must(t)(svc.Handle(ctx, n, c, staff(fmt.Sprint("given-", j))))
				}
			}
			m := staff("when")
			if tt.meta != nil {
				m = tt.meta(m)
			}
			res, err := svc.Handle(ctx, n, tt.cmd, m)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
			if len(res.Events) != 0 {
				t.Fatalf("recorded %+v", res.Events)
			}
		})
	}
	// The aggregate's rule error is returned as it is.
	_, err := svc.Handle(ctx, noms, aggregates.ReleasePrisoner{Kind: aggregates.ReleaseDischarged, Prison: "SWI", At: t0}, staff("x"))
	var re *aggregates.RuleError
	if !errors.As(err, &re) || re.Rule != "requires-reception" {
		t.Fatalf("rule error %#v", err)
	}
	// If-Match on the current revision goes through.
	st := must(t)(svc.Handle(ctx, "C9999AA", aggregates.ReceivePrisoner{NOMS: "C9999AA", Kind: aggregates.ReceptionRemand, Prison: "LEI", At: t0}, staff("r")))
	m := staff("s")
	m.IfRevision = &rev0
	if _, err := svc.Handle(ctx, "C9999AA", aggregates.CompleteScreening{At: t0.Add(time.Hour)}, m); err != nil || st.Revision != 0 {
		t.Fatalf("If-Match current: %v", err)
	}
}

func TestCorrectFactOfARecordedEvent(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	first := must(t)(svc.Handle(ctx, noms, receive, staff("k1")))
	// Given a reception, when its kind is corrected by its event id,
	res := must(t)(svc.Handle(ctx, noms, aggregates.CorrectFact{CorrectsEventID: first.Events[0].ID.String(),
		Field: aggregates.FieldReceptionKind, Value: string(aggregates.ReceptionRecall), Reason: "was a recall", At: t0.Add(time.Hour)}, staff("k2")))
	// then the correction is a new event; history is unchanged.
	if len(res.Events) != 1 || res.Events[0].Type != aggregates.TypeFactCorrected || len(res.Journey.Corrections) != 1 {
		t.Fatalf("correction: %+v", res)
	}
}

// TestConflictRetry forces a concurrent write between every load and append:
// the clock is read after the load, and this clock writes to the journey.
func TestConflictRetry(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	must(t)(svc.Handle(ctx, noms, receive, staff("k0")))
	must(t)(svc.Handle(ctx, noms, aggregates.IdentifyNeed{Pathway: aggregates.PathwayAccommodation, Description: "no address", At: t0}, staff("n")))
	other := &journeys.Service{Store: svc.Store, Policy: svc.Policy, Clock: func() time.Time { return now }, Logger: svc.Logger}
	interfere := func(test, times int) func() time.Time {
		n := 0
		return func() time.Time {
			if n < times {
				n++
				id := fmt.Sprint("other-", test, "-", n)
				if _, err := other.Handle(ctx, noms, aggregates.AgreeAction{ActionID: id, Pathway: aggregates.PathwayAccommodation,
					Description: "interfere", At: t0.Add(time.Minute)}, staff(id)); err != nil {
					t.Errorf("interfering write: %v", err)
				}
			}
			return now
		}
	}
	tests := []struct {
		name         string
		interference int
		wantAttempts int
		wantErr      error
	}{
		{"one conflict, then success", 1, 2, nil},
		{"four conflicts, success on the last attempt", 4, 5, nil},
		{"conflict every time", 100, 5, journeys.ErrConflict},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc.Clock = interfere(i, tt.interference)
			res, err := svc.Handle(ctx, noms, aggregates.AgreeAction{ActionID: fmt.Sprint("a", i), Pathway: aggregates.PathwayAccommodation,
				Description: "do", At: t0.Add(2 * time.Minute)}, staff(fmt.Sprint("act-", i)))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			var ce *journeys.ConflictError
			if err != nil && (!errors.As(err, &ce) || ce.Attempts != tt.wantAttempts || !errors.Is(err, eventlog.ErrWrongExpectedRevision)) {
				t.Fatalf("conflict error %#v", err)
			}
			if err == nil && (res.Attempts != tt.wantAttempts || len(res.Events) != 1) {
				t.Fatalf("attempts %d, events %d", res.Attempts, len(res.Events))
			}
		})
	}
	v, err := eventlog.VerifyStream(ctx, svc.Store, aggregates.StreamName(noms))
	if err != nil || !v.OK() {
		t.Fatalf("verify: %+v %v", v.Break, err)
	}
}

// TestConcurrentWriters runs many goroutines against one journey: every
// command either records its event exactly once or fails with ErrConflict;
// revisions stay dense and the chain verifies.
func TestConcurrentWriters(t *testing.T) {
	for _, attempts := range []int{journeys.DefaultMaxAttempts, 1000} {
		t.Run(fmt.Sprint("max attempts ", attempts), func(t *testing.T) {
			ctx := context.Background()
			svc := newService(t)
			svc.MaxAttempts = attempts
			must(t)(svc.Handle(ctx, noms, receive, staff("r")))
			must(t)(svc.Handle(ctx, noms, aggregates.IdentifyNeed{Pathway: aggregates.PathwayAccommodation, Description: "no address", At: t0}, staff("n")))

			const writers, each = 12, 5
			var (
				wg        sync.WaitGroup
				mu        sync.Mutex
				ok        = map[string]journeys.Result{}
				conflicts int
				others    []error
			)
			for w := range writers {
				wg.Go(func() {
					for i := range each {
						id := fmt.Sprintf("w%d-%d", w, i)
						cmd := aggregates.AgreeAction{ActionID: id, Pathway: aggregates.PathwayAccommodation, Description: "find a bed", At: t0.Add(time.Hour)}
						res, err := svc.Handle(ctx, noms, cmd, staff(id))
						// A retry of the same command under its key is answered, never doubled.
						if err == nil {
							again, err2 := svc.Handle(ctx, noms, cmd, staff(id))
							if err2 != nil || !again.Duplicate || again.Events[0].ID != res.Events[0].ID {
								err = fmt.Errorf("retry of %s: %+v %v", id, again, err2)
							}
						}
						mu.Lock()
						switch {
						case err == nil:
							ok[id] = res
						case errors.Is(err, journeys.ErrConflict):
							conflicts++
						default:
							others = append(others, err)
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if len(others) > 0 {
				t.Fatalf("unexpected errors: %v", others)
			}
			if len(ok)+conflicts != writers*each {
				t.Fatalf("%d ok + %d conflicts != %d", len(ok), conflicts, writers*each)
			}
			if attempts > journeys.DefaultMaxAttempts && conflicts != 0 {
				t.Fatalf("%d conflicts with %d attempts", conflicts, attempts)
			}
			st, err := svc.LoadStream(ctx, noms)
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Events) != 2+len(ok) || len(st.Journey.Actions) != len(ok) {
				t.Fatalf("%d events, %d actions for %d successes", len(st.Events), len(st.Journey.Actions), len(ok))
			}
			seen := map[string]bool{}
			for i, ev := range st.Events {
				if ev.Revision != uint64(i) {
					t.Fatalf("revision %d at %d", ev.Revision, i)
				}
				if a, isAction := ev.Event.(aggregates.ActionAgreed); isAction {
					res, recorded := ok[a.ActionID]
					if seen[a.ActionID] || !recorded || res.Revision != int64(ev.Revision) || res.Events[0].ID != ev.ID {
						t.Fatalf("action %s at %d: recorded=%v seen=%v result %+v", a.ActionID, ev.Revision, recorded, seen[a.ActionID], res)
					}
					seen[a.ActionID] = true
				}
			}
			if v := eventlog.VerifyEvents(st.Stream, recordedOf(st)); !v.OK() {
				t.Fatalf("chain: %v", v.Break)
			}
			t.Logf("%d recorded, %d gave up after %d attempts", len(ok), conflicts, attempts)
		})
	}
}

func recordedOf(st eventlog.JourneyStream) []eventlog.Recorded {
	out := make([]eventlog.Recorded, len(st.Events))
	for i, ev := range st.Events {
		out[i] = ev.Recorded
	}
	return out
}
