package readmodel

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gateledger/gateledger/internal/boltfile"
)

// The read models are derived data: the event log can always rebuild them. So the state
// file is written without fsync (bbolt's NoSync) wherever the boot can be told apart:
// once live the runner commits up to once per event, and those fsyncs competed on the
// disk with the event log's own, which are what a command waits for.
//
// Without fsync a process crash loses nothing (the kernel still holds every write), but
// an operating-system crash or power cut may leave the file torn. A marker file beside
// the state file names the boot during which unsynced writes were made: if the machine
// has booted since, the state file is discarded and the read models are rebuilt from the
// log. A clean Close syncs the file and removes the marker.

// unsyncedSuffix names the marker beside the state file.
const unsyncedSuffix = ".unsynced"

// bootIDFile holds an identifier that Linux draws afresh at every boot.
const bootIDFile = "/proc/sys/kernel/random/boot_id"

// stateFile is the projection state file and how it is written.
type stateFile struct {
	db     *bolt.DB
	marker string // empty when the file is written with fsync
}

// openStateFile opens (creating) the state file at path. bootID is the current boot's
// identifier; empty means it cannot be known, and the file is then written with fsync.
func openStateFile(path, bootID string, log *slog.Logger) (*stateFile, error) {
	marker := path + unsyncedSuffix
	prev, err := os.ReadFile(marker)
	switch {
	case err == nil:
		if bootID == "" || strings.TrimSpace(string(prev)) != bootID {
			log.Warn("projection state was written without sync before the machine restarted; rebuilding it from the event log", "file", path)
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("discard projection state %s: %w", path, err)
			}
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("projection state marker: %w", err)
	}
	opts := &bolt.Options{Timeout: 2 * time.Second, NoFreelistSync: true, FreelistType: bolt.FreelistMapType,
		InitialMmapSize: stateMmapSize}
	// The file is checked whole before bbolt maps it (package boltfile). A damaged state
	// file is derived data: it is discarded and the read models rebuilt from the log.
	db, _, err := boltfile.Open(context.Background(), path, 0o600, opts)
	if errors.Is(err, boltfile.ErrDamaged) {
		log.Warn("projection state file is damaged; discarding it and rebuilding the read models from the event log", "file", path, "damage", err)
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("discard damaged projection state %s: %w", path, err)
		}
		db, _, err = boltfile.Open(context.Background(), path, 0o600, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("open projection state %s: %w", path, err)
	}
	sf := &stateFile{db: db}
	if bootID == "" {
		if err := os.Remove(marker); err != nil && !errors.Is(err, fs.ErrNotExist) {
			_ = db.Close()
			return nil, fmt.Errorf("projection state marker: %w", err)
		}
		return sf, nil
	}
	// The marker must be on disk before the first unsynced write.
	if err := writeDurably(marker, []byte(bootID+"\n")); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("projection state marker: %w", err)
	}
	// Growing the file would sync it too; and in bigger steps while a rebuild writes
	// hundreds of megabytes.
	db.NoSync, db.NoGrowSync = true, true
	db.AllocSize = 64 << 20
	sf.marker = marker
	return sf, nil
}

// stateMmapSize is how much of the state file is mapped from the start. bbolt maps the
// file anew each time it outgrows the mapping (doubling up to 1 GiB), and after every
// remap each page read faults in again and every node in memory is copied out of the old
// mapping: a rebuild of 1,000,000 events grows the file to 600 MB through four remaps.
// Mapping 1 GiB at once reserves address space only, no memory.
const stateMmapSize = 1 << 30

// close syncs and closes the state file, then removes the marker: from then on the file
// is whole whatever happens to the machine.
func (sf *stateFile) close() error {
	if sf.marker != "" {
		if err := sf.db.Sync(); err != nil {
			_ = sf.db.Close()
			return fmt.Errorf("sync projection state: %w", err)
		}
	}
	if err := sf.db.Close(); err != nil {
		return err
	}
	if sf.marker != "" {
		if err := os.Remove(sf.marker); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("projection state marker: %w", err)
		}
	}
	return nil
}

// writeDurably replaces path with data and makes both the file and its name durable.
func writeDurably(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer dir.Close()
	return dir.Sync()
}

// currentBootID reads this boot's identifier; empty where the system does not offer one.
func currentBootID() string {
	b, err := os.ReadFile(bootIDFile)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
