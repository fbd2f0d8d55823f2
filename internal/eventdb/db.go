package eventdb

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/gateledger/gateledger/internal/boltfile"
)

// FileName is the name of the store's file inside its data directory.
const FileName = "events.db"

// DefaultMaxEventSize is EventStoreDB's largest log record: 16 MiB.
const DefaultMaxEventSize = 16 * 1024 * 1024

// firstPosition is where the log's first record sits. Positions start above zero so that a
// client that keeps "position 0" as its initial checkpoint still sees the first event.
const firstPosition = 128

// recordOverhead is added to each record's encoded size when positions are allocated,
// so positions behave like offsets in a log: sparse and strictly increasing.
const recordOverhead = 16

var (
	bucketLog      = []byte("log")       // position -> record
	bucketStreams  = []byte("streams")   // stream name -> stream state
	bucketIndex    = []byte("index")     // stream id + revision -> position + event id
	bucketMeta     = []byte("meta")      // counters
	bucketIndexLog = []byte("index-log") // commit number -> index entries not merged yet
	keyNextPos     = []byte("next-position")
	keyNextStream  = []byte("next-stream-id")
	keyFormat      = []byte("format")
)

const formatVersion = 1

// Options tune a store. The zero value is usable.
type Options struct {
	// MaxEventSize bounds one event's data, metadata and type; 0 means DefaultMaxEventSize.
	MaxEventSize int
	// MaxBatchBytes bounds how much one group commit writes; 0 means 64 MiB.
	MaxBatchBytes int
	// Logger receives storage diagnostics; nil means slog.Default().
	Logger *slog.Logger
	// Now stamps events' created time; nil means time.Now.
	Now func() time.Time
}

// DB is an open event store. It is safe for concurrent use.
type DB struct {
	bolt *bolt.DB
	opts Options
	log  *slog.Logger

	// submit guards ops against a send after Close.
	submit sync.RWMutex
	closed bool
	ops    chan *writeOp
	done   chan struct{}

	changedMu sync.Mutex
	changed   chan struct{}
	last      atomic.Uint64 // position of the last committed record, 0 when empty

	commits, writes, appended, commitNanos atomic.Uint64

	// commitFault, when set, fails commits as the file system would (SetCommitFault).
	commitFault atomic.Pointer[func() error]

	// Owned by the writer goroutine.
	nextPos      uint64
	nextStreamID uint64
	recent       *recentIDs
	streamCache  map[string]streamState
	pending      *pendingIndex
}

// streamCacheSize bounds the writer's cache of stream states; when it is full the cache
// starts again empty, which costs one index lookup per stream to refill.
const streamCacheSize = 1 << 16

func (db *DB) cacheStream(name string, st streamState) {
	if len(db.streamCache) >= streamCacheSize {
		clear(db.streamCache)
	}
	db.streamCache[name] = st
}

// Open opens (creating if needed) the store in dir.
func Open(dir string, opts Options) (*DB, error) {
	if opts.MaxEventSize <= 0 {
		opts.MaxEventSize = DefaultMaxEventSize
	}
	if opts.MaxBatchBytes <= 0 {
		opts.MaxBatchBytes = 64 << 20
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	// The file is checked whole before bbolt maps it (see package boltfile): a damaged
	// store is refused with the damage named, never a panic or SIGBUS.
	b, sum, err := boltfile.Open(context.Background(), path, 0o600, &bolt.Options{
		Timeout: 2 * time.Second,
		// The freelist is rebuilt on open instead of written on every commit: cheaper commits.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
		// A large initial mapping avoids remaps, which wait for every open read transaction.
		InitialMmapSize: 1 << 30,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s is in use by another process (is the ledger running? stop it first, or use its --esdb-listen address)", ErrLocked, path)
	}
	if errors.Is(err, ErrDamaged) {
		return nil, err // it names the file
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if sum.HighWater > 0 { // an existing store, not one just created
		if err := b.View(func(tx *bolt.Tx) error { return checkContents(path, tx) }); err != nil {
			_ = b.Close()
			return nil, err
		}
	}
	// Growing the file costs an extra fsync; growing in large steps keeps that off most
	// commits.
	b.AllocSize = 64 << 20
	db := &DB{
		bolt:        b,
		opts:        opts,
		log:         opts.Logger,
		ops:         make(chan *writeOp, 4096),
		done:        make(chan struct{}),
		changed:     make(chan struct{}),
		recent:      newRecentIDs(1 << 17),
		streamCache: make(map[string]streamState),
		pending:     newPendingIndex(),
	}
	if err := db.init(); err != nil {
		_ = b.Close()
		return nil, err
	}
	go db.writer()
	return db, nil
}

func (db *DB) init() error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketLog, bucketStreams, bucketIndex, bucketMeta, bucketIndexLog} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(keyFormat); v != nil {
			if f := binary.BigEndian.Uint64(v); f != formatVersion {
				return fmt.Errorf("store format %d is not supported by this version (want %d)", f, formatVersion)
			}
		} else if err := meta.Put(keyFormat, u64(formatVersion)); err != nil {
			return err
		}
		db.nextPos = firstPosition
		if v := meta.Get(keyNextPos); v != nil {
			db.nextPos = binary.BigEndian.Uint64(v)
		}
		db.nextStreamID = 1
		if v := meta.Get(keyNextStream); v != nil {
			db.nextStreamID = binary.BigEndian.Uint64(v)
		}
		if k, _ := tx.Bucket(bucketLog).Cursor().Last(); k != nil {
			db.last.Store(binary.BigEndian.Uint64(k))
		}
		return db.pending.load(tx)
	})
}

// Close stops accepting writes, finishes those already queued and closes the file.
func (db *DB) Close() error {
	db.submit.Lock()
	if db.closed {
		db.submit.Unlock()
		return nil
	}
	db.closed = true
	close(db.ops)
	db.submit.Unlock()
	<-db.done
	return db.bolt.Close()
}

// SetCommitFault makes every commit call fault just before it would write, and fail
// with its error if it returns one, the transaction rolled back as after a failed
// write; nil removes it. It exists so that tests can make the disk fill up (return an
// error wrapping syscall.ENOSPC) and empty again without root or a small file system.
func (db *DB) SetCommitFault(fault func() error) {
	if fault == nil {
		db.commitFault.Store(nil)
		return
	}
	db.commitFault.Store(&fault)
}

// LastPosition is the position of the last committed record, or 0 for an empty store.
func (db *DB) LastPosition() uint64 { return db.last.Load() }

// Changed returns a channel that is closed at the next commit. Take it before reading,
// then wait on it once the read found nothing new, and no commit can be missed.
func (db *DB) Changed() <-chan struct{} {
	db.changedMu.Lock()
	defer db.changedMu.Unlock()
	return db.changed
}

func (db *DB) notifyChanged() {
	db.changedMu.Lock()
	close(db.changed)
	db.changed = make(chan struct{})
	db.changedMu.Unlock()
}

// Stats count the store's work since it was opened.
type Stats struct {
	// Commits is the number of group commits (each one fsync).
	Commits uint64
	// Writes is the number of append, delete and tombstone requests committed.
	Writes uint64
	// Records is the number of records written.
	Records uint64
	// CommitTime is the time spent in commits, fsyncs included; over a period, its growth
	// divided by the period is how busy the single writer was.
	CommitTime time.Duration
}

// Stats returns the counters; Writes/Commits is the mean group-commit size.
func (db *DB) Stats() Stats {
	return Stats{Commits: db.commits.Load(), Writes: db.writes.Load(), Records: db.appended.Load(), CommitTime: time.Duration(db.commitNanos.Load())}
}

// Size returns the store file's size in bytes.
func (db *DB) Size() (int64, error) {
	var n int64
	err := db.bolt.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n, err
}

// Backup writes a consistent copy of the store to w while writes go on.
func (db *DB) Backup(ctx context.Context, path string) error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return tx.CopyFile(path, 0o600)
	})
}

func u64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

// --- writes ---------------------------------------------------------------------------

type opKind uint8

const (
	opAppend opKind = iota
	opDelete
	opTombstone
)

type writeOp struct {
	kind     opKind
	stream   string
	expected ExpectedRevision
	events   []ProposedEvent
	size     int

	result AppendResult
	err    error
	done   chan struct{}
}

// AppendResult is what a successful write reports, in EventStoreDB's terms.
type AppendResult struct {
	// CurrentRevision is the stream's last revision after the write; NoStream is true when
	// the stream has no events.
	CurrentRevision uint64
	NoStream        bool
	// Position is the position of the last record written; HasPosition is false when the
	// write stored nothing (an empty append).
	Position    uint64
	HasPosition bool
}

// Append appends events to stream if the stream matches expected. It returns once the
// events are durable. Retrying with the same event ids and expected revision returns the
// first result and writes nothing twice.
func (db *DB) Append(ctx context.Context, stream string, expected ExpectedRevision, events []ProposedEvent) (AppendResult, error) {
	if err := validateStream(stream); err != nil {
		return AppendResult{}, err
	}
	if err := validateExpected(expected); err != nil {
		return AppendResult{}, err
	}
	size := 0
	for i := range events {
		if s := events[i].size(); s > db.opts.MaxEventSize {
			return AppendResult{}, &EventTooLargeError{EventID: events[i].ID.String(), Size: s, Limit: db.opts.MaxEventSize}
		}
		if events[i].Type == "" {
			return AppendResult{}, fmt.Errorf("%w: event %s has no type", ErrInvalidArgument, events[i].ID)
		}
		size += events[i].size()
	}
	return db.do(ctx, &writeOp{kind: opAppend, stream: stream, expected: expected, events: events, size: size})
}

// Delete soft-deletes a stream as EventStoreDB does: its metadata gets $tb = long.MaxValue,
// reads report it not found, and a later append continues its revisions.
func (db *DB) Delete(ctx context.Context, stream string, expected ExpectedRevision) (AppendResult, error) {
	if err := validateStream(stream); err != nil {
		return AppendResult{}, err
	}
	if err := validateExpected(expected); err != nil {
		return AppendResult{}, err
	}
	return db.do(ctx, &writeOp{kind: opDelete, stream: stream, expected: expected})
}

// Tombstone hard-deletes a stream: it can never be read or written again.
func (db *DB) Tombstone(ctx context.Context, stream string, expected ExpectedRevision) (AppendResult, error) {
	if err := validateStream(stream); err != nil {
		return AppendResult{}, err
	}
	if err := validateExpected(expected); err != nil {
		return AppendResult{}, err
	}
	return db.do(ctx, &writeOp{kind: opTombstone, stream: stream, expected: expected})
}

func validateStream(stream string) error {
	switch {
	case stream == "":
		return fmt.Errorf("%w: empty stream name", ErrInvalidArgument)
	case stream == "$all":
		return fmt.Errorf("%w: $all cannot be written to", ErrInvalidArgument)
	case len(stream) > 64*1024:
		return fmt.Errorf("%w: stream name longer than 65536 bytes", ErrInvalidArgument)
	}
	return nil
}

func validateExpected(e ExpectedRevision) error {
	if e.Kind > ExpectRevision {
		return fmt.Errorf("%w: unknown expected revision kind %d", ErrInvalidArgument, e.Kind)
	}
	if e.Kind == ExpectRevision && e.Revision >= TombstoneRevision {
		return fmt.Errorf("%w: expected revision %d is out of range", ErrInvalidArgument, e.Revision)
	}
	return nil
}

func (db *DB) do(ctx context.Context, op *writeOp) (AppendResult, error) {
	op.done = make(chan struct{})
	db.submit.RLock()
	if db.closed {
		db.submit.RUnlock()
		return AppendResult{}, ErrClosed
	}
	select {
	case db.ops <- op:
	case <-ctx.Done():
		db.submit.RUnlock()
		return AppendResult{}, ctx.Err()
	}
	db.submit.RUnlock()
	select {
	case <-op.done:
		return op.result, op.err
	case <-ctx.Done():
		// The write may still commit; a retry with the same event ids is idempotent.
		return AppendResult{}, ctx.Err()
	}
}

// writer group-commits: it takes every queued write, applies them in order in one
// transaction, fsyncs once, then answers them all.
func (db *DB) writer() {
	defer close(db.done)
	batch := make([]*writeOp, 0, 256)
	for op := range db.ops {
		batch = append(batch[:0], op)
		size := op.size
	gather:
		for size < db.opts.MaxBatchBytes && len(batch) < 8192 {
			select {
			case next, ok := <-db.ops:
				if !ok {
					break gather
				}
				batch = append(batch, next)
				size += next.size
			default:
				break gather
			}
		}
		db.commit(batch)
	}
}

func (db *DB) commit(ops []*writeOp) {
	b := &batch{
		db:           db,
		now:          db.opts.Now(),
		nextPos:      db.nextPos,
		nextStreamID: db.nextStreamID,
		ids:          make(map[[16]byte]idRef),
		touched:      make(map[string]streamState),
	}
	start := time.Now()
	defer func() { db.commitNanos.Add(uint64(time.Since(start))) }()
	var logKey uint64
	var merged int
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b.tx = tx
		b.log = tx.Bucket(bucketLog)
		b.log.FillPercent = 1.0 // keys only ever grow: pack pages full
		b.idx = tx.Bucket(bucketIndex)
		b.str = tx.Bucket(bucketStreams)
		for _, op := range ops {
			var err error
			switch op.kind {
			case opAppend:
				op.result, err = b.append(op.stream, op.expected, op.events)
			case opDelete:
				op.result, err = b.softDelete(op.stream, op.expected)
			case opTombstone:
				op.result, err = b.tombstone(op.stream, op.expected)
			}
			if errors.Is(err, errStorage) {
				return err
			}
			op.err = err
		}
		if b.index.n > 0 {
			var err error
			if logKey, err = db.pending.writeLog(tx, &b.index); err != nil {
				return err
			}
		}
		var err error
		if merged, err = db.pending.merge(tx); err != nil {
			return err
		}
		meta := tx.Bucket(bucketMeta)
		if err := meta.Put(keyNextPos, u64(b.nextPos)); err != nil {
			return fmt.Errorf("%w: %w", errStorage, err)
		}
		if err := meta.Put(keyNextStream, u64(b.nextStreamID)); err != nil {
			return err
		}
		if f := db.commitFault.Load(); f != nil {
			return (*f)()
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
			// bbolt rolls the transaction back and stays usable; every write of the batch
			// is refused, none acknowledged, and the next commit tries again.
			err = fmt.Errorf("%w: %w", ErrDiskFull, err)
		}
		db.log.Error("event store commit failed", "err", err, "writes", len(ops))
		for _, op := range ops {
			op.result, op.err = AppendResult{}, fmt.Errorf("commit: %w", err)
			close(op.done)
		}
		return
	}
	db.nextPos = b.nextPos
	db.nextStreamID = b.nextStreamID
	db.pending.committed(merged, logKey, &b.index)
	db.commits.Add(1)
	db.writes.Add(uint64(len(ops)))
	db.appended.Add(b.records)
	for id, ref := range b.ids {
		db.recent.add(id, ref)
	}
	for name, st := range b.touched {
		db.cacheStream(name, st)
	}
	if b.lastWritten != 0 {
		db.last.Store(b.lastWritten)
		db.notifyChanged()
	}
	for _, op := range ops {
		close(op.done)
	}
}
