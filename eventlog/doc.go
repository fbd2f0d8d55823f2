// Package eventlog is how the ledger writes and reads its history in the event
// store: the envelope every event carries (who, when, where from, the idempotency
// key), the hash chain that links each event to the one before it in its stream,
// journey streams read and folded, appends with the expected revision, and stream
// verification. It works on any eventstore.Store and never opens one (eventstore.Open
// does).
//
// It may import the official client's types, aggregates and eventstore; never
// esdbserver, nor anything above it.
package eventlog
