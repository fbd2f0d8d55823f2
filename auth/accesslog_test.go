package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventlog/eventlogtest"
)

func TestAccessLogRecordsAndReadsBack(t *testing.T) {
	ctx := testCtx(t)
	store := eventlogtest.Store(t)
	var clock atomic.Int64
	clock.Store(time.Date(2026, time.January, 31, 23, 59, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	log := NewAccessLog(store.Client, AccessLogConfig{Now: now, MaxBatch: 7, Logger: eventlogtest.Logger()})

	c05 := Principal{ID: "token:c05", Name: "West Yorkshire", Role: RoleProvider, Org: "C05"}
	hmip := Principal{ID: "oidc:insp", Role: RoleInspector}
	if err := log.Record(ctx, c05, "read journey", "A1234BC"); err != nil {
		t.Fatal(err)
	}
	// Concurrent reads share appends; every Record that returned nil is
	// stored.
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() { errs <- log.Record(ctx, hmip, "read plan", fmt.Sprintf("A%04dBC", i)) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Into the next month: a new stream.
	clock.Store(time.Date(2026, time.February, 1, 0, 1, 0, 0, time.UTC).UnixNano())
	if err := log.Record(ctx, c05, "read audit trail", "A1234BC"); err != nil {
		t.Fatal(err)
	}
	if err := log.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := log.Record(ctx, c05, "late", "A1234BC"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Record after Close: %v", err)
	}

	reader := NewAccessLog(store.Client, AccessLogConfig{Logger: eventlogtest.Logger()})
	defer reader.Close(ctx)
	all, err := reader.Read(ctx, time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, time.March, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != n+2 {
		t.Fatalf("read %d entries, want %d", len(all), n+2)
	}
	first, last := all[0], all[len(all)-1]
	if first.PrincipalID != c05.ID || first.Role != RoleProvider || first.Org != "C05" || first.What != "read journey" || first.Subject != "A1234BC" || first.Stream != "access-log-2026-01" {
		t.Fatalf("first entry %+v", first)
	}
	if last.What != "read audit trail" || last.Stream != "access-log-2026-02" {
		t.Fatalf("last entry %+v", last)
	}
	subjects := make(map[string]bool)
	for _, e := range all {
		if e.PrincipalID == hmip.ID {
			subjects[e.Subject] = true
		}
	}
	if len(subjects) != n {
		t.Fatalf("%d distinct inspector reads, want %d", len(subjects), n)
	}
	// A range selects by time.
	feb, err := reader.Read(ctx, time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, time.February, 2, 0, 0, 0, 0, time.UTC))
	if err != nil || len(feb) != 1 {
		t.Fatalf("February: %d entries, %v", len(feb), err)
	}
	// The streams carry the envelope and verify.
	for _, s := range []string{"access-log-2026-01", "access-log-2026-02"} {
		v, err := eventlog.VerifyStream(ctx, store.Client, s)
		if err != nil || !v.OK() {
			t.Fatalf("%s: %+v %v", s, v, err)
		}
		recs, err := eventlog.ReadStream(ctx, store.Client, s)
		if err != nil {
			t.Fatal(err)
		}
		if m := recs[0].Metadata; m.UserID == "" || m.Role == "" || m.OccurredAt.IsZero() || m.RecordedAt.IsZero() || m.Source != "api" {
			t.Fatalf("%s envelope %+v", s, m)
		}
	}
}

func TestAccessLogRefusesBadEntriesAndDetectsTampering(t *testing.T) {
	ctx := testCtx(t)
	store := eventlogtest.Store(t)
	log := NewAccessLog(store.Client, AccessLogConfig{Logger: eventlogtest.Logger()})
	defer log.Close(context.Background())
	if err := log.Record(ctx, Principal{ID: "x", Role: RoleProvider, Org: "MDI"}, "read", "A1234BC"); err == nil {
		t.Fatal("recorded for an invalid principal")
	}
	if err := log.Record(ctx, Principal{ID: "x", Role: RoleInspector}, "", "A1234BC"); err == nil {
		t.Fatal("recorded without saying what")
	}
	p := Principal{ID: "x", Role: RoleInspector}
	if err := log.Record(ctx, p, "read", "A1234BC"); err != nil {
		t.Fatal(err)
	}
	// A second writer (another process) appends to the same month: the
	// first one's cached head is stale and it must recover.
	other := NewAccessLog(store.Client, AccessLogConfig{Logger: eventlogtest.Logger()})
	if err := other.Record(ctx, p, "read", "B1234BC"); err != nil {
		t.Fatal(err)
	}
	_ = other.Close(ctx)
	if err := log.Record(ctx, p, "read", "C1234BC"); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	got, err := log.Read(ctx, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil || len(got) != 3 {
		t.Fatalf("read %d, %v", len(got), err)
	}
	// An event appended without the chain breaks the read.
	stream := log.StreamFor(now)
	recs, err := eventlog.ReadStream(ctx, store.Client, stream)
	if err != nil {
		t.Fatal(err)
	}
	head := eventlog.HeadOf(recs)
	forged := head
	forged.Hash = fmt.Sprintf("%064d", 0)
	sealed, err := eventlog.Seal(stream, forged, "forged", []eventlog.Proposed{{Type: TypeAccessRecorded,
		Data: []byte(`{"principalId":"x","role":"inspector","what":"w","at":"2026-01-01T00:00:00Z"}`), Metadata: eventlog.Metadata{Metadata: sealedMeta()}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Client.AppendToStream(ctx, stream, appendAfter(head), sealed[0].EventData()); err != nil {
		t.Fatal(err)
	}
	if _, err := log.Read(ctx, now.Add(-time.Hour), now.Add(time.Hour)); !errors.Is(err, ErrChainBroken) {
		t.Fatalf("Read of a broken chain: %v", err)
	}
}
