package projections

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
)

// AuditName names the audit trail projection and its bucket.
const AuditName = "audit"

// auditRowVersion is the first byte of every audit row; a change of layout bumps it
// together with Audit.Version.
const auditRowVersion = 1

var auditRows = []byte("rows")

// AuditProjection keeps every event of every stream exactly as stored, with its envelope read
// out, so that a person's whole history can be shown, replayed to any past moment and
// its hash chain checked without going back to the event store.
//
// Storage: sub-bucket "rows", key stream ‖ 0x00 ‖ U64(revision), value the binary row
// of encodeAudit (the parsed envelope fields first, then the stored data and metadata
// bytes). One prefix scan reads a stream in revision order.
//
// Unlike the other read models, AuditProjection keeps events whose envelope or payload cannot be
// decoded instead of stopping at them: it needs only the stored bytes, and an
// inspector must see such an event; VerifyPerson reports it as a break and AsAt as an
// error naming it.
type AuditProjection struct{}

// NewAudit returns the audit trail projection.
func NewAudit() *AuditProjection { return &AuditProjection{} }

// Name implements Projection.
func (*AuditProjection) Name() string { return AuditName }

// Version implements Projection.
func (*AuditProjection) Version() int { return 1 }

// Apply implements Projection: it stores the event as a row of its stream.
func (*AuditProjection) Apply(b *bolt.Bucket, ev Event) error {
	rows, err := subBucket(b, auditRows)
	if err != nil {
		return err
	}
	k := append(key(ev.Stream), U64(ev.Revision)...)
	if err := rows.Put(k, encodeAudit(&ev)); err != nil {
		return fmt.Errorf("audit row: %w", err)
	}
	return nil
}

// AuditEntry is one event of a history with who recorded it, when, from where, and
// the bytes the hash chain covers.
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
	// Data and Metadata are the stored bytes, exactly.
	Data     []byte
	Metadata []byte
	// EnvelopeError says why the metadata could not be read (then the envelope
	// fields above are empty).
	EnvelopeError string
}

func encodeAudit(ev *Event) []byte {
	m := &ev.Envelope
	w := make(wbuf, 0, 160+len(ev.Data)+len(ev.Metadata))
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
	w.str(m.Hash)
	w.str(m.PreviousHash)
	envErr := ""
	if errors.Is(ev.DecodeErr, eventlog.ErrMalformedEnvelope) {
		envErr = ev.DecodeErr.Error()
	}
	w.str(envErr)
	w.bytes(ev.Data)
	w.bytes(ev.Metadata)
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
	e.Hash = r.str()
	e.PreviousHash = r.str()
	e.EnvelopeError = r.str()
	e.Data = r.bytes()
	e.Metadata = r.bytes()
	if r.err != nil {
		return AuditEntry{}, fmt.Errorf("audit row of %s: %w", stream, r.err)
	}
	return e, nil
}

// Recorded is the entry as the event log's verification reads it.
func (e AuditEntry) Recorded() eventlog.Recorded {
	return eventlog.Recorded{Stream: e.Stream, Revision: e.Revision, ID: e.EventID, Type: e.Type,
		Data: e.Data, RawMetadata: e.Metadata}
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
	err := scanPrefix(rows, key(stream), func(_, v []byte) error {
		e, err := decodeAudit(stream, v)
		if err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// Trail returns the whole ordered history of the person with prison number noms.
func Trail(r *Runner, noms string) ([]AuditEntry, error) {
	return StreamTrail(r, aggregates.StreamName(noms))
}

// AsAt is the journey as the ledger knew it at the moment at: the person's events
// recorded (envelope recordedAt) at or before at, folded in order. Knowledge rather
// than occurrence is what an inspector asks about ("what did the ledger show then?");
// a late event that happened earlier but was recorded after at is not included.
func AsAt(r *Runner, noms string, at time.Time) (aggregates.Journey, error) {
	return asAt(r, noms, func(e *AuditEntry) bool {
		rec := e.RecordedAt
		if rec.IsZero() {
			rec = e.StoredAt
		}
		return !rec.After(at)
	})
}

// AsAtPosition is the journey after the person's events at $all positions up to and
// including pos.
func AsAtPosition(r *Runner, noms string, pos uint64) (aggregates.Journey, error) {
	return asAt(r, noms, func(e *AuditEntry) bool { return e.Position <= pos })
}

// asAt folds the longest prefix of the trail whose events satisfy include.
func asAt(r *Runner, noms string, include func(*AuditEntry) bool) (aggregates.Journey, error) {
	trail, err := Trail(r, noms)
	if err != nil {
		return aggregates.Journey{}, err
	}
	var j aggregates.Journey
	for i := range trail {
		e := &trail[i]
		if !include(e) {
			break
		}
		if e.EnvelopeError != "" {
			return aggregates.Journey{}, fmt.Errorf("as at: %s revision %d (position %d): %s", e.Stream, e.Revision, e.Position, e.EnvelopeError)
		}
		d, err := aggregates.Decode(e.Type, e.SchemaVersion, e.Data)
		if err != nil {
			return aggregates.Journey{}, fmt.Errorf("as at: %s revision %d (position %d): %w", e.Stream, e.Revision, e.Position, err)
		}
		aggregates.Fold(&j, d)
	}
	if j.NOMS == "" {
		j.NOMS = noms
	}
	return j, nil
}

// StreamVerification is the check of one stream's hash chain from the stored rows.
type StreamVerification struct {
	eventlog.Verification
	// BreakPosition is the $all position of the event at Break (0 when none).
	BreakPosition uint64
}

// VerifyPerson recomputes the hash chain of the person's stored events
// (eventlog.VerifyEvents): any changed byte of a stored row, a missing or an inserted
// one, is reported as the first break with its position.
func VerifyPerson(r *Runner, noms string) (StreamVerification, error) {
	trail, err := Trail(r, noms)
	if err != nil {
		return StreamVerification{}, err
	}
	return verifyTrail(aggregates.StreamName(noms), trail), nil
}

func verifyTrail(stream string, trail []AuditEntry) StreamVerification {
	recs := make([]eventlog.Recorded, len(trail))
	for i := range trail {
		recs[i] = trail[i].Recorded()
	}
	v := StreamVerification{Verification: eventlog.VerifyEvents(stream, recs)}
	if v.Break != nil {
		for i := range trail {
			if trail[i].Revision == v.Break.Revision && trail[i].EventID == v.Break.EventID {
				v.BreakPosition = trail[i].Position
				break
			}
		}
	}
	return v
}

// StoreVerification is the check of every hash-chained stream the audit holds.
type StoreVerification struct {
	// Streams and Events count what was checked.
	Streams int
	Events  int
	// Unchained counts streams other than journeys skipped because their first
	// event carries no hash (events written by other tools, not by the ledger).
	// Journey streams are always checked.
	Unchained int
	// Breaks lists every stream whose chain does not verify, in stream order.
	Breaks []StreamVerification
}

// OK reports whether every checked chain verified.
func (v StoreVerification) OK() bool { return len(v.Breaks) == 0 }

// VerifyAll checks the hash chain of every stream whose events the ledger wrote
// (journeys, the dead-letter stream) from the stored rows, one stream in memory at a
// time, in a single read transaction so the answer describes one consistent state.
func VerifyAll(r *Runner) (StoreVerification, error) {
	var out StoreVerification
	err := r.View(AuditName, func(b *bolt.Bucket) error {
		rows := b.Bucket(auditRows)
		if rows == nil {
			return nil
		}
		var stream string
		var trail []AuditEntry
		flush := func() {
			if len(trail) == 0 {
				return
			}
			_, journey := aggregates.NOMSFromStream(stream)
			if !journey && trail[0].Hash == "" && trail[0].EnvelopeError == "" {
				out.Unchained++
			} else {
				out.Streams++
				out.Events += len(trail)
				if v := verifyTrail(stream, trail); v.Break != nil {
					out.Breaks = append(out.Breaks, v)
				}
			}
			trail = trail[:0]
		}
		c := rows.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(k) < 9 || k[len(k)-9] != 0 {
				return fmt.Errorf("%w: audit key %q", ErrCorruptRow, k)
			}
			s := k[:len(k)-9]
			if string(s) != stream {
				flush()
				stream = string(s)
			}
			e, err := decodeAudit(stream, v)
			if err != nil {
				return err
			}
			trail = append(trail, e)
		}
		flush()
		return nil
	})
	return out, err
}
