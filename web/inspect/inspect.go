// Package inspect holds what the inspector pages show, as view models built
// from the ledger: finding a person, their timeline (who, organisation, when,
// source), their plan as it was at any date or event, the verification of
// their hash chain, the history for download, and the payment-by-results
// outcomes by provider and cohort with a chart. It renders no page: package
// web/pages does, so these views are tested without a browser.
//
// Every method lets only inspectors in (they read every journey and write
// nothing) and reads a person through the ledger's read (ledger.Read), which
// authorises, waits for the read model, and records the read in the access
// log before anything of the person is returned, as for the HTTP API. A
// person an inspector asks for that does not exist gives auth.ErrNotFound; a
// read that cannot be recorded, ledger.ErrNotRecorded.
//
// inspect imports the domain, the ledger, the read models and package
// web/export; never package web.
package inspect

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/journeys"
	"github.com/gateledger/gateledger/ledger"
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

// Config is what an Inspector reads from. Store, Ledger, Journeys and Runner
// are required.
type Config struct {
	Store *eventstore.Conn
	// Ledger reads each person (ledger.Read) and records each read.
	Ledger *ledger.Ledger
	// Journeys looks people up for a search, which is recorded as one read.
	Journeys *journeys.Service
	Runner   *readmodel.Runner
	// Policy derives deadlines in plan views.
	Policy aggregates.Policy
	// Location is where dates are entered and shown (Europe/London in
	// service); nil means UTC.
	Location *time.Location
	// Clock; nil means time.Now.
	Clock func() time.Time
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
	if cfg.Ledger == nil {
		missing = append(missing, "Ledger")
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
	return &Inspector{cfg: cfg}, nil
}

// Location is where the inspector's dates are read and shown.
func (i *Inspector) Location() *time.Location { return i.cfg.Location }

// Allowed reports whether p may use the inspector pages: inspectors only.
// Other roles read cases through their own pages, limited to their own.
func Allowed(p auth.Principal) bool { return auth.CanReadAcrossOrganisations(p) }

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

// read is the ledger's read of the person noms, for inspectors only, as
// access (auth.Access...) from projection ("" for an answer from the store
// alone), with view building the answer. A NOMS number that is not one is an
// *InputError.
func read[T any](ctx context.Context, i *Inspector, p auth.Principal, noms, access, projection string, view func(eventlog.JourneyStream) (T, error)) (T, error) {
	var zero T
	if !Allowed(p) {
		return zero, auth.ErrForbidden
	}
	if !aggregates.ValidNOMS(noms) {
		return zero, inputError("noms", "Enter a prison number in the correct format, like A1234BC")
	}
	return ledger.Read(ctx, i.cfg.Ledger, p, noms, ledger.ReadOptions{Access: access, Projection: projection}, view)
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
	type answer struct {
		entries []projections.AuditEntry
		d       export.Describer
	}
	a, err := read(ctx, i, p, noms, accessExport, projections.AuditName, func(st eventlog.JourneyStream) (answer, error) {
		entries, err := projections.Trail(i.cfg.Runner, noms)
		if err != nil {
			return answer{}, fmt.Errorf("inspect: trail of %s: %w", noms, err)
		}
		return answer{entries, export.Describer{Event: export.StreamEvents(st), Name: i.cfg.Names}}, nil
	})
	return a.entries, a.d, err
}
