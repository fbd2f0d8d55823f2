package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventlog"
)

// feed turns one connection's subscription to $all into messages. It runs
// in the connection's feed goroutine and owns everything below.
type feed struct {
	c     *conn
	p     auth.Principal
	sub   Subscribe
	types map[string]bool // nil: every type
	// everyJourney: the principal reads every journey (inspector), so
	// nothing needs folding.
	everyJourney bool
	folds        *foldCache

	// last is the highest position the subscription has told us about (an
	// event, whether sent or not, or a store checkpoint); sent is the
	// highest position given to the client.
	last, sent uint64
	caughtUp   bool
	// startedAfter is the exclusive starting position; lastEvent the last
	// event's position.
	startedAfter, lastEvent uint64
	seenEvent               bool
}

// subItem is what the receiving goroutine hands to the feed.
type subItem struct {
	ev         *esdb.RecordedEvent
	checkpoint *esdb.Position
	caughtUp   bool
	err        error // the subscription dropped
}

func (c *conn) runFeed(s Subscribe) {
	defer close(c.feedDone)
	f := &feed{c: c, p: c.p, sub: s, everyJourney: seesEveryJourney(c.p), folds: newFoldCache(c.h.cfg.MaxJourneys)}
	if len(s.EventTypes) > 0 {
		f.types = make(map[string]bool, len(s.EventTypes))
		for _, t := range s.EventTypes {
			f.types[t] = true
		}
	}
	if err := f.run(c.ctx); err != nil && c.ctx.Err() == nil {
		c.log.ErrorContext(c.ctx, "live: feed failed", "err", err, "position", f.last)
		c.h.metrics.Dropped(DropUnavailable)
		c.closeWithError(CloseUnavailable, CodeUnavailable, "the event store is unavailable; reconnect from your last position")
	}
}

// filter is the server-side filter of the subscription: only the streams
// the principal could ever be sent. Event types are never filtered on the
// server, because every event of a journey is needed to fold it.
func (f *feed) filter() *esdb.SubscriptionFilter {
	if len(f.sub.People) > 0 {
		// NOMS numbers are validated ([A-Z][0-9]{4}[A-Z]{2}): nothing to
		// escape, but QuoteMeta keeps that true whatever the pattern becomes.
		quoted := make([]string, len(f.sub.People))
		for i, n := range f.sub.People {
			quoted[i] = regexp.QuoteMeta(n)
		}
		return &esdb.SubscriptionFilter{Type: esdb.StreamFilterType,
			Regex: "^" + regexp.QuoteMeta(journeyStreamPrefix) + "(" + strings.Join(quoted, "|") + ")$"}
	}
	prefixes := []string{journeyStreamPrefix}
	if auth.CanReadAccessLog(f.p) {
		prefixes = append(prefixes, inspectorStreamPrefixes...)
	}
	// Prefixes that start with a letter exclude the store's system streams
	// ("$…") and events as well.
	return &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: prefixes}
}

func (f *feed) run(ctx context.Context) error {
	c := f.c
	opts := esdb.SubscribeToAllOptions{Filter: f.filter()}
	var from any
	switch f.sub.From {
	case FromStart:
		opts.From, from = esdb.Start{}, "start"
	case FromPosition:
		opts.From, from, f.last = esdb.Position{Commit: f.sub.Position, Prepare: f.sub.Position}, f.sub.Position, f.sub.Position
		f.startedAfter = f.sub.Position
	default:
		last, err := eventlog.LastPosition(ctx, c.h.cfg.Client)
		if err != nil {
			return err
		}
		opts.From, from, f.last = esdb.Position{Commit: last, Prepare: last}, last, last
		f.startedAfter = last
	}
	if err := f.recordAccess(ctx, from); err != nil {
		return err
	}
	sub, err := c.h.cfg.Client.SubscribeToAll(ctx, opts)
	if err != nil {
		return err
	}
	defer func() { _ = sub.Close() }()
	if !c.enqueue(outbound{data: mustJSON(subscribedMessage{Type: TypeSubscribed, From: from, Role: string(f.p.Role),
		Organisation: f.p.Org, People: f.sub.People, EventTypes: f.sub.EventTypes})}) {
		return nil
	}
	c.log.InfoContext(ctx, "live: subscribed", "from", from, "people", len(f.sub.People), "event_types", len(f.sub.EventTypes))

	items := make(chan subItem, 64)
	go receive(ctx, sub, items)

	checkpoint := time.NewTicker(c.h.cfg.CheckpointInterval)
	defer checkpoint.Stop()
	var reauth <-chan time.Time
	if c.h.cfg.ReauthInterval > 0 {
		t := time.NewTicker(c.h.cfg.ReauthInterval)
		defer t.Stop()
		reauth = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case it := <-items:
			switch {
			case it.err != nil:
				return it.err
			case it.ev != nil:
				if err := f.event(ctx, it.ev); err != nil {
					return err
				}
			case it.checkpoint != nil:
				f.last = max(f.last, it.checkpoint.Commit)
			case it.caughtUp && !f.caughtUp:
				// The store says "caught up" again after a subscriber
				// falls behind and catches up; the client is told once.
				f.caughtUp = true
				f.sent = f.last
				c.enqueue(outbound{data: mustJSON(positionMessage{Type: TypeCaughtUp, Position: f.last}), pos: f.last, hasPos: true})
				c.live.Store(true)
			}
		case <-checkpoint.C:
			// Only once live: before caught-up the client is reading history
			// and has positions enough.
			if f.caughtUp && f.last > f.sent {
				f.sent = f.last
				c.enqueue(outbound{data: mustJSON(positionMessage{Type: TypeCheckpoint, Position: f.last}), pos: f.last, hasPos: true})
			}
		case <-reauth:
			if !f.stillAuthenticated(ctx) {
				return nil
			}
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// receive hands the subscription's messages to the feed until it drops or
// ctx ends.
func receive(ctx context.Context, sub *esdb.Subscription, items chan<- subItem) {
	for {
		e := sub.Recv()
		var it subItem
		switch {
		case e.SubscriptionDropped != nil:
			it.err = e.SubscriptionDropped.Error
			if it.err == nil {
				it.err = errors.New("live: subscription dropped")
			}
		case e.EventAppeared != nil:
			it.ev = e.EventAppeared.OriginalEvent()
			if it.ev == nil {
				continue
			}
		case e.CheckPointReached != nil:
			it.checkpoint = e.CheckPointReached
		case e.CaughtUp != nil:
			it.caughtUp = true
		default:
			continue // fell behind: the store keeps sending, in order
		}
		select {
		case items <- it:
		case <-ctx.Done():
			return
		}
		if it.err != nil {
			return
		}
	}
}

// event decides one event and queues it if the principal may see it.
func (f *feed) event(ctx context.Context, ev *esdb.RecordedEvent) error {
	pos := ev.Position.Commit
	// Never send a position twice or out of order. The store neither
	// resends nor reorders: this guards the promise, it does not keep it.
	if (f.seenEvent && pos <= f.lastEvent) || (f.sub.From != FromStart && pos <= f.startedAfter) {
		return nil
	}
	f.seenEvent, f.lastEvent = true, pos
	f.last = max(f.last, pos)
	noms, isJourney := aggregates.NOMSFromStream(ev.StreamID)
	if !isJourney {
		if MaySeeOtherStream(f.p, ev.StreamID) && f.wanted(ev.EventType) {
			rec, _ := eventlog.FromRecorded(ev) // an inspector sees the event even with a bad envelope
			f.queueEvent(rec, "")
		}
		return nil
	}
	rec, envErr := eventlog.FromRecorded(ev)
	if f.everyJourney {
		if f.wanted(ev.EventType) {
			f.queueEvent(rec, noms)
		}
		return nil
	}
	visible, err := f.fold(ctx, noms, rec, envErr)
	if err != nil {
		return err
	}
	if visible && f.wanted(ev.EventType) {
		f.queueEvent(rec, noms)
	}
	return nil
}

// fold folds a journey event into its person's cached journey, in place,
// and says whether the principal may see it (MaySeeJourneyEvent).
func (f *feed) fold(ctx context.Context, noms string, rec eventlog.Recorded, envErr error) (bool, error) {
	j := f.folds.get(noms)
	if j == nil || j.rev+1 != rec.Revision {
		// First sight of this person on this connection (or evicted, or a
		// gap that cannot happen in one subscription): fold the history
		// before this event from the store.
		var err error
		if j, err = foldBefore(ctx, f.c.h.cfg.Client, noms, rec.Stream, rec.Revision); err != nil {
			return false, err
		}
		f.folds.put(j)
	}
	j.rev = rec.Revision
	if j.broken {
		return false, nil
	}
	var d aggregates.Event
	err := envErr
	if err == nil {
		d, err = eventlog.DecodeJourneyEvent(rec)
	}
	if err != nil {
		// The journey's state is unknown from here on: fail closed for it
		// (inspectors, who need no fold, still receive it).
		j.broken = true
		f.c.log.ErrorContext(ctx, "live: journey event cannot be decoded; not sent", "stream", rec.Stream, "revision", rec.Revision, "err", err)
		return false, nil
	}
	before := auth.CanReadJourney(f.p, j.journey)
	aggregates.Fold(&j.journey, d)
	after := auth.CanReadJourney(f.p, j.journey)
	return before || after, nil
}

func (f *feed) wanted(eventType string) bool { return f.types == nil || f.types[eventType] }

func (f *feed) queueEvent(rec eventlog.Recorded, noms string) {
	m := EventMessage{Type: TypeEvent, Position: rec.Position.Commit, Stream: rec.Stream, NOMS: noms, Revision: rec.Revision,
		EventType: rec.Type, EventID: rec.ID.String(), Who: rec.Metadata.UserID, Role: rec.Metadata.Role,
		Organisation: rec.Metadata.Organisation, Source: string(rec.Metadata.Source), CorrelationID: rec.Metadata.CorrelationID,
		Data: json.RawMessage("null")}
	if !rec.Metadata.OccurredAt.IsZero() {
		m.OccurredAt = rec.Metadata.OccurredAt.UTC()
	}
	if !rec.Metadata.RecordedAt.IsZero() {
		m.RecordedAt = rec.Metadata.RecordedAt.UTC()
	}
	if len(rec.Data) > 0 && json.Valid(rec.Data) {
		m.Data = rec.Data
	}
	f.sent = m.Position
	f.c.enqueue(outbound{data: mustJSON(m), pos: m.Position, hasPos: true})
}

// recordAccess writes the subscription to the access log: one entry per
// person named, or one for the whole feed.
func (f *feed) recordAccess(ctx context.Context, from any) error {
	l := f.c.h.cfg.AccessLog
	if l == nil {
		return nil
	}
	what := fmt.Sprint("live feed from ", from)
	if len(f.sub.People) == 0 {
		return l.Record(ctx, f.p, what, "")
	}
	errs := make(chan error, len(f.sub.People))
	for _, n := range f.sub.People {
		go func() { errs <- l.Record(ctx, f.p, what, n) }()
	}
	var first error
	for range f.sub.People {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// stillAuthenticated checks the connection's credential again with the
// upgrade request's headers and cookies. A refused credential, or one that
// now names another principal, closes the feed; one that cannot be checked
// closes it too, because authentication fails closed.
func (f *feed) stillAuthenticated(ctx context.Context) bool {
	c := f.c
	p, err := c.h.cfg.Auth.Authenticate(ctx, c.req)
	switch {
	case err == nil && p.ID == f.p.ID && p.Role == f.p.Role && p.Org == f.p.Org:
		return true
	case errors.Is(err, auth.ErrUnavailable):
		c.h.metrics.Dropped(DropUnavailable)
		c.closeWithError(CloseUnavailable, CodeUnavailable, "credentials cannot be checked; reconnect later")
	default:
		c.h.metrics.Dropped(DropUnauthenticated)
		c.log.WarnContext(ctx, "live: credential no longer valid", "err", err)
		c.closeWithError(CloseUnauthenticated, CodeUnauthenticated, "the credential is no longer valid")
	}
	return false
}
