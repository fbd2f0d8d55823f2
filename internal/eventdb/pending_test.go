package eventdb

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// TestIndexMergeKeepsEveryRevision writes enough events for the pending index to be
// merged into the B-tree several times, with readers reading all along, and checks that
// every revision of every stream is found the same way before a merge, after it, and
// after the store is reopened from its index log.
func TestIndexMergeKeepsEveryRevision(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	const streams, rounds, perAppend = 13, 60, 50 // 39,000 events: more than two merges
	ids := make(map[string][]uuid.UUID)
	ctx := context.Background()

	stop := make(chan struct{})
	var readers sync.WaitGroup
	readErr := make(chan error, 4)
	for r := 0; r < 2; r++ {
		readers.Add(1)
		go func(r int) {
			defer readers.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("merge-%d", (i+r)%streams)
				page, err := db.ReadStream(StreamRead{Stream: name, Backwards: i%2 == 0, FromEnd: i%2 == 0, Max: 300})
				if err != nil {
					continue // not written yet
				}
				for j, rec := range page.Records {
					want := uint64(j)
					if i%2 == 0 {
						want = page.LastRevision - uint64(j)
					}
					if rec.Revision != want {
						readErr <- fmt.Errorf("%s: record %d has revision %d, want %d", name, j, rec.Revision, want)
						return
					}
				}
			}
		}(r)
	}
	for round := 0; round < rounds; round++ {
		for s := 0; s < streams; s++ {
			name := fmt.Sprintf("merge-%d", s)
			evs := make([]ProposedEvent, perAppend)
			for i := range evs {
				evs[i] = ProposedEvent{ID: uuid.New(), Type: "T", Data: []byte(fmt.Sprint(round, i))}
				ids[name] = append(ids[name], evs[i].ID)
			}
			if _, err := db.Append(ctx, name, Exactly(uint64(round*perAppend-1)), evs); round > 0 && err != nil {
				t.Fatal(err)
			} else if round == 0 {
				if _, err := db.Append(ctx, name, NoStream, evs); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	close(stop)
	readers.Wait()
	select {
	case err := <-readErr:
		t.Fatal(err)
	default:
	}
	check := func(db *DB, when string) {
		t.Helper()
		for name, want := range ids {
			page, err := db.ReadStream(StreamRead{Stream: name, Max: len(want) + 1})
			if err != nil {
				t.Fatalf("%s: %s: %v", when, name, err)
			}
			if len(page.Records) != len(want) {
				t.Fatalf("%s: %s has %d events, want %d", when, name, len(page.Records), len(want))
			}
			for i, rec := range page.Records {
				if rec.ID != want[i] || rec.Revision != uint64(i) {
					t.Fatalf("%s: %s revision %d is %s/%d, want %s", when, name, i, rec.ID, rec.Revision, want[i])
				}
			}
			// Retrying an old append is still recognised through the merged index.
			if _, err := db.Append(ctx, name, NoStream, []ProposedEvent{{ID: want[0], Type: "T"}}); err != nil {
				t.Fatalf("%s: idempotent retry of revision 0 of %s: %v", when, name, err)
			}
		}
	}
	check(db, "before reopening")
	pendingBefore := db.pending.entries
	var merged int
	_ = db.bolt.View(func(tx *bolt.Tx) error { merged = tx.Bucket(bucketIndex).Stats().KeyN; return nil })
	if merged == 0 || pendingBefore > mergeAbove+mergeChunk {
		t.Fatalf("merged %d entries, %d pending: the pending index was not merged", merged, pendingBefore)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(dir, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.pending.entries != pendingBefore {
		t.Fatalf("reopened with %d pending entries, want %d", db.pending.entries, pendingBefore)
	}
	check(db, "after reopening")
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
