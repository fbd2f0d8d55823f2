package eventdb

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/gateledger/gateledger/internal/boltfile"
)

// BackupInfo describes the state a backup copied, or the state of a store file.
type BackupInfo struct {
	// Size is the file's size in bytes.
	Size int64
	// Records counts the log's records: events, stream metadata and deletion records.
	Records uint64
	// LastPosition is the position of the last record, 0 for an empty store.
	LastPosition uint64
}

// BackupTo streams a consistent copy of the store to w while writes go on. It reads
// from one read transaction, so the copy holds exactly the records committed before it
// began. begin, when set, is called with that state before the first byte is written
// (an HTTP handler sets Content-Length from it).
func (db *DB) BackupTo(ctx context.Context, w io.Writer, begin func(BackupInfo)) (BackupInfo, error) {
	var info BackupInfo
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		info = infoOf(tx)
		if begin != nil {
			begin(info)
		}
		_, err := tx.WriteTo(w)
		return err
	})
	return info, err
}

func infoOf(tx *bolt.Tx) BackupInfo {
	info := BackupInfo{Size: tx.Size()}
	if b := tx.Bucket(bucketLog); b != nil {
		info.Records = uint64(b.Stats().KeyN)
		if k, _ := b.Cursor().Last(); k != nil {
			info.LastPosition = binary.BigEndian.Uint64(k)
		}
	}
	return info
}

// Inspect opens a store file read-only, without taking it from anyone: a running
// store keeps it locked and Inspect then fails with ErrLocked. It checks that the file
// is whole as Open does (see checkContents): damage is an error matching ErrDamaged.
// It reports what the file holds.
func Inspect(ctx context.Context, path string) (BackupInfo, error) {
	b, _, err := boltfile.Open(ctx, path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return BackupInfo{}, fmt.Errorf("%w: %s is in use by another process (is the ledger running?)", ErrLocked, path)
	}
	if errors.Is(err, ErrDamaged) {
		return BackupInfo{}, err // it names the file
	}
	if err != nil {
		return BackupInfo{}, fmt.Errorf("open %s: %w", path, err)
	}
	defer b.Close()
	var info BackupInfo
	err = b.View(func(tx *bolt.Tx) error {
		if err := checkContents(path, tx); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		info = infoOf(tx)
		return nil
	})
	return info, err
}
