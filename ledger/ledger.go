package ledger

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/journeys"
	"github.com/gateledger/gateledger/projections/readmodel"
)

// DefaultWaitTimeout bounds a read's wait for a read model, and the access
// log's recording of a read.
const DefaultWaitTimeout = 5 * time.Second

// Config is what a Ledger runs on. Journeys, Runner and AccessLog are
// required.
type Config struct {
	// Journeys is the command service; it also loads the journeys that
	// reads are authorised on.
	Journeys *journeys.Service
	// Runner serves the read models and the waits for them.
	Runner *readmodel.Runner
	// AccessLog records every read before it is served.
	AccessLog *auth.AccessLog
	// WaitTimeout bounds a read's wait for a read model, and the recording
	// of the read; zero means DefaultWaitTimeout.
	WaitTimeout time.Duration
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// Ledger carries out principals' commands and reads. It is safe for
// concurrent use; its state is set by New and never changed.
type Ledger struct {
	cfg Config
}

// New checks cfg and returns a Ledger.
func New(cfg Config) (*Ledger, error) {
	var missing []string
	if cfg.Journeys == nil {
		missing = append(missing, "Journeys")
	}
	if cfg.Runner == nil {
		missing = append(missing, "Runner")
	}
	if cfg.AccessLog == nil {
		missing = append(missing, "AccessLog")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("ledger: config lacks %s", strings.Join(missing, ", "))
	}
	if cfg.WaitTimeout <= 0 {
		cfg.WaitTimeout = DefaultWaitTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Ledger{cfg: cfg}, nil
}

// ErrNotRecorded: the access log could not record a read, so nothing of it
// is returned.
var ErrNotRecorded = errors.New("ledger: the access could not be recorded")

// WaitError is a read whose read model did not reach the position the read
// needs in time (it matches readmodel.ErrNotCaughtUp then), or failed.
type WaitError struct {
	Projection string
	Position   uint64
	Err        error
}

func (e *WaitError) Error() string {
	return fmt.Sprintf("ledger: waiting for %s to reach %d: %v", e.Projection, e.Position, e.Err)
}

// Unwrap exposes the runner's error.
func (e *WaitError) Unwrap() error { return e.Err }
