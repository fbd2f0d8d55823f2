package eventdb

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/gateledger/gateledger/internal/boltfile"
)

// TestAFullDiskRefusesWritesAndResumes: a commit that fails with ENOSPC refuses every
// write in it with ErrDiskFull (still matching syscall.ENOSPC), acknowledges nothing,
// and the store takes writes again once space is freed, continuing where it was.
func TestAFullDiskRefusesWritesAndResumes(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir)
	ctx := context.Background()
	if _, err := db.Append(ctx, "s", NoStream, evs(2, "E")); err != nil {
		t.Fatal(err)
	}
	db.SetCommitFault(func() error { return &os.PathError{Op: "write", Path: FileName, Err: syscall.ENOSPC} })
	refused := evs(1, "E")
	_, err := db.Append(ctx, "s", Exactly(1), refused)
	if !errors.Is(err, ErrDiskFull) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("append on a full disk: %v", err)
	}
	if _, err := db.Append(ctx, "s", Exactly(1), nil); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("an empty append (the write probe) on a full disk: %v", err)
	}
	db.SetCommitFault(nil)
	res, err := db.Append(ctx, "s", Exactly(1), refused)
	if err != nil || res.CurrentRevision != 2 {
		t.Fatalf("the retry once space is freed: %+v %v", res, err)
	}
	if got := len(readAllRecords(t, db)); got != 3 {
		t.Fatalf("%d records, want 3", got)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := boltfile.Check(ctx, filepath.Join(dir, FileName)); err != nil {
		t.Fatalf("the store is not whole after the full disk: %v", err)
	}
}
