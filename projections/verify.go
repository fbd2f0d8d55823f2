package projections

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	bolt "go.etcd.io/bbolt"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/projections/readmodel"
)

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

// VerifyPerson recomputes the hash chain of the person's events in the event store
// (eventlog.VerifyEvents over the stream as stored): any changed byte, a missing or an
// inserted event is reported as the first break with its position. It also checks that
// the audit rows the projection has applied carry the store's hashes, ids and positions,
// so a changed read model is reported too. A person with no events in the store and
// no audit rows gives a *NotFoundError.
func VerifyPerson(ctx context.Context, r *readmodel.Runner, client eventstore.Store, noms string) (StreamVerification, error) {
	stream := aggregates.StreamName(noms)
	recs, _, _, err := eventlog.ReadStreamFrom(ctx, client, stream, 0)
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
	err = r.ViewCheckpointed(AuditName, func(b *bolt.Bucket, cp uint64) error {
		checkpoint = cp
		var err error
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
// (journeys, the dead-letter stream) in the event store, and the audit rows against the
// store (see StoreVerifier).
func VerifyAll(ctx context.Context, r *readmodel.Runner, client eventstore.Store) (StoreVerification, error) {
	return (&StoreVerifier{Runner: r, Client: client}).Verify(ctx)
}

// StoreVerifier checks the whole store: every hash chain the ledger wrote, and the
// audit rows against the events they describe.
type StoreVerifier struct {
	Runner *readmodel.Runner
	Client eventstore.Store
	// Progress, when set, is told the $all position reached after each page of the
	// store, between pages, when the verifier holds no transaction of the state file.
	Progress func(position uint64)
}

// storePage is how many events of $all one read of the store asks for, and so how many
// the audit rows are compared with in one read transaction of the state file.
const storePage = 1024

// Verify reads $all once, in pages, keeping only a running state per stream. Every
// stream whose chain breaks is reported with its first break and that event's position.
// The audit rows up to the audit projection's checkpoint when the check starts are
// compared with the store (hashes, ids, positions, and that the audit holds no other
// rows); rows at or below a checkpoint never change, so the rows can be read in short
// transactions, one per page, while the runner goes on applying. No transaction of the
// state file is held while the store is read: a long read transaction would stop the
// file from growing (bbolt remaps it only when no reader holds the old mapping). A
// projection reset during the check (a rebuild) makes it fail; run it again.
func (v *StoreVerifier) Verify(ctx context.Context) (StoreVerification, error) {
	var out StoreVerification
	var checkpoint uint64
	if err := v.Runner.ViewCheckpointed(AuditName, func(_ *bolt.Bucket, cp uint64) error { checkpoint = cp; return nil }); err != nil {
		return out, err
	}
	chains := map[string]*chainState{}
	applied := 0 // journey events in the store at or before the checkpoint
	var from esdb.AllPosition = esdb.Start{}
	var last uint64
	started := false
	page := make([]verifiedEvent, 0, storePage)
	for {
		page = page[:0]
		fresh, lastPos, err := readAllPage(ctx, v.Client, from, func(e *esdb.RecordedEvent) bool {
			if started && e.Position.Commit <= last {
				return false // the page began at the last event of the previous one
			}
			started, last = true, e.Position.Commit
			if strings.HasPrefix(e.EventType, "$") {
				return true // the store's own bookkeeping, as the runner skips it
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
			if _, journey := aggregates.NOMSFromStream(rec.Stream); journey && rec.Position.Commit <= checkpoint {
				applied++
				page = append(page, verifiedEvent{rec: rec, hash: hash, prev: prev})
			}
			return true
		})
		if err != nil {
			return out, err
		}
		if err := v.compareRows(page, checkpoint, &out); err != nil {
			return out, err
		}
		if fresh == 0 {
			break
		}
		from = lastPos
		if v.Progress != nil {
			v.Progress(last)
		}
	}
	held, err := v.countRows(checkpoint)
	if err != nil {
		return out, err
	}
	if held > applied {
		out.Mismatches = append(out.Mismatches, AuditMismatch{Reason: "not in the store",
			Expected: fmt.Sprintf("%d rows", applied), Found: fmt.Sprintf("%d rows", held)})
	}
	slices.SortStableFunc(out.Breaks, func(a, b StreamVerification) int { return cmp.Compare(a.Stream, b.Stream) })
	return out, nil
}

// verifiedEvent is a journey event of the store whose audit row is to be compared,
// with the hashes its envelope holds.
type verifiedEvent struct {
	rec        eventlog.Recorded
	hash, prev string
}

// readAllPage reads one page of $all from from and calls fn with each event; fresh is
// how many events fn took as not seen before, last the position of the last one read.
func readAllPage(ctx context.Context, client eventstore.Store, from esdb.AllPosition, fn func(*esdb.RecordedEvent) bool) (fresh int, last esdb.Position, err error) {
	rs, err := client.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Forwards, From: from}, storePage)
	if err != nil {
		return 0, last, fmt.Errorf("verify: read $all: %w", err)
	}
	defer rs.Close()
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return fresh, last, nil
		}
		if err != nil {
			return fresh, last, fmt.Errorf("verify: read $all: %w", err)
		}
		e := ev.OriginalEvent()
		if e == nil {
			continue
		}
		last = e.Position
		if fn(e) {
			fresh++
		}
	}
}

// compareRows compares the audit rows of a page's events with them, in one short read
// transaction.
func (v *StoreVerifier) compareRows(page []verifiedEvent, checkpoint uint64, out *StoreVerification) error {
	if len(page) == 0 {
		return nil
	}
	return v.Runner.ViewCheckpointed(AuditName, func(b *bolt.Bucket, cp uint64) error {
		if cp < checkpoint {
			return errAuditReset
		}
		rows := b.Bucket(auditRows)
		if rows == nil {
			return nil
		}
		var kbuf []byte
		for i := range page {
			e := &page[i]
			var raw []byte
			var err error
			if raw, kbuf, err = auditRow(rows, kbuf, e.rec.Stream, e.rec.Revision); err != nil {
				return err
			}
			var row *AuditEntry
			if raw != nil {
				entry, err := decodeAudit(e.rec.Stream, raw)
				if err != nil {
					return err
				}
				row = &entry
			}
			if m := compareRow(&e.rec, e.hash, e.prev, row); m != nil {
				out.Mismatches = append(out.Mismatches, *m)
			}
		}
		return nil
	})
}

// errAuditReset: the audit projection went back during a check.
var errAuditReset = errors.New("verify: the audit projection was reset during the check; run it again")

// rowChunks is how many stored chunks of audit rows one read transaction counts.
const rowChunks = 4096

// countRows counts the audit rows that should be in the store's events up to
// checkpoint: those at or before it, and any beyond the projection's own checkpoint in
// the transaction that reads them (no row can be there; rows between the two were
// applied during the check). It reads a bounded run of chunks per read transaction,
// each resuming after the last key the one before it counted.
func (v *StoreVerifier) countRows(checkpoint uint64) (int, error) {
	held := 0
	var after []byte
	for {
		done := true
		err := v.Runner.ViewCheckpointed(AuditName, func(b *bolt.Bucket, cp uint64) error {
			if cp < checkpoint {
				return errAuditReset
			}
			rows := b.Bucket(auditRows)
			if rows == nil {
				return nil
			}
			c := rows.Cursor()
			k, chunk := c.First()
			if after != nil {
				if k, chunk = c.Seek(after); k != nil && bytes.Equal(k, after) {
					k, chunk = c.Next()
				}
			}
			for n := 0; k != nil; k, chunk = c.Next() {
				if n == rowChunks {
					done = false
					return nil
				}
				n++
				after = append(after[:0], k...)
				err := readmodel.EachEntry(chunk, func(row []byte) error {
					if pos, ok := auditRowPosition(row); !ok || pos <= checkpoint || pos > cp {
						held++
					}
					return nil
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || done {
			return held, err
		}
	}
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
