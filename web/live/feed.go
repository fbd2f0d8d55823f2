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
	"github.com/gateledger/gateledger/folds"
	"github.com/gateledger/gateledger/labels"
)

// feed is one connection's subscription. It runs in the connection's feed
// goroutine and owns everything below: it registers with the hub, sends the
// history with a catch-up subscription of its own (folding journeys in its
// own bounded cache), switches over to the hub, then moves what the hub
// hands it to the send queue at the client's pace.
type feed struct {
	c     *conn
	p     auth.Principal
	sub   Subscribe
	types map[string]bool // nil: every type
	// everyJourney: the principal reads every journey (inspector), so
	// nothing needs folding.
	everyJourney bool
	folds        *folds.Cache
	hb           *hub
	hs           *hubSub

	// last is the highest position the catch-up has covered (an event,
	// whether sent or not, or a store checkpoint); started says last is a
	// position (false only from "start" before anything was read).
	last    uint64
	started bool
	// startedAfter is the exclusive starting position; lastEvent the last
	// event's position.
	startedAfter, lastEvent uint64
	seenEvent               bool
	subscribed              bool
	from                    any
	reauth                  <-chan time.Time
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
	f := &feed{c: c, p: c.p, sub: s, everyJourney: seesEveryJourney(c.p), folds: folds.NewCache(c.h.cfg.Client, c.h.cfg.MaxJourneys)}
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

// filter is the server-side filter of the catch-up subscription: only the
// streams the principal could ever be sent. Event types are never filtered
// on the server, because every event of a journey is needed to fold it.
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
	hb, err := c.h.liveHub(ctx)
	if errors.Is(err, errShuttingDown) {
		return nil // the connection is being closed with 1001
	}
	if err != nil {
		return err
	}
	f.hb, f.hs = hb, newHubSub(c, f.sub)
	// Registered before anything is read: from here on the hub keeps every
	// event after reg for this connection.
	reg := hb.register(f.hs)
	defer hb.unregister(f.hs)
	switch f.sub.From {
	case FromStart:
		f.from = "start"
	case FromPosition:
		f.from, f.last, f.started = f.sub.Position, f.sub.Position, true
		f.startedAfter = f.sub.Position
	default:
		last, err := eventlog.LastPosition(ctx, c.h.cfg.Client)
		if err != nil {
			return err
		}
		// The hub may be past the store's end as this read saw it; "now"
		// is then the hub's position, which needs no history.
		last = max(last, reg)
		f.from, f.last, f.started = last, last, true
		f.startedAfter = last
	}
	if err := f.recordAccess(ctx, f.from); err != nil {
		return err
	}
	if c.h.cfg.ReauthInterval > 0 {
		t := time.NewTicker(c.h.cfg.ReauthInterval)
		defer t.Stop()
		f.reauth = t.C
	}
	for {
		covered := f.last
		if !f.started || f.last < reg {
			var ok bool
			if covered, ok, err = f.catchUp(ctx, reg); !ok || err != nil {
				return err
			}
		} else if !f.announce() {
			return nil
		}
		dropped, ok := f.hs.goLive(covered)
		if ok {
			c.h.counters.switchDropped.Add(int64(dropped))
			c.log.InfoContext(ctx, "live: subscribed", "from", f.from, "caught_up", covered, "people", len(f.sub.People), "event_types", len(f.sub.EventTypes))
			break
		}
		// The backlog overflowed while the history was read: register
		// again and read on from what was covered.
		c.h.counters.lapses.Add(1)
		f.last, f.started = covered, true
		reg = hb.register(f.hs)
	}
	c.live.Store(true)
	return f.live(ctx)
}

// announce queues the subscribed message, once.
func (f *feed) announce() bool {
	if f.subscribed {
		return true
	}
	f.subscribed = true
	return f.c.enqueue(outbound{data: mustJSON(subscribedMessage{Type: TypeSubscribed, From: f.from, Role: string(f.p.Role),
		Organisation: f.p.Org, People: f.sub.People, EventTypes: f.sub.EventTypes})})
}

// catchUp sends the history from f.last (or the start) with a subscription
// of its own until it has covered reg, the hub's position at registration,
// and returns what it covered. ok is false when the feed must end.
func (f *feed) catchUp(ctx context.Context, reg uint64) (covered uint64, ok bool, err error) {
	c := f.c
	opts := esdb.SubscribeToAllOptions{Filter: f.filter(), From: esdb.Start{}}
	if f.started {
		opts.From = esdb.Position{Commit: f.last, Prepare: f.last}
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sub, err := c.h.cfg.Client.SubscribeToAll(sctx, opts)
	if err != nil {
		return 0, false, err
	}
	defer func() { _ = sub.Close() }()
	c.h.counters.catchUps.Add(1)
	if !f.announce() {
		return 0, false, nil
	}
	items := make(chan subItem, 64)
	go receive(sctx, sub, items)
	for {
		if f.started && f.last >= reg {
			return f.last, true, nil
		}
		select {
		case <-ctx.Done():
			return 0, false, nil
		case <-f.hb.done:
			return 0, false, fmt.Errorf("live: the hub stopped: %w", f.hb.err)
		case it := <-items:
			switch {
			case it.err != nil:
				return 0, false, it.err
			case it.ev != nil:
				if err := f.event(ctx, it.ev); err != nil {
					return 0, false, err
				}
			case it.checkpoint != nil:
				f.last, f.started = max(f.last, it.checkpoint.Commit), true
			case it.caughtUp:
				// The subscription began after the registration, so it
				// has read everything up to reg: what it skipped there was
				// not for this connection.
				return max(f.last, reg), true, nil
			}
		case <-f.reauth:
			if !f.stillAuthenticated(ctx) {
				return 0, false, nil
			}
		}
		if ctx.Err() != nil {
			return 0, false, nil
		}
	}
}

// live moves what the hub hands on to the send queue until the connection
// ends. conn.enqueue applies the slow-client rule; a backlog that overflowed
// drops the client at once.
func (f *feed) live(ctx context.Context) error {
	c, hs := f.c, f.hs
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-f.hb.done:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("live: the hub stopped: %w", f.hb.err)
		case <-hs.wake:
			for {
				m, ok, overflow := hs.pop()
				if overflow {
					c.drop(CloseSlowClient, DropSlowClient, "backlog", hs.max)
					return nil
				}
				if !ok {
					break
				}
				if !c.enqueue(m) {
					return nil
				}
			}
		case <-f.reauth:
			if !f.stillAuthenticated(ctx) {
				return nil
			}
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
	f.last, f.started = max(f.last, pos), true
	noms, isJourney := aggregates.NOMSFromStream(ev.StreamID)
	if !isJourney {
		if MaySeeOtherStream(f.p, ev.StreamID) && f.wanted(ev.EventType) {
			rec, _ := eventlog.FromRecorded(ev) // an inspector sees the event even with a bad envelope
			f.queueEvent(ev, rec.Metadata, "")
		}
		return nil
	}
	rec, envErr := eventlog.FromRecorded(ev)
	if f.everyJourney {
		if f.wanted(ev.EventType) {
			f.queueEvent(ev, rec.Metadata, noms)
		}
		return nil
	}
	visible, err := f.fold(ctx, noms, rec, envErr)
	if err != nil {
		return err
	}
	if visible && f.wanted(ev.EventType) {
		f.queueEvent(ev, rec.Metadata, noms)
	}
	return nil
}

// fold folds a journey event into its person's cached journey, in place,
// and says whether the principal may see it (MaySeeJourneyEvent). A person
// first seen on this connection (or evicted, or after a gap that cannot
// happen in one subscription) is folded from the store up to this event.
func (f *feed) fold(ctx context.Context, noms string, rec eventlog.Recorded, envErr error) (bool, error) {
	j, err := f.folds.At(ctx, noms, rec.Stream, rec.Revision)
	if err != nil {
		return false, err
	}
	if j.Broken != nil {
		j.Apply(rec.Revision, rec.Position.Commit, nil, j.Broken)
		return false, nil
	}
	var d aggregates.Event
	err = envErr
	if err == nil {
		d, err = eventlog.DecodeJourneyEvent(rec)
	}
	if err != nil {
		// The journey's state is unknown from here on: fail closed for it
		// (inspectors, who need no fold, still receive it).
		j.Apply(rec.Revision, rec.Position.Commit, nil, err)
		f.c.log.ErrorContext(ctx, "live: journey event cannot be decoded; not sent", "stream", rec.Stream, "revision", rec.Revision, "err", err)
		return false, nil
	}
	before := auth.CanReadJourney(f.p, j.Journey)
	j.Apply(rec.Revision, rec.Position.Commit, d, nil)
	after := auth.CanReadJourney(f.p, j.Journey)
	return before || after, nil
}

func (f *feed) wanted(eventType string) bool { return f.types == nil || f.types[eventType] }

func (f *feed) queueEvent(ev *esdb.RecordedEvent, md eventlog.Metadata, noms string) {
	f.c.enqueue(outbound{data: eventFrame(ev, noms, md), pos: ev.Position.Commit, hasPos: true})
}

// eventFrame is the event message of ev: the catch-up and the hub encode
// events with it alike.
func eventFrame(ev *esdb.RecordedEvent, noms string, md eventlog.Metadata) []byte {
	m := EventMessage{Type: TypeEvent, Position: ev.Position.Commit, Stream: ev.StreamID, NOMS: noms, Revision: ev.EventNumber,
		EventType: ev.EventType, Label: labels.EventType(ev.EventType), EventID: ev.EventID.String(), Who: md.UserID, Role: md.Role,
		Organisation: md.Organisation, Source: string(md.Source), CorrelationID: md.CorrelationID,
		Data: json.RawMessage("null")}
	if !md.OccurredAt.IsZero() {
		m.OccurredAt = md.OccurredAt.UTC()
	}
	if !md.RecordedAt.IsZero() {
		m.RecordedAt = md.RecordedAt.UTC()
	}
	if len(ev.Data) > 0 && json.Valid(ev.Data) {
		m.Data = ev.Data
	}
	return mustJSON(m)
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
