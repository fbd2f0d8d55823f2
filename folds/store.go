package folds

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventstore"
)

// ErrNoEvents: the person has no events in the store at all. A person whose events
// were all recorded after the moment asked about reads as the empty journey (Version
// 0), as the as-at reads always answered.
var ErrNoEvents = errors.New("folds: the person has no events")

// Before folds the events of stream with a revision below rev: the journey of noms as
// it was just before its event at rev, whatever has been appended since. An event that
// cannot be decoded marks the fold broken; only the store failing is an error.
func Before(ctx context.Context, client eventstore.Store, noms, stream string, rev uint64) (*Fold, error) {
	f := &Fold{NOMS: noms, Stream: stream}
	if rev == 0 {
		return f, nil // a stream's first event needs no history
	}
	recs, envErrs, _, err := eventlog.ReadStreamFrom(ctx, client, stream, 0)
	if err != nil {
		return nil, fmt.Errorf("folds: %s: %w", stream, err)
	}
	for i := range recs {
		if recs[i].Revision >= rev {
			break
		}
		f.take(&recs[i], envErrs[i], false)
	}
	f.Next = rev
	return f, nil
}

// Stream reads the journey of noms with its events from the store. The part of the
// stream this cache holds is not read again: only the events after it are, so a journey
// that has not moved costs one short read. The cache never answers for the store:
// every call reads the stream's tail, so what another process or ledger instance wrote
// is seen as soon as it is written. An event that cannot be decoded is an error:
// deciding on a state read in part could break an invariant.
func (c *Cache) Stream(ctx context.Context, noms string) (eventlog.JourneyStream, error) {
	if err := aggregates.ValidateIdentifier("noms", noms); err != nil {
		return eventlog.JourneyStream{}, fmt.Errorf("folds: load journey: %w", err)
	}
	f, err := c.readStream(ctx, noms, c.get(noms))
	if err != nil {
		c.Drop(noms)
		return eventlog.JourneyStream{}, err
	}
	c.mu.Lock()
	// Two reads of one journey at once may finish in either order: keep the later.
	if held := c.byNOMS[noms]; held == nil || held.Next <= f.Next {
		c.putLocked(f)
	}
	c.mu.Unlock()
	return f.journeyStream(), nil
}

// readStream returns a new fold of noms's stream with its events: held's, a fold read
// earlier that is never changed, with the events after it, or the whole stream when
// there is no held fold or the stream no longer continues it (deleted, or not where
// held left it).
func (c *Cache) readStream(ctx context.Context, noms string, held *Fold) (*Fold, error) {
	stream := aggregates.StreamName(noms)
	var from uint64
	// Only a fold that kept its events (one Stream made) can be continued:
	// a fold the runner or the hub folded in place keeps none, and a journey
	// stream built on it would miss its first events and its head's hash.
	if held != nil && held.Next > 0 && uint64(len(held.events)) == held.Next {
		from = held.Next
	} else {
		held = nil
	}
	recs, envErrs, notFound, err := eventlog.ReadStreamFrom(ctx, c.client, stream, from)
	if err != nil {
		return nil, err
	}
	if held != nil && (notFound || (len(recs) > 0 && recs[0].Revision != from)) {
		return c.readStream(ctx, noms, nil)
	}
	if held != nil && len(recs) == 0 {
		return held, nil
	}
	f := &Fold{NOMS: noms, Stream: stream}
	if held != nil {
		f.Journey, f.Next, f.Position, f.hash = held.Journey, held.Next, held.Position, held.hash
		// A new backing array and a copy of the journey: held and its readers keep theirs.
		f.events = make([]eventlog.JourneyEvent, len(held.events), len(held.events)+len(recs))
		copy(f.events, held.events)
	} else {
		f.events = make([]eventlog.JourneyEvent, 0, len(recs))
	}
	for i := range recs {
		if held != nil && i == 0 {
			d, err := decodeRecorded(&recs[i], envErrs[i])
			if err != nil {
				return nil, err
			}
			f.Journey = aggregates.Evolve(f.Journey, d) // the copy
			f.Next, f.Position = recs[i].Revision+1, recs[i].Position.Commit
			f.events = append(f.events, eventlog.JourneyEvent{Recorded: recs[i], Event: d})
			f.hash = recs[i].Metadata.Hash
			continue
		}
		f.take(&recs[i], envErrs[i], true)
		if f.Broken != nil {
			return nil, f.Broken
		}
	}
	return f, nil
}

// journeyStream is f as the command service reads a journey.
func (f *Fold) journeyStream() eventlog.JourneyStream {
	st := eventlog.JourneyStream{NOMS: f.NOMS, Stream: f.Stream, Events: f.events, Journey: f.Journey}
	if f.Next > 0 {
		st.Head = eventlog.Head{Exists: true, Revision: f.Next - 1, Hash: f.hash}
	}
	if st.Journey.NOMS == "" {
		st.Journey.NOMS = f.NOMS
	}
	return st
}

// AsAt is the journey as the ledger knew it at the moment at: the person's events
// recorded (envelope recordedAt, else the store's timestamp) at or before at, folded in
// order from the event store. Knowledge rather than occurrence is what an inspector
// asks about ("what did the ledger show then?"); a late event that happened earlier but
// was recorded after at is not included. A person with no events gives ErrNoEvents.
func AsAt(ctx context.Context, client eventstore.Store, noms string, at time.Time) (aggregates.Journey, error) {
	return asOf(ctx, client, noms, func(rec *eventlog.Recorded) bool {
		t := rec.Metadata.RecordedAt
		if t.IsZero() {
			t = rec.Created
		}
		return !t.After(at)
	})
}

// AsAtPosition is the journey after the person's events at $all positions up to and
// including pos, folded from the event store.
func AsAtPosition(ctx context.Context, client eventstore.Store, noms string, pos uint64) (aggregates.Journey, error) {
	return asOf(ctx, client, noms, func(rec *eventlog.Recorded) bool { return rec.Position.Commit <= pos })
}

// asOf folds the longest prefix of the person's stream whose events satisfy include.
// An event of it that cannot be decoded is an error: a state read in part is not what
// the ledger showed.
func asOf(ctx context.Context, client eventstore.Store, noms string, include func(*eventlog.Recorded) bool) (aggregates.Journey, error) {
	stream := aggregates.StreamName(noms)
	recs, envErrs, _, err := eventlog.ReadStreamFrom(ctx, client, stream, 0)
	if err != nil {
		return aggregates.Journey{}, fmt.Errorf("as at: %w", err)
	}
	if len(recs) == 0 {
		return aggregates.Journey{}, fmt.Errorf("as at %s: %w", stream, ErrNoEvents)
	}
	f := &Fold{NOMS: noms, Stream: stream}
	for i := range recs {
		if !include(&recs[i]) {
			break
		}
		if f.take(&recs[i], envErrs[i], false); f.Broken != nil {
			return aggregates.Journey{}, fmt.Errorf("as at: position %d: %w", recs[i].Position.Commit, f.Broken)
		}
	}
	if f.Journey.NOMS == "" {
		f.Journey.NOMS = noms
	}
	return f.Journey, nil
}
