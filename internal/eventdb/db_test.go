package eventdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"

	"github.com/google/uuid"
)

func openTest(t *testing.T, dir string) *DB {
	t.Helper()
	db, err := Open(dir, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func evs(n int, typ string) []ProposedEvent {
	out := make([]ProposedEvent, n)
	for i := range out {
		out[i] = ProposedEvent{ID: uuid.New(), Type: typ, IsJSON: true, Data: fmt.Appendf(nil, `{"n":%d}`, i)}
	}
	return out
}

func readAllRecords(t *testing.T, db *DB) []Record {
	t.Helper()
	var out []Record
	from := uint64(0)
	for {
		p, err := db.ReadAll(AllRead{From: from, Max: 100})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Records...)
		if p.End {
			return out
		}
		from = p.Next
	}
}

// TestGroupCommit: many concurrent appends are committed in fewer transactions (and
// fsyncs) than there are appends, and every one of them is durable and in order.
func TestGroupCommit(t *testing.T) {
	db := openTest(t, t.TempDir())
	const writers, each = 64, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	start := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for range each {
				if _, err := db.Append(context.Background(), fmt.Sprintf("gc-%d", w%8), Any, evs(1, "T")); err != nil {
					errs <- err
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st := db.Stats()
	if st.Writes != writers*each || st.Records != writers*each {
		t.Fatalf("stats %+v, want %d writes and records", st, writers*each)
	}
	if st.Commits >= st.Writes {
		t.Fatalf("%d commits for %d concurrent appends: no group commit", st.Commits, st.Writes)
	}
	t.Logf("%d appends in %d commits", st.Writes, st.Commits)
	for s := range 8 {
		p, err := db.ReadStream(StreamRead{Stream: fmt.Sprintf("gc-%d", s), Max: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Records) != writers/8*each {
			t.Fatalf("stream gc-%d has %d records", s, len(p.Records))
		}
		for i, r := range p.Records {
			if r.Revision != uint64(i) {
				t.Fatalf("gc-%d: revision %d at %d", s, r.Revision, i)
			}
		}
	}
}

// TestGroupCommitDecidesInOrder: appends that conflict inside one group commit are
// decided one after the other; a failed one does not fail the others.
func TestGroupCommitDecidesInOrder(t *testing.T) {
	db := openTest(t, t.TempDir())
	const n = 100
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, wrong := 0, 0
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := db.Append(context.Background(), "one", NoStream, evs(1, "T"))
			_, _ = db.Append(context.Background(), "side", Any, evs(1, "T"))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, ErrWrongExpectedVersion):
				wrong++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || wrong != n-1 {
		t.Fatalf("%d wins, %d wrong expected version; want 1 and %d", wins, wrong, n-1)
	}
	if last, _ := db.StreamLastRevision("side"); last != n-1 {
		t.Fatalf("side stream last revision %d, want %d", last, n-1)
	}
}

// TestReopenKeepsEverything: closing and reopening keeps events, stream states, deletes,
// metadata and counters; new writes continue positions and revisions.
func TestReopenKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db := openTest(t, dir)
	a := evs(3, "A")
	if _, err := db.Append(ctx, "a", NoStream, a); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Append(ctx, "soft", NoStream, evs(2, "S")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Delete(ctx, "soft", Exactly(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Append(ctx, "hard", NoStream, evs(1, "H")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Tombstone(ctx, "hard", Any); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Append(ctx, MetadataStream("a"), Any, []ProposedEvent{{ID: uuid.New(), Type: TypeStreamMetadata, IsJSON: true, Data: []byte(`{"$maxCount":2}`)}}); err != nil {
		t.Fatal(err)
	}
	before := readAllRecords(t, db)
	lastPos := db.LastPosition()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openTest(t, dir)
	after := readAllRecords(t, db)
	if len(after) != len(before) {
		t.Fatalf("%d records after reopen, %d before", len(after), len(before))
	}
	for i := range before {
		if !recordsEqual(before[i], after[i]) {
			t.Fatalf("record %d changed: %+v -> %+v", i, before[i], after[i])
		}
	}
	if db.LastPosition() != lastPos {
		t.Fatalf("last position %d after reopen, %d before", db.LastPosition(), lastPos)
	}
	p, err := db.ReadStream(StreamRead{Stream: "a"})
	if err != nil || len(p.Records) != 2 || p.Records[0].ID != a[1].ID {
		t.Fatalf("stream a after reopen: %v, %d records (want the last 2 by $maxCount)", err, len(p.Records))
	}
	if _, err := db.ReadStream(StreamRead{Stream: "soft"}); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("soft-deleted stream after reopen: %v", err)
	}
	if _, err := db.ReadStream(StreamRead{Stream: "hard"}); !errors.Is(err, ErrStreamDeleted) {
		t.Fatalf("tombstoned stream after reopen: %v", err)
	}
	if _, err := db.Append(ctx, "hard", Any, evs(1, "H")); !errors.Is(err, ErrStreamDeleted) {
		t.Fatalf("append to tombstoned stream after reopen: %v", err)
	}
	// Writes continue: revisions after the last, positions after the last, and a new
	// stream does not share an id with an old one.
	res, err := db.Append(ctx, "a", Exactly(2), evs(1, "A"))
	if err != nil || res.CurrentRevision != 3 || res.Position <= lastPos {
		t.Fatalf("append after reopen: %+v, %v", res, err)
	}
	res, err = db.Append(ctx, "soft", Any, evs(1, "S"))
	if err != nil || res.CurrentRevision != 2 {
		t.Fatalf("append to soft-deleted stream after reopen: %+v, %v", res, err)
	}
	fresh := evs(2, "N")
	if _, err := db.Append(ctx, "new", NoStream, fresh); err != nil {
		t.Fatal(err)
	}
	p, err = db.ReadStream(StreamRead{Stream: "new"})
	if err != nil || len(p.Records) != 2 || p.Records[0].ID != fresh[0].ID {
		t.Fatalf("new stream after reopen: %v %d", err, len(p.Records))
	}
	p, err = db.ReadStream(StreamRead{Stream: "a", Backwards: true, FromEnd: true})
	if err != nil || len(p.Records) != 2 || p.Records[0].Revision != 3 {
		t.Fatalf("stream a mixed up with a new stream: %v %+v", err, p.Records)
	}
	all := readAllRecords(t, db)
	if !slices.IsSortedFunc(all, func(x, y Record) int { return int(x.Position - y.Position) }) {
		t.Fatal("$all positions not increasing")
	}
}

// TestAppendValidation: bad input is refused before anything is queued.
func TestAppendValidation(t *testing.T) {
	db := openTest(t, t.TempDir())
	ctx := context.Background()
	cases := []struct {
		name   string
		stream string
		exp    ExpectedRevision
		events []ProposedEvent
		want   error
	}{
		{"empty stream", "", Any, evs(1, "T"), ErrInvalidArgument},
		{"$all", "$all", Any, evs(1, "T"), ErrInvalidArgument},
		{"unknown kind", "s", ExpectedRevision{Kind: 9}, evs(1, "T"), ErrInvalidArgument},
		{"revision out of range", "s", Exactly(TombstoneRevision), evs(1, "T"), ErrInvalidArgument},
		{"no type", "s", Any, []ProposedEvent{{ID: uuid.New()}}, ErrInvalidArgument},
		{"too large", "s", Any, []ProposedEvent{{ID: uuid.New(), Type: "T", Data: make([]byte, DefaultMaxEventSize)}}, ErrEventTooLarge},
	}
	for _, tc := range cases {
		if _, err := db.Append(ctx, tc.stream, tc.exp, tc.events); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if db.LastPosition() != 0 || db.Stats().Writes != 0 {
		t.Fatalf("refused appends reached the store: %+v", db.Stats())
	}
}
