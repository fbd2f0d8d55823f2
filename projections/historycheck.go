package projections

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/projections/readmodel"
)

// HistoryCheck verifies every hash chain of the store once, when the ledger
// starts, and holds the answer for the readiness probe. Damage inside an
// event's bytes leaves the store file's structure sound, so opening the store
// cannot see it; only the chains can. The check runs in the background because
// a national store takes minutes to read, and the ledger stays not ready until
// it has passed: an instance that has not verified what it serves does not
// take traffic, and one that found a break never does until the store is
// restored.
type HistoryCheck struct {
	mu     sync.Mutex
	done   bool
	breaks []StreamVerification
	err    error
	events int
}

// Run verifies the chains (VerifyAll) and records the result. It logs what it
// found, naming every break and what to do.
func (h *HistoryCheck) Run(ctx context.Context, r *readmodel.Runner, client eventstore.Store, log *slog.Logger) {
	start := time.Now()
	rep, err := VerifyAll(ctx, r, client)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.done, h.err, h.breaks, h.events = true, err, rep.Breaks, rep.Events
	switch {
	case ctx.Err() != nil:
		h.done = false
	case err != nil:
		log.Error("history check at start could not read the store; the ledger stays not ready", "err", err)
	case len(rep.Breaks) > 0:
		for _, b := range rep.Breaks {
			log.Error("history check at start: a hash chain is broken; the ledger stays not ready. Run gateledger verify for the report, then restore the store from a backup (gateledger restore --from ... --force)",
				"stream", b.Stream, "position", b.BreakPosition)
		}
	default:
		log.Info("history check at start: every hash chain verified", "streams", rep.Streams, "events", rep.Events,
			"seconds", time.Since(start).Seconds())
	}
}

// Status is what the readiness probe says of the history: "verifying" until
// the check has run, "ok", or what is wrong; ok is false unless it is "ok".
func (h *HistoryCheck) Status() (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case !h.done:
		return "verifying", false
	case h.err != nil:
		return "could not be verified", false
	case len(h.breaks) > 0:
		return fmt.Sprintf("damaged: %d journeys' hash chains are broken, first %s", len(h.breaks), h.breaks[0].Stream), false
	}
	return "ok", true
}
