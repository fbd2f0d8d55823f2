package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/hmpps"
	"github.com/gateledger/gateledger/ingest"
	"github.com/gateledger/gateledger/journeys"
)

var admin = ingest.Actor{ID: "token:admin1", Name: "Ada Admin", Role: "admin", Source: aggregates.SourceAPI}

// bareFor is bare for another person.
func bareFor(person, eventType, reason, prison, at, code string) []byte {
	return fmt.Appendf(nil, `{"version":1,"eventType":%q,"occurredAt":%q,"additionalInformation":{"nomsNumber":%q,"reason":%q,"prisonId":%q,"nomisMovementReasonCode":%q}}`,
		eventType, at, person, reason, prison, code)
}

// tickingClock advances a minute at every reading.
func tickingClock() func() time.Time {
	var mu sync.Mutex
	t := now
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Minute)
		return t
	}
}

func streamTypes(t *testing.T, f *ingest.Feed) []string {
	t.Helper()
	recs, err := eventlog.ReadStream(context.Background(), f.Journeys.Store, ingest.DefaultDeadLetterStream)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, r.Type)
	}
	return out
}

func TestSeenAgainBumpsLastSeenAndAttempts(t *testing.T) {
	f := newFeed(t)
	f.Clock = tickingClock()
	release := sample(t, "release-event.json")
	// Given a release dead-lettered, delivered twice more while open,
	first := ingestOK(t, f, release, hmpps.DeadLetter)
	ingestOK(t, f, release, hmpps.DeadLetter)
	third := ingestOK(t, f, release, hmpps.DeadLetter)
	// then there is one letter, seen three times, its last sighting later
	// than its first, and each sighting an event.
	ls := deadLetters(t, f)
	if len(ls) != 1 || ls[0].Attempts != 3 || !ls[0].LastSeen.After(ls[0].FirstSeen) || !ls[0].Open() {
		t.Fatalf("letters %+v", ls)
	}
	if first.DeadLetter.AlreadyOpen || !third.DeadLetter.AlreadyOpen || third.DeadLetter.EventID != first.DeadLetter.EventID || third.DeadLetter.Attempts != 3 {
		t.Fatalf("refs %+v %+v", first.DeadLetter, third.DeadLetter)
	}
	want := []string{ingest.TypeDeadLetterRecorded, ingest.TypeDeadLetterSeenAgain, ingest.TypeDeadLetterSeenAgain}
	if got := streamTypes(t, f); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("stream %v, want %v", got, want)
	}
	what, next := ingest.Explain(ls[0])
	if what == "" || next == "" || ls[0].Rule != "requires-reception" {
		t.Fatalf("explain %q %q (rule %q)", what, next, ls[0].Rule)
	}
}

func TestUnmappedCodeIsNamed(t *testing.T) {
	f := newFeed(t)
	ingestOK(t, f, bare(hmpps.EventReleased, "UNKNOWN", "MDI", "2024-12-11T15:43:20Z", "ZZ"), hmpps.DeadLetter)
	ls := deadLetters(t, f)
	if len(ls) != 1 || ls[0].Reason != ingest.ReasonUnmappable || ls[0].MovementCode != "ZZ" {
		t.Fatalf("letters %+v", ls)
	}
	if what, _ := ingest.Explain(ls[0]); what != "The ledger does not know what movement code ZZ means, so it did not guess." {
		t.Fatalf("explain %q", what)
	}
}

func TestDiscard(t *testing.T) {
	ctx := context.Background()
	f := newFeed(t)
	release := ingestOK(t, f, sample(t, "release-event.json"), hmpps.DeadLetter).DeadLetter.EventID
	unknown := ingestOK(t, f, bare(hmpps.EventReleased, "UNKNOWN", "MDI", "2024-12-11T15:43:20Z", "ZZ"), hmpps.DeadLetter).DeadLetter.EventID
	tests := []struct {
		name   string
		id     uuid.UUID
		reason string
		by     ingest.Actor
		errIs  error
	}{
		{"a reason is required", unknown, "  ", admin, ingest.ErrDiscardReason},
		{"a reason has a length", unknown, string(make([]rune, ingest.MaxDiscardReason+1)), admin, ingest.ErrDiscardReason},
		{"no such letter", uuid.New(), "duplicate", admin, ingest.ErrDeadLetterNotFound},
		{"a person decides", unknown, "duplicate", ingest.Actor{}, nil},
		{"discarded with its reason", unknown, "  Not a release: an administrative merge, checked with MDI ", admin, nil},
		{"discarded again changes nothing", unknown, "again", admin, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := f.Discard(ctx, tt.id, tt.reason, tt.by)
			if tt.errIs != nil {
				if !errors.Is(err, tt.errIs) {
					t.Fatalf("err %v, want %v", err, tt.errIs)
				}
				return
			}
			if tt.by.ID == "" {
				if err == nil {
					t.Fatal("a discard by nobody was recorded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.State != ingest.StateDiscarded || d.DiscardedBy != admin.ID || d.DiscardedName != admin.Name ||
				d.DiscardReason != "Not a release: an administrative merge, checked with MDI" {
				t.Fatalf("letter %+v", d)
			}
		})
	}
	// The discard is one event, who and why in it and in its metadata.
	recs, err := eventlog.ReadStream(ctx, f.Journeys.Store, ingest.DefaultDeadLetterStream)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.Type == ingest.TypeDeadLetterDiscarded {
			n++
			if r.Metadata.UserID != admin.ID || r.Metadata.Role != "admin" || r.Metadata.Source != aggregates.SourceAPI {
				t.Errorf("discard metadata %+v", r.Metadata)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d discard events", n)
	}
	// A discarded letter is never redriven, and cannot be asked for.
	if _, err := f.RedriveWith(ctx, ingest.RedriveRequest{IDs: []uuid.UUID{unknown}, By: admin}); !errors.Is(err, ingest.ErrDeadLetterClosed) {
		t.Fatalf("redrive of a discarded letter: %v", err)
	}
	ingestOK(t, f, sample(t, "intake-event.json"), hmpps.Apply)
	for _, m := range transferToMDI() {
		ingestOK(t, f, m, hmpps.Apply)
	}
	rep, err := f.Redrive(ctx)
	if err != nil || len(rep.Resolved) != 1 || rep.Resolved[0].DeadLetterID != release || len(rep.Remaining) != 0 {
		t.Fatalf("redrive %+v %v", rep, err)
	}
	// And a resolved one cannot be discarded.
	if _, err := f.Discard(ctx, release, "too late", admin); !errors.Is(err, ingest.ErrDeadLetterClosed) {
		t.Fatalf("discard of a resolved letter: %v", err)
	}
	if ls := deadLetters(t, f); ls[0].State != ingest.StateResolved || ls[1].State != ingest.StateDiscarded {
		t.Fatalf("letters %+v", ls)
	}
}

func TestManualRedriveRecordsEachAttempt(t *testing.T) {
	ctx := context.Background()
	f := newFeed(t)
	id := ingestOK(t, f, sample(t, "release-event.json"), hmpps.DeadLetter).DeadLetter.EventID
	// An automatic redrive that fails as before records nothing;
	if _, err := f.Redrive(ctx); err != nil {
		t.Fatal(err)
	}
	// a person's redrive records the attempt, by them, even when it fails.
	rep, err := f.RedriveWith(ctx, ingest.RedriveRequest{IDs: []uuid.UUID{id}, By: admin})
	if err != nil || len(rep.Remaining) != 1 || !errors.Is(rep.Remaining[0].Err, aggregates.ErrNotReceived) {
		t.Fatalf("redrive %+v %v", rep, err)
	}
	want := []string{ingest.TypeDeadLetterRecorded, ingest.TypeDeadLetterRedriveFailed}
	if got := streamTypes(t, f); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("stream %v, want %v", got, want)
	}
	l := deadLetters(t, f)[0]
	if l.Attempts != 2 || len(l.Steps) != 2 || l.Steps[1].By != admin.ID {
		t.Fatalf("letter %+v", l)
	}
	// Once the reception is in, the person's redrive applies it and says who.
	ingestOK(t, f, sample(t, "intake-event.json"), hmpps.Apply)
	for _, m := range transferToMDI() {
		ingestOK(t, f, m, hmpps.Apply)
	}
	if rep, err := f.RedriveWith(ctx, ingest.RedriveRequest{NOMS: noms, By: admin}); err != nil || len(rep.Resolved) != 1 {
		t.Fatalf("redrive %+v %v", rep, err)
	}
	if l := deadLetters(t, f)[0]; l.State != ingest.StateResolved || l.Trigger != ingest.TriggerManual || l.ResolvedBy != admin.ID {
		t.Fatalf("letter %+v", l)
	}
	if _, err := f.RedriveWith(ctx, ingest.RedriveRequest{IDs: []uuid.UUID{uuid.New()}, By: admin}); !errors.Is(err, ingest.ErrDeadLetterNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
}

func TestListFiltersAndPages(t *testing.T) {
	ctx := context.Background()
	f := newFeed(t)
	// Given letters for three people, of two reasons, one of them discarded,
	people := []string{"A1111AA", "B2222BB", "C3333CC"}
	var ids []uuid.UUID
	for i, p := range people {
		for j := range 3 {
			at := fmt.Sprintf("2024-12-%02dT10:00:00Z", 1+i*3+j)
			body := bareFor(p, hmpps.EventReleased, "RELEASED", "MDI", at, "NCS")
			if j == 2 {
				body = bareFor(p, hmpps.EventReleased, "UNKNOWN", "MDI", at, "ZZ")
			}
			ids = append(ids, ingestOK(t, f, body, hmpps.DeadLetter).DeadLetter.EventID)
		}
	}
	if _, err := f.Discard(ctx, ids[0], "a test", admin); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		q     ingest.DeadLetterQuery
		total int
	}{
		{"all", ingest.DeadLetterQuery{}, 9},
		{"open", ingest.DeadLetterQuery{State: ingest.StateOpen}, 8},
		{"discarded", ingest.DeadLetterQuery{State: ingest.StateDiscarded}, 1},
		{"resolved", ingest.DeadLetterQuery{State: ingest.StateResolved}, 0},
		{"one person", ingest.DeadLetterQuery{NOMS: "B2222BB"}, 3},
		{"one reason", ingest.DeadLetterQuery{Reason: ingest.ReasonUnmappable}, 3},
		{"open, one person, one reason", ingest.DeadLetterQuery{State: ingest.StateOpen, NOMS: "A1111AA", Reason: ingest.ReasonRejected}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Walked two at a time, the pages hold every match once, in order.
			q := tt.q
			q.Limit = 2
			var seen []ingest.DeadLetter
			for range 10 {
				pg, err := f.ListDeadLetters(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if pg.Total != tt.total || len(pg.Letters) > 2 || pg.Counts[ingest.StateOpen] != 8 {
					t.Fatalf("page %+v", pg)
				}
				seen = append(seen, pg.Letters...)
				if pg.Next == "" {
					break
				}
				q.After = pg.Next
			}
			if len(seen) != tt.total {
				t.Fatalf("%d letters over the pages, want %d", len(seen), tt.total)
			}
			for i, l := range seen {
				if !tt.q.Matches(l) || (i > 0 && l.Revision <= seen[i-1].Revision) {
					t.Fatalf("letter %d %+v", i, l)
				}
			}
		})
	}
	if _, err := f.ListDeadLetters(ctx, ingest.DeadLetterQuery{After: "x"}); !errors.Is(err, ingest.ErrBadCursor) {
		t.Fatalf("bad cursor: %v", err)
	}
	if d, err := f.DeadLetter(ctx, ids[4]); err != nil || d.NOMS != "B2222BB" {
		t.Fatalf("one letter: %+v %v", d, err)
	}
}

// TestRedriverAppliesWhatWasWaiting: a release dead-lettered before its
// reception is applied by itself once the reception arrives, whether the
// reception comes through the feed or through the command service (the API
// and the pages), and the queue says so.
func TestRedriverAppliesWhatWasWaiting(t *testing.T) {
	tests := []struct {
		name    string
		person  string
		receive func(t *testing.T, f *ingest.Feed, person string)
	}{
		{"reception from the feed", "A1111AA", func(t *testing.T, f *ingest.Feed, person string) {
			ingestOK(t, f, bareFor(person, hmpps.EventReceived, "ADMISSION", "MDI", "2024-06-01T10:00:00Z", "N"), hmpps.Apply)
		}},
		{"reception through the API", "B2222BB", func(t *testing.T, f *ingest.Feed, person string) {
			_, err := f.Journeys.Handle(context.Background(), person, aggregates.ReceivePrisoner{NOMS: person, Kind: aggregates.ReceptionAdmission,
				Prison: "MDI", At: time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC)}, journeys.CommandMeta{UserID: "token:mdi", Role: "prison",
				Organisation: "MDI", Source: aggregates.SourceAPI, IdempotencyKey: "api-reception-" + person})
			if err != nil {
				t.Fatal(err)
			}
		}},
	}
	f := newFeed(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&ingest.Redriver{Feed: f, Retry: 50 * time.Millisecond}).Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Given a release before its reception, and an unmapped code,
			release := ingestOK(t, f, bareFor(tt.person, hmpps.EventReleased, "RELEASED", "MDI", "2024-09-01T10:00:00Z", "NCS"), hmpps.DeadLetter)
			unmapped := ingestOK(t, f, bareFor(tt.person, hmpps.EventReleased, "UNKNOWN", "MDI", "2024-09-02T10:00:00Z", "ZZ"), hmpps.DeadLetter)
			// when the reception arrives,
			tt.receive(t, f, tt.person)
			// then the release is applied by itself, and the other waits.
			deadline := time.Now().Add(20 * time.Second)
			for {
				d, err := f.DeadLetter(context.Background(), release.DeadLetter.EventID)
				if err != nil {
					t.Fatal(err)
				}
				if d.State == ingest.StateResolved {
					if d.Trigger != ingest.TriggerAutomatic || d.ResolvedBy != "" {
						t.Fatalf("resolved %+v", d)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the release is still %s after its reception arrived", d.State)
				}
				time.Sleep(20 * time.Millisecond)
			}
			st, err := f.Journeys.LoadStream(context.Background(), tt.person)
			if err != nil {
				t.Fatal(err)
			}
			if st.Journey.Custody != aggregates.Released || len(st.Events) != 2 {
				t.Fatalf("journey %+v (%d events)", st.Journey.Custody, len(st.Events))
			}
			if d, err := f.DeadLetter(context.Background(), unmapped.DeadLetter.EventID); err != nil || !d.Open() || d.Attempts != 1 {
				t.Fatalf("unmapped letter %+v %v", d, err)
			}
		})
	}
}

func TestAlreadyApplied(t *testing.T) {
	f := newFeed(t)
	intake := sample(t, "intake-event.json")
	if out := ingestOK(t, f, intake, hmpps.Apply); out.AlreadyApplied {
		t.Fatalf("first delivery: %+v", out)
	}
	if out := ingestOK(t, f, intake, hmpps.Apply); !out.AlreadyApplied {
		t.Fatalf("second delivery: %+v", out)
	}
}
