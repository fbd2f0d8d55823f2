// Package seal writes, reads and checks seals of the ledger's history.
//
// A seal is a signed record, appended to a stream of its own (Stream), of every
// journey stream that changed since the previous seal: its last revision and the
// hash of its last event (the per-stream hash chain of package eventlog). Each
// seal also carries a Merkle tree head over the full sorted set of streams sealed
// so far, built the way Certificate Transparency builds its log (RFC 6962:
// leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right)), and the
// hash of the previous seal, so that seals form a chain: removing, reordering or
// rewriting one breaks every later one.
//
// What a seal proves: that at SealedAt, the holder of the ledger's seal key saw
// each sealed stream end at the sealed revision with the sealed hash. Because every
// event hash chains to the one before it, the hash at revision r vouches for the
// whole stream from revision 0 to r. A later deletion, tombstone, truncation or
// $maxAge/$maxCount/$tb that hides sealed events is then visible (Verify), even on
// a store the ledger does not control.
//
// An inspector takes away the signed tree head (Signed, "root.json") and the
// inclusion proof of one person's stream (Proof, "proof.json") and checks them
// later without the store (Check): the signature over the tree head, and the
// audit path from the stream's leaf to the root.
//
// The package may import eventlog, aggregates and the official client; it does
// no HTTP and knows nothing of commands or flags.
package seal
