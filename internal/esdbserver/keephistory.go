package esdbserver

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gateledger/gateledger/internal/eventdb"
)

// hidingMetadata are the stream metadata properties that hide a stream's events from
// readers: $tb (truncate before, also how a soft delete is kept), $maxCount and
// $maxAge.
var hidingMetadata = []string{"$tb", "$maxCount", "$maxAge"}

// HistoryRefusedError is a request that would delete, tombstone or truncate a stream
// whose history must be kept (Options.KeepHistory). It is answered as KurrentDB
// answers a request its access rules refuse: PermissionDenied with the trailer
// exception=access-denied, which the official client reports as
// ErrorCodeAccessDenied, with Reason in the status message.
type HistoryRefusedError struct {
	Stream string
	Reason string
}

func (e *HistoryRefusedError) Error() string { return e.Reason }

// refuseDelete refuses a soft delete or tombstone (what) of a stream that keeps its
// history, or of its metadata stream.
func (s *Server) refuseDelete(stream, what string) error {
	base := strings.TrimPrefix(stream, eventdb.MetadataStreamPrefix)
	if s.opts.KeepHistory == nil || !s.opts.KeepHistory(base) {
		return nil
	}
	return &HistoryRefusedError{Stream: stream, Reason: fmt.Sprintf(
		"%s keeps its whole history: this store refuses to %s it. Record a correction or a closure as a new event instead",
		stream, what)}
}

// refuseHidingMetadata refuses an append to the metadata stream of a stream that
// keeps its history when an event sets a property that would hide events. Other
// metadata ($acl, custom properties) is allowed.
func (s *Server) refuseHidingMetadata(stream string, events []eventdb.ProposedEvent) error {
	base, ok := strings.CutPrefix(stream, eventdb.MetadataStreamPrefix)
	if !ok || s.opts.KeepHistory == nil || !s.opts.KeepHistory(base) {
		return nil
	}
	for _, ev := range events {
		var m map[string]json.RawMessage
		if json.Unmarshal(ev.Data, &m) != nil {
			continue // the store ignores metadata it cannot read, as KurrentDB does
		}
		for _, k := range hidingMetadata {
			if v, set := m[k]; set && string(v) != "null" {
				return &HistoryRefusedError{Stream: stream, Reason: fmt.Sprintf(
					"%s keeps its whole history: this store refuses stream metadata with %s, which would hide events. Remove %s (and any of %s) and write the metadata again",
					base, k, k, strings.Join(hidingMetadata, ", "))}
			}
		}
	}
	return nil
}
