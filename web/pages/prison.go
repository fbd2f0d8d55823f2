package pages

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/ledger"
	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/web"
)

// prisonRoutes are the pages of prison staff.
func (s *server) prisonRoutes() []route {
	prison := []auth.Role{auth.RolePrison}
	rs := []route{
		{Method: "GET", Path: "/prison/people", Roles: prison, Nav: "People", Home: true, h: s.prisonPeople},
		{Method: "GET", Path: "/prison/arrivals/new", Roles: prison, Nav: "Record an arrival", h: s.arrivalForm},
		{Method: "POST", Path: "/prison/arrivals/new", Roles: prison, h: s.recordArrival},
		{Method: "GET", Path: "/prison/people/{noms}", Roles: prison, h: s.prisonPerson},
	}
	for _, st := range prisonSteps {
		rs = append(rs,
			route{Method: "GET", Path: "/prison/people/{noms}/" + st.Slug, Roles: prison, h: s.prisonStepForm(st)},
			route{Method: "POST", Path: "/prison/people/{noms}/" + st.Slug, Roles: prison, h: s.prisonStepSend(st)})
	}
	return rs
}

// caseRow is one person in a caseload table.
type caseRow struct {
	projections.CaseRow
	// Attention are the reasons to act, as words.
	Attention []string
	// Next is the next deadline, when one is open.
	Next *deadline
	// SortKey is where the row falls in the list's order (projections.CaseSort.Key).
	SortKey string
}

// Part says why the organisation sees the person, for people to read.
func (c caseRow) Part() string {
	switch {
	case c.Handover != nil && c.Relation.Has(projections.RelReceiving):
		return "Handover to you from " + string(c.Handover.From)
	case c.Handover != nil && c.Relation.Has(projections.RelHandingOver):
		return "Handing over to " + string(c.Handover.To)
	case c.Relation.Has(projections.RelResponsible):
		if c.ShouldTake != "" {
			return "Responsible; should be handed to " + string(c.ShouldTake)
		}
		return "Responsible"
	case c.Relation.Has(projections.RelHolding):
		return "Holding"
	case c.Relation.Has(projections.RelShouldTake):
		return "Should take the case from " + string(c.Responsible)
	}
	return ""
}

type peopleBody struct {
	Org  string
	List caseList
}

// caseRows describes caseload rows with each person's next deadline (from
// the plans read model: one read per row, which is why lists come a page at a
// time) and where each falls in order.
func (s *server) caseRows(rows []projections.CaseRow, order projections.CaseSort) ([]caseRow, error) {
	now := s.now()
	out := make([]caseRow, 0, len(rows))
	for _, c := range rows {
		row := caseRow{CaseRow: c, Attention: c.Attention.Reasons(), SortKey: order.Key(c)}
		v, err := projections.Plan(s.cfg.Runner, c.NOMS, now, s.cfg.Policy)
		switch {
		case errors.Is(err, projections.ErrNotFound):
		case err != nil:
			return nil, err
		default:
			if d, ok := nextDeadline(v, now); ok {
				row.Next = &d
			}
		}
		out = append(out, row)
	}
	return out, nil
}

// prisonPeople lists the people the prison can see: those it holds, those
// it released and is still responsible for, and handovers it is part of.
func (s *server) prisonPeople(w http.ResponseWriter, r *http.Request, sess *session) error {
	p := sess.principal
	type answer struct {
		list caseList
		errs []fieldError
	}
	a, err := ledger.ReadOrganisation(r.Context(), s.cfg.Ledger, p, caseloadRead(r, p), func() (answer, error) {
		list, errs, err := s.readCaseList(r, p.Org, "people")
		return answer{list, errs}, err
	})
	if err != nil {
		return err
	}
	list, errs := a.list, a.errs
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusBadRequest
	}
	s.render(w, r, sess, status, "prison-people", page{Title: "People in " + p.Org, Errors: errs,
		Body: peopleBody{Org: p.Org, List: list}, Notice: doneNotice(r)})
	return nil
}

// doneNotices are the success messages a redirect after a command names.
var doneNotices = map[string]string{
	"arrival":       "Arrival recorded",
	"screening":     "Screening recorded",
	"release-dates": "Release dates recorded",
	"transfer":      "Transfer out recorded",
	"release":       "Release recorded",
	"custody-end":   "Recorded: custody ended without a release",
	"accepted":      "Handover accepted",
	"rejected":      "Handover rejected",
	"need":          "Need recorded",
	"action":        "Action agreed",
	"outcome":       "Outcome recorded",
	"status":        "Pathway status changed",
	"plan":          "Plan recorded",
}

// doneNotice is the message after a command, telling the truth about what
// it did (the redirect's "outcome", see outcomeOf): recorded, recorded only
// as history, or nothing new because the record already showed it.
func doneNotice(r *http.Request) string {
	q := r.URL.Query()
	done, ok := doneNotices[q.Get("done")]
	if !ok {
		return ""
	}
	switch q.Get("outcome") {
	case outcomeHistory:
		return "Recorded as history: " + strings.ToLower(done[:1]) + done[1:] + ". It is dated before the person's latest movement, so where they are now has not changed."
	case outcomeUnchanged:
		return "Nothing new was recorded: the person's record already shows this."
	}
	return done
}

var backToPeople = &link{Href: "/prison/people", Text: "Back to people"}

// option is one radio button.
type option struct {
	Value, Label, Hint string
}

var arrivalKinds = []option{
	{Value: string(aggregates.ReceptionSentence), Label: "Sentenced"},
	{Value: string(aggregates.ReceptionRemand), Label: "On remand"},
	{Value: string(aggregates.ReceptionRecall), Label: "Recalled to prison", Hint: "Their licence was revoked"},
	{Value: string(aggregates.ReceptionAdmission), Label: "Another admission"},
	{Value: string(aggregates.MovementTransferIn), Label: "Transferred from another prison"},
}

type formBody struct {
	NOMS    string
	Form    *form
	Options []option
	// Journey is the person's journey, on a person's forms.
	Journey *aggregates.Journey
	// Dates are the release-date inputs (release dates form).
	Dates []option
	// Step is the step a person's form records.
	Step *prisonStep
}

func (s *server) arrivalForm(w http.ResponseWriter, r *http.Request, sess *session) error {
	f := newForm()
	f.setNow("at", s.now())
	s.render(w, r, sess, http.StatusOK, "prison-arrival", page{Title: "Record an arrival in " + sess.principal.Org,
		Body: formBody{Form: f, Options: arrivalKinds}, Back: backToPeople})
	return nil
}

// recordArrival records a reception into the user's prison, or the arrival
// of a transfer from another prison.
func (s *server) recordArrival(w http.ResponseWriter, r *http.Request, sess *session) error {
	f := formFrom(r)
	org := sess.principal.Org
	var p problems
	noms := f.V("noms")
	if noms == "" {
		p.add("noms", "", "Enter the prison number")
	}
	kind := f.V("kind")
	if kind == "" {
		p.add("kind", "", "Select how they arrived")
	}
	from := f.V("fromPrison")
	at := f.when(&p, "at", "the date of arrival")
	if kind == string(aggregates.MovementTransferIn) && from == "" {
		p.add("fromPrison", "", "Enter the code of the prison they came from")
	}
	fail := func(errs []fieldError) error {
		s.render(w, r, sess, http.StatusUnprocessableEntity, "prison-arrival", page{Title: "Record an arrival in " + org,
			Body: formBody{Form: f, Options: arrivalKinds}, Errors: errs, Back: backToPeople})
		return nil
	}
	if len(p.errs) > 0 {
		return fail(p.errs)
	}
	c := commandForm{Name: "ReceivePrisoner", Target: web.CommandTarget{NOMS: noms},
		Body:   map[string]any{"kind": kind, "prison": org, "at": at},
		Fields: map[string][2]string{"at": {"at", "at-day"}}}
	if kind == string(aggregates.MovementTransferIn) {
		c.Name = "RecordMovement"
		c.Body = map[string]any{"kind": kind, "prison": org, "fromPrison": from, "at": at}
	}
	res, errs, err := s.send(r, sess, f, c)
	switch {
	case errors.Is(err, errRefused):
		return fail(errs)
	case errors.Is(err, auth.ErrNotFound):
		// A transfer of someone not in custody elsewhere, or not departed.
		return fail([]fieldError{{Field: "noms", Message: "There is no one with this prison number on a transfer to " + org}})
	case err != nil:
		return err
	}
	afterCommand(w, r, "/prison/people/"+noms, res, "arrival")
	return nil
}

type personBody struct {
	NOMS      string
	Journey   aggregates.Journey
	Plan      projections.PlanView
	Deadlines []deadline
	// Holds: the user's prison holds the person now (custody forms apply).
	Holds bool
}

// readablePerson loads the journey of the {noms} path value for a form, when
// the principal may read it: anyone else's is "not found". A form's own
// context is not recorded as a read.
func (s *server) readablePerson(r *http.Request, p auth.Principal) (aggregates.Journey, error) {
	noms := r.PathValue("noms")
	if !aggregates.ValidNOMS(noms) {
		return aggregates.Journey{}, auth.ErrNotFound
	}
	return ledger.Read(r.Context(), s.cfg.Ledger, p, noms, ledger.ReadOptions{}, func(st eventlog.JourneyStream) (aggregates.Journey, error) {
		return st.Journey, nil
	})
}

// personPlan is what a person's page shows: the journey, the plan, and the
// moment the plan's deadlines were judged at.
type personPlan struct {
	j   aggregates.Journey
	v   projections.PlanView
	now time.Time
}

// readPlan reads the plan of the person the request names through the ledger
// (ledger.Read): for a principal who may read it, once the read models have the
// journey as just read, recorded in the access log before anything is shown.
func (s *server) readPlan(r *http.Request, p auth.Principal) (aggregates.Journey, projections.PlanView, time.Time, error) {
	noms := r.PathValue("noms")
	if !aggregates.ValidNOMS(noms) {
		return aggregates.Journey{}, projections.PlanView{}, time.Time{}, auth.ErrNotFound
	}
	pp, err := ledger.Read(r.Context(), s.cfg.Ledger, p, noms, ledger.ReadOptions{Access: auth.AccessReadPlan,
		Projection: projections.PlansName, MinPosition: at(r)}, func(st eventlog.JourneyStream) (personPlan, error) {
		now := s.now()
		v, err := projections.Plan(s.cfg.Runner, st.NOMS, now, s.cfg.Policy)
		return personPlan{st.Journey, v, now}, err
	})
	return pp.j, pp.v, pp.now, err
}

// prisonPerson shows a person's custody record and deadlines, with what the
// prison can record next.
func (s *server) prisonPerson(w http.ResponseWriter, r *http.Request, sess *session) error {
	p := sess.principal
	j, v, now, err := s.readPlan(r, p)
	if err != nil {
		return err
	}
	holds := j.Custody == aggregates.InCustody && !j.Closed && j.Prison == p.Org
	s.render(w, r, sess, http.StatusOK, "prison-person", page{Title: j.NOMS, Notice: doneNotice(r), Back: backToPeople,
		Body: personBody{NOMS: j.NOMS, Journey: j, Plan: v, Deadlines: deadlines(v, now), Holds: holds}})
	return nil
}

// prisonStep is one thing prison staff record about a person they hold.
type prisonStep struct {
	Slug, Title, Template, Done string
	Options                     []option
	// Legend, When and Button word a step that asks what kind of thing
	// happened and when (template prison-kind).
	Legend, When, Button string
	// prefill sets the form's first values.
	prefill func(f *form, now time.Time)
	// build reads the form into a command, or adds problems.
	build func(f *form, p *problems, org string, now time.Time) commandForm
}

// releaseKinds are the releases into the community. A move to a secure
// hospital is not one: it is recorded under "custody ended without a
// release" (custodyEndKinds).
var releaseKinds = []option{
	{Value: string(aggregates.ReleaseOnLicence), Label: "On licence"},
	{Value: string(aggregates.ReleaseHDC), Label: "On home detention curfew"},
	{Value: string(aggregates.ReleaseECSL), Label: "On an end of custody supervised licence (ECSL)"},
	{Value: string(aggregates.ReleaseSentenceEnd), Label: "At the end of the sentence", Hint: "No licence"},
	{Value: string(aggregates.ReleaseDischarged), Label: "Discharged", Hint: "For example, from remand: no supervision follows"},
}

// custodyEndKinds are the ways custody ends, or moves out of the prison, that
// are not a release into the community (aggregates.EndCustody).
var custodyEndKinds = []option{
	{Value: string(aggregates.EndUnlawfullyAtLarge), Label: "Unlawfully at large", Hint: "Absconded, escaped or failed to return. A recall or return is expected"},
	{Value: string(aggregates.EndSecureHospital), Label: "Moved to a secure hospital", Hint: "Detention continues under mental health law"},
	{Value: string(aggregates.EndRemovalCentre), Label: "Moved to an immigration removal centre", Hint: "Detention continues"},
	{Value: string(aggregates.EndDied), Label: "Died in custody", Hint: "This closes the person's record"},
}

// releaseDateFields are the release dates a calculation gives, by their API
// names.
var releaseDateFields = []option{
	{Value: "confirmedReleaseDate", Label: "Confirmed release date"},
	{Value: "conditionalReleaseDate", Label: "Conditional release date"},
	{Value: "automaticReleaseDate", Label: "Automatic release date"},
	{Value: "actualParoleDate", Label: "Actual parole date"},
	{Value: "hdcActualDate", Label: "Home detention curfew date"},
}

var prisonSteps = []prisonStep{
	{Slug: "screening", Title: "Record screening", Template: "prison-screening", Done: "screening",
		prefill: func(f *form, now time.Time) { f.setNow("at", now) },
		build: func(f *form, p *problems, _ string, _ time.Time) commandForm {
			at := f.when(p, "at", "the date of screening")
			return commandForm{Name: "CompleteScreening", Body: map[string]any{"at": at},
				Fields: map[string][2]string{"at": {"at", "at-day"}}}
		}},
	{Slug: "release-dates", Title: "Record release dates", Template: "prison-release-dates", Done: "release-dates",
		build: func(f *form, p *problems, _ string, now time.Time) commandForm {
			dates := map[string]any{}
			fields := map[string][2]string{"dates": {"confirmedReleaseDate", "confirmedReleaseDate-day"}, "reason": {"reason", "reason"}}
			given := false
			for _, o := range releaseDateFields {
				d, ok := f.date(p, o.Value, "the "+lowerFirst(o.Label), false)
				if ok && !d.IsZero() {
					dates[o.Value] = d.String()
					given = true
				}
				fields["dates."+o.Value] = [2]string{o.Value, o.Value + "-day"}
			}
			if !given && len(p.errs) == 0 {
				p.add("confirmedReleaseDate", "confirmedReleaseDate-day", "Enter at least one release date")
			}
			return commandForm{Name: "SetReleaseDates", Fields: fields,
				Body: map[string]any{"dates": dates, "reason": f.V("reason"), "at": now.UTC().Format(time.RFC3339)}}
		}},
	{Slug: "transfer", Title: "Record a transfer out", Template: "prison-transfer", Done: "transfer",
		prefill: func(f *form, now time.Time) { f.setNow("at", now) },
		build: func(f *form, p *problems, org string, _ time.Time) commandForm {
			at := f.when(p, "at", "the date of departure")
			return commandForm{Name: "RecordMovement", Body: map[string]any{"kind": string(aggregates.MovementTransferOut), "prison": org, "at": at},
				Fields: map[string][2]string{"at": {"at", "at-day"}}}
		}},
	{Slug: "release", Title: "Record a release", Template: "prison-kind", Done: "release", Options: releaseKinds,
		Legend: "How were they released?", When: "When were they released?", Button: "Record release",
		prefill: func(f *form, now time.Time) { f.setNow("at", now) },
		build: func(f *form, p *problems, org string, _ time.Time) commandForm {
			kind := f.V("kind")
			if kind == "" {
				p.add("kind", "", "Select how they were released")
			}
			at := f.when(p, "at", "the date of release")
			return commandForm{Name: "ReleasePrisoner", Body: map[string]any{"kind": kind, "prison": org, "at": at},
				Fields: map[string][2]string{"at": {"at", "at-day"}}}
		}},
	{Slug: "custody-end", Title: "Record that custody ended without a release", Template: "prison-kind", Done: "custody-end",
		Options: custodyEndKinds, Legend: "What happened?", When: "When did it happen?", Button: "Record it",
		prefill: func(f *form, now time.Time) { f.setNow("at", now) },
		build: func(f *form, p *problems, org string, _ time.Time) commandForm {
			kind := f.V("kind")
			if kind == "" {
				p.add("kind", "", "Select what happened")
			}
			at := f.when(p, "at", "the date it happened")
			return commandForm{Name: "EndCustody", Body: map[string]any{"kind": kind, "prison": org, "at": at},
				Fields: map[string][2]string{"at": {"at", "at-day"}}}
		}},
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]|0x20) + s[1:]
}

// prisonStepForm shows a step's form for a person the prison can read.
func (s *server) prisonStepForm(st prisonStep) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, sess *session) error {
		j, err := s.readablePerson(r, sess.principal)
		if err != nil {
			return err
		}
		f := newForm()
		if st.prefill != nil {
			st.prefill(f, s.now())
		}
		s.renderPrisonStep(w, r, sess, http.StatusOK, st, j, f, nil)
		return nil
	}
}

// renderPrisonStep shows a step's form for person j, with errs when it was refused.
func (s *server) renderPrisonStep(w http.ResponseWriter, r *http.Request, sess *session, status int, st prisonStep, j aggregates.Journey, f *form, errs []fieldError) {
	s.render(w, r, sess, status, st.Template, page{Title: st.Title, Errors: errs, Back: &link{Href: "/prison/people/" + j.NOMS, Text: "Back to " + j.NOMS},
		Body: formBody{NOMS: j.NOMS, Form: f, Options: st.Options, Journey: &j, Dates: releaseDateFields, Step: &st}})
}

// prisonStepSend records a step and returns to the person's page (or to
// the people list, when the prison can no longer see them).
func (s *server) prisonStepSend(st prisonStep) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, sess *session) error {
		j, err := s.readablePerson(r, sess.principal)
		if err != nil {
			return err
		}
		f := formFrom(r)
		var p problems
		c := st.build(f, &p, sess.principal.Org, s.now())
		c.Target = web.CommandTarget{NOMS: j.NOMS}
		again := func(errs []fieldError) {
			s.renderPrisonStep(w, r, sess, http.StatusUnprocessableEntity, st, j, f, errs)
		}
		return s.sendStep(w, r, sess, f, c, &p, j.NOMS, "/prison/people/"+j.NOMS, "/prison/people", st.Done, again)
	}
}
