package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/ingest"
	"github.com/gateledger/gateledger/ledger"
)

// The dead-letter queue (package ingest): admins and inspectors read it,
// admins redrive and discard. Every read is recorded in the access log, as
// the messages name people.

// deadLetters is the feed's queue for p, if p may read it.
func (s *server) deadLetters(p auth.Principal) (*ingest.Feed, error) {
	if !auth.CanReadDeadLetters(p) {
		return nil, auth.ErrForbidden
	}
	if s.cfg.Feed == nil {
		return nil, newProblem(ProblemUnavailable, "the HMPPS feed is not enabled on this server")
	}
	return s.cfg.Feed, nil
}

// deadLetterID reads the {id} path parameter; an id that is not one answers
// 404 like one that does not exist.
func deadLetterID(r *http.Request) (uuid.UUID, error) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		return uuid.UUID{}, newProblem(ProblemNotFound, "no such dead letter")
	}
	return id, nil
}

// actorOf is who takes a step through the API.
func actorOf(p auth.Principal) ingest.Actor {
	return ingest.Actor{ID: p.ID, Name: p.Name, Role: string(p.Role), Org: p.Org, Source: aggregates.SourceAPI}
}

// deadLetterProblem maps the queue's errors to problems.
func deadLetterProblem(err error) error {
	switch {
	case errors.Is(err, ingest.ErrDeadLetterNotFound):
		return newProblem(ProblemNotFound, "no such dead letter")
	case errors.Is(err, ingest.ErrDeadLetterClosed):
		return &problemError{kind: ProblemDeadLetterClosed, detail: err.Error(), err: err}
	case errors.Is(err, ingest.ErrDiscardReason):
		return validationProblem(FieldError{Field: "reason", Message: reasonMessage(err)})
	case errors.Is(err, ingest.ErrBadCursor):
		return validationProblem(FieldError{Field: "cursor", Message: "is not a cursor from a previous page; start again without it"})
	}
	return err
}

// reasonMessage is what CheckDiscardReason says, without its sentinel.
func reasonMessage(err error) string {
	msg := err.Error()
	if p := ingest.ErrDiscardReason.Error() + ": "; len(msg) > len(p) && msg[:len(p)] == p {
		return msg[len(p):]
	}
	return msg
}

// listDeadLetters answers a page of the queue: ?state=open|resolved|discarded,
// ?noms=, ?reason=, ?limit= (1-200) and ?cursor= (the previous page's next).
func (s *server) listDeadLetters(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	feed, err := s.deadLetters(p)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var v validator
	query := ingest.DeadLetterQuery{State: ingest.DeadLetterState(q.Get("state")), Reason: q.Get("reason"), After: q.Get("cursor")}
	if query.State != "" {
		v.enum("state", string(query.State), query.State.Valid(), "open, resolved, discarded")
	}
	if query.Reason != "" {
		v.enum("reason", query.Reason, ingest.ValidReason(query.Reason), "malformed, unmappable, rejected, unreadable-journey")
	}
	query.NOMS = v.ident("noms", "noms", q.Get("noms"), false)
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > ingest.MaxPageSize {
			v.add("limit", "must be a whole number from 1 to %d", ingest.MaxPageSize)
		}
		query.Limit = n
	}
	if err := v.err(); err != nil {
		return err
	}
	page, err := ledger.ReadOrganisation(r.Context(), s.cfg.Ledger, p, ledger.OrganisationRead{Allow: auth.CanReadDeadLetters,
		Access: auth.AccessReadDeadLetters, Subject: query.NOMS}, func() (ingest.DeadLetterPage, error) {
		page, err := feed.ListDeadLetters(r.Context(), query)
		return page, deadLetterProblem(err)
	})
	if err != nil {
		return err
	}
	out := deadLetterListView{DeadLetters: make([]deadLetterSummaryView, 0, len(page.Letters)), Total: page.Total, Next: page.Next,
		Counts: map[string]int{}}
	for _, st := range ingest.States() {
		out.Counts[string(st)] = page.Counts[st]
	}
	for _, l := range page.Letters {
		out.DeadLetters = append(out.DeadLetters, deadLetterSummaryOf(l))
	}
	return writeJSON(w, http.StatusOK, out)
}

// getDeadLetter answers one letter with its message and history.
func (s *server) getDeadLetter(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	feed, err := s.deadLetters(p)
	if err != nil {
		return err
	}
	id, err := deadLetterID(r)
	if err != nil {
		return err
	}
	d, err := feed.DeadLetter(r.Context(), id)
	if err != nil {
		return deadLetterProblem(err)
	}
	// The letter names its person: the read is recorded before it is shown.
	if _, err := ledger.ReadOrganisation(r.Context(), s.cfg.Ledger, p, ledger.OrganisationRead{Allow: auth.CanReadDeadLetters,
		Access: auth.AccessReadDeadLetter, Subject: d.NOMS}, ledger.Nothing); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, deadLetterOf(d))
}

type redriveBody struct {
	// NOMS, when set, redrives only that person's open letters.
	NOMS string `json:"noms"`
}

type discardBody struct {
	Reason string `json:"reason"`
}

// workable is the feed's queue for p, if p may redrive and discard.
func (s *server) workable(p auth.Principal) (*ingest.Feed, error) {
	if !auth.CanWorkDeadLetters(p) {
		return nil, auth.ErrForbidden
	}
	if s.cfg.Feed == nil {
		return nil, newProblem(ProblemUnavailable, "the HMPPS feed is not enabled on this server")
	}
	return s.cfg.Feed, nil
}

// redriveDeadLetters offers every open letter (or one person's) again.
func (s *server) redriveDeadLetters(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	feed, err := s.workable(p)
	if err != nil {
		return err
	}
	var b redriveBody
	if r.ContentLength != 0 {
		if err := checkJSONContentType(r); err != nil {
			return err
		}
		if err := decodeJSON(r.Body, &b); err != nil {
			return err
		}
	}
	var v validator
	v.ident("noms", "noms", b.NOMS, false)
	if err := v.err(); err != nil {
		return err
	}
	rep, err := feed.RedriveWith(r.Context(), ingest.RedriveRequest{NOMS: b.NOMS, By: actorOf(p)})
	if err != nil {
		return deadLetterProblem(err)
	}
	return writeJSON(w, http.StatusOK, redriveReportOf(rep))
}

// redriveDeadLetter offers one open letter again.
func (s *server) redriveDeadLetter(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	feed, err := s.workable(p)
	if err != nil {
		return err
	}
	id, err := deadLetterID(r)
	if err != nil {
		return err
	}
	rep, err := feed.RedriveWith(r.Context(), ingest.RedriveRequest{IDs: []uuid.UUID{id}, By: actorOf(p)})
	if err != nil {
		return deadLetterProblem(err)
	}
	return writeJSON(w, http.StatusOK, redriveReportOf(rep))
}

// discardDeadLetter records that the letter is never to be applied, and why.
func (s *server) discardDeadLetter(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	feed, err := s.workable(p)
	if err != nil {
		return err
	}
	id, err := deadLetterID(r)
	if err != nil {
		return err
	}
	if err := checkJSONContentType(r); err != nil {
		return err
	}
	var b discardBody
	if err := decodeJSON(r.Body, &b); err != nil {
		return err
	}
	if _, err := ingest.CheckDiscardReason(b.Reason); err != nil {
		return deadLetterProblem(err)
	}
	d, err := feed.Discard(r.Context(), id, b.Reason, actorOf(p))
	if err != nil {
		return deadLetterProblem(err)
	}
	return writeJSON(w, http.StatusOK, deadLetterOf(d))
}

type deadLetterSummaryView struct {
	ID           string    `json:"id"`
	State        string    `json:"state"`
	StateLabel   string    `json:"stateLabel"`
	NOMS         string    `json:"noms,omitempty"`
	EventType    string    `json:"eventType,omitempty"`
	OccurredAt   time.Time `json:"occurredAt,omitzero"`
	Reason       string    `json:"reason"`
	ReasonLabel  string    `json:"reasonLabel"`
	Rule         string    `json:"rule,omitempty"`
	MovementCode string    `json:"movementCode,omitempty"`
	Explanation  string    `json:"explanation"`
	NextStep     string    `json:"nextStep"`
	Error        string    `json:"error"`
	FirstSeen    time.Time `json:"firstSeen"`
	LastSeen     time.Time `json:"lastSeen"`
	Attempts     int       `json:"attempts"`
}

type deadLetterStepView struct {
	Type   string    `json:"type"`
	Label  string    `json:"label"`
	At     time.Time `json:"at"`
	By     string    `json:"by,omitempty"`
	ByName string    `json:"byName,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

type deadLetterView struct {
	deadLetterSummaryView
	MessageID     string               `json:"messageId,omitempty"`
	Key           string               `json:"key"`
	Command       string               `json:"command,omitempty"`
	Message       string               `json:"message,omitempty"`
	MessageBase64 []byte               `json:"messageBase64,omitempty"`
	MessageBytes  int                  `json:"messageBytes"`
	Truncated     bool                 `json:"truncated,omitempty"`
	ResolvedAt    time.Time            `json:"resolvedAt,omitzero"`
	Trigger       string               `json:"trigger,omitempty"`
	ResolvedBy    string               `json:"resolvedBy,omitempty"`
	DiscardedAt   time.Time            `json:"discardedAt,omitzero"`
	DiscardedBy   string               `json:"discardedBy,omitempty"`
	DiscardReason string               `json:"discardReason,omitempty"`
	Steps         []deadLetterStepView `json:"steps"`
}

type deadLetterListView struct {
	DeadLetters []deadLetterSummaryView `json:"deadLetters"`
	Total       int                     `json:"total"`
	Counts      map[string]int          `json:"counts"`
	Next        string                  `json:"next,omitempty"`
}

type redriveItemView struct {
	ID         string    `json:"id"`
	NOMS       string    `json:"noms,omitempty"`
	EventType  string    `json:"eventType,omitempty"`
	OccurredAt time.Time `json:"occurredAt,omitzero"`
	Error      string    `json:"error,omitempty"`
}

type redriveReportView struct {
	Resolved  []redriveItemView `json:"resolved"`
	Remaining []redriveItemView `json:"remaining"`
}

func deadLetterSummaryOf(d ingest.DeadLetter) deadLetterSummaryView {
	what, next := ingest.Explain(d)
	return deadLetterSummaryView{ID: d.ID.String(), State: string(d.State), StateLabel: ingest.StateLabel(d.State), NOMS: d.NOMS,
		EventType: d.EventType, OccurredAt: d.OccurredAt, Reason: d.Reason, ReasonLabel: ingest.ReasonLabel(d.Reason), Rule: d.Rule,
		MovementCode: d.MovementCode, Explanation: what, NextStep: next, Error: d.Error, FirstSeen: d.FirstSeen, LastSeen: d.LastSeen,
		Attempts: d.Attempts}
}

func deadLetterOf(d ingest.DeadLetter) deadLetterView {
	out := deadLetterView{deadLetterSummaryView: deadLetterSummaryOf(d), MessageID: d.MessageID, Key: d.Key, Command: d.Command,
		Message: d.Message, MessageBase64: d.MessageBase64, MessageBytes: d.MessageBytes, Truncated: d.Truncated,
		ResolvedAt: d.ResolvedAt, Trigger: d.Trigger, ResolvedBy: d.ResolvedBy, DiscardedAt: d.DiscardedAt, DiscardedBy: d.DiscardedBy,
		DiscardReason: d.DiscardReason, Steps: make([]deadLetterStepView, 0, len(d.Steps))}
	for _, st := range d.Steps {
		out.Steps = append(out.Steps, deadLetterStepView{Type: st.Type, Label: ingest.StepLabel(st.Type), At: st.At, By: st.By, ByName: st.ByName, Detail: st.Detail})
	}
	return out
}

func redriveReportOf(rep ingest.RedriveReport) redriveReportView {
	item := func(it ingest.RedriveItem) redriveItemView {
		v := redriveItemView{ID: it.DeadLetterID.String(), NOMS: it.NOMS, EventType: it.EventType, OccurredAt: it.OccurredAt}
		if it.Err != nil {
			v.Error = it.Err.Error()
		}
		return v
	}
	out := redriveReportView{Resolved: []redriveItemView{}, Remaining: []redriveItemView{}}
	for _, it := range rep.Resolved {
		out.Resolved = append(out.Resolved, item(it))
	}
	for _, it := range rep.Remaining {
		out.Remaining = append(out.Remaining, item(it))
	}
	return out
}
