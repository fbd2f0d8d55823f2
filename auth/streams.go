package auth

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventstore"
)

// readPage is how many events one read request asks for.
const readPage = 512

// readFrom reads the events of stream from revision from onwards, oldest
// first, with their envelopes. A stream that does not exist reads as empty.
func readFrom(ctx context.Context, client eventstore.Store, stream string, from uint64) ([]eventlog.Recorded, error) {
	var out []eventlog.Recorded
	for {
		n, err := readPageFrom(ctx, client, stream, from, &out)
		if err != nil {
			return nil, err
		}
		if n < readPage {
			return out, nil
		}
		from = out[len(out)-1].Revision + 1
	}
}

func readPageFrom(ctx context.Context, client eventstore.Store, stream string, from uint64, out *[]eventlog.Recorded) (int, error) {
	rs, err := client.ReadStream(ctx, stream, esdb.ReadStreamOptions{Direction: esdb.Forwards, From: esdb.Revision(from)}, readPage)
	if err != nil {
		if eventstore.IsNotFound(err) {
			return 0, nil
		}
		return 0, fmt.Errorf("read %s: %w", stream, err)
	}
	defer rs.Close()
	n := 0
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			if eventstore.IsNotFound(err) {
				return n, nil
			}
			return n, fmt.Errorf("read %s: %w", stream, err)
		}
		rec := ev.OriginalEvent()
		if rec == nil {
			continue
		}
		r, err := eventlog.FromRecorded(rec)
		if err != nil {
			return n, fmt.Errorf("%w: %s revision %d: %w", ErrChainBroken, stream, rec.EventNumber, err)
		}
		*out = append(*out, r)
		n++
	}
}

// readLast returns the head of stream by reading its last event.
func readLast(ctx context.Context, client eventstore.Store, stream string) (eventlog.Head, error) {
	rs, err := client.ReadStream(ctx, stream, esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
	if err != nil {
		if eventstore.IsNotFound(err) {
			return eventlog.Head{}, nil
		}
		return eventlog.Head{}, fmt.Errorf("read %s: %w", stream, err)
	}
	defer rs.Close()
	ev, err := rs.Recv()
	if errors.Is(err, io.EOF) || eventstore.IsNotFound(err) {
		return eventlog.Head{}, nil
	}
	if err != nil {
		return eventlog.Head{}, fmt.Errorf("read %s: %w", stream, err)
	}
	rec := ev.OriginalEvent()
	if rec == nil {
		return eventlog.Head{}, nil
	}
	r, err := eventlog.FromRecorded(rec)
	if err != nil {
		return eventlog.Head{}, fmt.Errorf("%w: %s revision %d: %w", ErrChainBroken, stream, rec.EventNumber, err)
	}
	return eventlog.Head{Exists: true, Revision: r.Revision, Hash: r.Metadata.Hash}, nil
}

// verifyNext checks that rec is the event that follows head in its stream:
// the next revision, chained to head's hash, with a hash recomputed from the
// stored bytes (eventlog.EventHash). It returns the new head.
func verifyNext(head eventlog.Head, rec eventlog.Recorded) (eventlog.Head, error) {
	if rec.Revision != head.Next() {
		return head, fmt.Errorf("%w: %s: revision %d follows %d", ErrChainBroken, rec.Stream, rec.Revision, head.Next())
	}
	var prev [32]byte
	prevHex := ""
	if head.Exists {
		b, err := hex.DecodeString(head.Hash)
		if err != nil || len(b) != len(prev) {
			return head, fmt.Errorf("%w: %s: head hash %q", ErrChainBroken, rec.Stream, head.Hash)
		}
		copy(prev[:], b)
		prevHex = head.Hash
	}
	if rec.Metadata.PreviousHash != prevHex {
		return head, fmt.Errorf("%w: %s revision %d: previous hash mismatch", ErrChainBroken, rec.Stream, rec.Revision)
	}
	sum, err := eventlog.EventHash(rec.Stream, rec.Revision, rec.ID, rec.Type, prev, rec.Data, rec.RawMetadata)
	if err != nil {
		return head, fmt.Errorf("%w: %s revision %d: %w", ErrChainBroken, rec.Stream, rec.Revision, err)
	}
	if hex.EncodeToString(sum[:]) != rec.Metadata.Hash {
		return head, fmt.Errorf("%w: %s revision %d: hash mismatch", ErrChainBroken, rec.Stream, rec.Revision)
	}
	return eventlog.Head{Exists: true, Revision: rec.Revision, Hash: rec.Metadata.Hash}, nil
}
