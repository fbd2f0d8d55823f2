package folds

import (
	"fmt"
	"strings"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
)

// Decoded is what a recorded event reads as: its envelope and, for a journey stream,
// the person and the domain event.
type Decoded struct {
	// Envelope is the parsed metadata (who, organisation, when, source, hashes).
	Envelope eventlog.Metadata
	// NOMS is set for journey events (streams journey-<NOMS>).
	NOMS string
	// Domain is the decoded journey event; nil for other streams, and for a journey
	// event that could not be decoded.
	Domain aggregates.Event
	// DecodeErr says why the envelope or the domain event could not be read.
	DecodeErr error
}

// Decoder decodes events as a subscription delivers them, interning the envelope's
// repeated strings. It belongs to one goroutine.
type Decoder struct{ in *eventlog.Interner }

// NewDecoder returns a Decoder.
func NewDecoder() *Decoder { return &Decoder{in: eventlog.NewInterner()} }

// Decode reads the envelope and, for journey streams, the domain event of an event of
// stream into d. The store's own events (types starting "$") are left undecoded; an
// event of another stream may have no metadata, a journey event may not.
func (dc *Decoder) Decode(d *Decoded, stream, eventType string, data, metadata []byte) {
	if strings.HasPrefix(eventType, "$") {
		return
	}
	noms, isJourney := aggregates.NOMSFromStream(stream)
	if len(metadata) > 0 {
		env, err := dc.in.DecodeMetadata(metadata)
		if err != nil {
			d.DecodeErr = fmt.Errorf("%w: %w", eventlog.ErrMalformedEnvelope, err)
		}
		d.Envelope = env
	}
	if !isJourney {
		return
	}
	d.NOMS = noms
	if d.DecodeErr != nil {
		return
	}
	if len(metadata) == 0 {
		d.DecodeErr = fmt.Errorf("%w: no metadata", eventlog.ErrMalformedEnvelope)
		return
	}
	ev, err := aggregates.Decode(eventType, d.Envelope.SchemaVersion, data)
	if err != nil {
		d.DecodeErr = err
		return
	}
	d.Domain = ev
}

// decodeRecorded decodes a journey event read from its stream, whose envelope error
// (eventlog.FromRecorded) is envErr.
func decodeRecorded(rec *eventlog.Recorded, envErr error) (aggregates.Event, error) {
	if envErr != nil {
		return nil, fmt.Errorf("%s revision %d: %w", rec.Stream, rec.Revision, envErr)
	}
	return eventlog.DecodeJourneyEvent(*rec)
}
