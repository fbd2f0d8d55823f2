package eventstore

import (
	"strings"

	"github.com/gateledger/gateledger/aggregates"
)

// SealStream is the stream the ledger's seals are written to (package seal).
const SealStream = "ledger-seals"

// KeepsHistory reports whether a stream's history must never be deleted, tombstoned
// or hidden by metadata: every journey stream (any name with the journey prefix,
// whether or not its prison number is well formed) and the seal stream. The embedded
// store refuses those requests for them; on a store the ledger does not control
// (KurrentDB), the seals are what catch them (gateledger verify).
func KeepsHistory(stream string) bool {
	return strings.HasPrefix(stream, aggregates.StreamName("")) || stream == SealStream
}
