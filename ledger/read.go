package ledger

import (
	"context"
	"fmt"

	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventlog"
)

// ReadOptions say what a read of one person is and where its answer comes
// from.
type ReadOptions struct {
	// Access is what the access log says was read (auth.AccessReadPlan,
	// ...). Empty records nothing: only for a form's own context (the pages
	// read a person to show what a form offers), which discloses no history
	// and was never recorded.
	Access string
	// Projection names the read model the answer is built from: the read
	// waits until it has applied the person's last event. Empty for an
	// answer built from the store alone, which waits for nothing.
	Projection string
	// MinPosition is a $all position the caller has seen (the API's
	// Gateledger-Min-Position, a page's position after a command): the read
	// model waits for it too.
	MinPosition uint64
}

// Read reads the person noms names for p: it loads their journey (a prison
// number merged into another resolves to the journey it was merged into:
// journeys.Service.LoadPerson, st.NOMS says which), authorises p to read it
// (auth.ErrNotFound, exactly as for a person who does not exist, when p may
// not), waits for o.Projection, builds the answer with view, records the read
// of st.NOMS in the access log, and only then returns the answer.
//
// An error of view is returned as it is, and nothing is recorded: nothing was
// disclosed. A read that cannot be recorded returns ErrNotRecorded and the
// zero T; one whose read model does not catch up in time, *WaitError.
func Read[T any](ctx context.Context, l *Ledger, p auth.Principal, noms string, o ReadOptions, view func(st eventlog.JourneyStream) (T, error)) (T, error) {
	var zero T
	st, err := l.cfg.Journeys.LoadPerson(ctx, noms)
	if err != nil {
		return zero, fmt.Errorf("ledger: read %s: %w", noms, err)
	}
	if err := auth.AuthorizeRead(p, st.Journey); err != nil {
		return zero, err
	}
	if o.Projection != "" {
		if err := l.wait(ctx, o.Projection, max(o.MinPosition, st.Position().Commit)); err != nil {
			return zero, err
		}
	}
	v, err := view(st)
	if err != nil {
		return zero, err
	}
	if o.Access != "" {
		if err := l.record(ctx, p, o.Access, st.NOMS); err != nil {
			return zero, err
		}
	}
	return v, nil
}

// Stream is a view for Read that answers the journey as loaded.
func Stream(st eventlog.JourneyStream) (eventlog.JourneyStream, error) { return st, nil }

// OrganisationRead says what a read that is not of one person is: an
// organisation's lists (its caseload, its handovers), or a read across
// organisations (the outcomes, a download of a set of histories, the dead
// letters, a backup).
type OrganisationRead struct {
	// Org, when set, is the organisation whose lists are read: inspectors
	// may read any organisation's, prisons and providers their own.
	Org string
	// Allow, when set, must allow p as well: the rule of a read that spans
	// organisations (Org empty), or a narrower one (inspectors only). With
	// neither Org nor Allow, no one may read.
	Allow func(auth.Principal) bool
	// Access is what the access log says was read; empty records nothing,
	// for answers that name no person (the outcomes' counts).
	Access string
	// Subject is what the access log says was read of; empty means Org.
	Subject string
	// Projections name the read models the answer is built from: the read
	// waits until each has reached MinPosition.
	Projections []string
	// MinPosition is a $all position the caller has seen (see ReadOptions).
	MinPosition uint64
}

// ReadOrganisation is Read for what is not one person's: it authorises p
// (auth.ErrForbidden when o does not allow p), waits for o.Projections,
// builds the answer with view, records the read (when o.Access is set), and
// only then returns the answer. Errors are as Read's.
func ReadOrganisation[T any](ctx context.Context, l *Ledger, p auth.Principal, o OrganisationRead, view func() (T, error)) (T, error) {
	var zero T
	if !o.allows(p) {
		return zero, auth.ErrForbidden
	}
	for _, name := range o.Projections {
		if err := l.wait(ctx, name, o.MinPosition); err != nil {
			return zero, err
		}
	}
	v, err := view()
	if err != nil {
		return zero, err
	}
	if o.Access != "" {
		subject := o.Subject
		if subject == "" {
			subject = o.Org
		}
		if err := l.record(ctx, p, o.Access, subject); err != nil {
			return zero, err
		}
	}
	return v, nil
}

// allows is the rule of an organisation's reads: the policy's
// (auth.CanReadOrganisation) for an organisation's lists; Allow narrows it or,
// for reads across organisations, is the whole rule.
func (o OrganisationRead) allows(p auth.Principal) bool {
	if p.Validate() != nil || (o.Org == "" && o.Allow == nil) {
		return false
	}
	if o.Org != "" && !auth.CanReadOrganisation(p, o.Org) {
		return false
	}
	return o.Allow == nil || o.Allow(p)
}

// wait waits until projection has applied pos; a zero pos waits for nothing.
func (l *Ledger) wait(ctx context.Context, projection string, pos uint64) error {
	if pos == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, l.cfg.WaitTimeout)
	defer cancel()
	if err := l.cfg.Runner.WaitFor(ctx, projection, pos); err != nil {
		return &WaitError{Projection: projection, Position: pos, Err: err}
	}
	return nil
}

// record stores the access before the answer is returned: a read that cannot
// be recorded is not served.
func (l *Ledger) record(ctx context.Context, p auth.Principal, what, subject string) error {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.WaitTimeout)
	defer cancel()
	if err := l.cfg.AccessLog.Record(ctx, p, what, subject); err != nil {
		l.cfg.Logger.WarnContext(ctx, "access not recorded; the read is refused", "what", what, "err", err)
		return fmt.Errorf("%w: %w", ErrNotRecorded, err)
	}
	return nil
}

// Nothing is a view for ReadOrganisation whose answer the caller already
// holds or streams after it (a dead letter, a backup): the read is authorised
// and recorded, and nothing is built.
func Nothing() (struct{}, error) { return struct{}{}, nil }
