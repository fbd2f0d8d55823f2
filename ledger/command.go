package ledger

import (
	"context"
	"errors"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/journeys"
)

// CommandOptions are how Command records a command.
type CommandOptions struct {
	// Source is where the command came from (aggregates.SourceAPI,
	// aggregates.SourceUI).
	Source aggregates.Source
	// IdempotencyKey, when set, is the key as stored: callers scope it to
	// the principal ("http:<principal id>:<key>" for the API), so that one
	// caller's key never answers with another's result.
	IdempotencyKey string
	// IfRevision, when set, refuses the command unless the journey is at
	// this revision (If-Match): *journeys.RevisionMismatchError, asked after
	// the authorisation so that it says nothing of a journey p may not see.
	IfRevision *int64
	// CorrelationID ties the events to the request.
	CorrelationID string
}

// Command authorises cmd for p on the journey of noms and decides it on
// exactly the state it was authorised on (see the package doc). The errors
// are those of auth.AuthorizeCommand and of journeys.Service.Handle; a CRN in
// use by another journey is *journeys.CRNInUseError, naming that journey only
// when p may read it.
func (l *Ledger) Command(ctx context.Context, p auth.Principal, noms string, cmd aggregates.Command, o CommandOptions) (journeys.Result, error) {
	res, err := l.cfg.Journeys.Handle(ctx, noms, cmd, journeys.CommandMeta{UserID: p.ID, Role: string(p.Role),
		Organisation: p.Org, Source: o.Source, CorrelationID: o.CorrelationID, IdempotencyKey: o.IdempotencyKey,
		IfRevision: o.IfRevision, Guard: func(j aggregates.Journey) error { return auth.AuthorizeCommand(p, j, cmd) }})
	var inUse *journeys.CRNInUseError
	if errors.As(err, &inUse) {
		return res, l.discloseCRNOwner(ctx, p, inUse)
	}
	return res, err
}

// discloseCRNOwner names the journey that holds a CRN in the refusal only when
// the authorisation policy lets p read that journey; everyone else learns that
// the CRN belongs to someone else, not to whom.
func (l *Ledger) discloseCRNOwner(ctx context.Context, p auth.Principal, e *journeys.CRNInUseError) error {
	other, _, err := l.cfg.Journeys.Load(ctx, e.Other)
	if err == nil && auth.CanReadJourney(p, other) {
		return e.Disclosed()
	}
	return e
}
