package eventlog

import "github.com/EventStore/EventStore-Client-Go/v4/esdb"

// FromRecorded converts an event read by the client (from a stream or $all) into a
// Recorded with its envelope parsed. On a malformed envelope it returns the record with
// zero Metadata beside an error wrapping ErrMalformedEnvelope.
func FromRecorded(ev *esdb.RecordedEvent) (Recorded, error) { return fromResolved(ev) }
