package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"unicode"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/journeys"
	"github.com/gateledger/gateledger/labels"
	"github.com/gateledger/gateledger/ledger"
	"github.com/gateledger/gateledger/projections"
)

// ProblemBase starts every problem type URI. The URIs identify kinds of error;
// they are stable, and are not meant to be fetched.
const ProblemBase = "https://gateledger.example/problems/"

// ProblemKind is one kind of error the API answers, with its fixed HTTP status.
type ProblemKind struct {
	// Slug ends the type URI (ProblemBase + Slug).
	Slug   string
	Title  string
	Status int
}

// Type is the problem type URI.
func (k ProblemKind) Type() string { return ProblemBase + k.Slug }

// The problem kinds. Each has exactly one status, so a client may switch on
// either; the list is documented in openapi.json and doc.go.
var (
	ProblemMalformedRequest = ProblemKind{"malformed-request", "The request cannot be read", http.StatusBadRequest}
	ProblemValidation       = ProblemKind{"validation", "The request has invalid fields", http.StatusBadRequest}
	ProblemUnauthenticated  = ProblemKind{"unauthenticated", "Authentication is required", http.StatusUnauthorized}
	ProblemForbidden        = ProblemKind{"forbidden", "Not allowed", http.StatusForbidden}
	ProblemNotFound         = ProblemKind{"not-found", "Not found", http.StatusNotFound}
	ProblemMethodNotAllowed = ProblemKind{"method-not-allowed", "Method not allowed", http.StatusMethodNotAllowed}
	ProblemRuleViolation    = ProblemKind{"rule-violation", "The journey's rules refuse the command", http.StatusConflict}
	ProblemConcurrent       = ProblemKind{"concurrent-modification", "The journey kept changing; try again", http.StatusConflict}
	ProblemDeadLetterClosed = ProblemKind{"dead-letter-closed", "The dead letter is no longer open", http.StatusConflict}
	ProblemRevisionMismatch = ProblemKind{"revision-mismatch", "The journey is not at the revision in If-Match", http.StatusPreconditionFailed}
	ProblemTooLarge         = ProblemKind{"payload-too-large", "The request body is too large", http.StatusRequestEntityTooLarge}
	ProblemMediaType        = ProblemKind{"unsupported-media-type", "The request body must be application/json", http.StatusUnsupportedMediaType}
	ProblemKeyReused        = ProblemKind{"idempotency-key-reused", "The Idempotency-Key was used for a different command", http.StatusUnprocessableEntity}
	ProblemRateLimited      = ProblemKind{"rate-limited", "Too many requests", http.StatusTooManyRequests}
	ProblemInternal         = ProblemKind{"internal", "Internal error", http.StatusInternalServerError}
	ProblemUnavailable      = ProblemKind{"unavailable", "The service cannot answer now", http.StatusServiceUnavailable}
	ProblemNotCaughtUp      = ProblemKind{"not-caught-up", "The read model has not reached the requested position yet", http.StatusServiceUnavailable}
	ProblemStorageFull      = ProblemKind{"storage-full", "The ledger cannot record anything now: its disk is full", http.StatusServiceUnavailable}
	ProblemGone             = ProblemKind{"gone", "The journey was deleted from the event store", http.StatusGone}
)

// ProblemKinds lists every kind, for documentation and tests.
func ProblemKinds() []ProblemKind {
	return []ProblemKind{ProblemMalformedRequest, ProblemValidation, ProblemUnauthenticated, ProblemForbidden,
		ProblemNotFound, ProblemMethodNotAllowed, ProblemRuleViolation, ProblemConcurrent, ProblemDeadLetterClosed, ProblemRevisionMismatch,
		ProblemTooLarge, ProblemMediaType, ProblemKeyReused, ProblemRateLimited, ProblemInternal, ProblemUnavailable,
		ProblemNotCaughtUp, ProblemStorageFull, ProblemGone}
}

// FieldError is one invalid field of a request. Field is the JSON name of a
// body field (dotted for nested ones, "dates.confirmedReleaseDate"), or for
// path, query and header parameters their name ("noms", "as_at",
// "Idempotency-Key").
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Problem is an RFC 9457 problem details object.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Errors lists the invalid fields of a validation or malformed-request
	// problem.
	Errors []FieldError `json:"errors,omitempty"`
	// Rule is the aggregate's rule slug of a rule-violation problem.
	Rule string `json:"rule,omitempty"`
	// CurrentRevision is the journey's revision in a revision-mismatch
	// problem (-1: no events).
	CurrentRevision *int64 `json:"currentRevision,omitempty"`
}

// problemError is an error that knows its problem; handlers return it from
// helpers so that one place writes every answer.
type problemError struct {
	kind   ProblemKind
	detail string
	errs   []FieldError
	rule   string
	rev    *int64
	// header is set on the answer (Retry-After, Allow, WWW-Authenticate).
	header map[string]string
	err    error
}

func (e *problemError) Error() string {
	msg := e.kind.Slug + ": " + e.detail
	if e.err != nil {
		msg += ": " + e.err.Error()
	}
	return msg
}

func (e *problemError) Unwrap() error { return e.err }

func newProblem(k ProblemKind, format string, args ...any) *problemError {
	return &problemError{kind: k, detail: fmt.Sprintf(format, args...)}
}

func validationProblem(errs ...FieldError) *problemError {
	p := newProblem(ProblemValidation, "%d field(s) invalid", len(errs))
	p.errs = errs
	return p
}

func (e *problemError) with(name, value string) *problemError {
	if e.header == nil {
		e.header = map[string]string{}
	}
	e.header[name] = value
	return e
}

// writeProblem answers with the problem for err. Errors that are not a
// *problemError are classified by classify; a 5xx is logged with the error,
// which never reaches the client.
func (s *server) writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	var pe *problemError
	if !errors.As(err, &pe) {
		pe = classify(err)
	}
	s.countAccessFailure(err)
	if pe.kind.Status >= 500 {
		s.log.ErrorContext(r.Context(), "request failed", "route", routeOf(r), "problem", pe.kind.Slug, "err", err)
	}
	for k, v := range pe.header {
		w.Header().Set(k, v)
	}
	writeProblemBody(w, Problem{Type: pe.kind.Type(), Title: pe.kind.Title, Status: pe.kind.Status, Detail: pe.detail,
		Instance: r.URL.Path, Errors: pe.errs, Rule: pe.rule, CurrentRevision: pe.rev})
}

// countAccessFailure counts a read refused because the access log could not
// record it.
func (s *server) countAccessFailure(err error) {
	if errors.Is(err, ledger.ErrNotRecorded) {
		s.metrics.accessFail.Inc()
	}
}

func writeProblemBody(w http.ResponseWriter, p Problem) {
	b, err := json.Marshal(p)
	if err != nil { // cannot happen: the struct holds strings and numbers
		b = []byte(`{"type":"` + ProblemInternal.Type() + `","title":"Internal error","status":500}`)
		p.Status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Del("ETag")
	w.WriteHeader(p.Status)
	_, _ = w.Write(append(b, '\n'))
}

// classify maps an error from the packages the API calls to its problem. The
// detail says what a caller may know: for rule errors the aggregate's text
// (about the command it sent), never a store or internal error's text.
func classify(err error) *problemError {
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
		return &problemError{kind: ProblemUnavailable, detail: "the access could not be recorded, so it is not served", err: err,
			header: map[string]string{"Retry-After": "5"}}
	case errors.As(err, &wait):
		if errors.Is(err, projections.ErrNotCaughtUp) {
			return &problemError{kind: ProblemNotCaughtUp, detail: "the read model is behind; retry shortly", err: err,
				header: map[string]string{"Retry-After": "1"}}
		}
		return &problemError{kind: ProblemUnavailable, detail: "the read model is not available", err: err}
	case eventlog.IsStoreFull(err):
		// Before the access log's and the credentials' "unavailable": a full disk is
		// what stops them too, and the operator's fix is the same.
		return &problemError{kind: ProblemStorageFull, detail: "nothing was recorded; the ledger takes commands again by itself once its operator frees disk space",
			err: err, header: map[string]string{"Retry-After": "30"}}
	case errors.Is(err, eventlog.ErrStreamDeleted):
		return &problemError{kind: ProblemGone, detail: "this journey's stream was hard-deleted (tombstoned) in the event store; its history cannot be read or added to", err: err}
	case errors.As(err, &tooBig):
		return newProblem(ProblemTooLarge, "the body is larger than %d bytes", tooBig.Limit)
	case errors.Is(err, auth.ErrNotFound), errors.Is(err, projections.ErrNotFound):
		return newProblem(ProblemNotFound, "no such journey, or not one you may see")
	case errors.Is(err, auth.ErrForbidden):
		return newProblem(ProblemForbidden, "your role or organisation may not do this")
	case errors.Is(err, auth.ErrNoCredentials):
		return newProblem(ProblemUnauthenticated, "send Authorization: Bearer <token>").with("WWW-Authenticate", `Bearer realm="gateledger"`)
	case errors.Is(err, auth.ErrInvalidToken):
		return newProblem(ProblemUnauthenticated, "the bearer token was refused").with("WWW-Authenticate", `Bearer realm="gateledger", error="invalid_token"`)
	case errors.Is(err, auth.ErrUnavailable), errors.Is(err, auth.ErrChainBroken):
		return &problemError{kind: ProblemUnavailable, detail: "credentials cannot be checked now", err: err, header: map[string]string{"Retry-After": "5"}}
	case errors.As(err, &mismatch):
		p := newProblem(ProblemRevisionMismatch, "the journey is at revision %d, not %d", mismatch.Current, mismatch.Expected)
		cur := mismatch.Current
		p.rev = &cur
		return p
	case errors.Is(err, journeys.ErrConflict):
		return newProblem(ProblemConcurrent, "the journey changed concurrently too many times").with("Retry-After", "1")
	case errors.Is(err, journeys.ErrIdempotencyKeyReused):
		return newProblem(ProblemKeyReused, "this Idempotency-Key already recorded a different command; use a new key")
	case errors.Is(err, journeys.ErrCorrectedEventNotFound):
		return validationProblem(FieldError{Field: "correctsEventId", Message: "no event with this id in the journey"})
	case errors.As(err, &idErr):
		return validationProblem(FieldError{Field: jsonField(idErr.Field), Message: fmt.Sprintf("%q does not match %s", idErr.Value, idErr.Pattern)})
	case errors.As(err, &rule):
		switch {
		case errors.Is(rule.Err, aggregates.ErrInvalidValue), errors.Is(rule.Err, aggregates.ErrInvalidIdentifier),
			errors.Is(rule.Err, aggregates.ErrReasonRequired):
			field := jsonField(rule.Field)
			if field == "" {
				field = "body"
			}
			return validationProblem(FieldError{Field: field, Message: ruleMessage(rule)})
		}
		p := newProblem(ProblemRuleViolation, "%s", ruleMessage(rule))
		p.rule = rule.Rule
		if rule.Field != "" {
			p.errs = []FieldError{{Field: jsonField(rule.Field), Message: ruleMessage(rule)}}
		}
		return p
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &problemError{kind: ProblemUnavailable, detail: "the request took too long", err: err}
	case errors.Is(err, projections.ErrNotCaughtUp):
		return &problemError{kind: ProblemNotCaughtUp, detail: "try again shortly", err: err, header: map[string]string{"Retry-After": "1"}}
	}
	return &problemError{kind: ProblemInternal, detail: "the error is logged", err: err}
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

// logValueOfProblem keeps the slug in logs.
func (e *problemError) LogValue() slog.Value {
	return slog.StringValue(strings.TrimSpace(e.Error()))
}
