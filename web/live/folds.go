package live

import (
	"container/list"
	"context"
	"errors"
	"fmt"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventstore"
)

// folded is one person's journey folded in place up to revision rev.
type folded struct {
	noms    string
	journey aggregates.Journey
	rev     uint64
	// broken: an event of the stream (up to rev) could not be decoded, so the
	// journey's state is unknown and the feed fails closed for it.
	broken bool
}

// foldCache holds the journeys one connection has folded, least recently
// used first out. It belongs to the connection's feed goroutine alone.
//
// It is bounded because a provider's feed folds every journey that appears
// in $all (to know when one becomes visible), and an unbounded map would grow
// with the store. A journey evicted and seen again is folded again from its
// stream, which gives the same state: the cache changes the cost, never the
// answer.
type foldCache struct {
	max   int
	order *list.List // of *folded, most recent at the front
	byKey map[string]*list.Element
}

func newFoldCache(max int) *foldCache {
	return &foldCache{max: max, order: list.New(), byKey: make(map[string]*list.Element)}
}

func (c *foldCache) get(noms string) *folded {
	e, ok := c.byKey[noms]
	if !ok {
		return nil
	}
	c.order.MoveToFront(e)
	return e.Value.(*folded)
}

func (c *foldCache) put(f *folded) {
	if e, ok := c.byKey[f.noms]; ok {
		e.Value = f
		c.order.MoveToFront(e)
		return
	}
	c.byKey[f.noms] = c.order.PushFront(f)
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byKey, last.Value.(*folded).noms)
	}
}

// foldBefore folds the events of stream with a revision below rev: the
// journey as it was just before the event at rev. eventlog.ReadStream reads
// the whole stream, which may already hold events after rev; they are not
// folded, so the state is the one at the event's position whatever has
// been appended since.
func foldBefore(ctx context.Context, client eventstore.Store, noms, stream string, rev uint64) (*folded, error) {
	f := &folded{noms: noms}
	if rev == 0 {
		return f, nil // a stream's first event needs no history
	}
	recs, err := eventlog.ReadStream(ctx, client, stream)
	if errors.Is(err, eventlog.ErrMalformedEnvelope) {
		// Not a store failure: this history cannot be read by this code.
		f.broken, f.rev = true, rev-1
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("live: fold %s: %w", stream, err)
	}
	for _, rec := range recs {
		if rec.Revision >= rev {
			break
		}
		d, err := eventlog.DecodeJourneyEvent(rec)
		if err != nil {
			f.broken = true
			break
		}
		aggregates.Fold(&f.journey, d)
	}
	f.rev = rev - 1
	return f, nil
}
