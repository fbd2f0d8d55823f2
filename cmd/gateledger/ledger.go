package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"
	_ "time/tzdata" // the calendar needs Europe/London on machines without zoneinfo

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/calendar"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/instance"
	"github.com/gateledger/gateledger/projections/readmodel"
)

// storeConfig is the flags every command that opens the event store shares.
type storeConfig struct {
	dataDir    string
	eventstore string
}

func (c *storeConfig) register(f *flags) {
	f.string(&c.dataDir, "data", "DATA_DIR", "./data", "data directory: the embedded event store, its secrets, and the projections' state")
	f.string(&c.eventstore, "eventstore", "EVENTSTORE", "", "connection string of an external KurrentDB/EventStoreDB (esdb://...); empty runs the embedded store")
}

// errNoDataDir: an operator command was pointed at a data directory that does
// not exist. Only serve creates one (on a first run); any other command would
// otherwise create an empty store there and report on it as if it were the
// ledger's.
var errNoDataDir = errors.New("data directory does not exist")

// requireDataDir refuses a data directory that does not exist for an
// embedded store, saying how to name the right one (the external store's
// data lives elsewhere, so then the directory is created as needed).
func requireDataDir(dir, eventstore string) error {
	if eventstore != "" {
		return nil
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %s holds no ledger. Name the ledger's data directory with --data (or DATA_DIR); "+
			"`gateledger serve` creates it on its first run", errNoDataDir, dir)
	case err != nil:
		return fmt.Errorf("data directory %s: %w", dir, err)
	case !fi.IsDir():
		return fmt.Errorf("data directory %s is not a directory", dir)
	}
	return nil
}

// policy is the ledger's policy: the default durations, the England and Wales calendar
// in London time, and the allocation models with their effective dates.
func policy() (aggregates.Policy, error) {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		return aggregates.Policy{}, fmt.Errorf("load Europe/London: %w", err)
	}
	return aggregates.DefaultPolicy(calendar.New(loc)), nil
}

// openLedger opens the store and the read models over it, for the operator commands
// that work on a stopped ledger (replay, verify); closeLedger closes both.
func openLedger(ctx context.Context, c *storeConfig, log *slog.Logger) (store *eventstore.Conn, r *readmodel.Runner, closeLedger func(), err error) {
	pol, err := policy()
	if err != nil {
		return nil, nil, nil, err
	}
	if err := requireDataDir(c.dataDir, c.eventstore); err != nil {
		return nil, nil, nil, err
	}
	store, err = eventstore.Open(ctx, eventstore.Config{ConnectionString: c.eventstore, DataDir: c.dataDir, Logger: log})
	if err != nil {
		return nil, nil, nil, err
	}
	r, err = instance.OpenProjections(store, c.dataDir, pol, log)
	if err != nil {
		_ = store.Close(context.WithoutCancel(ctx))
		return nil, nil, nil, err
	}
	return store, r, func() { _ = r.Close(); _ = store.Close(context.WithoutCancel(ctx)) }, nil
}

// waitForHead blocks until every projection has applied the store's last event as it was
// when called, reporting progress, or a projection fails.
func waitForHead(ctx context.Context, store *eventstore.Conn, r *readmodel.Runner, report func(pos, head, applied uint64)) (uint64, error) {
	head, err := eventlog.LastPosition(ctx, store.Client)
	if err != nil {
		return 0, err
	}
	// The wait ends the moment the last projection reaches head (so a replay's timing is
	// exact); the ticker only paces the progress reports and the check for failures.
	waitCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	reached := make(chan error, 1)
	go func() {
		for _, st := range r.Status() {
			if err := r.WaitFor(waitCtx, st.Name, head); err != nil {
				reached <- err
				return
			}
		}
		reached <- nil
	}()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, st := range r.Status() {
			if st.Failed != nil {
				return head, st.Failed
			}
		}
		if report != nil {
			report(r.Position(), head, r.Applied())
		}
		select {
		case err := <-reached:
			if err != nil {
				if ctx.Err() != nil {
					return head, ctx.Err()
				}
				return head, err
			}
			if report != nil {
				report(r.Position(), head, r.Applied())
			}
			return head, nil
		case <-tick.C:
		case <-ctx.Done():
			return head, ctx.Err()
		}
	}
}
