package pages

import (
	"bytes"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/ledger"
	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/web"
)

// providerRoutes are the pages of probation providers.
func (s *server) providerRoutes() []route {
	provider := []auth.Role{auth.RoleProvider}
	rs := []route{
		{Method: "GET", Path: "/provider/caseload", Roles: provider, Nav: "Caseload", Home: true, h: s.providerCaseload},
		{Method: "GET", Path: "/provider/caseload/rows/{noms}", Roles: provider, h: s.providerCaseloadRow},
		{Method: "GET", Path: "/provider/handovers", Roles: provider, Nav: "Handovers", h: s.providerHandovers},
		{Method: "POST", Path: "/provider/handovers/{noms}/accept", Roles: provider, h: s.acceptHandover},
		{Method: "GET", Path: "/provider/handovers/{noms}/reject", Roles: provider, h: s.providerStepForm(rejectStep)},
		{Method: "POST", Path: "/provider/handovers/{noms}/reject", Roles: provider, h: s.providerStepSend(rejectStep)},
		{Method: "GET", Path: "/provider/people/{noms}", Roles: provider, h: s.providerPerson},
	}
	for _, st := range providerSteps {
		rs = append(rs,
			route{Method: "GET", Path: "/provider/people/{noms}/" + st.Slug, Roles: provider, h: s.providerStepForm(st)},
			route{Method: "POST", Path: "/provider/people/{noms}/" + st.Slug, Roles: provider, h: s.providerStepSend(st)})
	}
	return rs
}

type caseloadBody struct {
	Org  string
	List caseList
	// Position is where the read models were when the page was read: the
	// live script subscribes from it, so nothing after it is missed.
	Position uint64
	// DueSoonSeconds is DueSoon, for the script to refresh a row when a
	// deadline in it becomes due soon.
	DueSoonSeconds int
}

// providerCaseload lists the provider's cases: responsible, or either side
// of an open handover. The page's script keeps it up to date over the live
// feed; without script it is a plain table.
func (s *server) providerCaseload(w http.ResponseWriter, r *http.Request, sess *session) error {
	p := sess.principal
	type answer struct {
		pos  uint64
		list caseList
		errs []fieldError
	}
	a, err := ledger.ReadOrganisation(r.Context(), s.cfg.Ledger, p, caseloadRead(r, p), func() (answer, error) {
		// Read the position first: the caseload read after it reflects at least
		// it, so a feed from it misses nothing (and what it repeats only
		// refreshes rows).
		pos := s.cfg.Runner.Position()
		list, errs, err := s.readCaseList(r, p.Org, "cases")
		return answer{pos, list, errs}, err
	})
	if err != nil {
		return err
	}
	pos, list, errs := a.pos, a.list, a.errs
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusBadRequest
	}
	s.render(w, r, sess, status, "provider-caseload", page{Title: "Caseload of " + p.Org, Notice: doneNotice(r), Errors: errs,
		Body: caseloadBody{Org: p.Org, List: list, Position: pos, DueSoonSeconds: int(DueSoon.Seconds())}})
	return nil
}

// errNoRow: the person is not in the caseload list the page shows.
var errNoRow = errors.New("pages: not in the list")

// providerCaseloadRow answers one caseload row as an HTML fragment (the
// live script's refresh of a person after an event), or 204 when the person
// is not in the caseload (any more) or not in the list the page shows: the
// script passes the page's filters and order, which are applied as the list
// applies them.
func (s *server) providerCaseloadRow(w http.ResponseWriter, r *http.Request, sess *session) error {
	p := sess.principal
	noms := r.PathValue("noms")
	if !aggregates.ValidNOMS(noms) {
		return auth.ErrNotFound
	}
	params, errs := web.CaseListQuery(r.URL.Query())
	if len(errs) > 0 {
		http.Error(w, "the list's filters are not valid", http.StatusBadRequest)
		return nil
	}
	people, err := ledger.ReadOrganisation(r.Context(), s.cfg.Ledger, p, caseloadRead(r, p, projections.PlansName), func() ([]caseRow, error) {
		now := s.now()
		row, ok, err := projections.CaseloadRow(s.cfg.Runner, p.Org, noms, now)
		if err != nil {
			return nil, err
		}
		if !ok || !params.Query.Filter.Matches(row, now) {
			return nil, errNoRow
		}
		sort := params.Query.Sort
		if sort == 0 {
			sort = projections.SortNOMS
		}
		return s.caseRows([]projections.CaseRow{row}, sort)
	})
	if errors.Is(err, errNoRow) {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := s.tmpl.byName["provider-caseload"].ExecuteTemplate(&buf, "providerRow", people[0]); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
	return nil
}

type handoversBody struct {
	// Queue is the page of all handovers, split by side (receiving first).
	Queue projections.HandoverQueue
	// Waiting are the first open handovers to the provider, for its decision;
	// WaitingMore links to all of them when there are more.
	Waiting     []projections.HandoverRow
	WaitingMore string
	// List is the filter and pagination of the table of all handovers.
	List handoverList
	// Due describes each open handover's due time, by NOMS and sequence.
	Due  map[string]deadline
	CSRF string
	Idem string
}

// providerHandovers shows the handovers the provider is receiving (with
// accept and reject) and, a page at a time and filtered, every handover it
// has sent or received.
func (s *server) providerHandovers(w http.ResponseWriter, r *http.Request, sess *session) error {
	p := sess.principal
	type answer struct {
		now     time.Time
		waiting projections.HandoverPage
		list    handoverList
		rows    []projections.HandoverRow
		errs    []fieldError
	}
	a, err := ledger.ReadOrganisation(r.Context(), s.cfg.Ledger, p, ledger.OrganisationRead{Org: p.Org, Access: auth.AccessReadHandovers,
		Projections: []string{projections.HandoversName}, MinPosition: at(r)}, func() (answer, error) {
		now := s.now()
		waiting, err := projections.HandoversPage(s.cfg.Runner, projections.HandoverQuery{Org: p.Org, Now: now,
			Filter: projections.HandoverFilter{Direction: projections.Receiving, State: projections.HandoverOpen}})
		if err != nil {
			return answer{}, err
		}
		list, rows, errs, err := s.readHandoverList(r, p.Org, now)
		return answer{now, waiting, list, rows, errs}, err
	})
	if err != nil {
		return err
	}
	now, waiting, list, rows, errs := a.now, a.waiting, a.list, a.rows, a.errs
	q := projections.HandoverQueue{Org: aggregates.Org(p.Org), Receiving: []projections.HandoverRow{}, Sending: []projections.HandoverRow{}}
	for _, h := range rows {
		if h.Direction == projections.Sending {
			q.Sending = append(q.Sending, h)
		} else {
			q.Receiving = append(q.Receiving, h)
		}
	}
	due := map[string]deadline{}
	for _, h := range slices.Concat(waiting.Rows, rows) {
		if h.Status == aggregates.HandoverStatusOpen {
			due[h.NOMS+"/"+strconv.Itoa(h.Seq)] = newDeadline("", projections.DeadlineView{Due: h.Due, Overdue: h.Overdue}, now)
		}
	}
	body := handoversBody{Queue: q, Waiting: waiting.Rows, List: list, Due: due, CSRF: sess.csrf, Idem: randomToken()}
	if waiting.Next != "" {
		body.WaitingMore = r.URL.Path + "?direction=incoming&status=open#handovers"
	}
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusBadRequest
	}
	s.render(w, r, sess, status, "provider-handovers", page{Title: "Handovers", Notice: doneNotice(r), Errors: errs, Body: body})
	return nil
}

// acceptHandover accepts the open handover of a person as the receiving
// side (the queue's accept button).
func (s *server) acceptHandover(w http.ResponseWriter, r *http.Request, sess *session) error {
	j, err := s.readablePerson(r, sess.principal)
	if err != nil {
		return err
	}
	f := formFrom(r)
	res, errs, err := s.send(r, sess, f, commandForm{Name: "AcceptHandover", Target: web.CommandTarget{NOMS: j.NOMS},
		Body: map[string]any{"at": s.now().UTC().Format(time.RFC3339)}})
	switch {
	case errors.Is(err, errRefused):
		s.render(w, r, sess, http.StatusUnprocessableEntity, "error", page{Title: "The handover could not be accepted",
			Body: errorBody{Status: http.StatusUnprocessableEntity, Message: errs[0].Message}, Back: backToHandovers})
		return nil
	case err != nil:
		return err
	}
	afterCommand(w, r, "/provider/handovers", res, "accepted")
	return nil
}

var backToHandovers = &link{Href: "/provider/handovers", Text: "Back to handovers"}

type providerPersonBody struct {
	NOMS      string
	Journey   aggregates.Journey
	Plan      projections.PlanView
	Deadlines []deadline
	// Handover is the open handover, if any.
	Handover *aggregates.Handover
	// CanWork: the provider may record case work (responsible or either
	// side of the open handover).
	CanWork bool
	// ActionDue describes each open action's due date.
	ActionDue map[string]deadline
}

// providerPerson shows a person's resettlement plan by pathway: needs,
// actions and outcomes, with the deadlines.
func (s *server) providerPerson(w http.ResponseWriter, r *http.Request, sess *session) error {
	p := sess.principal
	j, v, now, err := s.readPlan(r, p)
	if err != nil {
		return err
	}
	due := map[string]deadline{}
	today := now.In(aggregates.UK)
	for _, pw := range v.Pathways {
		for _, a := range pw.Actions {
			if a.Due.IsZero() || a.Completed() {
				continue
			}
			// An action is due by the end of its day.
			end := time.Date(a.Due.Year, a.Due.Month, a.Due.Day, 23, 59, 59, 0, aggregates.UK)
			d := newDeadline("", projections.DeadlineView{Due: end, Overdue: a.Overdue}, today)
			d.DueDate = a.Due.Time().Format("2 January 2006")
			due[a.ID] = d
		}
	}
	body := providerPersonBody{NOMS: j.NOMS, Journey: j, Plan: v, Deadlines: deadlines(v, now), Handover: j.OpenHandover(),
		CanWork: auth.CanCommand(p, j, aggregates.IdentifyNeed{}) == nil, ActionDue: due}
	s.render(w, r, sess, http.StatusOK, "provider-person", page{Title: j.NOMS, Notice: doneNotice(r), Body: body,
		Back: &link{Href: "/provider/caseload", Text: "Back to caseload"}})
	return nil
}

// providerStep is one piece of case work recorded from a form.
type providerStep struct {
	Slug, Title, Submit, Done string
	// Intro is a paragraph above the form.
	Intro string
	// fields are the form's inputs.
	fields func(j aggregates.Journey) []field
	// build reads the form into a command, or adds problems.
	build func(f *form, p *problems, r *http.Request, j aggregates.Journey, now time.Time) commandForm
	// back and next are where the form's back link and its success lead.
	back, next func(noms string) string
}

// field is one input of a generic form (templates/form.html).
type field struct {
	// Kind is text, textarea, radios or date.
	Kind, ID, Label, Hint string
	Options               []option
}

var pathwayOptions = func() []option {
	var out []option
	for _, p := range aggregates.Pathways() {
		out = append(out, option{Value: string(p), Label: pathwayName(p)})
	}
	return out
}()

var statusOptions = []option{
	{Value: string(aggregates.StatusNotStarted), Label: "Not started"},
	{Value: string(aggregates.StatusSupportRequired), Label: "Support required"},
	{Value: string(aggregates.StatusInProgress), Label: "In progress"},
	{Value: string(aggregates.StatusSupportNotRequired), Label: "Support not required", Hint: "Give a reason"},
	{Value: string(aggregates.StatusSupportDeclined), Label: "Support declined", Hint: "Give a reason"},
	{Value: string(aggregates.StatusDone), Label: "Done"},
}

func personPage(noms string) string { return "/provider/people/" + noms }

func nowRFC(now time.Time) string { return now.UTC().Format(time.RFC3339) }

var providerSteps = []providerStep{
	{Slug: "plan", Title: "Record the resettlement plan", Submit: "Record plan", Done: "plan", back: personPage, next: personPage,
		Intro: "Summarise the plan agreed with the person. A plan already recorded is revised.",
		fields: func(j aggregates.Journey) []field {
			fs := []field{{Kind: "textarea", ID: "summary", Label: "Plan summary"}}
			if j.Plan.Revision > 0 {
				fs = append(fs, field{Kind: "text", ID: "reason", Label: "Reason for the revision (optional)"})
			}
			return fs
		},
		build: func(f *form, p *problems, _ *http.Request, j aggregates.Journey, now time.Time) commandForm {
			if f.V("summary") == "" {
				p.add("summary", "", "Enter the plan summary")
			}
			if j.Plan.Revision > 0 {
				return commandForm{Name: "RevisePlan", Body: map[string]any{"summary": f.V("summary"), "reason": f.V("reason"), "at": nowRFC(now)}}
			}
			return commandForm{Name: "DraftPlan", Body: map[string]any{"summary": f.V("summary"), "at": nowRFC(now)}}
		}},
	{Slug: "needs", Title: "Record a need", Submit: "Record need", Done: "need", back: personPage, next: personPage,
		fields: func(aggregates.Journey) []field {
			return []field{{Kind: "radios", ID: "pathway", Label: "Which pathway is the need on?", Options: pathwayOptions},
				{Kind: "textarea", ID: "description", Label: "What is needed?", Hint: "For example, a GP registration before release"}}
		},
		build: func(f *form, p *problems, _ *http.Request, _ aggregates.Journey, now time.Time) commandForm {
			if f.V("pathway") == "" {
				p.add("pathway", "", "Select the pathway")
			}
			if f.V("description") == "" {
				p.add("description", "", "Enter what is needed")
			}
			return commandForm{Name: "IdentifyNeed", Target: web.CommandTarget{Pathway: aggregates.Pathway(f.V("pathway"))},
				Body: map[string]any{"description": f.V("description"), "at": nowRFC(now)}}
		}},
	{Slug: "status", Title: "Change a pathway's status", Submit: "Change status", Done: "status", back: personPage, next: personPage,
		fields: func(aggregates.Journey) []field {
			return []field{{Kind: "radios", ID: "pathway", Label: "Which pathway?", Options: pathwayOptions},
				{Kind: "radios", ID: "status", Label: "New status", Options: statusOptions},
				{Kind: "textarea", ID: "reason", Label: "Reason", Hint: "Needed when support is not required or declined"}}
		},
		build: func(f *form, p *problems, _ *http.Request, _ aggregates.Journey, now time.Time) commandForm {
			if f.V("pathway") == "" {
				p.add("pathway", "", "Select the pathway")
			}
			if f.V("status") == "" {
				p.add("status", "", "Select the new status")
			}
			return commandForm{Name: "ChangePathwayStatus", Target: web.CommandTarget{Pathway: aggregates.Pathway(f.V("pathway"))},
				Body: map[string]any{"status": f.V("status"), "reason": f.V("reason"), "at": nowRFC(now)}}
		}},
	{Slug: "actions", Title: "Agree an action", Submit: "Agree action", Done: "action", back: personPage, next: personPage,
		fields: func(aggregates.Journey) []field {
			return []field{{Kind: "radios", ID: "pathway", Label: "Which pathway is the action on?", Options: pathwayOptions},
				{Kind: "textarea", ID: "description", Label: "What will be done?"},
				{Kind: "date", ID: "due", Label: "When is it due? (optional)", Hint: "For example, 27 3 2026"}}
		},
		build: func(f *form, p *problems, _ *http.Request, _ aggregates.Journey, now time.Time) commandForm {
			if f.V("pathway") == "" {
				p.add("pathway", "", "Select the pathway")
			}
			if f.V("description") == "" {
				p.add("description", "", "Enter what will be done")
			}
			due, _ := f.date(p, "due", "the due date", false)
			body := map[string]any{"actionId": actionID(f), "pathway": f.V("pathway"), "description": f.V("description"), "at": nowRFC(now)}
			if !due.IsZero() {
				body["due"] = due.String()
			}
			return commandForm{Name: "AgreeAction", Body: body, Fields: map[string][2]string{"due": {"due", "due-day"}}}
		}},
}

// actionID names an action agreed from a form after the form's key, so that
// the form sent twice agrees one action.
func actionID(f *form) string {
	id := f.Idem
	if len(id) > 16 {
		id = id[:16]
	}
	return "a" + id
}

// outcomeStep records the outcome of an action ({id} in the path).
var outcomeStep = providerStep{Slug: "actions/{id}/outcome", Title: "Record the outcome of an action", Submit: "Record outcome",
	Done: "outcome", back: personPage, next: personPage,
	fields: func(aggregates.Journey) []field {
		return []field{{Kind: "textarea", ID: "outcome", Label: "What was the outcome?"}}
	},
	build: func(f *form, p *problems, r *http.Request, _ aggregates.Journey, now time.Time) commandForm {
		if f.V("outcome") == "" {
			p.add("outcome", "", "Enter the outcome")
		}
		return commandForm{Name: "CompleteAction", Target: web.CommandTarget{ActionID: r.PathValue("id")},
			Body: map[string]any{"outcome": f.V("outcome"), "at": nowRFC(now)}}
	}}

// rejectStep rejects the open handover as the receiving side.
var rejectStep = providerStep{Slug: "reject", Title: "Reject the handover", Submit: "Reject handover", Done: "rejected",
	back: func(string) string { return "/provider/handovers" }, next: func(string) string { return "/provider/handovers" },
	Intro: "The sending side keeps the case and sees your reason.",
	fields: func(aggregates.Journey) []field {
		return []field{{Kind: "textarea", ID: "reason", Label: "Why are you rejecting it?"}}
	},
	build: func(f *form, p *problems, _ *http.Request, _ aggregates.Journey, now time.Time) commandForm {
		if f.V("reason") == "" {
			p.add("reason", "", "Enter why you are rejecting the handover")
		}
		return commandForm{Name: "RejectHandover", Body: map[string]any{"reason": f.V("reason"), "at": nowRFC(now)}}
	}}

func init() { providerSteps = append(providerSteps, outcomeStep) }

type genericFormBody struct {
	NOMS   string
	Action string
	Intro  string
	Submit string
	Fields []field
	Form   *form
}

func (s *server) renderStep(w http.ResponseWriter, r *http.Request, sess *session, status int, st providerStep, j aggregates.Journey, f *form, errs []fieldError) {
	s.render(w, r, sess, status, "form", page{Title: st.Title, Errors: errs, Back: &link{Href: st.back(j.NOMS), Text: "Back"},
		Body: genericFormBody{NOMS: j.NOMS, Action: r.URL.Path, Intro: st.Intro, Submit: st.Submit, Fields: st.fields(j), Form: f}})
}

// providerStepForm shows a step's form for a person the provider can read.
func (s *server) providerStepForm(st providerStep) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, sess *session) error {
		j, err := s.readablePerson(r, sess.principal)
		if err != nil {
			return err
		}
		f := newForm()
		if st.Slug == "plan" {
			f.Set("summary", j.Plan.Summary)
		}
		s.renderStep(w, r, sess, http.StatusOK, st, j, f, nil)
		return nil
	}
}

// providerStepSend records a step.
func (s *server) providerStepSend(st providerStep) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, sess *session) error {
		j, err := s.readablePerson(r, sess.principal)
		if err != nil {
			return err
		}
		f := formFrom(r)
		var p problems
		c := st.build(f, &p, r, j, s.now())
		c.Target.NOMS = j.NOMS
		again := func(errs []fieldError) {
			s.renderStep(w, r, sess, http.StatusUnprocessableEntity, st, j, f, errs)
		}
		return s.sendStep(w, r, sess, f, c, &p, j.NOMS, st.next(j.NOMS), "/provider/caseload", st.Done, again)
	}
}
