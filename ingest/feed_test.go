package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventlog/eventlogtest"
	"github.com/gateledger/gateledger/hmpps"
	"github.com/gateledger/gateledger/ingest"
	"github.com/gateledger/gateledger/journeys"
)

const noms = "A4092EA"

var now = time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)

func newFeed(t *testing.T) *ingest.Feed {
	t.Helper()
	svc := &journeys.Service{Store: eventlogtest.Store(t), Policy: aggregates.DefaultPolicy(nil),
		Clock: func() time.Time { return now }, Logger: eventlogtest.Logger()}
	return &ingest.Feed{Journeys: svc, Logger: eventlogtest.Logger()}
}

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "hmpps", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bare is a bare HMPPS event for the journey of noms.
func bare(eventType, reason, prison, at, code string) []byte {
	return fmt.Appendf(nil, `{"version":1,"eventType":%q,"occurredAt":%q,"personReference":{"identifiers":[{"type":"NOMS","value":%q}]},`+
		`"additionalInformation":{"nomsNumber":%q,"reason":%q,"prisonId":%q,"nomisMovementReasonCode":%q}}`,
		eventType, at, noms, noms, reason, prison, code)
}

// transferToMDI is the transfer that takes the person of the samples from
// SWI, where the intake sample receives them, to MDI, which the release
// sample releases them from (a release from a prison that does not hold the
// person is refused).
func transferToMDI() [][]byte {
	return [][]byte{bare(hmpps.EventReleased, "TRANSFERRED", "SWI", "2024-11-15T09:00:00Z", "INT"),
		bare(hmpps.EventReceived, "TRANSFERRED", "MDI", "2024-11-15T14:00:00Z", "INT")}
}

var transferSteps = []step{
	{aggregates.TypeTransferDeparted, "", "", false},
	{aggregates.TypePrisonerTransferred, "", "", false},
}

func ingestOK(t *testing.T, f *ingest.Feed, body []byte, want hmpps.Disposition) ingest.Outcome {
	t.Helper()
	out, err := f.Ingest(context.Background(), body)
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	if out.Disposition != want {
		t.Fatalf("disposition %v (%s: %v), want %v", out.Disposition, out.Reason, out.Err, want)
	}
	return out
}

type step struct {
	Type   string
	Kind   string
	Prison string
	Late   bool
}

func journeySteps(t *testing.T, f *ingest.Feed) ([]step, eventlog.JourneyStream) {
	t.Helper()
	st, err := f.Journeys.LoadStream(context.Background(), noms)
	if err != nil {
		t.Fatal(err)
	}
	var out []step
	for _, ev := range st.Events {
		switch e := ev.Event.(type) {
		case aggregates.PrisonerReceived:
			out = append(out, step{ev.Type, string(e.Kind), e.Prison, e.Late})
		case aggregates.PrisonerReleased:
			out = append(out, step{ev.Type, string(e.Kind), e.Prison, e.Late})
		case aggregates.TemporaryAbsenceStarted:
			out = append(out, step{ev.Type, "", e.Prison, e.Late})
		default:
			out = append(out, step{Type: ev.Type})
		}
		if ev.Metadata.Source != aggregates.SourceHMPPSFeed || ev.Metadata.UserID != ingest.FeedUser || ev.Metadata.IdempotencyKey == "" {
			t.Errorf("event %d metadata %+v", ev.Revision, ev.Metadata)
		}
	}
	if v, err := eventlog.VerifyStream(context.Background(), f.Journeys.Store, st.Stream); err != nil || !v.OK() {
		t.Fatalf("journey chain: %v %v", v.Break, err)
	}
	return out, st
}

func deadLetters(t *testing.T, f *ingest.Feed) []ingest.DeadLetter {
	t.Helper()
	ls, err := f.DeadLetterList(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if v, err := eventlog.VerifyStream(context.Background(), f.Journeys.Store, ingest.DefaultDeadLetterStream); err != nil || !v.OK() {
		t.Fatalf("dead-letter chain: %v %v", v.Break, err)
	}
	return ls
}

func equalSteps(a, b []step) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// laterRecall is the recall sample as it would arrive for a recall after the
// release sample: same message, later occurredAt.
func laterRecall(t *testing.T) []byte {
	return bytes.Replace(sample(t, "recall-event.json"), []byte(`2024-06-24T16:06:39+01:00`), []byte(`2025-03-03T10:15:00Z`), 1)
}

func TestSamplesEndToEnd(t *testing.T) {
	f := newFeed(t)
	intake, release, recall := sample(t, "intake-event.json"), sample(t, "release-event.json"), sample(t, "recall-event.json")

	// Given the intake sample, then the release sample,
	out := ingestOK(t, f, intake, hmpps.Apply)
	if len(out.Commands) != 1 || out.Commands[0].Events != 1 || out.NOMS != noms || out.MessageID == "" {
		t.Fatalf("intake: %+v", out)
	}
	for _, m := range transferToMDI() {
		ingestOK(t, f, m, hmpps.Apply)
	}
	ingestOK(t, f, release, hmpps.Apply)
	// when the recall sample arrives (the same movement as the intake,
	// described as a recall: conflicting), it is dead-lettered, not guessed.
	out = ingestOK(t, f, recall, hmpps.DeadLetter)
	if out.Reason != ingest.ReasonRejected || !errors.Is(out.Err, aggregates.ErrConflictingDuplicate) || out.DeadLetter == nil {
		t.Fatalf("recall sample: %+v", out)
	}
	// And a recall reception after the release is recorded as a recall.
	ingestOK(t, f, laterRecall(t), hmpps.Apply)

	got, st := journeySteps(t, f)
	want := []step{
		{aggregates.TypePrisonerReceived, string(aggregates.ReceptionAdmission), "SWI", false},
		transferSteps[0], transferSteps[1],
		{aggregates.TypePrisonerReleased, string(aggregates.ReleaseOnLicence), "MDI", false},
		{aggregates.TypePrisonerReceived, string(aggregates.ReceptionRecall), "SWI", false},
	}
	if !equalSteps(got, want) {
		t.Fatalf("journey:\n got %+v\nwant %+v", got, want)
	}
	if j := st.Journey; j.Custody != aggregates.InCustody || j.Recalls != 1 || j.Receptions != 2 {
		t.Fatalf("journey state %+v", j)
	}
	// The conflicting recall sample is kept with its reason.
	ls := deadLetters(t, f)
	if len(ls) != 1 || ls[0].Rule != "conflicting-duplicate" || ls[0].Message != string(recall) || !ls[0].Open() || ls[0].NOMS != noms {
		t.Fatalf("dead letters %+v", ls)
	}
}

func TestDuplicateDelivery(t *testing.T) {
	f := newFeed(t)
	intake, release := sample(t, "intake-event.json"), sample(t, "release-event.json")
	// Given each message delivered twice, and the intake a third time late,
	first := ingestOK(t, f, intake, hmpps.Apply)
	again := ingestOK(t, f, intake, hmpps.Apply)
	for _, m := range transferToMDI() {
		ingestOK(t, f, m, hmpps.Apply)
	}
	ingestOK(t, f, release, hmpps.Apply)
	ingestOK(t, f, release, hmpps.Apply)
	third := ingestOK(t, f, intake, hmpps.Apply)
	// then the facts are recorded once, and redeliveries answer the first result.
	if !again.Commands[0].Duplicate || !third.Commands[0].Duplicate || again.Commands[0].Revision != first.Commands[0].Revision {
		t.Fatalf("redelivery: %+v %+v", again, third)
	}
	// The same movement in a bare event (another delivery path, another key)
	// is recognised by the aggregate and records nothing.
	out := ingestOK(t, f, bare(hmpps.EventReceived, "ADMISSION", "SWI", "2024-06-24T15:06:39Z", "INTAKE"), hmpps.Apply)
	if out.Commands[0].Events != 0 || out.Commands[0].Duplicate {
		t.Fatalf("same movement, bare: %+v", out)
	}
	got, _ := journeySteps(t, f)
	if len(got) != 4 {
		t.Fatalf("journey %+v", got)
	}
	if ls := deadLetters(t, f); len(ls) != 0 {
		t.Fatalf("dead letters %+v", ls)
	}
}

func TestOutOfOrderAndRedrive(t *testing.T) {
	ctx := context.Background()
	f := newFeed(t)
	intake, release := sample(t, "intake-event.json"), sample(t, "release-event.json")
	absence := bare(hmpps.EventReleased, "TEMPORARY_ABSENCE_RELEASE", "SWI", "2024-11-01T09:00:00Z", "C3")

	// Given the release, then a temporary absence that happened before it,
	// both arriving before the reception,
	out := ingestOK(t, f, release, hmpps.DeadLetter)
	if !errors.Is(out.Err, aggregates.ErrNotReceived) || out.Reason != ingest.ReasonRejected || out.DeadLetter.AlreadyOpen {
		t.Fatalf("release first: %+v", out)
	}
	ingestOK(t, f, absence, hmpps.DeadLetter)
	for _, m := range transferToMDI() {
		ingestOK(t, f, m, hmpps.DeadLetter)
	}
	// and the release delivered again while its dead letter is open,
	out = ingestOK(t, f, release, hmpps.DeadLetter)
	if !out.DeadLetter.AlreadyOpen {
		t.Fatalf("second delivery recorded a second dead letter: %+v", out.DeadLetter)
	}
	// when the reception arrives and the dead letters are redriven,
	ingestOK(t, f, intake, hmpps.Apply)
	rep, err := f.Redrive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// then both apply, in the order they happened (so neither is late).
	if len(rep.Resolved) != 4 || len(rep.Remaining) != 0 || rep.Resolved[3].EventType != hmpps.EventReleased ||
		!rep.Resolved[0].OccurredAt.Before(rep.Resolved[1].OccurredAt) {
		t.Fatalf("redrive: %+v", rep)
	}
	got, _ := journeySteps(t, f)
	want := []step{
		{aggregates.TypePrisonerReceived, string(aggregates.ReceptionAdmission), "SWI", false},
		{aggregates.TypeTemporaryAbsenceStarted, "", "SWI", false},
		transferSteps[0], transferSteps[1],
		{aggregates.TypePrisonerReleased, string(aggregates.ReleaseOnLicence), "MDI", false},
	}
	if !equalSteps(got, want) {
		t.Fatalf("journey:\n got %+v\nwant %+v", got, want)
	}
	// The dead letters are kept and marked resolved, never deleted.
	ls := deadLetters(t, f)
	if len(ls) != 4 || ls[0].State != ingest.StateResolved || ls[1].State != ingest.StateResolved || ls[2].State != ingest.StateResolved || ls[3].State != ingest.StateResolved {
		t.Fatalf("dead letters %+v", ls)
	}
	// Redriving again does nothing; a late redelivery of the release is a duplicate.
	if rep, err := f.Redrive(ctx); err != nil || len(rep.Resolved)+len(rep.Remaining) != 0 {
		t.Fatalf("second redrive: %+v %v", rep, err)
	}
	if out := ingestOK(t, f, release, hmpps.Apply); !out.Commands[0].Duplicate {
		t.Fatalf("late redelivery: %+v", out)
	}
	if got, _ := journeySteps(t, f); len(got) != 5 {
		t.Fatalf("journey after redelivery %+v", got)
	}
}

func TestRedriveKeepsWhatStillFails(t *testing.T) {
	ctx := context.Background()
	f := newFeed(t)
	// Given a release that cannot apply yet and a message that never will,
	ingestOK(t, f, sample(t, "release-event.json"), hmpps.DeadLetter)
	ingestOK(t, f, bare(hmpps.EventReleased, "UNKNOWN", "MDI", "2024-12-11T15:43:20Z", "ZZ"), hmpps.DeadLetter)
	// when redriven with no reception in,
	rep, err := f.Redrive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// then both stay open, each with its error.
	if len(rep.Resolved) != 0 || len(rep.Remaining) != 2 {
		t.Fatalf("redrive: %+v", rep)
	}
	for _, it := range rep.Remaining {
		if !errors.Is(it.Err, aggregates.ErrNotReceived) && !errors.Is(it.Err, hmpps.ErrUnmappable) {
			t.Errorf("remaining %s: %v", it.Key, it.Err)
		}
	}
	if ls := deadLetters(t, f); len(ls) != 2 || !ls[0].Open() || !ls[1].Open() {
		t.Fatalf("dead letters %+v", ls)
	}
}

func TestDeadLettersAndIgnored(t *testing.T) {
	f := newFeed(t)
	unknownType := []byte(`{"eventType":"prison-offender-events.prisoner.alerts-updated","occurredAt":"2024-06-24T15:06:39Z","additionalInformation":{"nomsNumber":"A4092EA"}}`)
	subscription := []byte(`{"Type":"SubscriptionConfirmation","MessageId":"m1","Message":"You have chosen to subscribe"}`)
	tests := []struct {
		name   string
		body   []byte
		want   hmpps.Disposition
		reason string
		errIs  error
	}{
		{"unknown event type is acknowledged and ignored", unknownType, hmpps.Ignore, "ignored", hmpps.ErrUnknownEventType},
		{"SNS subscription confirmation is ignored", subscription, hmpps.Ignore, "ignored", hmpps.ErrUnknownEventType},
		{"not JSON", []byte("this is not json"), hmpps.DeadLetter, ingest.ReasonMalformed, hmpps.ErrMalformed},
		{"not UTF-8", []byte{0xff, 0xfe, '{', 0x80}, hmpps.DeadLetter, ingest.ReasonMalformed, hmpps.ErrMalformed},
		{"no prison number", []byte(`{"eventType":"prison-offender-events.prisoner.released","occurredAt":"2024-06-24T15:06:39Z","additionalInformation":{"reason":"RELEASED","prisonId":"MDI"}}`),
			hmpps.DeadLetter, ingest.ReasonMalformed, hmpps.ErrMalformed},
		{"release reason UNKNOWN is not guessed", bare(hmpps.EventReleased, "UNKNOWN", "MDI", "2024-12-11T15:43:20Z", "ZZ"),
			hmpps.DeadLetter, ingest.ReasonUnmappable, hmpps.ErrUnmappable},
		{"a release of someone never received", bare(hmpps.EventReleased, "RELEASED", "MDI", "2024-12-11T15:43:20Z", "NCS"),
			hmpps.DeadLetter, ingest.ReasonRejected, aggregates.ErrNotReceived},
		{"a movement in the future", bare(hmpps.EventReceived, "ADMISSION", "MDI", "2030-01-01T00:00:00Z", "INTAKE"),
			hmpps.DeadLetter, ingest.ReasonRejected, aggregates.ErrFutureDate},
	}
	deadCount := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := ingestOK(t, f, tt.body, tt.want)
			if out.Reason != tt.reason || !errors.Is(out.Err, tt.errIs) {
				t.Fatalf("outcome %+v", out)
			}
			if tt.want != hmpps.DeadLetter {
				if out.DeadLetter != nil {
					t.Fatalf("ignored message dead-lettered: %+v", out.DeadLetter)
				}
				return
			}
			deadCount++
			ls := deadLetters(t, f)
			if len(ls) != deadCount {
				t.Fatalf("%d dead letters, want %d", len(ls), deadCount)
			}
			d := ls[len(ls)-1]
			if !bytes.Equal(d.Raw(), tt.body) || d.Reason != tt.reason || d.Error != out.Err.Error() || d.Key == "" ||
				!d.DeadLetteredAt.Equal(now) || d.ID != out.DeadLetter.EventID || d.MessageBytes != len(tt.body) {
				t.Fatalf("dead letter %+v", d)
			}
			if tt.reason == ingest.ReasonRejected && (d.Command == "" || d.CommandIndex == nil || d.Rule == "") {
				t.Fatalf("rejected without its command and rule: %+v", d)
			}
			// Delivered again, it is not kept twice.
			if again := ingestOK(t, f, tt.body, hmpps.DeadLetter); !again.DeadLetter.AlreadyOpen {
				t.Fatalf("kept twice: %+v", again.DeadLetter)
			}
		})
	}
	if got, _ := journeySteps(t, f); len(got) != 0 {
		t.Fatalf("journey %+v", got)
	}
}

// TestConcurrentDeliveries ingests the same messages from many goroutines:
// the facts are recorded once and the dead letter once.
func TestConcurrentDeliveries(t *testing.T) {
	f := newFeed(t)
	intake := sample(t, "intake-event.json")
	ingestOK(t, f, intake, hmpps.Apply)
	for _, m := range transferToMDI() {
		ingestOK(t, f, m, hmpps.Apply)
	}
	msgs := [][]byte{intake, sample(t, "release-event.json"), sample(t, "recall-event.json"),
		bare(hmpps.EventReleased, "UNKNOWN", "MDI", "2024-12-11T15:43:20Z", "ZZ")}
	errs := make(chan error, 40)
	done := make(chan struct{})
	for i := range 40 {
		go func() {
			defer func() { done <- struct{}{} }()
			if _, err := f.Ingest(context.Background(), msgs[i%len(msgs)]); err != nil && !errors.Is(err, journeys.ErrConflict) {
				errs <- err
			}
		}()
	}
	for range 40 {
		<-done
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, _ := journeySteps(t, f)
	if len(got) != 4 || got[3].Type != aggregates.TypePrisonerReleased {
		t.Fatalf("journey %+v", got)
	}
	if ls := deadLetters(t, f); len(ls) != 2 {
		t.Fatalf("%d dead letters: %+v", len(ls), ls)
	}
}

func TestIngestGarbageThroughTheStore(t *testing.T) {
	f := newFeed(t)
	for _, body := range [][]byte{nil, {}, []byte("null"), []byte("[]"), []byte(`{"Message":null}`), []byte(`{"Message":""}`),
		[]byte(`{"Message":"{\"eventType\":\"prison-offender-events.prisoner.received\"}"}`),
		[]byte(strings.Repeat("x", hmpps.MaxMessageBytes+1))} {
		out, err := f.Ingest(context.Background(), body)
		if err != nil || out.Disposition == hmpps.Apply {
			t.Errorf("%.40q: %+v %v", body, out, err)
		}
	}
}
