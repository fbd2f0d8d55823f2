package eventlog

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"github.com/gateledger/gateledger/eventstore"
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
	c := NewChain(stream)
	for _, ev := range events {
		if _, _, brk := c.Check(ev); brk != nil {
			v.Break, v.Head = brk, c.Head()
			return v
		}
	}
	v.Head = c.Head()
	return v
}

// Chain verifies one stream's events one at a time, in revision order from 0: the
// incremental form of VerifyEvents, for readers that meet a stream's events spread
// over a long read (of $all, say) and cannot hold them all.
type Chain struct {
	stream  string
	next    uint64
	prev    [32]byte
	prevHex string
}

// NewChain starts the verification of stream.
func NewChain(stream string) *Chain { return &Chain{stream: stream} }

// Head is the hash of the last event that verified.
func (c *Chain) Head() string { return c.prevHex }

// Check verifies the next event of the stream and returns the hash and previous hash
// its metadata holds (empty when unreadable), with the break when this event breaks
// the chain. After a break the chain cannot vouch for what follows: callers stop.
func (c *Chain) Check(ev Recorded) (hash, previousHash string, brk *Break) {
	var cf canonicalFields
	parseErr := error(nil)
	if len(ev.RawMetadata) > 0 {
		if parseErr = json.Unmarshal(ev.RawMetadata, &cf); parseErr != nil {
			cf = canonicalFields{}
		}
	}
	rev := c.next
	c.next++
	fail := func(reason, expected, found string) (string, string, *Break) {
		return cf.Hash, cf.PreviousHash, &Break{Revision: ev.Revision, EventID: ev.ID, Reason: reason, Expected: expected, Found: found}
	}
	switch {
	case ev.Revision != rev:
		return fail("revision gap", fmt.Sprint(rev), fmt.Sprint(ev.Revision))
	case len(ev.RawMetadata) == 0:
		return fail("malformed metadata", "an envelope", "no metadata")
	case parseErr != nil:
		return fail("malformed metadata", "an envelope", parseErr.Error())
	case cf.PreviousHash != c.prevHex:
		return fail("previous hash mismatch", c.prevHex, cf.PreviousHash)
	case cf.SchemaVersion < 0:
		return fail("malformed metadata", "a schema version", fmt.Sprint(cf.SchemaVersion))
	}
	sum := eventHash(c.stream, ev.Revision, ev.ID, ev.Type, uint64(cf.SchemaVersion), c.prev, ev.Data, cf.values())
	want := hex.EncodeToString(sum[:])
	if cf.Hash != want {
		return fail("hash mismatch", want, cf.Hash)
	}
	c.prev, c.prevHex = sum, want
	return cf.Hash, cf.PreviousHash, nil
}

// EnvelopeHashes reads the hash and previous hash stored in an event's metadata, as
// the chain reads them (empty when absent or unreadable).
func EnvelopeHashes(raw []byte) (hash, previousHash string) {
	var cf canonicalFields
	if json.Unmarshal(raw, &cf) != nil {
		return "", ""
	}
	return cf.Hash, cf.PreviousHash
}

// VerifyStream reads a stream and checks its hash chain (VerifyEvents). The
// error is for a failed read; a broken chain is reported in Verification.
// A stream that does not exist verifies with Checked 0.
func VerifyStream(ctx context.Context, client eventstore.Store, stream string) (Verification, error) {
	events, _, err := readRaw(ctx, client, stream)
	if err != nil {
		return Verification{Stream: stream}, err
	}
	return VerifyEvents(stream, events), nil
}
