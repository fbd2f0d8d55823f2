package eventlog

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
)

// Verification is the result of checking a stream's hash chain.
type Verification struct {
	Stream string
	// Checked is how many events were read.
	Checked int
	// Head is the hash of the last event that verified.
	Head string
	// Break is the first event that does not verify; nil when the whole
	// stream does.
	Break *Break
}

// OK reports whether the whole stream verified.
func (v Verification) OK() bool { return v.Break == nil }

// Break describes the first event at which a chain does not verify.
type Break struct {
	Revision uint64
	EventID  uuid.UUID
	// Reason is one of "revision gap", "malformed metadata",
	// "previous hash mismatch" and "hash mismatch".
	Reason string
	// Expected is what the chain says the value should be (a revision, a
	// previous hash or the recomputed hash) and Found what is stored.
	Expected string
	Found    string
}

func (b *Break) String() string {
	return fmt.Sprintf("revision %d (event %s): %s: expected %q, found %q", b.Revision, b.EventID, b.Reason, b.Expected, b.Found)
}

// VerifyEvents checks the hash chain of a whole stream given as its events in
// revision order starting at revision 0 (events as read, with RawMetadata and
// Data exactly as stored). It recomputes every hash from the stored bytes
// (EventHash), so any changed byte of data or metadata, a reordered, removed
// or inserted event, or an event moved to another stream, is reported as the
// first break. It does not use Recorded.Metadata, only RawMetadata.
func VerifyEvents(stream string, events []Recorded) Verification {
	v := Verification{Stream: stream, Checked: len(events)}
	var prev [32]byte
	prevHex := ""
	for i, ev := range events {
		brk := func(reason, expected, found string) Verification {
			v.Break = &Break{Revision: ev.Revision, EventID: ev.ID, Reason: reason, Expected: expected, Found: found}
			return v
		}
		if ev.Revision != uint64(i) {
			return brk("revision gap", fmt.Sprint(i), fmt.Sprint(ev.Revision))
		}
		var cf canonicalFields
		if len(ev.RawMetadata) == 0 {
			return brk("malformed metadata", "an envelope", "no metadata")
		}
		if err := json.Unmarshal(ev.RawMetadata, &cf); err != nil {
			return brk("malformed metadata", "an envelope", err.Error())
		}
		if cf.PreviousHash != prevHex {
			return brk("previous hash mismatch", prevHex, cf.PreviousHash)
		}
		if cf.SchemaVersion < 0 {
			return brk("malformed metadata", "a schema version", fmt.Sprint(cf.SchemaVersion))
		}
		sum := eventHash(stream, ev.Revision, ev.ID, ev.Type, uint64(cf.SchemaVersion), prev, ev.Data, cf.values())
		want := hex.EncodeToString(sum[:])
		if cf.Hash != want {
			return brk("hash mismatch", want, cf.Hash)
		}
		prev, prevHex = sum, want
		v.Head = want
	}
	return v
}

// VerifyStream reads a stream and checks its hash chain (VerifyEvents). The
// error is for a failed read; a broken chain is reported in Verification.
// A stream that does not exist verifies with Checked 0.
func VerifyStream(ctx context.Context, client *esdb.Client, stream string) (Verification, error) {
	events, _, err := readRaw(ctx, client, stream)
	if err != nil {
		return Verification{Stream: stream}, err
	}
	return VerifyEvents(stream, events), nil
}
