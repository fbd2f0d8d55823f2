package projections

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventstore"
)

// AuditName names the audit trail projection and its bucket.
const AuditName = "audit"

// auditRowVersion is the first byte of every audit row; a change of layout bumps it
// together with Audit.Version.
const auditRowVersion = 2

// auditVersion is AuditProjection's Version: 3 since rows are kept in chunks, 4 since
// only journey streams have rows.
const auditVersion = 4

// auditChunkShift sets how many consecutive revisions of a stream one stored value holds
// (1 << auditChunkShift). A rebuild applies about ten events of each person it touches
// per batch; one row per key made the audit trail a million random inserts into the state
// file per million events, its costliest part, where chunks of 16 take one read and one
// write per person and batch. A chunk of 16 rows is about one page.
const auditChunkShift = 4

var auditRows = []byte("rows")

// AuditProjection keeps, for every event of every journey stream, what the audit trail
// shows: its position and revision, id, type, who recorded it, for which organisation,
// when it happened and when it was recorded, from where, and its place in the hash chain.
// Other streams (the access log, dead letters) have no rows; VerifyAll checks their
// chains in the store. It
// does not copy the events' data and metadata: the event store holds them, and AsAt and
// VerifyPerson/VerifyAll read them there. An inspector trusts the store, not a copy; the
// verification also checks that the rows here agree with it.
//
// Storage: sub-bucket "rows", key stream ‖ 0x00 ‖ U64(revision >> auditChunkShift),
// value the rows of those revisions in revision order, each preceded by its length as a
// uvarint; a row is the binary row of appendAudit. One prefix scan reads a stream in
// revision order. The bytes stored depend only on the events, not on how they were
// batched: a chunk written in several transactions is the same as one written at once.
//
// Unlike the other read models, AuditProjection keeps events whose envelope or payload cannot be
// decoded instead of stopping at them: an inspector must see such an event, and the row
// says why its envelope could not be read.
type AuditProjection struct {
	arena arena
	// pending holds, per stream, the rows of the current batch not yet written, all of
	// one chunk (Batcher).
	pending map[string]*auditPending
	row     []byte // scratch for encoding one row
}

type auditPending struct {
	chunk uint64
	rows  []byte
}

// NewAudit returns the audit trail projection.
func NewAudit() *AuditProjection { return &AuditProjection{pending: map[string]*auditPending{}} }

// Name implements Projection.
func (*AuditProjection) Name() string { return AuditName }

// Version implements Projection.
func (*AuditProjection) Version() int { return auditVersion }

// Apply implements Projection: it adds the event's row to its stream's chunk; the chunk
// is written when the stream moves on to the next one, or at Commit.
func (a *AuditProjection) Apply(b *bolt.Bucket, ev *Event) error {
	if !ev.IsJourney() {
		// The access log alone would be twelve rows for every journey event, and nothing
		// reads them here: its chain is verified from the store (VerifyAll).
		return nil
	}
	chunk := ev.Revision >> auditChunkShift
	p := a.pending[ev.Stream]
	if p == nil {
		p = &auditPending{chunk: chunk}
		a.pending[ev.Stream] = p
	} else if p.chunk != chunk {
		if err := a.write(b, ev.Stream, p); err != nil {
			return err
		}
		p.chunk = chunk
	}
	a.row = appendAudit(a.row[:0], ev)
	p.rows = binary.AppendUvarint(p.rows, uint64(len(a.row)))
	p.rows = append(p.rows, a.row...)
	return nil
}

// write appends p's rows to their chunk in the state.
func (a *AuditProjection) write(b *bolt.Bucket, stream string, p *auditPending) error {
	if len(p.rows) == 0 {
		return nil
	}
	rows, err := subBucket(b, auditRows)
	if err != nil {
		return err
	}
	rows.FillPercent = appendFill
	if err := appendChunk(rows, &a.arena, stream, p.chunk, p.rows); err != nil {
		return fmt.Errorf("audit rows of %s: %w", stream, err)
	}
	p.rows = p.rows[:0]
	return nil
}

// Commit implements Batcher: it writes every stream's pending rows, in stream order.
func (a *AuditProjection) Commit(b *bolt.Bucket) error {
	streams := make([]string, 0, len(a.pending))
	for s, p := range a.pending {
		if len(p.rows) > 0 {
			streams = append(streams, s)
		}
	}
	slices.Sort(streams)
	for _, s := range streams {
		if err := a.write(b, s, a.pending[s]); err != nil {
			return err
		}
	}
	clear(a.pending)
	return nil
}

// Rollback implements Batcher.
func (a *AuditProjection) Rollback() { clear(a.pending) }

// auditRowRevision reads the revision of a row without decoding the rest.
func auditRowRevision(row []byte) (uint64, bool) {
	if len(row) < 10 || row[0] != auditRowVersion {
		return 0, false
	}
	rev, n := binary.Uvarint(row[9:])
	return rev, n > 0
}

// auditRow finds the row of stream at revision in the audit rows bucket; nil when there
// is none.
func auditRow(rows *bolt.Bucket, kbuf []byte, stream string, revision uint64) ([]byte, []byte, error) {
	kbuf = chunkKey(kbuf[:0], stream, revision>>auditChunkShift)
	var found []byte
	err := eachEntry(rows.Get(kbuf), func(row []byte) error {
		if rev, ok := auditRowRevision(row); ok && rev == revision {
			found = row
		}
		return nil
	})
	return found, kbuf, err
}

// AuditEntry is one event of a history: who recorded it, for which organisation, when,
// from where, and its place in the hash chain. The event's data and metadata are in the
// event store (AsAt folds them from there; VerifyPerson checks them there).
type AuditEntry struct {
	// Position is the event's position in $all.
	Position uint64
	Stream   string
	Revision uint64
	EventID  uuid.UUID
	Type     string
	// SchemaVersion is the payload's schema version from the envelope.
	SchemaVersion int
	UserID        string
	Role          string
	Organisation  string
	// OccurredAt is when the fact happened; RecordedAt when the ledger recorded it
	// (both from the envelope); StoredAt is the store's own timestamp.
	OccurredAt     time.Time
	RecordedAt     time.Time
	StoredAt       time.Time
	Source         aggregates.Source
	CorrelationID  string
	CausationID    string
	IdempotencyKey string
	// Command is the command that decided the event.
	Command      string
	Hash         string
	PreviousHash string
	// EnvelopeError says why the metadata could not be read (then the envelope
	// fields above are empty).
	EnvelopeError string
}

// Hashes are stored as their 32 bytes when they are the lower-case hex the ledger
// writes, and as the string otherwise, so any stored value reads back exactly.
const (
	hashEmpty byte = iota
	hashRaw
	hashText
)

func appendHash(w wbuf, h string) wbuf {
	switch {
	case h == "":
		return append(w, hashEmpty)
	case len(h) == 64:
		if out, ok := appendLowerHex(append(w, hashRaw), h); ok {
			return out
		}
	}
	w = append(w, hashText)
	w.str(h)
	return w
}

// appendLowerHex appends the bytes of the lower-case hex h; ok is false (and the
// result garbage) when h is not lower-case hex.
func appendLowerHex(w wbuf, h string) (wbuf, bool) {
	for i := 0; i+1 < len(h); i += 2 {
		hi, lo := lowerHex[h[i]], lowerHex[h[i+1]]
		if hi < 0 || lo < 0 {
			return w, false
		}
		w = append(w, byte(hi)<<4|byte(lo))
	}
	return w, len(h)%2 == 0
}

var lowerHex = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i, c := range "0123456789abcdef" {
		t[c] = int8(i)
	}
	return t
}()

func (r *rbuf) hash() string {
	switch r.u8() {
	case hashEmpty:
		return ""
	case hashRaw:
		if len(r.b) < 32 {
			r.fail()
			return ""
		}
		h := hex.EncodeToString(r.b[:32])
		r.b = r.b[32:]
		return h
	case hashText:
		return r.str()
	}
	r.fail()
	return ""
}

// appendAudit appends the row of ev to w. Layout (version 2): version, U64 position,
// uvarint revision, 16-byte id, type, stored time, schema version, user, role,
// organisation, occurred and recorded times, source, correlation, causation and
// idempotency ids, command, hash, previous hash, envelope error.
func appendAudit(w wbuf, ev *Event) wbuf {
	m := &ev.Envelope
	w.u8(auditRowVersion)
	w.u64(ev.Position)
	w.uvar(ev.Revision)
	w = append(w, ev.ID[:]...)
	w.str(ev.Type)
	w.time(ev.Recorded)
	w.svar(int64(m.SchemaVersion))
	w.str(m.UserID)
	w.str(m.Role)
	w.str(m.Organisation)
	w.time(m.OccurredAt)
	w.time(m.RecordedAt)
	w.str(string(m.Source))
	w.str(m.CorrelationID)
	w.str(m.CausationID)
	w.str(m.IdempotencyKey)
	w.str(m.Command)
	w = appendHash(w, m.Hash)
	w = appendHash(w, m.PreviousHash)
	envErr := ""
	if errors.Is(ev.DecodeErr, eventlog.ErrMalformedEnvelope) {
		envErr = ev.DecodeErr.Error()
	}
	w.str(envErr)
	return w
}

// decodeAudit reads a row; stream is known from the key.
func decodeAudit(stream string, v []byte) (AuditEntry, error) {
	r := rbuf{b: v}
	if ver := r.u8(); ver != auditRowVersion {
		return AuditEntry{}, fmt.Errorf("%w: audit row version %d", ErrCorruptRow, ver)
	}
	e := AuditEntry{Stream: stream}
	e.Position = r.u64()
	e.Revision = r.uvar()
	if len(r.b) < 16 {
		r.fail()
	} else {
		copy(e.EventID[:], r.b[:16])
		r.b = r.b[16:]
	}
	e.Type = r.str()
	e.StoredAt = r.time()
	e.SchemaVersion = int(r.svar())
	e.UserID = r.str()
	e.Role = r.str()
	e.Organisation = r.str()
	e.OccurredAt = r.time()
	e.RecordedAt = r.time()
	e.Source = aggregates.Source(r.str())
	e.CorrelationID = r.str()
	e.CausationID = r.str()
	e.IdempotencyKey = r.str()
	e.Command = r.str()
	e.Hash = r.hash()
	e.PreviousHash = r.hash()
	e.EnvelopeError = r.str()
	if r.err != nil {
		return AuditEntry{}, fmt.Errorf("audit row of %s: %w", stream, r.err)
	}
	return e, nil
}

// StreamTrail returns every stored event of a stream in revision order, or a
// *NotFoundError when the stream has none.
func StreamTrail(r *Runner, stream string) ([]AuditEntry, error) {
	var out []AuditEntry
	err := r.View(AuditName, func(b *bolt.Bucket) error {
		var err error
		out, err = streamTrail(b, stream)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, &NotFoundError{Projection: AuditName, Key: stream}
	}
	return out, nil
}

func streamTrail(b *bolt.Bucket, stream string) ([]AuditEntry, error) {
	rows := b.Bucket(auditRows)
	var out []AuditEntry
	err := scanPrefix(rows, key(stream), func(_, chunk []byte) error {
		return eachEntry(chunk, func(row []byte) error {
			e, err := decodeAudit(stream, row)
			if err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	})
	return out, err
}

// Trail returns the whole ordered history of the person with prison number noms.
func Trail(r *Runner, noms string) ([]AuditEntry, error) {
	return StreamTrail(r, aggregates.StreamName(noms))
}

// storePage is how many events one read of the event store asks for.
const storePage = 1024

// eachStored calls fn with every event of stream in the store, oldest first, with the
// envelope error of events whose metadata is not an envelope, until fn returns false.
// A stream that does not exist has no events.
func eachStored(ctx context.Context, client eventstore.Store, stream string, fn func(rec eventlog.Recorded, envErr error) bool) error {
	var from esdb.StreamPosition = esdb.Start{}
	for {
		rs, err := client.ReadStream(ctx, stream, esdb.ReadStreamOptions{Direction: esdb.Forwards, From: from}, storePage)
		if err != nil {
			if isNotFound(err) {
				return nil
			}
			return fmt.Errorf("read %s: %w", stream, err)
		}
		n, next, more, err := func() (int, uint64, bool, error) {
			defer rs.Close()
			n, next := 0, uint64(0)
			for {
				ev, err := rs.Recv()
				if errors.Is(err, io.EOF) || isNotFound(err) {
					return n, next, true, nil
				}
				if err != nil {
					return n, next, false, fmt.Errorf("read %s: %w", stream, err)
				}
				rec := ev.OriginalEvent()
				if rec == nil {
					continue
				}
				n++
				next = rec.EventNumber + 1
				r, envErr := eventlog.FromRecorded(rec)
				if !fn(r, envErr) {
					return n, next, false, nil
				}
			}
		}()
		if err != nil || !more || n < storePage {
			return err
		}
		from = esdb.Revision(next)
	}
}

func isNotFound(err error) bool {
	var e *esdb.Error
	return errors.As(err, &e) && e.Code() == esdb.ErrorCodeResourceNotFound
}

// AsAt is the journey as the ledger knew it at the moment at: the person's events
// recorded (envelope recordedAt, else the store's timestamp) at or before at, folded in
// order from the event store. Knowledge rather than occurrence is what an inspector
// asks about ("what did the ledger show then?"); a late event that happened earlier but
// was recorded after at is not included. A person with no events gives a
// *NotFoundError.
func AsAt(ctx context.Context, client eventstore.Store, noms string, at time.Time) (aggregates.Journey, error) {
	return asAt(ctx, client, noms, func(rec *eventlog.Recorded) bool {
		t := rec.Metadata.RecordedAt
		if t.IsZero() {
			t = rec.Created
		}
		return !t.After(at)
	})
}

// AsAtPosition is the journey after the person's events at $all positions up to and
// including pos, folded from the event store.
func AsAtPosition(ctx context.Context, client eventstore.Store, noms string, pos uint64) (aggregates.Journey, error) {
	return asAt(ctx, client, noms, func(rec *eventlog.Recorded) bool { return rec.Position.Commit <= pos })
}

// asAt folds the longest prefix of the person's stream whose events satisfy include.
func asAt(ctx context.Context, client eventstore.Store, noms string, include func(*eventlog.Recorded) bool) (aggregates.Journey, error) {
	stream := aggregates.StreamName(noms)
	var j aggregates.Journey
	var foldErr error
	seen := false
	err := eachStored(ctx, client, stream, func(rec eventlog.Recorded, envErr error) bool {
		seen = true
		if !include(&rec) {
			return false
		}
		if envErr != nil {
			foldErr = fmt.Errorf("as at: %s revision %d (position %d): %w", stream, rec.Revision, rec.Position.Commit, envErr)
			return false
		}
		d, err := aggregates.Decode(rec.Type, rec.Metadata.SchemaVersion, rec.Data)
		if err != nil {
			foldErr = fmt.Errorf("as at: %s revision %d (position %d): %w", stream, rec.Revision, rec.Position.Commit, err)
			return false
		}
		aggregates.Fold(&j, d)
		return true
	})
	switch {
	case err != nil:
		return aggregates.Journey{}, fmt.Errorf("as at: %w", err)
	case foldErr != nil:
		return aggregates.Journey{}, foldErr
	case !seen:
		return aggregates.Journey{}, &NotFoundError{Projection: AuditName, Key: stream}
	}
	if j.NOMS == "" {
		j.NOMS = noms
	}
	return j, nil
}

// AuditMismatch is an audit row that does not agree with the event store: the read
// model was changed, or holds an event the store does not (or lacks one it should).
type AuditMismatch struct {
	Stream   string
	Revision uint64
	// Position is the event's $all position in the store (the row's when the store
	// has no such event).
	Position uint64
	// Reason is "hash differs", "previous hash differs", "event id differs",
	// "position differs", "missing from the audit trail" or "not in the store".
	Reason string
	// Expected is the store's value, Found the row's.
	Expected string
	Found    string
}

func (m AuditMismatch) String() string {
	return fmt.Sprintf("%s revision %d (position %d): %s: store %q, audit row %q", m.Stream, m.Revision, m.Position, m.Reason, m.Expected, m.Found)
}

// compareRow checks the audit row of an event against the event as stored.
func compareRow(rec *eventlog.Recorded, storedHash, storedPrev string, row *AuditEntry) *AuditMismatch {
	mm := func(reason, expected, found string) *AuditMismatch {
		return &AuditMismatch{Stream: rec.Stream, Revision: rec.Revision, Position: rec.Position.Commit, Reason: reason, Expected: expected, Found: found}
	}
	switch {
	case row == nil:
		return mm("missing from the audit trail", storedHash, "")
	case row.Hash != storedHash:
		return mm("hash differs", storedHash, row.Hash)
	case row.PreviousHash != storedPrev:
		return mm("previous hash differs", storedPrev, row.PreviousHash)
	case row.EventID != rec.ID:
		return mm("event id differs", rec.ID.String(), row.EventID.String())
	case row.Position != rec.Position.Commit:
		return mm("position differs", fmt.Sprint(rec.Position.Commit), fmt.Sprint(row.Position))
	}
	return nil
}

// StreamVerification is the check of one stream's hash chain in the event store, and
// of the audit rows against it.
type StreamVerification struct {
	eventlog.Verification
	// BreakPosition is the $all position of the event at Break (0 when none).
	BreakPosition uint64
	// Mismatches are the audit rows (up to the audit projection's checkpoint) that
	// differ from the store.
	Mismatches []AuditMismatch
}

// OK reports whether the chain verified and the audit rows agree with the store.
func (v StreamVerification) OK() bool { return v.Break == nil && len(v.Mismatches) == 0 }

// auditCheckpoint is the audit projection's position as stored with its rows (in the
// transaction of b).
func auditCheckpoint(b *bolt.Bucket) (uint64, error) {
	var rec checkpointRecord
	if v := b.Tx().Bucket(bucketMeta).Get([]byte(AuditName)); v != nil {
		if err := json.Unmarshal(v, &rec); err != nil {
			return 0, fmt.Errorf("%w: audit checkpoint: %w", ErrCorruptRow, err)
		}
	}
	return rec.Position, nil
}

// VerifyPerson recomputes the hash chain of the person's events in the event store
// (eventlog.VerifyEvents over the stream as stored): any changed byte, a missing or an
// inserted event is reported as the first break with its position. It also checks that
// the audit rows the projection has applied carry the store's hashes, ids and positions,
// so a changed read model is reported too. A person with no events in the store and
// no audit rows gives a *NotFoundError.
func VerifyPerson(ctx context.Context, r *Runner, client eventstore.Store, noms string) (StreamVerification, error) {
	stream := aggregates.StreamName(noms)
	var recs []eventlog.Recorded
	err := eachStored(ctx, client, stream, func(rec eventlog.Recorded, _ error) bool {
		recs = append(recs, rec)
		return true
	})
	if err != nil {
		return StreamVerification{}, fmt.Errorf("verify %s: %w", stream, err)
	}
	v := StreamVerification{Verification: eventlog.VerifyEvents(stream, recs)}
	if v.Break != nil {
		for i := range recs {
			if recs[i].Revision == v.Break.Revision && recs[i].ID == v.Break.EventID {
				v.BreakPosition = recs[i].Position.Commit
				break
			}
		}
	}
	var rows []AuditEntry
	var checkpoint uint64
	err = r.View(AuditName, func(b *bolt.Bucket) error {
		var err error
		if checkpoint, err = auditCheckpoint(b); err != nil {
			return err
		}
		rows, err = streamTrail(b, stream)
		return err
	})
	if err != nil {
		return StreamVerification{}, err
	}
	if len(recs) == 0 && len(rows) == 0 {
		return StreamVerification{}, &NotFoundError{Projection: AuditName, Key: stream}
	}
	byRev := make(map[uint64]*AuditEntry, len(rows))
	for i := range rows {
		byRev[rows[i].Revision] = &rows[i]
	}
	for i := range recs {
		rec := &recs[i]
		row := byRev[rec.Revision]
		delete(byRev, rec.Revision)
		if rec.Position.Commit > checkpoint && row == nil {
			continue // not applied yet
		}
		hash, prev := eventlog.EnvelopeHashes(rec.RawMetadata)
		if m := compareRow(rec, hash, prev, row); m != nil {
			v.Mismatches = append(v.Mismatches, *m)
		}
	}
	for i := range rows {
		if byRev[rows[i].Revision] != nil {
			v.Mismatches = append(v.Mismatches, AuditMismatch{Stream: stream, Revision: rows[i].Revision, Position: rows[i].Position,
				Reason: "not in the store", Found: rows[i].Hash})
		}
	}
	return v, nil
}

// StoreVerification is the check of every hash-chained stream of the event store, and
// of the audit rows against it.
type StoreVerification struct {
	// Streams and Events count what was checked.
	Streams int
	Events  int
	// Unchained counts streams other than journeys skipped because their first
	// event carries no hash (events written by other tools, not by the ledger).
	// Journey streams are always checked.
	Unchained int
	// Breaks lists every stream whose chain does not verify, with its first break,
	// in stream order.
	Breaks []StreamVerification
	// Mismatches lists the audit rows that differ from the store, in $all order; a
	// stream-less entry counts rows the store does not have.
	Mismatches []AuditMismatch
}

// OK reports whether every checked chain verified and the audit agrees with the store.
func (v StoreVerification) OK() bool { return len(v.Breaks) == 0 && len(v.Mismatches) == 0 }

// chainState is where the verification of one stream stands.
type chainState struct {
	chain     *eventlog.Chain
	checked   int
	unchained bool
	brk       int // index in Breaks + 1; 0 while the chain holds
}

// VerifyAll checks the hash chain of every stream whose events the ledger wrote
// (journeys, the dead-letter stream) in the event store, reading $all once, in pages,
// and keeping only a running state per stream. Every stream whose chain breaks is
// reported with its first break and that event's position. The audit rows up to the
// audit projection's checkpoint are checked against the store (hashes, ids, positions,
// and that the audit holds no other rows), in one read transaction so the answer
// describes one consistent state of the read model.
func VerifyAll(ctx context.Context, r *Runner, client eventstore.Store) (StoreVerification, error) {
	var out StoreVerification
	err := r.View(AuditName, func(b *bolt.Bucket) error {
		checkpoint, err := auditCheckpoint(b)
		if err != nil {
			return err
		}
		rows := b.Bucket(auditRows)
		chains := map[string]*chainState{}
		applied := 0 // store events at or before the checkpoint
		var kbuf []byte
		var from esdb.AllPosition = esdb.Start{}
		var last uint64
		started := false
		for {
			rs, err := client.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Forwards, From: from}, storePage)
			if err != nil {
				return fmt.Errorf("verify: read $all: %w", err)
			}
			fresh, lastPos, err := func() (int, esdb.Position, error) {
				defer rs.Close()
				n := 0 // events not seen before
				var lastPos esdb.Position
				for {
					ev, err := rs.Recv()
					if errors.Is(err, io.EOF) {
						return n, lastPos, nil
					}
					if err != nil {
						return n, lastPos, fmt.Errorf("verify: read $all: %w", err)
					}
					e := ev.OriginalEvent()
					if e == nil {
						continue
					}
					lastPos = e.Position
					if started && e.Position.Commit <= last {
						continue // the page began at the last event of the previous one
					}
					n++
					started, last = true, e.Position.Commit
					if strings.HasPrefix(e.EventType, "$") {
						continue // the store's own bookkeeping, as the runner skips it
					}
					rec := eventlog.Recorded{Stream: e.StreamID, Revision: e.EventNumber, ID: e.EventID, Type: e.EventType,
						Data: e.Data, RawMetadata: e.UserMetadata, Position: e.Position, Created: e.CreatedDate}
					c := chains[rec.Stream]
					if c == nil {
						c = &chainState{chain: eventlog.NewChain(rec.Stream)}
						chains[rec.Stream] = c
						if _, journey := aggregates.NOMSFromStream(rec.Stream); !journey && !ledgerWrote(rec.RawMetadata) {
							c.unchained = true
							out.Unchained++
						} else {
							out.Streams++
						}
					}
					var hash, prev string
					if !c.unchained {
						out.Events++
						hash, prev = c.verify(&out, &rec)
					} else if rec.Position.Commit <= checkpoint {
						hash, prev = eventlog.EnvelopeHashes(rec.RawMetadata)
					}
					if _, journey := aggregates.NOMSFromStream(rec.Stream); journey && rec.Position.Commit <= checkpoint && rows != nil {
						applied++
						var v []byte
						var err error
						if v, kbuf, err = auditRow(rows, kbuf, rec.Stream, rec.Revision); err != nil {
							return n, lastPos, err
						}
						var row *AuditEntry
						if v != nil {
							entry, err := decodeAudit(rec.Stream, v)
							if err != nil {
								return n, lastPos, err
							}
							row = &entry
						}
						if m := compareRow(&rec, hash, prev, row); m != nil {
							out.Mismatches = append(out.Mismatches, *m)
						}
					}
				}
			}()
			if err != nil {
				return err
			}
			if fresh == 0 {
				break
			}
			from = lastPos
		}
		if rows != nil {
			held := 0
			err := rows.ForEach(func(_, chunk []byte) error {
				return eachEntry(chunk, func([]byte) error { held++; return nil })
			})
			if err != nil {
				return err
			}
			if held > applied {
				out.Mismatches = append(out.Mismatches, AuditMismatch{Reason: "not in the store",
					Expected: fmt.Sprintf("%d rows", applied), Found: fmt.Sprintf("%d rows", held)})
			}
		}
		return nil
	})
	slices.SortStableFunc(out.Breaks, func(a, b StreamVerification) int { return cmp.Compare(a.Stream, b.Stream) })
	return out, err
}

// ledgerWrote reports whether an event's metadata is a ledger envelope with a hash, or
// at least meant to be one (present but unreadable): such a stream is checked.
func ledgerWrote(raw []byte) bool {
	if len(raw) == 0 {
		return false
	}
	var m eventlog.Metadata
	if json.Unmarshal(raw, &m) != nil {
		return true
	}
	return m.Hash != ""
}

// verify checks the next event of the stream's chain (eventlog.Chain) and returns the
// hash and previous hash its metadata holds. After a break it only counts.
func (c *chainState) verify(out *StoreVerification, rec *eventlog.Recorded) (hash, prev string) {
	if c.brk > 0 {
		out.Breaks[c.brk-1].Checked++
		return eventlog.EnvelopeHashes(rec.RawMetadata)
	}
	head := c.chain.Head()
	c.checked++
	hash, prev, brk := c.chain.Check(*rec)
	if brk != nil {
		out.Breaks = append(out.Breaks, StreamVerification{
			Verification:  eventlog.Verification{Stream: rec.Stream, Checked: c.checked, Head: head, Break: brk},
			BreakPosition: rec.Position.Commit})
		c.brk = len(out.Breaks)
	}
	return hash, prev
}
