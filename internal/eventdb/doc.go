// Package eventdb is Gateledger's embedded event log: an append-only store of events in
// named streams with a global, strictly increasing position order ($all), kept in a single
// bbolt file.
//
// It implements the storage semantics of an EventStoreDB single node, so that the
// esdbserver package can expose it over the EventStoreDB gRPC protocol: expected-revision
// checks, idempotent retries, soft delete and tombstones, stream metadata ($maxCount,
// $maxAge, $tb) and change notification for catch-up subscriptions.
//
// Durability: every write goes through one writer goroutine that group-commits whatever
// requests are waiting into one bbolt transaction, so many appends share one fsync, and
// no append is acknowledged before its transaction is on disk.
//
// Of ours it imports only internal/boltfile.
package eventdb
