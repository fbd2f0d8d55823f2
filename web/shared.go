package web

import (
	"bytes"
	"context"
	"errors"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/journeys"
)

// What the API shares with other front ends on the same ledger (the web
// pages, package web/pages), so that a command sent from a form is decoded,
// validated, authorised and decided exactly as one sent to /v1.

// CommandTarget names what a command applies to: the person, and for the
// routes that take them the pathway ({pathway}) and the action ({id}).
type CommandTarget struct {
	NOMS     string
	Pathway  aggregates.Pathway
	ActionID string
}

// ErrUnknownCommand: DecodeCommand was given a name no command route has.
var ErrUnknownCommand = errors.New("web: unknown command")

// DecodeCommand builds the aggregate command named name (the route's
// operationId, such as "ReceivePrisoner") from body, the JSON the route
// would take, for target. It decodes and validates as the route does: the
// error of a bad body or target lists every field at fault (FieldErrors).
func DecodeCommand(name string, target CommandTarget, body []byte) (aggregates.Command, error) {
	var route *commandRoute
	for i := range commandRoutes {
		if commandRoutes[i].Name == name {
			route = &commandRoutes[i]
		}
	}
	if route == nil {
		return nil, ErrUnknownCommand
	}
	var v validator
	p := pathParams{NOMS: v.ident("noms", "noms", target.NOMS, true), ActionID: target.ActionID}
	if bytes.Contains([]byte(route.Path), []byte("{pathway}")) {
		if !target.Pathway.Valid() {
			v.add("pathway", "must be one of %s", pathwayNames)
		}
		p.Pathway = target.Pathway
	}
	if bytes.Contains([]byte(route.Path), []byte("{id}")) {
		p.ActionID = v.ident("id", "actionId", target.ActionID, true)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	b := route.New()
	if err := jsonBytes(body, b); err != nil {
		return nil, err
	}
	return b.command(p)
}

// CommandOptions are how RunCommand records a command.
type CommandOptions struct {
	// Source is where the command came from (aggregates.SourceAPI,
	// aggregates.SourceUI).
	Source aggregates.Source
	// IdempotencyKey, when set, is the key as stored: callers scope it to
	// the principal ("http:<principal id>:<key>" for the API), so that one
	// caller's key never answers with another's result.
	IdempotencyKey string
	// IfRevision, when set, refuses the command unless the journey is at
	// this revision (If-Match).
	IfRevision *int64
	// CorrelationID ties the events to the request.
	CorrelationID string
}

// RunCommand authorises cmd for p on the journey of noms and decides it at
// exactly the revision it was authorised on, as the API's command routes do:
// when the journey moves in between, it is loaded and authorised again (up
// to 5 times). A key that already recorded events answers from them
// (journeys.Result.Duplicate) without authorising again. The errors are
// those of auth.AuthorizeCommand and journeys.Service (see FieldErrors).
func RunCommand(ctx context.Context, svc *journeys.Service, p auth.Principal, noms string, cmd aggregates.Command, o CommandOptions) (journeys.Result, error) {
	for attempt := 1; ; attempt++ {
		st, err := svc.LoadStream(ctx, noms)
		if err != nil {
			return journeys.Result{}, err
		}
		replay := o.IdempotencyKey != "" && len(st.WithKey(o.IdempotencyKey)) > 0
		if !replay {
			if err := auth.AuthorizeCommand(p, st.Journey, cmd); err != nil {
				return journeys.Result{}, err
			}
			if o.IfRevision != nil && *o.IfRevision != st.Revision() {
				return journeys.Result{}, &journeys.RevisionMismatchError{NOMS: noms, Expected: *o.IfRevision, Current: st.Revision()}
			}
		}
		pin := st.Revision()
		res, err := svc.HandleLoaded(ctx, st, cmd, journeys.CommandMeta{UserID: p.ID, Role: string(p.Role),
			Organisation: p.Org, Source: o.Source, CorrelationID: o.CorrelationID, IdempotencyKey: o.IdempotencyKey, IfRevision: &pin})
		var inUse *journeys.CRNInUseError
		if errors.As(err, &inUse) {
			return res, discloseCRNOwner(ctx, svc, p, inUse)
		}
		var moved *journeys.RevisionMismatchError
		if errors.As(err, &moved) && o.IfRevision == nil {
			if attempt == maxAuthorizeAttempts {
				return journeys.Result{}, &journeys.ConflictError{NOMS: noms, Attempts: attempt, Err: err}
			}
			continue
		}
		return res, err
	}
}

// discloseCRNOwner names the journey that holds a CRN in the refusal only when
// the authorisation policy lets p read that journey; everyone else learns that
// the CRN belongs to someone else, not to whom.
func discloseCRNOwner(ctx context.Context, svc *journeys.Service, p auth.Principal, e *journeys.CRNInUseError) error {
	other, _, err := svc.Load(ctx, e.Other)
	if err == nil && auth.CanReadJourney(p, other) {
		return e.Disclosed()
	}
	return e
}

// FieldErrors says what the API would answer err with: its HTTP status, its
// problem's detail, the rule slug of a broken journey rule, and the fields at
// fault by their JSON names ("at", "dates.confirmedReleaseDate", "noms").
func FieldErrors(err error) (status int, detail, rule string, fields []FieldError) {
	var p *problemError
	if !errors.As(err, &p) {
		p = classify(err)
	}
	return p.kind.Status, p.detail, p.rule, p.errs
}
