// Package esdbserver serves an eventdb store over the EventStoreDB gRPC protocol, using
// the server stubs generated in the official client module, so that the official client
// (and other EventStoreDB tooling) can talk to Gateledger's embedded store exactly as it
// talks to a KurrentDB node.
//
// Implemented: Streams (Read, Append, Delete, Tombstone, BatchAppend), catch-up
// subscriptions to streams and $all with server-side filters, ServerFeatures and Gossip
// (a single node reporting itself as leader). Everything else answers Unimplemented.
//
// Of ours it imports only internal/eventdb: the ledger reaches it through eventstore.Open
// and the official client, never directly.
package esdbserver
