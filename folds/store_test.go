package folds_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventlog/eventlogtest"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/folds"
)

// Stream never answers for the store: what another writer (a second command service
// with its own cache, as another ledger instance) wrote after this cache read the
// journey is in the next Stream, which equals a whole read of the store.
func TestStreamSeesOtherWriters(t *testing.T) {
	ctx := context.Background()
	store := eventlogtest.Store(t)
	other := writer(store, &clock{now: later})
	spy := &spyStore{Store: store}
	c := folds.NewCache(spy, 8)

	tests := []struct {
		name string
		// when the other writer records these after c's last read,
		byOther []int // indexes into history
		// then c's next Stream reads from this revision of the stream.
		from esdb.StreamPosition
	}{
		{name: "first read of a journey not yet written", from: esdb.Start{}},
		{name: "reception by the other writer", byOther: []int{0}, from: esdb.Start{}},
		{name: "nothing written meanwhile", from: esdb.Revision(1)},
		{name: "several events meanwhile", byOther: []int{1, 2, 3}, from: esdb.Revision(1)},
		{name: "one more", byOther: []int{4}, from: esdb.Revision(4)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, i := range tt.byOther {
				record(t, other, "other", history[i])
			}
			spy.Reads()
			got, err := c.Stream(ctx, noms)
			if err != nil {
				t.Fatal(err)
			}
			if r := spy.Reads(); len(r) != 1 || r[0] != tt.from {
				t.Fatalf("reads %v, want one from %v", r, tt.from)
			}
			want, err := eventlog.LoadJourney(ctx, store, noms)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("cached read differs from a whole read:\n got %+v %+v\nwant %+v %+v", got.Head, got.Journey, want.Head, want.Journey)
			}
			if !reflect.DeepEqual(got.Journey, aggregates.Rebuild(stored(t, store, noms))) && got.Head.Exists {
				t.Fatal("journey differs from its events folded")
			}
		})
	}

	// A journey handed out earlier is not changed by later reads.
	before, err := c.Stream(ctx, noms)
	if err != nil {
		t.Fatal(err)
	}
	snapshot, _ := eventlog.LoadJourney(ctx, store, noms)
	record(t, other, "other", need("a3", 5), need("a4", 6))
	if _, err := c.Stream(ctx, noms); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, snapshot) {
		t.Fatal("a later Stream changed a journey handed out before")
	}
}

// Two reads of one journey may finish in either order: the cache keeps the one that
// read further, never an older read that finished later. The older read is served by
// a lagging copy of the store (as a follower node might), so the order is certain.
func TestStreamKeepsTheLaterRead(t *testing.T) {
	ctx := context.Background()
	store, lagging := eventlogtest.Store(t), eventlogtest.Store(t)
	svc := writer(store, &clock{now: later})
	record(t, svc, "w", history[:2]...)
	// The lagging copy holds the same first two events.
	recs, err := eventlog.ReadStream(ctx, store, aggregates.StreamName(noms))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if _, err := lagging.AppendToStream(ctx, r.Stream, esdb.AppendToStreamOptions{ExpectedRevision: esdb.Any{}}, r.EventData()); err != nil {
			t.Fatal(err)
		}
	}
	spy := &spyStore{Store: store}
	c := folds.NewCache(spy, 8)
	// Given the cache read the first event,
	if _, err := c.Stream(ctx, noms); err != nil {
		t.Fatal(err)
	}
	// when a read starts from there but is answered late by the lagging copy,
	slow := &replica{store: lagging, gate: make(chan struct{})}
	done := make(chan eventlog.JourneyStream)
	go func() {
		st, err := c.Stream(context.WithValue(ctx, replicaKey{}, slow), noms)
		if err != nil {
			t.Error(err)
		}
		done <- st
	}()
	// and meanwhile more is written and read,
	record(t, svc, "w", history[2:]...)
	for len(spy.Reads()) == 0 { // the slow read has taken its held fold
		time.Sleep(time.Millisecond)
	}
	newest, err := c.Stream(ctx, noms)
	if err != nil {
		t.Fatal(err)
	}
	close(slow.gate)
	old := <-done
	if old.Revision() != 1 || newest.Revision() != int64(len(history)-1) {
		t.Fatalf("the slow read reached revision %d, the fast one %d", old.Revision(), newest.Revision())
	}
	// then the cache holds the newer: the next read starts after it.
	spy.Reads()
	got, err := c.Stream(ctx, noms)
	if err != nil {
		t.Fatal(err)
	}
	if r := spy.Reads(); len(r) != 1 || r[0] != esdb.Revision(uint64(len(history))) {
		t.Fatalf("next read from %v, want from revision %d", r, len(history))
	}
	if !reflect.DeepEqual(got, newest) {
		t.Fatal("the cache does not hold the newer read")
	}
}

// badEvent appends to the person's stream, straight through the official client, an
// event the ledger cannot read: kind says how.
func badEvent(t *testing.T, store *eventstore.Conn, who, kind string) {
	t.Helper()
	ctx := context.Background()
	stream := aggregates.StreamName(who)
	recs, err := eventlog.ReadStream(ctx, store, stream)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := eventlog.Seal(stream, eventlog.HeadOf(recs), "bad", []eventlog.Proposed{{Type: "PrisonerTeleported", Data: []byte(`{}`),
		Metadata: eventlog.Metadata{Metadata: aggregates.Metadata{UserID: "someone", OccurredAt: later, RecordedAt: later, SchemaVersion: 1}}}})
	if err != nil {
		t.Fatal(err)
	}
	ev := sealed[0].EventData()
	switch kind {
	case "unknown type": // a well-formed envelope and a type this code does not know
	case "malformed data":
		ev.EventType, ev.Data = string(aggregates.TypePrisonerReceived), []byte(`{"noms": 7`)
	case "not an envelope":
		ev.EventType, ev.Metadata = string(aggregates.TypePrisonerReceived), []byte(`["not", "an", "envelope"]`)
	case "no metadata":
		ev.EventType, ev.Metadata = string(aggregates.TypePrisonerReceived), nil
	default:
		t.Fatalf("unknown kind %q", kind)
	}
	if _, err := store.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: esdb.Any{}}, ev); err != nil {
		t.Fatal(err)
	}
}

// An event that cannot be decoded marks the fold Broken and stops nothing: At and
// Before answer (the Journey holds the events that could be read, Next goes past it),
// and the fold goes on taking events. Stream and the as-at reads, which must not decide
// or show a state read in part, answer an error instead, and hold nothing.
func TestUndecodableEventMarksTheFoldBroken(t *testing.T) {
	for _, kind := range []string{"unknown type", "malformed data", "not an envelope", "no metadata"} {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			store := eventlogtest.Store(t)
			svc := writer(store, &clock{now: later})
			record(t, svc, "w", history[:2]...) // revisions 0 and 1
			badEvent(t, store, noms, kind)      // revision 2
			recs, _, _, err := eventlog.ReadStreamFrom(ctx, store, aggregates.StreamName(noms), 0)
			if err != nil || len(recs) != 3 {
				t.Fatalf("%d events, %v", len(recs), err)
			}
			stream := aggregates.StreamName(noms)
			c := folds.NewCache(store, 8)

			// Before the bad event the fold is whole.
			f, err := c.At(ctx, noms, stream, 2)
			if err != nil || f.Broken != nil || f.Journey.Version != 2 {
				t.Fatalf("before the bad event: %v, broken %v, version %d", err, f.Broken, f.Journey.Version)
			}
			// After it the fold is broken, with no error, and past it.
			f, err = c.At(ctx, noms, stream, 3)
			if err != nil {
				t.Fatalf("At past a bad event: %v", err)
			}
			if f.Broken == nil || f.Next != 3 || f.Journey.Version != 2 || f.Journey.ScreenedAt.IsZero() {
				t.Fatalf("after the bad event: broken %v next %d version %d", f.Broken, f.Next, f.Journey.Version)
			}
			wantErr := error(aggregates.ErrUnknownEventType)
			switch kind {
			case "malformed data":
				wantErr = aggregates.ErrMalformedEvent
			case "not an envelope", "no metadata":
				wantErr = eventlog.ErrMalformedEnvelope
			}
			if !errors.Is(f.Broken, wantErr) {
				t.Fatalf("Broken = %v, want %v", f.Broken, wantErr)
			}
			// The fold goes on taking events, and stays broken with the first reason.
			first := f.Broken
			f.Apply(3, 0, aggregates.ActionAgreed{ActionID: "x", Pathway: aggregates.PathwayHealth, Description: "d", At: t0}, nil)
			f.Apply(4, 0, nil, errors.New("another"))
			if f.Broken != first || f.Next != 5 || f.Journey.Version != 3 {
				t.Fatalf("after more events: broken %v next %d version %d", f.Broken, f.Next, f.Journey.Version)
			}
			if b, err := folds.Before(ctx, store, noms, stream, 3); err != nil || b.Broken == nil {
				t.Fatalf("Before past a bad event: %v, broken %v", err, b.Broken)
			}

			// Stream refuses to answer a state read in part, and holds nothing.
			sc := folds.NewCache(store, 8)
			if _, err := sc.Stream(ctx, noms); !errors.Is(err, wantErr) {
				t.Fatalf("Stream: %v, want %v", err, wantErr)
			}
			if sc.Len() != 0 {
				t.Fatalf("Stream held a broken journey")
			}
			// As-at reads: before the bad event answer, past it they refuse.
			pos := recs[1].Position.Commit
			if j, err := folds.AsAtPosition(ctx, store, noms, pos); err != nil || j.Version != 2 {
				t.Fatalf("as at before the bad event: %v, version %d", err, j.Version)
			}
			if _, err := folds.AsAtPosition(ctx, store, noms, recs[2].Position.Commit); !errors.Is(err, wantErr) {
				t.Fatalf("as at past the bad event: %v, want %v", err, wantErr)
			}

			// And another person is not affected.
			if _, err := c.At(ctx, "B1234CD", aggregates.StreamName("B1234CD"), 0); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// An event that cannot be decoded and carries no reason still marks the fold broken.
func TestApplyWithoutReasonBreaks(t *testing.T) {
	f := &folds.Fold{NOMS: noms}
	f.Apply(0, 9, nil, nil)
	if f.Broken == nil || f.Next != 1 || f.Position != 9 || f.Journey.Version != 0 {
		t.Fatalf("broken %v next %d position %d version %d", f.Broken, f.Next, f.Position, f.Journey.Version)
	}
}

// AsAt is the journey as the ledger knew it at the end of a moment (events recorded at
// or before it); AsAtPosition just after a $all position. A person with no events gives
// ErrNoEvents; one whose events all came later gives the empty journey (the callers
// read Version 0 as "nothing known then").
func TestAsAt(t *testing.T) {
	ctx := context.Background()
	store := eventlogtest.Store(t)
	clk := &clock{}
	svc := writer(store, clk)
	// Each event recorded a day after the last, starting a month after t0.
	var res []eventlogResult
	for i, cmd := range history {
		clk.Set(later.Add(time.Duration(i) * 24 * time.Hour))
		r := record(t, svc, "w", cmd)[0]
		res = append(res, eventlogResult{at: clk.Now(), pos: r.Position.Commit})
	}
	evs := stored(t, store, noms)

	tests := []struct {
		name string
		at   time.Time // or
		pos  uint64
		// then the journey after this many events, or err.
		events int
		err    error
	}{
		{name: "at the moment of the first", at: res[0].at, events: 1},
		{name: "a moment before the first", at: res[0].at.Add(-time.Nanosecond), events: 0},
		{name: "between the second and third", at: res[1].at.Add(time.Hour), events: 2},
		{name: "at the moment of the last", at: res[4].at, events: 5},
		{name: "long after", at: res[4].at.AddDate(1, 0, 0), events: 5},
		{name: "at the first's position", pos: res[0].pos, events: 1},
		{name: "just before the third's position", pos: res[2].pos - 1, events: 2},
		{name: "at the third's position", pos: res[2].pos, events: 3},
		{name: "past the end", pos: res[4].pos + 1000, events: 5},
		{name: "before everything", pos: 1, events: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var j aggregates.Journey
			var err error
			if tt.pos != 0 {
				j, err = folds.AsAtPosition(ctx, store, noms, tt.pos)
			} else {
				j, err = folds.AsAt(ctx, store, noms, tt.at)
			}
			if err != nil {
				t.Fatal(err)
			}
			want := aggregates.Rebuild(evs[:tt.events])
			want.NOMS = noms
			if !reflect.DeepEqual(j, want) {
				t.Fatalf("journey:\n got %+v\nwant %+v", j, want)
			}
		})
	}

	// A person with nothing recorded gives ErrNoEvents, at any time or position.
	for _, ask := range []func() (aggregates.Journey, error){
		func() (aggregates.Journey, error) { return folds.AsAt(ctx, store, "Z9999ZZ", res[4].at) },
		func() (aggregates.Journey, error) { return folds.AsAtPosition(ctx, store, "Z9999ZZ", res[4].pos) },
	} {
		if _, err := ask(); !errors.Is(err, folds.ErrNoEvents) {
			t.Fatalf("nobody: %v, want ErrNoEvents", err)
		}
	}
}

type eventlogResult struct {
	at  time.Time
	pos uint64
}
