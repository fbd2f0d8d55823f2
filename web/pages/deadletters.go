package pages

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/ingest"
	"github.com/gateledger/gateledger/ledger"
)

// deadLetterRoutes are the pages of the dead-letter queue: the HMPPS feed
// messages the ledger could not apply. Admins and inspectors read them
// (auth.CanReadDeadLetters), admins redrive and discard them
// (auth.CanWorkDeadLetters); the route's roles only keep others out early.
// Without Config.Feed there are none.
func (s *server) deadLetterRoutes() []route {
	if s.cfg.Feed == nil {
		return nil
	}
	readers := []auth.Role{auth.RoleAdmin, auth.RoleInspector}
	admins := []auth.Role{auth.RoleAdmin}
	return []route{
		{Method: "GET", Path: "/dead-letters", Roles: readers, Nav: "Dead letters", Home: true, h: s.deadLetterList},
		{Method: "POST", Path: "/dead-letters/redrive", Roles: admins, h: s.deadLetterRedrive},
		{Method: "GET", Path: "/dead-letters/{id}", Roles: readers, h: s.deadLetterPage},
		{Method: "POST", Path: "/dead-letters/{id}/discard", Roles: admins, h: s.deadLetterDiscard},
	}
}

// deadLetterNotices are the success messages a redirect after an action names.
var deadLetterNotices = map[string]string{
	"redriven":  "The messages were offered again",
	"applied":   "The message was applied",
	"waiting":   "The message still cannot be applied; it stays in the queue",
	"discarded": "The message was discarded",
}

// letterRow is a dead letter as the pages show it.
type letterRow struct {
	ingest.DeadLetter
	// Movement is what the message is, in words.
	Movement string
	// Reason, Explanation and Next are why it waits and what to do, in
	// words (ingest's labels).
	Reason, Explanation, Next string
	StateLabel                string
}

func rowOf(d ingest.DeadLetter) letterRow {
	what, next := ingest.Explain(d)
	return letterRow{DeadLetter: d, Movement: movementWords(d.EventType), Reason: ingest.ReasonLabel(d.Reason),
		Explanation: what, Next: next, StateLabel: ingest.StateLabel(d.State)}
}

// movementWords names an HMPPS event type for people:
// "prison-offender-events.prisoner.sentence-dates-changed" is "Sentence
// dates changed".
func movementWords(eventType string) string {
	if eventType == "" {
		return "A message that could not be read"
	}
	name := eventType[strings.LastIndex(eventType, ".")+1:]
	return words(strings.ToUpper(strings.ReplaceAll(name, "-", "_")))
}

type stateTab struct {
	Label, Href string
	Count       int
	Current     bool
}

type deadLettersBody struct {
	State    ingest.DeadLetterState
	Tabs     []stateTab
	Rows     []letterRow
	Total    int
	Next     string
	CanWork  bool
	NOMS     string
	OpenMany bool
}

// deadLetterList lists the queue by state (?state=, open by default), a
// page at a time (?cursor=), optionally one person's (?noms=).
func (s *server) deadLetterList(w http.ResponseWriter, r *http.Request, sess *session) error {
	p := sess.principal
	if !auth.CanReadDeadLetters(p) {
		return auth.ErrForbidden
	}
	q := r.URL.Query()
	state := ingest.DeadLetterState(q.Get("state"))
	if !state.Valid() {
		state = ingest.StateOpen
	}
	noms := strings.ToUpper(strings.TrimSpace(q.Get("noms")))
	if noms != "" && !aggregates.ValidNOMS(noms) {
		noms = ""
	}
	pg, err := s.cfg.Feed.ListDeadLetters(r.Context(), ingest.DeadLetterQuery{State: state, NOMS: noms, After: q.Get("cursor")})
	if errors.Is(err, ingest.ErrBadCursor) {
		pg, err = s.cfg.Feed.ListDeadLetters(r.Context(), ingest.DeadLetterQuery{State: state, NOMS: noms})
	}
	if err != nil {
		return err
	}
	if _, err := ledger.ReadOrganisation(r.Context(), s.cfg.Ledger, p, ledger.OrganisationRead{Allow: auth.CanReadDeadLetters,
		Access: auth.AccessReadDeadLetters, Subject: noms}, ledger.Nothing); err != nil {
		return err
	}
	body := deadLettersBody{State: state, Total: pg.Total, CanWork: auth.CanWorkDeadLetters(p), NOMS: noms}
	for _, st := range ingest.States() {
		v := url.Values{"state": {string(st)}}
		if noms != "" {
			v.Set("noms", noms)
		}
		body.Tabs = append(body.Tabs, stateTab{Label: ingest.StateLabel(st), Href: "/dead-letters?" + v.Encode(), Count: pg.Counts[st], Current: st == state})
	}
	for _, l := range pg.Letters {
		body.Rows = append(body.Rows, rowOf(l))
	}
	body.OpenMany = state == ingest.StateOpen && pg.Total > 0
	if pg.Next != "" {
		v := url.Values{"state": {string(state)}, "cursor": {pg.Next}}
		if noms != "" {
			v.Set("noms", noms)
		}
		body.Next = "/dead-letters?" + v.Encode()
	}
	title := "Dead letters"
	if noms != "" {
		title = "Dead letters for " + noms
	}
	s.render(w, r, sess, http.StatusOK, "deadletters", page{Title: title, Body: body, Notice: deadLetterNotices[q.Get("done")]})
	return nil
}

type deadLetterBody struct {
	Letter  letterRow
	CanWork bool
	Reason  string
}

// letterOf reads the {id} letter; an id that is not one is "not found".
func (s *server) letterOf(r *http.Request) (ingest.DeadLetter, error) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		return ingest.DeadLetter{}, errors.Join(auth.ErrNotFound, err)
	}
	d, err := s.cfg.Feed.DeadLetter(r.Context(), id)
	if errors.Is(err, ingest.ErrDeadLetterNotFound) {
		return ingest.DeadLetter{}, errors.Join(auth.ErrNotFound, err)
	}
	return d, err
}

// deadLetterPage shows one letter: why it waits, the message, its history,
// and to admins the actions.
func (s *server) deadLetterPage(w http.ResponseWriter, r *http.Request, sess *session) error {
	p := sess.principal
	if !auth.CanReadDeadLetters(p) {
		return auth.ErrForbidden
	}
	d, err := s.letterOf(r)
	if err != nil {
		return err
	}
	if _, err := ledger.ReadOrganisation(r.Context(), s.cfg.Ledger, p, ledger.OrganisationRead{Allow: auth.CanReadDeadLetters,
		Access: auth.AccessReadDeadLetter, Subject: d.NOMS}, ledger.Nothing); err != nil {
		return err
	}
	s.renderLetter(w, r, sess, http.StatusOK, d, "", nil)
	return nil
}

func (s *server) renderLetter(w http.ResponseWriter, r *http.Request, sess *session, status int, d ingest.DeadLetter, reason string, errs []fieldError) {
	s.render(w, r, sess, status, "deadletter", page{Title: "Dead letter: " + movementWords(d.EventType), Errors: errs,
		Notice: deadLetterNotices[r.URL.Query().Get("done")], Back: &link{Href: "/dead-letters?state=" + string(d.State), Text: "Back to dead letters"},
		Body: deadLetterBody{Letter: rowOf(d), CanWork: auth.CanWorkDeadLetters(sess.principal), Reason: reason}})
}

// actorOf is who takes a step through the pages.
func actorOf(p auth.Principal) ingest.Actor {
	return ingest.Actor{ID: p.ID, Name: p.Name, Role: string(p.Role), Org: p.Org, Source: aggregates.SourceUI}
}

// deadLetterRedrive offers one letter (form field id) or every open letter
// again, then goes back to where it was asked.
func (s *server) deadLetterRedrive(w http.ResponseWriter, r *http.Request, sess *session) error {
	p := sess.principal
	if !auth.CanWorkDeadLetters(p) {
		return auth.ErrForbidden
	}
	if err := r.ParseForm(); err != nil {
		return errors.Join(auth.ErrForbidden, err)
	}
	req := ingest.RedriveRequest{By: actorOf(p)}
	id := r.PostForm.Get("id")
	if id != "" {
		u, err := uuid.Parse(id)
		if err != nil {
			return errors.Join(auth.ErrNotFound, err)
		}
		req.IDs = []uuid.UUID{u}
	}
	rep, err := s.cfg.Feed.RedriveWith(r.Context(), req)
	switch {
	case errors.Is(err, ingest.ErrDeadLetterNotFound):
		return errors.Join(auth.ErrNotFound, err)
	case errors.Is(err, ingest.ErrDeadLetterClosed):
		// Applied or discarded meanwhile (by another admin, or by itself):
		// the letter's page says which.
		http.Redirect(w, r, "/dead-letters/"+id, http.StatusSeeOther)
		return nil
	case err != nil:
		return err
	}
	if id == "" {
		http.Redirect(w, r, "/dead-letters?done=redriven", http.StatusSeeOther)
		return nil
	}
	done := "waiting"
	if len(rep.Resolved) > 0 {
		done = "applied"
	}
	http.Redirect(w, r, "/dead-letters/"+id+"?done="+done, http.StatusSeeOther)
	return nil
}

// deadLetterDiscard discards a letter with the reason the admin gives
// (required; the form comes back with the error otherwise).
func (s *server) deadLetterDiscard(w http.ResponseWriter, r *http.Request, sess *session) error {
	p := sess.principal
	if !auth.CanWorkDeadLetters(p) {
		return auth.ErrForbidden
	}
	if err := r.ParseForm(); err != nil {
		return errors.Join(auth.ErrForbidden, err)
	}
	d, err := s.letterOf(r)
	if err != nil {
		return err
	}
	reason := r.PostForm.Get("reason")
	_, err = s.cfg.Feed.Discard(r.Context(), d.ID, reason, actorOf(p))
	switch {
	case errors.Is(err, ingest.ErrDiscardReason):
		msg := err.Error()
		msg = strings.TrimPrefix(msg, ingest.ErrDiscardReason.Error()+": ")
		msg = strings.ToUpper(msg[:1]) + msg[1:]
		s.renderLetter(w, r, sess, http.StatusBadRequest, d, reason, []fieldError{{Field: "reason", Message: msg}})
		return nil
	case errors.Is(err, ingest.ErrDeadLetterClosed):
		http.Redirect(w, r, "/dead-letters/"+d.ID.String(), http.StatusSeeOther)
		return nil
	case err != nil:
		return err
	}
	http.Redirect(w, r, "/dead-letters/"+d.ID.String()+"?done=discarded", http.StatusSeeOther)
	return nil
}
