package folds

import (
	"errors"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
)

// Fold is one person's journey folded from their stream, event by event, in place.
type Fold struct {
	NOMS   string
	Stream string
	// Journey is the state after the events folded. Whoever feeds the fold changes it
	// in place: a reader that keeps it past the next event must copy it.
	Journey aggregates.Journey
	// Next is the revision of the next event to fold: how many of the stream's events
	// the fold has taken.
	Next uint64
	// Position is the $all commit position of the last event taken (0 when none).
	Position uint64
	// Broken says why an event taken could not be decoded: from there the journey's
	// state is unknown, though Journey still folds the events that could be read.
	Broken error

	// events and hash are the events taken and the last one's hash, kept only by a
	// cache of streams (Cache.Stream).
	events []eventlog.JourneyEvent
	hash   string

	// newer and older link the cache's use order.
	newer, older *Fold
}

// errUndecoded stands for a decode error a caller did not give.
var errUndecoded = errors.New("folds: the event could not be decoded")

// Apply takes the event at revision rev and $all position pos: domain is folded into
// the journey in place; an event that could not be decoded (domain nil, decodeErr
// why) marks the fold broken instead.
func (f *Fold) Apply(rev, pos uint64, domain aggregates.Event, decodeErr error) {
	f.Next, f.Position = rev+1, pos
	if domain == nil {
		if f.Broken == nil {
			if decodeErr == nil {
				decodeErr = errUndecoded
			}
			f.Broken = decodeErr
		}
		return
	}
	aggregates.Fold(&f.Journey, domain)
}

// take folds a journey event read from its stream (envErr its envelope error), keeping
// it when keep is set.
func (f *Fold) take(rec *eventlog.Recorded, envErr error, keep bool) {
	d, err := decodeRecorded(rec, envErr)
	f.Apply(rec.Revision, rec.Position.Commit, d, err)
	if keep {
		f.events = append(f.events, eventlog.JourneyEvent{Recorded: *rec, Event: d})
		f.hash = rec.Metadata.Hash
	}
}
