// Package readmodel holds what every read model runs on: the Projection interface, the
// runner that feeds projections from a subscription to $all, the bbolt state file it
// keeps their state in, the queue between receiving and applying, and the compact row
// codec the read models store their rows with. Each projection's checkpoint is stored
// in the same transaction as its state, so a restart resumes exactly where it stopped
// and a rebuild from position zero gives the same bytes.
//
// The read models themselves (package projections) import this package; it knows them
// only as Projections. It may import aggregates, eventlog and folds (and the event
// store's client and bbolt), nothing else of this module.
package readmodel

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/folds"
)

// Event is one event of $all as a projection sees it: the stored record, its envelope,
// and for journey events the decoded domain event with the person's journey just before
// and just after it. The runner folds each journey once for all projections.
type Event struct {
	Position uint64
	Stream   string
	Revision uint64
	ID       uuid.UUID
	Type     string
	Data     []byte
	Metadata []byte
	// Recorded is when the store recorded the event (its "created" time).
	Recorded time.Time

	// Decoded is the envelope and, for journey events, the person and the domain
	// event (Domain nil for other streams). DecodeErr says why the envelope or domain
	// event could not be read; a projection that needs them should return it, which
	// stops that projection at this event.
	folds.Decoded
	// After is the person's journey just after Domain. It is shared by every projection,
	// must not be changed, and is valid only during Apply: the runner folds each journey
	// in place, once for all projections, so the next event of the same person changes
	// it. (A Batcher that keeps the pointer until Commit sees the person's latest state.)
	After *aggregates.Journey
}

// IsJourney reports whether the event belongs to a journey stream.
func (e *Event) IsJourney() bool { return e.NOMS != "" }

// Batcher is implemented by projections that hold state in memory between the events of
// one batch: Commit writes it inside the batch's transaction after the last Apply, and
// Rollback forgets it when the transaction is abandoned.
type Batcher interface {
	Commit(b *bolt.Bucket) error
	Rollback()
}

// Projection is a read model. Apply must be deterministic: the state it leaves depends
// only on the events, never on the clock or on how events were batched.
type Projection interface {
	// Name identifies the projection and names its bucket; it never changes.
	Name() string
	// Version changes when Apply changes meaning; state of another version is rebuilt.
	Version() int
	// Apply folds one event into the projection's bucket. An error stops this projection
	// (the others go on) until it is fixed and restarted. The event is shared by every
	// projection and reused after the batch: Apply must not change it or keep the pointer.
	Apply(b *bolt.Bucket, ev *Event) error
}

// ApplyError says which event a projection could not apply.
type ApplyError struct {
	Projection string
	Position   uint64
	EventID    uuid.UUID
	EventType  string
	Stream     string
	Err        error
}

func (e *ApplyError) Error() string {
	return fmt.Sprintf("projection %s stopped at $all position %d: event %s (%s in %s): %v",
		e.Projection, e.Position, e.EventID, e.EventType, e.Stream, e.Err)
}

func (e *ApplyError) Unwrap() error { return e.Err }

// Errors of the runner.
var (
	// ErrUnknownProjection: no projection has that name.
	ErrUnknownProjection = errors.New("unknown projection")
	// ErrNotCaughtUp: a wait for a position ended before the projection reached it.
	ErrNotCaughtUp = errors.New("projection has not reached the position yet")
)

var bucketMeta = []byte("_projections")

// checkpointRecord is what the meta bucket keeps per projection.
type checkpointRecord struct {
	Version  int    `json:"version"`
	Position uint64 `json:"position"`
}

// slot is a projection and where it stands.
type slot struct {
	p          Projection
	name       []byte
	checkpoint uint64 // guarded by Runner.mu
	failed     *ApplyError
}

// Runner feeds projections from a catch-up subscription to $all.
type Runner struct {
	db     *bolt.DB
	state  *stateFile
	client eventstore.Store
	log    *slog.Logger
	slots  []*slot
	byName map[string]*slot

	mu       sync.Mutex
	advanced chan struct{} // closed and replaced whenever a checkpoint moves
	live     bool

	// BatchSize bounds how many events one transaction applies. While catching up,
	// bigger batches mean each person's pages (and audit and history chunks) rewritten
	// less often: 20,000 rebuilt 1,000,000 events twice as fast as 2,000, and 50,000
	// about 4% faster again than 20,000 (five runs each, side by side), for some 150 MB
	// more memory, as up to two batches wait while one is applied. Once live, batches
	// are whatever has arrived, so this only bounds a burst.
	BatchSize int
	// FoldCacheSize bounds how many journeys the runner keeps folded in memory; a journey
	// not in the cache is folded again from its stream when its next event arrives.
	FoldCacheSize int

	folds *folds.Cache // made by Run; its folds are fed by the goroutine running Run

	applied atomic.Uint64 // events taken from the subscription and applied
}

// Applied counts the events applied since the runner was opened (each event once,
// however many projections it went to).
func (r *Runner) Applied() uint64 { return r.applied.Load() }

// Position is the lowest checkpoint of the healthy projections: everything up to it is
// in every read model that has not failed.
func (r *Runner) Position() uint64 { return r.minCheckpoint() }

// catchUpLinger is how long a catching-up runner waits to fill a batch.
const catchUpLinger = 50 * time.Millisecond

// Open opens (creating) the projection state file and prepares the runner. A projection
// whose stored version differs from its code is reset to position zero.
func Open(path string, client eventstore.Store, log *slog.Logger, ps ...Projection) (*Runner, error) {
	if log == nil {
		log = slog.Default()
	}
	state, err := openStateFile(path, currentBootID(), log)
	if err != nil {
		return nil, err
	}
	db := state.db
	r := &Runner{db: db, state: state, client: client, log: log, byName: map[string]*slot{}, advanced: make(chan struct{}),
		BatchSize: 50000, FoldCacheSize: 50000}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if _, dup := r.byName[p.Name()]; dup || strings.HasPrefix(p.Name(), "_") || p.Name() == "" {
				return fmt.Errorf("projection name %q is empty, reserved or used twice", p.Name())
			}
			s := &slot{p: p, name: []byte(p.Name())}
			var rec checkpointRecord
			if v := meta.Get(s.name); v != nil {
				if err := json.Unmarshal(v, &rec); err != nil {
					return fmt.Errorf("checkpoint of %s: %w", p.Name(), err)
				}
			}
			if rec.Version != p.Version() || tx.Bucket(s.name) == nil {
				log.Info("projection state reset", "projection", p.Name(), "stored_version", rec.Version, "version", p.Version())
				if err := resetSlot(tx, s); err != nil {
					return err
				}
			} else {
				s.checkpoint = rec.Position
			}
			r.slots = append(r.slots, s)
			r.byName[p.Name()] = s
		}
		return nil
	})
	if err != nil {
		_ = state.close()
		return nil, err
	}
	return r, nil
}

func resetSlot(tx *bolt.Tx, s *slot) error {
	if tx.Bucket(s.name) != nil {
		if err := tx.DeleteBucket(s.name); err != nil {
			return err
		}
	}
	if _, err := tx.CreateBucket(s.name); err != nil {
		return err
	}
	s.checkpoint = 0
	return putCheckpoint(tx, s, 0)
}

func putCheckpoint(tx *bolt.Tx, s *slot, pos uint64) error {
	v, _ := json.Marshal(checkpointRecord{Version: s.p.Version(), Position: pos})
	return tx.Bucket(bucketMeta).Put(s.name, v)
}

// Close syncs and closes the state file. Run must have returned.
func (r *Runner) Close() error { return r.state.close() }

// Reset sets the named projections (all when none are named) back to position zero,
// so the next Run rebuilds them from the whole log.
func (r *Runner) Reset(names ...string) error {
	targets := r.slots
	if len(names) > 0 {
		targets = nil
		for _, n := range names {
			s, ok := r.byName[n]
			if !ok {
				return fmt.Errorf("%w: %q", ErrUnknownProjection, n)
			}
			targets = append(targets, s)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.db.Update(func(tx *bolt.Tx) error {
		for _, s := range targets {
			if err := resetSlot(tx, s); err != nil {
				return err
			}
			s.failed = nil
		}
		return nil
	})
}

// Status is where a projection stands.
type Status struct {
	Name       string
	Position   uint64
	Failed     error
	CaughtUpAt bool
}

// Status reports every projection.
func (r *Runner) Status() []Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Status, 0, len(r.slots))
	for _, s := range r.slots {
		st := Status{Name: s.p.Name(), Position: s.checkpoint, CaughtUpAt: r.live && s.failed == nil}
		if s.failed != nil {
			st.Failed = s.failed
		}
		out = append(out, st)
	}
	return out
}

// Live reports whether the runner has caught up with the log at least once since Run
// started and no projection has failed.
func (r *Runner) Live() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.live {
		return false
	}
	for _, s := range r.slots {
		if s.failed != nil {
			return false
		}
	}
	return true
}

// WaitFor blocks until the named projection has applied everything up to and including
// position pos (read-your-writes), the projection fails, or ctx ends.
func (r *Runner) WaitFor(ctx context.Context, name string, pos uint64) error {
	s, ok := r.byName[name]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownProjection, name)
	}
	for {
		r.mu.Lock()
		cp, failed, ch := s.checkpoint, s.failed, r.advanced
		r.mu.Unlock()
		switch {
		case failed != nil:
			return failed
		case cp >= pos:
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("%w: %s at %d, waiting for %d: %w", ErrNotCaughtUp, name, cp, pos, ctx.Err())
		}
	}
}

// View runs fn with the named projection's bucket in a read transaction.
func (r *Runner) View(name string, fn func(b *bolt.Bucket) error) error {
	s, ok := r.byName[name]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownProjection, name)
	}
	return r.db.View(func(tx *bolt.Tx) error { return fn(tx.Bucket(s.name)) })
}

// ViewCheckpointed is View with the named projection's checkpoint as stored with the
// state fn reads (in the same read transaction): everything up to it, and nothing
// after, is in that state.
func (r *Runner) ViewCheckpointed(name string, fn func(b *bolt.Bucket, checkpoint uint64) error) error {
	s, ok := r.byName[name]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownProjection, name)
	}
	return r.db.View(func(tx *bolt.Tx) error {
		var rec checkpointRecord
		if v := tx.Bucket(bucketMeta).Get(s.name); v != nil {
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("%w: checkpoint of %s: %w", ErrCorruptRow, name, err)
			}
		}
		return fn(tx.Bucket(s.name), rec.Position)
	})
}

// Update runs fn in one write transaction with every projection and its bucket, in the
// order given to Open. It folds nothing and moves no checkpoint: it is for tests and
// benchmarks that hand events to the projections themselves, and for tests that damage
// a state on purpose.
func (r *Runner) Update(fn func(ps []Projection, buckets []*bolt.Bucket) error) error {
	return r.db.Update(func(tx *bolt.Tx) error {
		ps := make([]Projection, len(r.slots))
		buckets := make([]*bolt.Bucket, len(r.slots))
		for i, s := range r.slots {
			ps[i], buckets[i] = s.p, tx.Bucket(s.name)
		}
		return fn(ps, buckets)
	})
}

// OpenReads is how many read transactions of the state file are open now. A reader
// that holds one long keeps the file from growing (bbolt remaps it only when no reader
// holds the old mapping), so long scans read in short transactions; tests check it.
func (r *Runner) OpenReads() int { return r.db.Stats().OpenTxN }

// Path is the state file's path.
func (r *Runner) Path() string { return r.db.Path() }

// Dump writes every key and value of the named projection's state to fn in order; tests
// use it to compare a rebuilt state with an incremental one byte for byte.
func (r *Runner) Dump(name string, fn func(path [][]byte, k, v []byte)) error {
	return r.View(name, func(b *bolt.Bucket) error { return dumpBucket(b, nil, fn) })
}

func dumpBucket(b *bolt.Bucket, path [][]byte, fn func(path [][]byte, k, v []byte)) error {
	return b.ForEach(func(k, v []byte) error {
		if v == nil {
			return dumpBucket(b.Bucket(k), append(path, k), fn)
		}
		fn(path, k, v)
		return nil
	})
}

func (r *Runner) minCheckpoint() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var lowest uint64
	first := true
	for _, s := range r.slots {
		if s.failed != nil {
			continue
		}
		if first || s.checkpoint < lowest {
			lowest, first = s.checkpoint, false
		}
	}
	return lowest
}

// Run subscribes to $all from the lowest checkpoint and applies events until ctx ends.
// A dropped subscription is re-established from the checkpoints; nothing is applied
// twice, because each projection skips what its checkpoint already covers.
func (r *Runner) Run(ctx context.Context) error {
	if r.folds == nil {
		r.folds = folds.NewCache(r.client, r.FoldCacheSize)
	}
	backoff := 100 * time.Millisecond
	for {
		err := r.runOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		r.log.Warn("projection subscription ended; resubscribing", "err", err, "after", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (r *Runner) runOnce(ctx context.Context) error {
	// Cancelled when runOnce returns, so that the stages feeding it stop too rather than
	// wait forever to hand on what nobody will take.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	from := r.minCheckpoint()
	opts := esdb.SubscribeToAllOptions{From: esdb.Start{}}
	if from > 0 {
		opts.From = esdb.Position{Commit: from, Prepare: from}
	}
	sub, err := r.client.SubscribeToAll(ctx, opts)
	if err != nil {
		return fmt.Errorf("subscribe to $all: %w", err)
	}
	defer sub.Close()
	// Receiving and decoding run beside applying, so that both cores are used; the queue
	// holds up to two batches while one is applied.
	q := newQueue(r.BatchSize)
	recvErr := make(chan error, 1)
	go func() {
		defer q.close()
		dec := folds.NewDecoder()
		var ev Event
		for {
			e := sub.Recv()
			switch {
			case e.SubscriptionDropped != nil:
				recvErr <- e.SubscriptionDropped.Error
				return
			case e.EventAppeared != nil:
				ev = toEvent(e.EventAppeared)
				dec.Decode(&ev.Decoded, ev.Stream, ev.Type, ev.Data, ev.Metadata)
				if !q.put(ctx, &ev) {
					return
				}
			case e.CaughtUp != nil:
				q.markCaughtUp()
			}
		}
	}()
	var batch []Event
	live := false
	for {
		// While catching up, wait a little for a full batch: one transaction per few
		// events would rewrite the same pages over and over. Once live, apply at once.
		want, linger := r.BatchSize, catchUpLinger
		if live {
			want, linger = 1, 0
		}
		var caughtUp, open bool
		batch, caughtUp, open = q.take(ctx, want, linger, batch)
		if !open {
			break
		}
		if len(batch) > 0 {
			if err := r.apply(ctx, batch); err != nil {
				return err
			}
		}
		if caughtUp && !live {
			live = true
			r.mu.Lock()
			r.live = true
			r.mu.Unlock()
			r.log.Info("projections caught up", "position", r.minCheckpoint())
		}
	}
	select {
	case err := <-recvErr:
		return err
	default:
		return ctx.Err()
	}
}

func toEvent(re *esdb.ResolvedEvent) Event {
	e := re.Event
	return Event{
		Position: e.Position.Commit,
		Stream:   e.StreamID,
		Revision: e.EventNumber,
		ID:       e.EventID,
		Type:     e.EventType,
		Data:     e.Data,
		Metadata: e.UserMetadata,
		Recorded: e.CreatedDate,
	}
}

// foldEvent folds ev into its person's journey in the fold cache, in place, and points
// ev.After at it. A journey not in the cache, or cached at another revision (after a
// resubscription from an earlier checkpoint, or a batch abandoned part-way), is folded
// again from its stream up to the event (folds.Cache.At).
func (r *Runner) foldEvent(ctx context.Context, ev *Event) error {
	if ev.NOMS == "" {
		return nil
	}
	f, err := r.folds.At(ctx, ev.NOMS, ev.Stream, ev.Revision)
	if err != nil {
		return fmt.Errorf("fold %s: %w", ev.Stream, err)
	}
	f.Apply(ev.Revision, ev.Position, ev.Domain, ev.DecodeErr)
	if ev.Domain != nil {
		ev.After = &f.Journey
	}
	return nil
}

// apply applies a batch to every healthy projection in one transaction, event by event.
// When one projection fails, the transaction is abandoned, that projection is stopped
// with the error, and the batch is applied again to the others.
func (r *Runner) apply(ctx context.Context, batch []Event) error {
	for {
		var failed *ApplyError
		// live, start and advancedTo are indexed alike: the healthy projections, where
		// each stood before the batch, and where it stands after (0: not moved).
		live := make([]*slot, 0, len(r.slots))
		var start []uint64
		r.mu.Lock()
		for _, s := range r.slots {
			if s.failed == nil {
				live = append(live, s)
				start = append(start, s.checkpoint)
			}
		}
		r.mu.Unlock()
		advancedTo := make([]uint64, len(live))
		err := r.db.Update(func(tx *bolt.Tx) error {
			buckets := make([]*bolt.Bucket, len(live))
			for i, s := range live {
				buckets[i] = tx.Bucket(s.name)
			}
			for i := range batch {
				ev := &batch[i]
				if err := r.foldEvent(ctx, ev); err != nil {
					return err
				}
				system := strings.HasPrefix(ev.Type, "$") // the store's own bookkeeping
				for k, s := range live {
					if ev.Position <= start[k] {
						continue
					}
					advancedTo[k] = ev.Position
					if system {
						continue
					}
					if err := s.p.Apply(buckets[k], ev); err != nil {
						failed = &ApplyError{Projection: s.p.Name(), Position: ev.Position, EventID: ev.ID, EventType: ev.Type, Stream: ev.Stream, Err: err}
						return failed
					}
				}
			}
			for k, s := range live {
				if bt, ok := s.p.(Batcher); ok {
					if err := bt.Commit(buckets[k]); err != nil {
						failed = &ApplyError{Projection: s.p.Name(), Position: batch[len(batch)-1].Position, Err: err}
						return failed
					}
				}
				if advancedTo[k] != 0 {
					if err := putCheckpoint(tx, s, advancedTo[k]); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			for _, s := range live {
				if bt, ok := s.p.(Batcher); ok {
					bt.Rollback()
				}
			}
		}
		if failed != nil && errors.As(err, &failed) {
			r.log.Error("projection stopped", "projection", failed.Projection, "position", failed.Position,
				"event_id", failed.EventID, "event_type", failed.EventType, "stream", failed.Stream, "err", failed.Err)
			r.mu.Lock()
			r.byName[failed.Projection].failed = failed
			r.notifyLocked()
			r.mu.Unlock()
			continue
		}
		if err != nil {
			return fmt.Errorf("store projection state: %w", err)
		}
		// Counted before the checkpoints move, so a waiter woken by them sees the count.
		r.applied.Add(uint64(len(batch)))
		r.mu.Lock()
		for k, s := range live {
			if advancedTo[k] != 0 {
				s.checkpoint = advancedTo[k]
			}
		}
		r.notifyLocked()
		r.mu.Unlock()
		return nil
	}
}

func (r *Runner) notifyLocked() {
	close(r.advanced)
	r.advanced = make(chan struct{})
}

// U64 encodes v big-endian, so keys sort in numeric order; projections use it for keys.
func U64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
