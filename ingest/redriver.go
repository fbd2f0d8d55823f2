package ingest

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
)

// DefaultRedriveRetry is how long the Redriver waits before subscribing again
// after its subscription or a redrive failed.
const DefaultRedriveRetry = 2 * time.Second

// Redriver redrives a person's open dead letters when what blocked them may
// have arrived: whenever their journey gains an event, from any source (the
// feed, the API, the pages, another ledger instance). It subscribes to $all,
// filtered to journey streams and the dead-letter stream, from the store's
// end when it starts; so that nothing recorded while no Redriver ran is
// missed, it first redrives every open letter once (which also offers a newer
// version of the ledger the messages an older one could not read).
//
// Only letters the journey's rules refused are redriven on a journey event
// (RedriveRequest.Blocked): a malformed or unmapped message would fail the
// same way. A redrive that fails as before records nothing, so the
// Redriver's own events, which come back through its subscription, settle at
// once. Every ledger instance may run one: redrives are idempotent.
type Redriver struct {
	Feed *Feed
	// Logger; nil means the feed's.
	Logger *slog.Logger
	// Retry is the wait after a failure (DefaultRedriveRetry when 0).
	Retry time.Duration
}

func (r *Redriver) log() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return r.Feed.log()
}

// Run redrives until ctx ends; it returns nil then. Failures of the store are
// logged and retried after Retry.
func (r *Redriver) Run(ctx context.Context) error {
	if r.Feed == nil || r.Feed.Journeys == nil || r.Feed.Journeys.Store == nil {
		return errors.New("ingest: redriver has no feed")
	}
	retry := r.Retry
	if retry <= 0 {
		retry = DefaultRedriveRetry
	}
	for {
		err := r.run(ctx)
		if ctx.Err() != nil {
			return nil
		}
		r.log().WarnContext(ctx, "dead-letter redriver stopped; starting again", "err", err, "after", retry)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(retry):
		}
	}
}

// subEvent is one item of the subscription, or why it ended.
type subEvent struct {
	stream string
	err    error
}

// run is one subscription's life: sweep, subscribe, react.
func (r *Redriver) run(ctx context.Context) error {
	client := r.Feed.Journeys.Store
	from, err := eventlog.LastPosition(ctx, client)
	if err != nil {
		return err
	}
	// The sweep: whatever arrived while no redriver ran, and whatever this
	// version can read that an older one could not.
	if _, err := r.Feed.RedriveWith(ctx, RedriveRequest{}); err != nil {
		return err
	}
	waiting, err := r.waiting(ctx)
	if err != nil {
		return err
	}
	journeyPrefix := aggregates.StreamName("")
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sub, err := client.SubscribeToAll(sctx, esdb.SubscribeToAllOptions{From: esdb.Position{Commit: from, Prepare: from},
		Filter: &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{journeyPrefix, r.Feed.stream()}}})
	if err != nil {
		return err
	}
	defer func() { _ = sub.Close() }()
	items := make(chan subEvent, 256)
	go receiveStreams(sctx, sub, items)
	r.log().InfoContext(ctx, "dead-letter redriver subscribed", "position", from, "waiting", len(waiting))

	pending := map[string]bool{}
	stale := false
	for {
		var it subEvent
		if len(pending) > 0 || stale {
			select {
			case it = <-items:
			default:
				// Quiet: act on what has gathered, letters first, so that a
				// letter just recorded is known before its journey's events.
				if stale {
					now, err := r.waiting(ctx)
					if err != nil {
						return err
					}
					// A letter recorded just after its journey moved (the
					// message was decided on the journey before) is offered
					// once at once, or it would wait for the next event.
					for noms := range now {
						if !waiting[noms] {
							pending[noms] = true
						}
					}
					waiting, stale = now, false
				}
				for noms := range pending {
					delete(pending, noms)
					if !waiting[noms] {
						continue
					}
					if _, err := r.Feed.RedriveWith(ctx, RedriveRequest{NOMS: noms, Blocked: true}); err != nil {
						return err
					}
				}
				continue
			}
		} else {
			select {
			case it = <-items:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		switch {
		case it.err != nil:
			return it.err
		case it.stream == r.Feed.stream():
			stale = true
		case strings.HasPrefix(it.stream, journeyPrefix):
			// Checked against the letters when acting, since a letter
			// recorded just before may not be in waiting yet.
			pending[strings.TrimPrefix(it.stream, journeyPrefix)] = true
		}
	}
}

// waiting is the set of prison numbers with open letters a later fact can
// unblock.
func (r *Redriver) waiting(ctx context.Context) (map[string]bool, error) {
	letters, _, err := r.Feed.readDeadLetters(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, l := range letters {
		if l.Open() && l.Reason == ReasonRejected && l.NOMS != "" {
			out[l.NOMS] = true
		}
	}
	return out, nil
}

// receiveStreams passes the stream of each event the subscription delivers
// to items, and its error when it drops.
func receiveStreams(ctx context.Context, sub *esdb.Subscription, items chan<- subEvent) {
	for {
		e := sub.Recv()
		var it subEvent
		switch {
		case e.SubscriptionDropped != nil:
			it.err = e.SubscriptionDropped.Error
			if it.err == nil {
				it.err = errors.New("ingest: redriver subscription dropped")
			}
		case e.EventAppeared != nil:
			ev := e.EventAppeared.OriginalEvent()
			if ev == nil {
				continue
			}
			it.stream = ev.StreamID
		default:
			continue
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
