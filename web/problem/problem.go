// Package problem classifies what goes wrong in a request into the problem
// every transport of the ledger answers with: a Kind (type slug, title and
// its one HTTP status), a detail the caller may know, the fields at fault by
// their JSON names, the journey rule broken and the headers the answer
// carries. The API renders an *Error as RFC 9457 problem details (package
// web); the pages render it as a form's error summary (package web/pages).
// Both read it through Of, so that a refusal means the same in both.
//
// It may import the domain (aggregates) and the packages whose errors it
// classifies (auth, eventstore, journeys, labels, ledger, projections,
// projections/readmodel); never
// a transport (web, web/pages).
package problem

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"unicode"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/journeys"
	"github.com/gateledger/gateledger/labels"
	"github.com/gateledger/gateledger/ledger"
	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/projections/readmodel"
)

// Base starts every problem type URI. The URIs identify kinds of error;
// they are stable, and are not meant to be fetched.
const Base = "https://gateledger.example/problems/"

// Kind is one kind of error the ledger answers, with its fixed HTTP status.
type Kind struct {
	// Slug ends the type URI (Base + Slug).
	Slug   string
	Title  string
	Status int
}

// Type is the problem type URI.
func (k Kind) Type() string { return Base + k.Slug }

// The problem kinds. Each has exactly one status, so a client may switch on
// either; the list is documented in web's openapi.json and doc.go.
var (
	MalformedRequest = Kind{"malformed-request", "The request cannot be read", http.StatusBadRequest}
	Validation       = Kind{"validation", "The request has invalid fields", http.StatusBadRequest}
	Unauthenticated  = Kind{"unauthenticated", "Authentication is required", http.StatusUnauthorized}
	Forbidden        = Kind{"forbidden", "Not allowed", http.StatusForbidden}
	NotFound         = Kind{"not-found", "Not found", http.StatusNotFound}
	MethodNotAllowed = Kind{"method-not-allowed", "Method not allowed", http.StatusMethodNotAllowed}
	RuleViolation    = Kind{"rule-violation", "The journey's rules refuse the command", http.StatusConflict}
	Concurrent       = Kind{"concurrent-modification", "The journey kept changing; try again", http.StatusConflict}
	DeadLetterClosed = Kind{"dead-letter-closed", "The dead letter is no longer open", http.StatusConflict}
	RevisionMismatch = Kind{"revision-mismatch", "The journey is not at the revision in If-Match", http.StatusPreconditionFailed}
	TooLarge         = Kind{"payload-too-large", "The request body is too large", http.StatusRequestEntityTooLarge}
	MediaType        = Kind{"unsupported-media-type", "The request body must be application/json", http.StatusUnsupportedMediaType}
	KeyReused        = Kind{"idempotency-key-reused", "The Idempotency-Key was used for a different command", http.StatusUnprocessableEntity}
	RateLimited      = Kind{"rate-limited", "Too many requests", http.StatusTooManyRequests}
	Internal         = Kind{"internal", "Internal error", http.StatusInternalServerError}
	Unavailable      = Kind{"unavailable", "The service cannot answer now", http.StatusServiceUnavailable}
	NotCaughtUp      = Kind{"not-caught-up", "The read model has not reached the requested position yet", http.StatusServiceUnavailable}
	StorageFull      = Kind{"storage-full", "The ledger cannot record anything now: its disk is full", http.StatusServiceUnavailable}
	Gone             = Kind{"gone", "The journey was deleted from the event store", http.StatusGone}
)

// Kinds lists every kind, for documentation and tests.
func Kinds() []Kind {
	return []Kind{MalformedRequest, Validation, Unauthenticated, Forbidden,
		NotFound, MethodNotAllowed, RuleViolation, Concurrent, DeadLetterClosed, RevisionMismatch,
		TooLarge, MediaType, KeyReused, RateLimited, Internal, Unavailable,
		NotCaughtUp, StorageFull, Gone}
}

// FieldError is one invalid field of a request. Field is the JSON name of a
// body field (dotted for nested ones, "dates.confirmedReleaseDate"), or for
// path, query and header parameters their name ("noms", "as_at",
// "Idempotency-Key").
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is an error that knows its problem: request decoding and handlers
// return it so that one place writes every answer, and Of classifies every
// other error into one.
type Error struct {
	Kind Kind
	// Detail says what the caller may know; never a store's or an internal
	// error's text.
	Detail string
	// Fields lists the invalid fields of a validation or malformed-request
	// problem (and the field of a rule violation, when the rule names one).
	Fields []FieldError
	// Rule is the aggregate's rule slug of a rule-violation problem.
	Rule string
	// Revision is the journey's revision in a revision-mismatch problem (-1:
	// no events).
	Revision *int64
	// Header is set on the answer (Retry-After, Allow, WWW-Authenticate).
	Header map[string]string
	// Err is the error classified, for logs; it never reaches the caller.
	Err error
}

func (e *Error) Error() string {
	msg := e.Kind.Slug + ": " + e.Detail
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// LogValue keeps the slug in logs.
func (e *Error) LogValue() slog.Value {
	return slog.StringValue(strings.TrimSpace(e.Error()))
}

// New is a problem of kind k whose detail is formatted from format and args.
func New(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Detail: fmt.Sprintf(format, args...)}
}

// Invalid is the validation problem of the fields at fault, every one at once.
func Invalid(fields ...FieldError) *Error {
	p := New(Validation, "%d field(s) invalid", len(fields))
	p.Fields = fields
	return p
}

// With sets a header of the answer (Retry-After, Allow, WWW-Authenticate).
func (e *Error) With(name, value string) *Error {
	if e.Header == nil {
		e.Header = map[string]string{}
	}
	e.Header[name] = value
	return e
}

// Of says what the ledger answers err with: err's own *Error when it holds
// one, or else the problem classify finds for it.
func Of(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return classify(err)
}

// classify maps an error from the packages the transports call to its
// problem. The detail says what a caller may know: for rule errors the
// aggregate's text (about the command it sent), never a store or internal
// error's text.
func classify(err error) *Error {
	var (
		rule     *aggregates.RuleError
		idErr    *aggregates.IdentifierError
		mismatch *journeys.RevisionMismatchError
		tooBig   *http.MaxBytesError
	)
	var wait *ledger.WaitError
	switch {
	case errors.Is(err, ledger.ErrNotRecorded):
		// Before a full disk: what the caller learns is that the read was not served.
		return &Error{Kind: Unavailable, Detail: "the access could not be recorded, so it is not served", Err: err,
			Header: map[string]string{"Retry-After": "5"}}
	case errors.As(err, &wait):
		if errors.Is(err, readmodel.ErrNotCaughtUp) {
			return &Error{Kind: NotCaughtUp, Detail: "the read model is behind; retry shortly", Err: err,
				Header: map[string]string{"Retry-After": "1"}}
		}
		return &Error{Kind: Unavailable, Detail: "the read model is not available", Err: err}
	case eventstore.IsStoreFull(err):
		// Before the access log's and the credentials' "unavailable": a full disk is
		// what stops them too, and the operator's fix is the same.
		return &Error{Kind: StorageFull, Detail: "nothing was recorded; the ledger takes commands again by itself once its operator frees disk space",
			Err: err, Header: map[string]string{"Retry-After": "30"}}
	case errors.Is(err, eventstore.ErrStreamDeleted):
		return &Error{Kind: Gone, Detail: "this journey's stream was hard-deleted (tombstoned) in the event store; its history cannot be read or added to", Err: err}
	case errors.As(err, &tooBig):
		return New(TooLarge, "the body is larger than %d bytes", tooBig.Limit)
	case errors.Is(err, auth.ErrNotFound), errors.Is(err, projections.ErrNotFound):
		return New(NotFound, "no such journey, or not one you may see")
	case errors.Is(err, auth.ErrForbidden):
		return New(Forbidden, "your role or organisation may not do this")
	case errors.Is(err, auth.ErrNoCredentials):
		return New(Unauthenticated, "send Authorization: Bearer <token>").With("WWW-Authenticate", `Bearer realm="gateledger"`)
	case errors.Is(err, auth.ErrInvalidToken):
		return New(Unauthenticated, "the bearer token was refused").With("WWW-Authenticate", `Bearer realm="gateledger", error="invalid_token"`)
	case errors.Is(err, auth.ErrUnavailable), errors.Is(err, auth.ErrChainBroken):
		return &Error{Kind: Unavailable, Detail: "credentials cannot be checked now", Err: err, Header: map[string]string{"Retry-After": "5"}}
	case errors.Is(err, journeys.ErrConflict):
		// Before the mismatch: a command that gave up after conflicts wraps the
		// last one, which is a mismatch with the revision the server pinned
		// itself when the caller sent no If-Match.
		return New(Concurrent, "the journey changed concurrently too many times").With("Retry-After", "1")
	case errors.As(err, &mismatch):
		p := New(RevisionMismatch, "the journey is at revision %d, not %d", mismatch.Current, mismatch.Expected)
		cur := mismatch.Current
		p.Revision = &cur
		return p
	case errors.Is(err, journeys.ErrIdempotencyKeyReused):
		return New(KeyReused, "this Idempotency-Key already recorded a different command; use a new key")
	case errors.Is(err, journeys.ErrCorrectedEventNotFound):
		return Invalid(FieldError{Field: "correctsEventId", Message: "no event with this id in the journey"})
	case errors.As(err, &idErr):
		return Invalid(FieldError{Field: jsonField(idErr.Field), Message: fmt.Sprintf("%q does not match %s", idErr.Value, idErr.Pattern)})
	case errors.As(err, &rule):
		switch {
		case errors.Is(rule.Err, aggregates.ErrInvalidValue), errors.Is(rule.Err, aggregates.ErrInvalidIdentifier),
			errors.Is(rule.Err, aggregates.ErrReasonRequired):
			field := jsonField(rule.Field)
			if field == "" {
				field = "body"
			}
			return Invalid(FieldError{Field: field, Message: ruleMessage(rule)})
		}
		p := New(RuleViolation, "%s", ruleMessage(rule))
		p.Rule = rule.Rule
		if rule.Field != "" {
			p.Fields = []FieldError{{Field: jsonField(rule.Field), Message: ruleMessage(rule)}}
		}
		return p
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &Error{Kind: Unavailable, Detail: "the request took too long", Err: err}
	case errors.Is(err, readmodel.ErrNotCaughtUp):
		return &Error{Kind: NotCaughtUp, Detail: "try again shortly", Err: err, Header: map[string]string{"Retry-After": "1"}}
	}
	return &Error{Kind: Internal, Detail: "the error is logged", Err: err}
}

// ruleMessage says a rule error in words for people: what the rule found
// (the aggregate's text, its codes said as labels), then what to do next
// (labels.Rule, one table for the API and the pages).
func ruleMessage(r *aggregates.RuleError) string {
	msg := r.Err.Error()
	if r.Detail != "" {
		msg += ": " + labels.Text(r.Detail)
	}
	if r.Rule != "" && r.Rule != "invalid-value" {
		msg += ". " + labels.Rule(r.Rule)
	}
	return msg
}

// jsonField turns the aggregate's field names ("OffenceDate", "NOMS", "at")
// into the API's JSON names ("offenceDate", "noms", "at").
func jsonField(f string) string {
	switch f {
	case "":
		return ""
	case "NOMS":
		return "noms"
	case "CRN":
		return "crn"
	case "PNC":
		return "pnc"
	case "By":
		return "by"
	}
	rs := []rune(f)
	rs[0] = unicode.ToLower(rs[0])
	return string(rs)
}
