package projections

import (
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/projections/readmodel"
)

// AuditName names the audit trail projection and its bucket.
const AuditName = "audit"

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
// does not copy the events' data and metadata: the event store holds them, and folds.AsAt and
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
	arena readmodel.Arena
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
func (a *AuditProjection) Apply(b *bolt.Bucket, ev *readmodel.Event) error {
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
	rows, err := readmodel.SubBucket(b, auditRows)
	if err != nil {
		return err
	}
	rows.FillPercent = readmodel.AppendFill
	if err := readmodel.AppendChunk(rows, &a.arena, stream, p.chunk, p.rows); err != nil {
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

// AuditEntry is one event of a history: who recorded it, for which organisation, when,
// from where, and its place in the hash chain. The event's data and metadata are in the
// event store (folds.AsAt folds them from there; VerifyPerson checks them there).
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

// StreamTrail returns every stored event of a stream in revision order, or a
// *NotFoundError when the stream has none.
func StreamTrail(r *readmodel.Runner, stream string) ([]AuditEntry, error) {
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
	err := readmodel.ScanPrefix(rows, readmodel.Key(stream), func(_, chunk []byte) error {
		return readmodel.EachEntry(chunk, func(row []byte) error {
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
func Trail(r *readmodel.Runner, noms string) ([]AuditEntry, error) {
	return StreamTrail(r, aggregates.StreamName(noms))
}
