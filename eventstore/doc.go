// Package eventstore is the ledger's boundary with its event store: the Store
// interface (the part of the EventStoreDB protocol the ledger uses), the meaning of
// the store's answers (conflict, not found, deleted, disk full), which streams must
// keep their history, and Open, which starts the embedded node or connects to an
// external KurrentDB/EventStoreDB and hands back a Store.
//
// # Why the interface speaks the official client's types
//
// The design makes the EventStoreDB gRPC protocol, through the official Go client, the
// boundary: every mode (embedded, a KurrentDB node, a cluster) is the same code path.
// Store is therefore the subset of *esdb.Client's methods the ledger calls, with the
// client's own types (esdb.EventData, *esdb.ReadStream, *esdb.Subscription and the
// options), and *esdb.Client satisfies it as it is. A store interface in the ledger's
// own types would need a translation of every event, position and error to and from
// the client's: a second codec, to keep in step with the first, that would buy nothing
// while the protocol is the boundary. What the interface gives is a narrow, named
// surface: the conformance suite (eventstore/storetest) pins exactly these four
// methods, against the embedded node and against any KurrentDB.
//
// # What it may import
//
// The official client, aggregates (for the journey stream prefix, in KeepsHistory) and
// esdbserver (Open starts the embedded node; IsStoreFull recognises its disk-full
// answer). It imports no other package of the ledger: eventlog and everything above it
// import eventstore, never esdbserver.
package eventstore
