// Package inspect holds what the inspector pages show, as view models built
// from the ledger: finding a person, their timeline (who, organisation, when,
// source), their plan as it was at any date or event, the verification of
// their hash chain, the history for download, and the payment-by-results
// outcomes by provider and cohort with a chart. It renders no page: package
// web/pages does, so these views are tested without a browser.
//
// Every method authorises the principal (inspectors only: they read every
// journey and write nothing) and records each read of a person in the access
// log before it returns anything of them, as the HTTP API does. A person an
// inspector asks for that does not exist gives auth.ErrNotFound.
package inspect

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/journeys"
	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/projections/readmodel"
	"github.com/gateledger/gateledger/web/export"
)

// What the access log says was read: the same words as the HTTP API's.
const (
	accessTrail        = auth.AccessReadTrail
	accessPlan         = auth.AccessReadPlan
	accessVerification = auth.AccessVerifyJourney
	accessExport       = auth.AccessExportTrail
	accessFind         = auth.AccessFindPerson
)

// DefaultWaitTimeout bounds a read's wait for the read models to reach the
// person's last event.
const DefaultWaitTimeout = 5 * time.Second

// Config is what an Inspector reads from. Store, Journeys, Runner and
// AccessLog are required.
type Config struct {
	Store     *eventlog.Store
	Journeys  *journeys.Service
	Runner    *readmodel.Runner
	AccessLog *auth.AccessLog
	// Policy derives deadlines in plan views.
	Policy aggregates.Policy
	// Location is where dates are entered and shown (Europe/London in
	// service); nil means UTC.
	Location *time.Location
	// Clock; nil means time.Now.
	Clock func() time.Time
	// WaitTimeout; zero means DefaultWaitTimeout.
	WaitTimeout time.Duration
	// Names, when set, gives the name of the principal whose id recorded an
	// event (the token's name, the identity provider's name), so histories
	// say who acted rather than "token:806e3111a15a". It returns "" when it
	// knows none.
	Names func(userID string) string
}

// who is the name of userID for people, or userID when none is known.
func (i *Inspector) who(userID string) string {
	if i.cfg.Names != nil {
		if n := i.cfg.Names(userID); n != "" {
			return n
		}
	}
	return userID
}

// Inspector builds the inspector's views. It is safe for concurrent use.
type Inspector struct {
	cfg Config
}

// New checks cfg and returns an Inspector.
func New(cfg Config) (*Inspector, error) {
	var missing []string
	if cfg.Store == nil || cfg.Store.Client == nil {
		missing = append(missing, "Store")
	}
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
		return nil, fmt.Errorf("inspect: config lacks %s", strings.Join(missing, ", "))
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.WaitTimeout <= 0 {
		cfg.WaitTimeout = DefaultWaitTimeout
	}
	return &Inspector{cfg: cfg}, nil
}

// Location is where the inspector's dates are read and shown.
func (i *Inspector) Location() *time.Location { return i.cfg.Location }

// Allowed reports whether p may use the inspector pages: inspectors only.
// Other roles read cases through their own pages, limited to their own.
func Allowed(p auth.Principal) bool { return p.Validate() == nil && p.Role == auth.RoleInspector }

// FieldError is one thing wrong with what the inspector typed, for the
// GOV.UK error summary: Field is the id of the input to link to.
type FieldError struct {
	Field   string
	Message string
}

// InputError lists what is wrong with a form.
type InputError struct {
	Errors []FieldError
}

func (e *InputError) Error() string {
	parts := make([]string, 0, len(e.Errors))
	for _, f := range e.Errors {
		parts = append(parts, f.Field+": "+f.Message)
	}
	return "inspect: " + strings.Join(parts, "; ")
}

func inputError(field, msg string) error {
	return &InputError{Errors: []FieldError{{Field: field, Message: msg}}}
}

// load authorises p, loads the person from the store, and waits until the
// read model named has caught up with their last event. A NOMS number that is
// not one is an *InputError; a person who does not exist is auth.ErrNotFound.
func (i *Inspector) load(ctx context.Context, p auth.Principal, noms, projection string) (eventlog.JourneyStream, error) {
	if !Allowed(p) {
		return eventlog.JourneyStream{}, auth.ErrForbidden
	}
	if !aggregates.ValidNOMS(noms) {
		return eventlog.JourneyStream{}, inputError("noms", "Enter a prison number in the correct format, like A1234BC")
	}
	st, err := i.cfg.Journeys.LoadPerson(ctx, noms)
	if err != nil {
		return eventlog.JourneyStream{}, fmt.Errorf("inspect: load %s: %w", noms, err)
	}
	if err := auth.AuthorizeRead(p, st.Journey); err != nil {
		return eventlog.JourneyStream{}, err
	}
	if projection != "" {
		if err := i.wait(ctx, projection, st.Position().Commit); err != nil {
			return eventlog.JourneyStream{}, err
		}
	}
	return st, nil
}

func (i *Inspector) wait(ctx context.Context, projection string, pos uint64) error {
	if pos == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, i.cfg.WaitTimeout)
	defer cancel()
	if err := i.cfg.Runner.WaitFor(ctx, projection, pos); err != nil {
		return fmt.Errorf("inspect: wait for %s: %w", projection, err)
	}
	return nil
}

// ErrNotRecorded: the access log could not record the read, so nothing of
// the person is shown.
var ErrNotRecorded = errors.New("inspect: the access could not be recorded")

func (i *Inspector) record(ctx context.Context, p auth.Principal, what, noms string) error {
	ctx, cancel := context.WithTimeout(ctx, i.cfg.WaitTimeout)
	defer cancel()
	if err := i.cfg.AccessLog.Record(ctx, p, what, noms); err != nil {
		return fmt.Errorf("%w: %w", ErrNotRecorded, err)
	}
	return nil
}

// History is the person's whole audit trail, for the CSV and JSON downloads
// (package export); the read is recorded as an export.
func (i *Inspector) History(ctx context.Context, p auth.Principal, noms string) ([]projections.AuditEntry, error) {
	entries, _, err := i.HistoryDescribed(ctx, p, noms)
	return entries, err
}

// HistoryDescribed is History with the Describer that says what each event
// recorded and who recorded it, for downloads in words.
func (i *Inspector) HistoryDescribed(ctx context.Context, p auth.Principal, noms string) ([]projections.AuditEntry, export.Describer, error) {
	st, err := i.load(ctx, p, noms, projections.AuditName)
	if err != nil {
		return nil, export.Describer{}, err
	}
	entries, err := projections.Trail(i.cfg.Runner, noms)
	if err != nil {
		return nil, export.Describer{}, fmt.Errorf("inspect: trail of %s: %w", noms, err)
	}
	if err := i.record(ctx, p, accessExport, noms); err != nil {
		return nil, export.Describer{}, err
	}
	return entries, export.Describer{Event: export.StreamEvents(st), Name: i.cfg.Names}, nil
}
