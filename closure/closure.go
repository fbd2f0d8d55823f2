// Package closure is the ledger closing journeys by itself: when supervision
// after release has ended, it records JourneyClosed (reason SUPERVISION_ENDED,
// source system) exactly once.
//
// Exactly once, across restarts and across several ledger instances on one
// store, comes from the command pipeline rather than from coordination: the
// closure is decided on the journey's stream (journeys.Service), dated when
// supervision ended (not when the closer ran), and sent under an idempotency
// key derived from the journey and that end. Two closers that race decide the
// same command; one appends, the other's append meets a new revision, is
// decided again, and finds its key already in the stream (a duplicate) or the
// journey closed (refused, which is the same answer). A restart finds nothing
// left to close.
//
// The closer finds candidates in the caseload read model (rows whose
// supervision ended and which are not closed) and checks each on the stream,
// so a read model that lags can only delay a closure, never cause a wrong one.
//
// It imports aggregates, journeys and projections.
package closure

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/journeys"
	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/projections/readmodel"
)

// DefaultInterval is how often the closer looks for journeys to close.
const DefaultInterval = time.Minute

// UserID is who the closure events say recorded them.
const UserID = "system:closer"

// Closer closes journeys whose supervision has ended.
type Closer struct {
	Journeys *journeys.Service
	Runner   *readmodel.Runner
	// Interval between passes; DefaultInterval when zero.
	Interval time.Duration
	// Clock; nil means the service's clock (time.Now).
	Clock func() time.Time
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

func (c *Closer) log() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

func (c *Closer) now() time.Time {
	if c.Clock != nil {
		return c.Clock()
	}
	if c.Journeys != nil && c.Journeys.Clock != nil {
		return c.Journeys.Clock()
	}
	return time.Now()
}

// Key is the idempotency key of the closure of journey noms whose supervision
// ended at end: the same for every closer, so that concurrent closers collapse
// to one event.
func Key(noms string, end time.Time) string {
	return "close-supervision-ended:" + noms + ":" + end.UTC().Format(time.RFC3339Nano)
}

// Run closes journeys until ctx ends; it returns nil then. A failed pass is
// logged and tried again at the next interval.
func (c *Closer) Run(ctx context.Context) error {
	if c.Journeys == nil || c.Runner == nil {
		return errors.New("closure: closer needs the journeys service and the read models")
	}
	every := c.Interval
	if every <= 0 {
		every = DefaultInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := c.Pass(ctx); err != nil && ctx.Err() == nil {
			c.log().WarnContext(ctx, "closing journeys whose supervision ended", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Pass closes every journey the caseload says has ended supervision at now,
// and returns the prison numbers it recorded a closure for.
func (c *Closer) Pass(ctx context.Context) ([]string, error) {
	now := c.now()
	candidates, err := projections.SupervisionEnded(c.Runner, now)
	if err != nil {
		return nil, fmt.Errorf("closure: candidates: %w", err)
	}
	var closed []string
	var errs []error
	for _, noms := range candidates {
		if ctx.Err() != nil {
			break
		}
		ok, err := c.Close(ctx, noms, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			closed = append(closed, noms)
		}
	}
	return closed, errors.Join(errs...)
}

// Close records the closure of journey noms if its supervision has ended at
// now, and reports whether it is recorded by this call (or by a racing closer
// whose identical append the store answered as this one: both may say so, the
// stream holds one event). A journey already closed,
// or whose supervision has not ended on the stream, is left alone.
func (c *Closer) Close(ctx context.Context, noms string, now time.Time) (bool, error) {
	j, _, err := c.Journeys.Load(ctx, noms)
	if err != nil {
		return false, fmt.Errorf("closure: load %s: %w", noms, err)
	}
	if j.Closed || j.Custody != aggregates.Released {
		return false, nil
	}
	end := j.SupervisionEnd(c.Journeys.Policy)
	if end.IsZero() || now.Before(end) {
		return false, nil
	}
	res, err := c.Journeys.Handle(ctx, noms, aggregates.CloseJourney{Reason: aggregates.CloseSupervisionEnded, At: end},
		journeys.CommandMeta{UserID: UserID, Role: "system", Source: aggregates.SourceSystem, IdempotencyKey: Key(noms, end)})
	if errors.Is(err, aggregates.ErrClosed) {
		return false, nil // another closer (or a person) was first
	}
	if err != nil {
		return false, fmt.Errorf("closure: close %s: %w", noms, err)
	}
	if res.Duplicate || len(res.Events) == 0 {
		return false, nil
	}
	c.log().InfoContext(ctx, "journey closed: supervision ended", "noms", noms, "supervisionEnded", end)
	return true, nil
}
