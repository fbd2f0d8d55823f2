package eventdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime/debug"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"

	"github.com/gateledger/gateledger/internal/boltfile"
)

// ErrDamaged matches the error of Open and Inspect on a store file that is not whole:
// cut short, a meta page or a B+tree page damaged, or a record that cannot be decoded.
// The error is a *boltfile.DamageError naming the file and the damage.
var ErrDamaged = boltfile.ErrDamaged

// checkContents is the store's part of checking a file whole, after boltfile has
// checked its pages: the store's buckets and format are there, bbolt's own consistency
// check passes, and every record of the log decodes, to its last byte.
//
// It reads every page in use, which costs about 0.3 s for the demo store of 3,000
// people (76 MB in use) and grows with the store: seconds per gigabyte. That is paid
// at every start, by choice: serving on a damaged store would answer with damaged
// history, and damage found at start names the backup to restore before anything is
// written on top of it. Event contents are not checked here; their hash chains are
// (`gateledger verify`).
func checkContents(path string, tx *bolt.Tx) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if v := recover(); v != nil {
			err = &boltfile.DamageError{Path: path, Problem: fmt.Sprintf("reading it failed: %v", v)}
		}
	}()
	damaged := func(format string, args ...any) error {
		return &boltfile.DamageError{Path: path, Problem: fmt.Sprintf(format, args...)}
	}
	for _, name := range [][]byte{bucketLog, bucketStreams, bucketIndex, bucketMeta, bucketIndexLog} {
		if tx.Bucket(name) == nil {
			return damaged("it is not an event store: it has no %q bucket", name)
		}
	}
	if v := tx.Bucket(bucketMeta).Get(keyFormat); v == nil || len(v) != 8 {
		return damaged("its store format is missing")
	} else if f := binary.BigEndian.Uint64(v); f != formatVersion {
		return fmt.Errorf("%s: store format %d is not supported by this version (want %d)", path, f, formatVersion)
	}
	if err := boltfile.Consistency(path, tx); err != nil {
		return err
	}
	c := tx.Bucket(bucketLog).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(k) != 8 {
			return damaged("the log has a key of %d bytes, not 8", len(k))
		}
		pos := binary.BigEndian.Uint64(k)
		if err := wholeRecord(v); err != nil {
			return damaged("the record at position %d cannot be decoded (%v)", pos, err)
		}
	}
	return nil
}

// wholeRecord checks that buf is one record, every field inside it and nothing after,
// its stream name and type UTF-8 as every writer sent them (the protocol carries the type
// as a protobuf string, which a client refuses to decode otherwise).
func wholeRecord(buf []byte) error {
	h, err := decodeHeader(buf)
	if err != nil {
		return err
	}
	if !utf8.Valid(h.stream) || !utf8.Valid(h.typ) {
		return errors.New("its stream name or event type is not UTF-8")
	}
	d := recordReader{buf: buf, off: h.rest}
	d.bytes()
	d.bytes()
	if d.err != nil {
		return d.err
	}
	if d.off != len(buf) {
		return fmt.Errorf("%d stray bytes after it", len(buf)-d.off)
	}
	return nil
}
