package projections

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/projections/readmodel"
	bolt "go.etcd.io/bbolt"
)

// auditRowVersion is the first byte of every audit row; a change of layout bumps it
// together with Audit.Version.
const auditRowVersion = 2

// auditRowRevision reads the revision of a row without decoding the rest.
func auditRowRevision(row []byte) (uint64, bool) {
	if len(row) < 10 || row[0] != auditRowVersion {
		return 0, false
	}
	rev, n := binary.Uvarint(row[9:])
	return rev, n > 0
}

// auditRowPosition reads the $all position of a row without decoding the rest.
func auditRowPosition(row []byte) (uint64, bool) {
	if len(row) < 9 || row[0] != auditRowVersion {
		return 0, false
	}
	return binary.BigEndian.Uint64(row[1:9]), true
}

// auditRow finds the row of stream at revision in the audit rows bucket; nil when there
// is none.
func auditRow(rows *bolt.Bucket, kbuf []byte, stream string, revision uint64) ([]byte, []byte, error) {
	kbuf = readmodel.ChunkKey(kbuf[:0], stream, revision>>auditChunkShift)
	var found []byte
	err := readmodel.EachEntry(rows.Get(kbuf), func(row []byte) error {
		if rev, ok := auditRowRevision(row); ok && rev == revision {
			found = row
		}
		return nil
	})
	return found, kbuf, err
}

// Hashes are stored as their 32 bytes when they are the lower-case hex the ledger
// writes, and as the string otherwise, so any stored value reads back exactly.
const (
	hashEmpty byte = iota
	hashRaw
	hashText
)

func appendHash(w readmodel.Writer, h string) readmodel.Writer {
	switch {
	case h == "":
		return append(w, hashEmpty)
	case len(h) == 64:
		if out, ok := appendLowerHex(append(w, hashRaw), h); ok {
			return out
		}
	}
	w = append(w, hashText)
	w.Str(h)
	return w
}

// appendLowerHex appends the bytes of the lower-case hex h; ok is false (and the
// result garbage) when h is not lower-case hex.
func appendLowerHex(w readmodel.Writer, h string) (readmodel.Writer, bool) {
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

// readHash reads a hash written by appendHash.
func readHash(r *readmodel.Reader) string {
	switch r.U8() {
	case hashEmpty:
		return ""
	case hashRaw:
		if len(r.B) < 32 {
			r.Fail()
			return ""
		}
		h := hex.EncodeToString(r.B[:32])
		r.B = r.B[32:]
		return h
	case hashText:
		return r.Str()
	}
	r.Fail()
	return ""
}

// appendAudit appends the row of ev to w. Layout (version 2): version, U64 position,
// uvarint revision, 16-byte id, type, stored time, schema version, user, role,
// organisation, occurred and recorded times, source, correlation, causation and
// idempotency ids, command, hash, previous hash, envelope error.
func appendAudit(w readmodel.Writer, ev *readmodel.Event) readmodel.Writer {
	m := &ev.Envelope
	w.U8(auditRowVersion)
	w.U64(ev.Position)
	w.Uvar(ev.Revision)
	w = append(w, ev.ID[:]...)
	w.Str(ev.Type)
	w.Time(ev.Recorded)
	w.Svar(int64(m.SchemaVersion))
	w.Str(m.UserID)
	w.Str(m.Role)
	w.Str(m.Organisation)
	w.Time(m.OccurredAt)
	w.Time(m.RecordedAt)
	w.Str(string(m.Source))
	w.Str(m.CorrelationID)
	w.Str(m.CausationID)
	w.Str(m.IdempotencyKey)
	w.Str(m.Command)
	w = appendHash(w, m.Hash)
	w = appendHash(w, m.PreviousHash)
	envErr := ""
	if errors.Is(ev.DecodeErr, eventlog.ErrMalformedEnvelope) {
		envErr = ev.DecodeErr.Error()
	}
	w.Str(envErr)
	return w
}

// decodeAudit reads a row; stream is known from the key.
func decodeAudit(stream string, v []byte) (AuditEntry, error) {
	r := readmodel.Reader{B: v}
	if ver := r.U8(); ver != auditRowVersion {
		return AuditEntry{}, fmt.Errorf("%w: audit row version %d", readmodel.ErrCorruptRow, ver)
	}
	e := AuditEntry{Stream: stream}
	e.Position = r.U64()
	e.Revision = r.Uvar()
	r.ID((*[16]byte)(&e.EventID))
	e.Type = r.Str()
	e.StoredAt = r.Time()
	e.SchemaVersion = int(r.Svar())
	e.UserID = r.Str()
	e.Role = r.Str()
	e.Organisation = r.Str()
	e.OccurredAt = r.Time()
	e.RecordedAt = r.Time()
	e.Source = aggregates.Source(r.Str())
	e.CorrelationID = r.Str()
	e.CausationID = r.Str()
	e.IdempotencyKey = r.Str()
	e.Command = r.Str()
	e.Hash = readHash(&r)
	e.PreviousHash = readHash(&r)
	e.EnvelopeError = r.Str()
	if r.Err != nil {
		return AuditEntry{}, fmt.Errorf("audit row of %s: %w", stream, r.Err)
	}
	return e, nil
}
