package eventdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// errStorage marks failures of the storage engine itself: they abort the whole group
// commit, unlike a wrong expected version, which fails only its own write.
var errStorage = errors.New("storage failure")

// streamState is what the store knows of a stream. The streams bucket keeps only what
// changes rarely, id(8) and flags(1), written when the stream is created or tombstoned;
// the last revision is read from the index, so an append to an existing stream dirties no
// page beyond the log and the index.
type streamState struct {
	exists     bool // a state record exists (the stream was written or tombstoned)
	id         uint64
	last       int64 // last revision, -1 when the stream has no events
	tombstoned bool
}

// loadStream reads a stream's state through an index view.
func loadStream(streams *bolt.Bucket, v indexView, name string) streamState {
	raw := streams.Get([]byte(name))
	if len(raw) < 9 {
		return streamState{last: -1}
	}
	st := streamState{exists: true, id: binary.BigEndian.Uint64(raw[0:8]), tombstoned: raw[8]&1 != 0}
	st.last = v.last(st.id)
	return st
}

func (s streamState) encode() []byte {
	v := make([]byte, 9)
	binary.BigEndian.PutUint64(v[0:8], s.id)
	if s.tombstoned {
		v[8] = 1
	}
	return v
}

func indexKey(streamID, revision uint64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k[0:8], streamID)
	binary.BigEndian.PutUint64(k[8:16], revision)
	return k
}

// idRef says where an event id was written, for idempotency checks of recent writes.
type idRef struct {
	streamID uint64
	revision uint64
	position uint64
}

// batch applies the writes of one group commit inside one bbolt transaction.
type batch struct {
	db           *DB
	tx           *bolt.Tx
	log, idx     *bolt.Bucket
	str          *bolt.Bucket
	now          time.Time
	nextPos      uint64
	nextStreamID uint64
	lastWritten  uint64
	records      uint64
	touched      map[string]streamState // stream states this batch changed
	index        batchIndex             // index entries this batch adds
	ids          map[[16]byte]idRef     // event ids written in this batch
	arena        []byte
}

// stream reads a stream's state; the transaction sees the batch's own earlier writes.
//
// The writer keeps recently used stream states in memory, so that an append to a busy
// stream does not look its last revision up in the index; states this batch changes are
// kept apart until the commit succeeds.
func (b *batch) stream(name string) streamState {
	if st, ok := b.touched[name]; ok {
		return st
	}
	if st, ok := b.db.streamCache[name]; ok {
		return st
	}
	// Not changed in this batch, so the transaction shows the committed state.
	st := loadStream(b.str, b.view(), name)
	b.db.cacheStream(name, st)
	return st
}

func (b *batch) putStream(name string, s streamState) (streamState, error) {
	if !s.exists {
		s.exists = true
		s.id = b.nextStreamID
		b.nextStreamID++
	}
	b.touched[name] = s
	if err := b.str.Put([]byte(name), s.encode()); err != nil {
		return s, fmt.Errorf("%w: %w", errStorage, err)
	}
	return s, nil
}

func (b *batch) recentID(id uuid.UUID) (idRef, bool) {
	if r, ok := b.ids[id]; ok {
		return r, true
	}
	return b.db.recent.get(id)
}

// view is the index as this batch sees it: merged, pending, and its own entries. The
// writer reads the pending entries without the lock, since only it changes them.
func (b *batch) view() indexView {
	return indexView{idx: b.idx, pending: b.db.pending.streams, batch: &b.index}
}

// eventAt reads the index entry of a stream's revision.
func (b *batch) eventAt(st streamState, revision uint64) (pos uint64, id uuid.UUID, ok bool) {
	if !st.exists {
		return 0, id, false
	}
	e, ok := b.view().get(st.id, revision)
	return e.pos, e.id, ok
}

func (b *batch) softDeleted(name string) bool {
	if IsMetadataStream(name) {
		return false
	}
	return reader{tx: b.tx, index: b.view()}.metadata(name).softDeleted()
}

func (b *batch) wrongVersion(name string, expected ExpectedRevision, current int64) error {
	return &WrongExpectedVersionError{Stream: name, Expected: expected, Current: current}
}

// checkExpected decides a write against the stream's state the way EventStoreDB's index
// writer does. It returns idempotent=true with the earlier result when every event was
// already written by an identical earlier request.
func (b *batch) checkExpected(name string, st streamState, expected ExpectedRevision, events []ProposedEvent) (idempotent bool, res AppendResult, softDel bool, err error) {
	cur := st.last
	softDel = cur >= 0 && b.softDeleted(name)
	n := len(events)
	switch expected.Kind {
	case ExpectAny, ExpectStreamExists:
		if expected.Kind == ExpectStreamExists {
			// As on a real node: a soft-deleted stream is reported deleted to a writer that
			// expects it to exist, and a stream that has only metadata exists.
			if cur < 0 && !IsMetadataStream(name) {
				softDel = b.softDeleted(name)
			}
			switch {
			case softDel:
				return false, res, softDel, &StreamDeletedError{Stream: name}
			case cur < 0 && (IsMetadataStream(name) || b.stream(MetadataStream(name)).last < 0):
				return false, res, softDel, b.wrongVersion(name, expected, cur)
			}
		}
		// Weak idempotency, as in EventStoreDB: without a revision to look at, only recently
		// written event ids are recognised.
		if n == 0 || !st.exists {
			return false, res, softDel, nil
		}
		first, ok := b.recentID(events[0].ID)
		if !ok || first.streamID != st.id {
			return false, res, softDel, nil
		}
		last := first
		for i := 1; i < n; i++ {
			r, ok := b.recentID(events[i].ID)
			if !ok || r.streamID != st.id || r.revision != first.revision+uint64(i) {
				return false, res, softDel, b.wrongVersion(name, expected, cur)
			}
			last = r
		}
		return true, AppendResult{CurrentRevision: last.revision, Position: last.position, HasPosition: true}, softDel, nil
	default:
		e := int64(-1)
		if expected.Kind == ExpectRevision {
			e = int64(expected.Revision)
		}
		switch {
		case e == cur:
			return false, res, softDel, nil
		case e > cur:
			return false, res, softDel, b.wrongVersion(name, expected, cur)
		}
		// Strong idempotency: the request names the revisions its events must have.
		var pos uint64
		for i := 0; i < n; i++ {
			rev := uint64(e + 1 + int64(i))
			p, id, ok := b.eventAt(st, rev)
			if ok && id == events[i].ID {
				pos = p
				continue
			}
			if i == 0 && expected.Kind == ExpectNoStream && softDel {
				return false, res, softDel, nil
			}
			return false, res, softDel, b.wrongVersion(name, expected, cur)
		}
		if n == 0 {
			if expected.Kind == ExpectNoStream && softDel {
				return false, res, softDel, nil
			}
			return false, res, softDel, b.wrongVersion(name, expected, cur)
		}
		return true, AppendResult{CurrentRevision: uint64(e + int64(n)), Position: pos, HasPosition: true}, softDel, nil
	}
}

// write stores one record at the next position.
func (b *batch) write(rec *Record) error {
	// bbolt keeps a reference to values until the commit, so each record needs bytes of
	// its own: they are carved from an arena that only ever grows within the batch.
	start := len(b.arena)
	b.arena = encodeRecord(b.arena, rec)
	val := b.arena[start:len(b.arena):len(b.arena)]
	rec.Position = b.nextPos
	b.nextPos += uint64(len(val)) + recordOverhead
	if err := b.log.Put(u64(rec.Position), val); err != nil {
		return fmt.Errorf("%w: %w", errStorage, err)
	}
	b.lastWritten = rec.Position
	b.records++
	return nil
}

func (b *batch) ticks() int64 { return b.now.UnixNano() / 100 }

func (b *batch) append(name string, expected ExpectedRevision, events []ProposedEvent) (AppendResult, error) {
	st := b.stream(name)
	if st.tombstoned {
		return AppendResult{}, &StreamDeletedError{Stream: name}
	}
	idem, res, softDel, err := b.checkExpected(name, st, expected, events)
	if err != nil || idem {
		return res, err
	}
	if len(events) == 0 {
		if st.last < 0 {
			return AppendResult{NoStream: true}, nil
		}
		return AppendResult{CurrentRevision: uint64(st.last)}, nil
	}
	if !st.exists {
		st.last = -1
		if st, err = b.putStream(name, st); err != nil {
			return AppendResult{}, err
		}
	}
	prevLast := st.last
	ticks := b.ticks()
	for i := range events {
		ev := &events[i]
		rev := uint64(prevLast + 1 + int64(i))
		rec := Record{Stream: name, Revision: rev, ID: ev.ID, Type: ev.Type, IsJSON: ev.IsJSON, Created: ticks, Data: ev.Data, Metadata: ev.Metadata}
		if err := b.write(&rec); err != nil {
			return AppendResult{}, err
		}
		b.index.add(st.id, indexEntry{rev: rev, pos: rec.Position, id: ev.ID})
		b.ids[ev.ID] = idRef{streamID: st.id, revision: rev, position: rec.Position}
	}
	st.last = prevLast + int64(len(events))
	b.touched[name] = st
	res = AppendResult{CurrentRevision: uint64(st.last), Position: b.lastWritten, HasPosition: true}
	if softDel {
		// Writing to a soft-deleted stream brings it back with only the new events, as
		// EventStoreDB does: its truncate-before moves to the first new revision.
		meta := reader{tx: b.tx, index: b.view()}.metadata(name)
		if _, err := b.appendMetadata(name, meta.withTruncateBefore(prevLast+1)); err != nil {
			return AppendResult{}, err
		}
	}
	return res, nil
}

// appendMetadata writes a $metadata event to the stream's metadata stream.
func (b *batch) appendMetadata(name string, doc []byte) (uint64, error) {
	res, err := b.append(MetadataStream(name), Any, []ProposedEvent{{ID: uuid.New(), Type: TypeStreamMetadata, IsJSON: true, Data: doc}})
	if err != nil {
		return 0, err
	}
	return res.Position, nil
}

func (b *batch) softDelete(name string, expected ExpectedRevision) (AppendResult, error) {
	st := b.stream(name)
	if st.tombstoned {
		return AppendResult{}, &StreamDeletedError{Stream: name}
	}
	if _, _, _, err := b.checkExpected(name, st, expected, nil); err != nil {
		return AppendResult{}, err
	}
	meta := reader{tx: b.tx, index: b.view()}.metadata(name)
	if st.last < 0 && b.stream(MetadataStream(name)).last < 0 {
		// Nothing to delete: EventStoreDB answers this with a wrong expected version.
		return AppendResult{}, b.wrongVersion(name, expected, -1)
	}
	pos, err := b.appendMetadata(name, meta.withTruncateBefore(deletedTruncateBefore))
	if err != nil {
		return AppendResult{}, err
	}
	return AppendResult{Position: pos, HasPosition: true}, nil
}

func (b *batch) tombstone(name string, expected ExpectedRevision) (AppendResult, error) {
	st := b.stream(name)
	if st.tombstoned {
		return AppendResult{}, &StreamDeletedError{Stream: name}
	}
	if _, _, _, err := b.checkExpected(name, st, expected, nil); err != nil {
		return AppendResult{}, err
	}
	rec := Record{Stream: name, Revision: TombstoneRevision, ID: uuid.New(), Type: TypeStreamDeleted, IsJSON: true, Created: b.ticks()}
	if err := b.write(&rec); err != nil {
		return AppendResult{}, err
	}
	st.tombstoned = true
	if _, err := b.putStream(name, st); err != nil {
		return AppendResult{}, err
	}
	return AppendResult{Position: rec.Position, HasPosition: true}, nil
}

// recentIDs remembers where recently written event ids went, for the weak idempotency
// check of writes that name no revision. It is bounded: the oldest ids are forgotten.
type recentIDs struct {
	m    map[[16]byte]idRef
	ring [][16]byte
	next int
}

func newRecentIDs(capacity int) *recentIDs {
	return &recentIDs{m: make(map[[16]byte]idRef, capacity), ring: make([][16]byte, capacity)}
}

func (r *recentIDs) add(id [16]byte, ref idRef) {
	if old := r.ring[r.next]; old != ([16]byte{}) {
		delete(r.m, old)
	}
	r.ring[r.next] = id
	r.m[id] = ref
	r.next = (r.next + 1) % len(r.ring)
}

func (r *recentIDs) get(id [16]byte) (idRef, bool) {
	ref, ok := r.m[id]
	return ref, ok
}
