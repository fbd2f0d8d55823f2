package eventlog

import (
	"context"
	"fmt"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventstore"
)

// JourneyEvent is a decoded journey event with its stored record.
type JourneyEvent struct {
	Recorded
	Event aggregates.Event
}

// JourneyStream is a journey as read from the store.
type JourneyStream struct {
	NOMS   string
	Stream string
	Events []JourneyEvent
	// Journey is the state folded from Events.
	Journey aggregates.Journey
	// Head is where the stream ends; appends expect it.
	Head Head
}

// NoRevision is the revision reported for a stream with no events.
const NoRevision int64 = -1

// Revision is the stream's last revision, NoRevision when it has none.
func (s JourneyStream) Revision() int64 {
	if !s.Head.Exists {
		return NoRevision
	}
	return int64(s.Head.Revision)
}

// Position is the $all position of the stream's last event (zero if none).
func (s JourneyStream) Position() esdb.Position {
	if len(s.Events) == 0 {
		return esdb.Position{}
	}
	return s.Events[len(s.Events)-1].Position
}

// WithKey returns the events recorded under an idempotency key, in order.
func (s JourneyStream) WithKey(key string) []JourneyEvent {
	var out []JourneyEvent
	for _, ev := range s.Events {
		if ev.Metadata.IdempotencyKey == key {
			out = append(out, ev)
		}
	}
	return out
}

// Find returns the event with the given id.
func (s JourneyStream) Find(id string) (JourneyEvent, bool) {
	for _, ev := range s.Events {
		if ev.ID.String() == id {
			return ev, true
		}
	}
	return JourneyEvent{}, false
}

// DecodeJourneyEvent decodes a stored journey event with the schema version in
// its metadata (upcasting older versions).
func DecodeJourneyEvent(r Recorded) (aggregates.Event, error) {
	ev, err := aggregates.Decode(r.Type, r.Metadata.SchemaVersion, r.Data)
	if err != nil {
		return nil, fmt.Errorf("eventlog: %s revision %d: %w", r.Stream, r.Revision, err)
	}
	return ev, nil
}

// LoadJourney reads the journey stream of noms and folds it. An event this
// code cannot decode (unknown type, newer schema, malformed data or envelope)
// is an error: deciding on a state read in part could break an invariant.
// The hash chain is not verified here (VerifyStream does that).
func LoadJourney(ctx context.Context, client eventstore.Store, noms string) (JourneyStream, error) {
	if err := aggregates.ValidateIdentifier("noms", noms); err != nil {
		return JourneyStream{}, fmt.Errorf("eventlog: load journey: %w", err)
	}
	stream := aggregates.StreamName(noms)
	recs, err := ReadStream(ctx, client, stream)
	if err != nil {
		return JourneyStream{}, err
	}
	s := JourneyStream{NOMS: noms, Stream: stream, Events: make([]JourneyEvent, 0, len(recs)), Head: HeadOf(recs)}
	evs := make([]aggregates.Event, 0, len(recs))
	for _, r := range recs {
		ev, err := DecodeJourneyEvent(r)
		if err != nil {
			return JourneyStream{}, err
		}
		s.Events = append(s.Events, JourneyEvent{Recorded: r, Event: ev})
		evs = append(evs, ev)
	}
	s.Journey = aggregates.Rebuild(evs)
	if s.Journey.NOMS == "" {
		s.Journey.NOMS = noms
	}
	return s, nil
}

// AppendJourney appends decided events to the journey stream after head,
// under the idempotency key. Each event gets meta with its own schema version
// and, when the event has one, its own occurredAt (meta.OccurredAt is the
// fallback); meta.RecordedAt is set to recordedAt.
func AppendJourney(ctx context.Context, client eventstore.Store, noms string, head Head, key string, events []aggregates.Event, meta Metadata, recordedAt time.Time) (AppendResult, []JourneyEvent, error) {
	stream := aggregates.StreamName(noms)
	proposed := make([]Proposed, len(events))
	for i, ev := range events {
		typ, data, err := aggregates.Encode(ev)
		if err != nil {
			return AppendResult{}, nil, fmt.Errorf("eventlog: %w", err)
		}
		m := meta
		m.SchemaVersion = ev.SchemaVersion()
		if at := ev.OccurredAt(); !at.IsZero() {
			m.OccurredAt = at
		}
		m.RecordedAt = recordedAt
		m.IdempotencyKey = key
		proposed[i] = Proposed{Type: typ, Data: data, Metadata: m}
	}
	res, err := Append(ctx, client, stream, head, key, proposed)
	if err != nil {
		return AppendResult{}, nil, err
	}
	out := make([]JourneyEvent, len(events))
	for i, r := range res.Events {
		out[i] = JourneyEvent{Recorded: r, Event: events[i]}
	}
	return res, out, nil
}
