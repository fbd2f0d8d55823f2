package eventstore

import (
	"context"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// Store is what the ledger asks of its event store: append with an expected
// revision, read a stream, read $all and subscribe to $all from a position. The
// official client (*esdb.Client) is one, and so is what Open returns. The semantics
// the ledger relies on are pinned by eventstore/storetest.
type Store interface {
	// AppendToStream appends events to a stream if it is at the expected revision;
	// a stream elsewhere answers an error matching IsWrongExpectedVersion.
	AppendToStream(ctx context.Context, stream string, opts esdb.AppendToStreamOptions, events ...esdb.EventData) (*esdb.WriteResult, error)
	// ReadStream reads up to count events of a stream from a revision, forwards or
	// backwards.
	ReadStream(ctx context.Context, stream string, opts esdb.ReadStreamOptions, count uint64) (*esdb.ReadStream, error)
	// ReadAll reads up to count events of $all from a position, forwards or backwards.
	ReadAll(ctx context.Context, opts esdb.ReadAllOptions, count uint64) (*esdb.ReadStream, error)
	// SubscribeToAll follows $all from a position (after it), optionally filtered,
	// catching up and then live.
	SubscribeToAll(ctx context.Context, opts esdb.SubscribeToAllOptions) (*esdb.Subscription, error)
}

var _ Store = (*esdb.Client)(nil)
