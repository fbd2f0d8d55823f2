package eventlog

import (
	"context"
	"fmt"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/gateledger/gateledger/eventstore"
)

// FromRecorded converts an event read by the client (from a stream or $all) into a
// Recorded with its envelope parsed. On a malformed envelope it returns the record with
// zero Metadata beside an error wrapping ErrMalformedEnvelope.
func FromRecorded(ev *esdb.RecordedEvent) (Recorded, error) { return fromResolved(ev) }

// LastPosition is the $all position of the store's last event, 0 for an empty store.
func LastPosition(ctx context.Context, client eventstore.Store) (uint64, error) {
	rs, err := client.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
	if err != nil {
		return 0, fmt.Errorf("eventlog: read the end of $all: %w", err)
	}
	defer rs.Close()
	ev, err := rs.Recv()
	if isEOF(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("eventlog: read the end of $all: %w", err)
	}
	return ev.OriginalEvent().Position.Commit, nil
}
