package web

import (
	"bytes"
	"errors"

	"github.com/gateledger/gateledger/aggregates"
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
