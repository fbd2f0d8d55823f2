package boltfile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
	"golang.org/x/sys/unix"
)

// Open opens the bbolt file at path as bolt.Open does, after Check has found it whole.
// The file's lock (bbolt's flock, shared when opts.ReadOnly, exclusive otherwise) is
// taken before the check, so that no other process writes the file while it is read;
// bbolt then opens the same file description, which already holds the lock. A file
// held by another process for longer than opts.Timeout fails with bbolt's ErrTimeout,
// as bolt.Open does.
//
// A file that does not exist is created (unless read-only) and not checked. An
// existing empty file is damage: a store is never empty once created, and one cut to
// nothing must not open as a new, empty store.
//
// A panic inside bbolt's open becomes an error; so does a memory fault while it runs on
// the calling goroutine.
func Open(ctx context.Context, path string, mode fs.FileMode, opts *bolt.Options) (*bolt.DB, Summary, error) {
	o := bolt.Options{}
	if opts != nil {
		o = *opts
	}
	flag, how := os.O_RDWR|os.O_CREATE, unix.LOCK_EX
	if o.ReadOnly {
		flag, how = os.O_RDONLY, unix.LOCK_SH
	}
	_, statErr := os.Stat(path)
	created := errors.Is(statErr, fs.ErrNotExist)
	f, err := os.OpenFile(path, flag, mode)
	if err != nil {
		return nil, Summary{}, err
	}
	handed := false
	defer func() {
		if !handed {
			_ = f.Close()
		}
	}()
	if err := lock(ctx, f, how, o.Timeout); err != nil {
		return nil, Summary{}, err
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, Summary{}, err
	}
	var sum Summary
	if !created || fi.Size() > 0 {
		if sum, err = CheckReader(ctx, path, f, fi.Size()); err != nil {
			return nil, sum, err
		}
	}
	o.OpenFile = func(string, int, os.FileMode) (*os.File, error) { return f, nil }
	handed = true // bbolt closes it, on success at Close and on failure itself
	db, err := openRecovered(path, mode, &o, f)
	return db, sum, err
}

// openRecovered runs bolt.Open so that a panic, or a memory fault reading the mapping,
// becomes a *DamageError. f is the file bbolt opens; a panic skips bbolt's own
// clean-up, so it is closed here.
func openRecovered(path string, mode fs.FileMode, o *bolt.Options, f *os.File) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if v := recover(); v != nil {
			_ = f.Close()
			db, err = nil, &DamageError{Path: path, Problem: fmt.Sprintf("bbolt could not open it: %v", v)}
		}
	}()
	return bolt.Open(path, mode, o)
}

// lock takes flock how on f, waiting up to timeout (0: for ever) as bbolt does.
func lock(ctx context.Context, f *os.File, how int, timeout time.Duration) error {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			return fmt.Errorf("lock %s: %w", f.Name(), err)
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			return bolterrors.ErrTimeout
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
