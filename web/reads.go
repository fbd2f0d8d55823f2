package web

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/folds"
	"github.com/gateledger/gateledger/ledger"
	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/web/export"
	"github.com/gateledger/gateledger/web/problem"
	"github.com/gateledger/gateledger/web/request"
)

// What the access log says was read.
const (
	accessJourney      = auth.AccessReadJourney
	accessPlan         = auth.AccessReadPlan
	accessTrail        = auth.AccessReadTrail
	accessTrailExport  = auth.AccessExportTrail
	accessVerification = auth.AccessVerifyJourney
	accessVerifyAll    = auth.AccessVerifyAllJourneys
	accessCaseload     = auth.AccessReadCaseload
	accessHandovers    = auth.AccessReadHandovers
)

// maxAccessLogSpan bounds one read of the access log.
const maxAccessLogSpan = 366 * 24 * time.Hour

// nomsParam reads and checks the {noms} path parameter.
func nomsParam(r *http.Request) (string, error) {
	var v request.Validator
	noms := v.Ident("noms", "noms", r.PathValue("noms"), true)
	return noms, v.Err()
}

// personTrail is the audit trail of the person whose journey st is: its own
// stream's entries and those of every prison number merged into it, in the
// order the store recorded them.
func (s *server) personTrail(st eventlog.JourneyStream) ([]projections.AuditEntry, error) {
	entries, err := projections.Trail(s.cfg.Runner, st.NOMS)
	if err != nil {
		return nil, err
	}
	for _, from := range st.Journey.MergedFrom {
		more, err := projections.Trail(s.cfg.Runner, from)
		if err != nil {
			return nil, err
		}
		entries = append(entries, more...)
	}
	if len(st.Journey.MergedFrom) > 0 {
		slices.SortStableFunc(entries, func(a, b projections.AuditEntry) int { return cmp.Compare(a.Position, b.Position) })
	}
	return entries, nil
}

// describer says what happened (the events of st) and who did it (names),
// for trails and downloads.
func (s *server) describer(st eventlog.JourneyStream) export.Describer {
	return export.Describer{Event: export.StreamEvents(st), Name: s.cfg.Names}
}

// minPosition reads Gateledger-Min-Position.
func minPosition(r *http.Request) (uint64, error) {
	v := r.Header.Get(HeaderMinPosition)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, problem.Invalid(problem.FieldError{Field: HeaderMinPosition, Message: "must be a $all position (a non-negative integer) from Gateledger-Position"})
	}
	return n, nil
}

// personRead is the ledger's read of a person from projection, waiting for
// the request's Gateledger-Min-Position too.
func (s *server) personRead(r *http.Request, access, projection string) (ledger.ReadOptions, error) {
	pos, err := minPosition(r)
	return ledger.ReadOptions{Access: access, Projection: projection, MinPosition: pos}, err
}

func setPosition(w http.ResponseWriter, rev int64, pos uint64) {
	if rev != noETag {
		w.Header().Set("ETag", etag(rev))
	}
	w.Header().Set(HeaderPosition, strconv.FormatUint(pos, 10))
}

const noETag = -2

// getJourney answers the journey as folded from the store, with its revision
// as ETag.
func (s *server) getJourney(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	noms, err := nomsParam(r)
	if err != nil {
		return err
	}
	st, err := ledger.Read(r.Context(), s.cfg.Ledger, p, noms, ledger.ReadOptions{Access: accessJourney}, ledger.Stream)
	if err != nil {
		return err
	}
	noms = st.NOMS
	pos := st.Position().Commit
	setPosition(w, st.Revision(), pos)
	return writeJSON(w, http.StatusOK, journeyView{NOMS: noms, Revision: st.Revision(), Position: pos, Journey: st.Journey})
}

func (s *server) getPlan(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	noms, err := nomsParam(r)
	if err != nil {
		return err
	}
	o, err := s.personRead(r, accessPlan, projections.PlansName)
	if err != nil {
		return err
	}
	v, err := ledger.Read(r.Context(), s.cfg.Ledger, p, noms, o, func(st eventlog.JourneyStream) (projections.PlanView, error) {
		return projections.Plan(s.cfg.Runner, st.NOMS, s.now(), s.cfg.Policy)
	})
	if err != nil {
		return err
	}
	setPosition(w, int64(v.Revision), v.Position)
	return writeJSON(w, http.StatusOK, planOf(v))
}

// getTrail answers the audit trail of a person: every event with who
// recorded it, when and from where, and its hash. With as_at (an RFC 3339
// time) or as_at_position (a $all position) it answers the entries the
// ledger knew then and the journey as it stood.
func (s *server) getTrail(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	noms, err := nomsParam(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var v request.Validator
	asAt := v.Time("as_at", q.Get("as_at"), false)
	var asAtPos uint64
	if s := q.Get("as_at_position"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			v.Add("as_at_position", "must be a $all position (a non-negative integer)")
		}
		asAtPos = n
	}
	if !asAt.IsZero() && asAtPos != 0 {
		v.Add("as_at", "give as_at or as_at_position, not both")
	}
	if err := v.Err(); err != nil {
		return err
	}
	o, err := s.personRead(r, accessTrail, projections.AuditName)
	if err != nil {
		return err
	}
	type answer struct {
		st  eventlog.JourneyStream
		out trailView
	}
	ans, err := ledger.Read(r.Context(), s.cfg.Ledger, p, noms, o, func(st eventlog.JourneyStream) (answer, error) {
		out, err := s.trailOf(r.Context(), st, asAt, asAtPos)
		return answer{st, out}, err
	})
	if err != nil {
		return err
	}
	st, out := ans.st, ans.out
	setPosition(w, st.Revision(), st.Position().Commit)
	return writeJSON(w, http.StatusOK, out)
}

// trailOf is the trail of the person whose journey st is, with as_at or
// as_at_position the entries the ledger knew then and the journey as it stood.
func (s *server) trailOf(ctx context.Context, st eventlog.JourneyStream, asAt time.Time, asAtPos uint64) (trailView, error) {
	noms := st.NOMS
	entries, err := s.personTrail(st)
	if err != nil {
		return trailView{}, err
	}
	out := trailView{NOMS: noms, AsAt: asAt, AsAtPosition: asAtPos, Entries: make([]auditView, 0, len(entries))}
	d := s.describer(st)
	for _, e := range entries {
		a := d.Entry(e)
		if (!asAt.IsZero() && a.KnownAt().After(asAt)) || (asAtPos != 0 && a.Position > asAtPos) {
			continue
		}
		out.Entries = append(out.Entries, a)
	}
	if !asAt.IsZero() || asAtPos != 0 {
		var j aggregates.Journey
		if !asAt.IsZero() {
			j, err = folds.AsAt(ctx, s.cfg.Store.Client, noms, asAt)
		} else {
			j, err = folds.AsAtPosition(ctx, s.cfg.Store.Client, noms, asAtPos)
		}
		switch {
		case errors.Is(err, folds.ErrNoEvents):
			// The ledger knew nothing of the person then.
		case err != nil:
			return trailView{}, err
		default:
			out.Journey = &j
		}
	}
	return out, nil
}

// personEntries is a person's journey as read and their audit trail.
type personEntries struct {
	st      eventlog.JourneyStream
	entries []projections.AuditEntry
}

// readEntries is a view for ledger.Read: the person's whole audit trail.
func (s *server) readEntries(st eventlog.JourneyStream) (personEntries, error) {
	entries, err := s.personTrail(st)
	return personEntries{st, entries}, err
}

// getTrailCSV answers the person's whole audit trail as a CSV download
// (package export: RFC 4180, formula-guarded), streamed.
func (s *server) getTrailCSV(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	noms, err := nomsParam(r)
	if err != nil {
		return err
	}
	o, err := s.personRead(r, accessTrailExport, projections.AuditName)
	if err != nil {
		return err
	}
	pe, err := ledger.Read(r.Context(), s.cfg.Ledger, p, noms, o, s.readEntries)
	if err != nil {
		return err
	}
	st, entries := pe.st, pe.entries
	noms = st.NOMS
	setPosition(w, st.Revision(), st.Position().Commit)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8; header=present")
	w.Header().Set("Content-Disposition", `attachment; filename="`+export.Filename(noms, "csv")+`"`)
	if err := export.WriteCSV(w, entries, s.describer(st)); err != nil {
		// The answer has begun: all that is left is to say so in the log
		// and cut the connection, so the client sees a truncated download
		// rather than a complete-looking one.
		s.log.WarnContext(r.Context(), "audit trail export cut short", "noms", noms, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

func (s *server) verifyJourney(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	noms, err := nomsParam(r)
	if err != nil {
		return err
	}
	type answer struct {
		st eventlog.JourneyStream
		v  projections.StreamVerification
	}
	ans, err := ledger.Read(r.Context(), s.cfg.Ledger, p, noms, ledger.ReadOptions{Access: accessVerification},
		func(st eventlog.JourneyStream) (answer, error) {
			v, err := projections.VerifyPerson(r.Context(), s.cfg.Runner, s.cfg.Store.Client, noms)
			return answer{st, v}, err
		})
	if err != nil {
		return err
	}
	setPosition(w, ans.st.Revision(), ans.st.Position().Commit)
	return writeJSON(w, http.StatusOK, streamVerificationOf(ans.v))
}

// verifyAll checks every chain in the store: inspectors only. It may read
// the whole store, so it extends its own write deadline.
func (s *server) verifyAll(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(30 * time.Minute))
	v, err := ledger.ReadOrganisation(r.Context(), s.cfg.Ledger, p, ledger.OrganisationRead{Allow: auth.CanReadAcrossOrganisations, Access: accessVerifyAll},
		func() (projections.StoreVerification, error) {
			return projections.VerifyAll(r.Context(), s.cfg.Runner, s.cfg.Store.Client)
		})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, storeVerificationOf(v))
}

// orgParam reads {org}. Who may read that organisation's lists is the
// ledger's rule (ledger.OrganisationRead).
func orgParam(r *http.Request) (string, error) {
	var v request.Validator
	org := string(v.Org("org", r.PathValue("org"), true))
	return org, v.Err()
}

// orgRead is the ledger's read of org's lists from projection, waiting for
// the request's Gateledger-Min-Position.
func orgRead(r *http.Request, org, access, projection string) (ledger.OrganisationRead, error) {
	pos, err := minPosition(r)
	return ledger.OrganisationRead{Org: org, Access: access, Projections: []string{projection}, MinPosition: pos}, err
}

func (s *server) getCaseload(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	org, err := orgParam(r)
	if err != nil {
		return err
	}
	o, err := orgRead(r, org, accessCaseload, projections.CaseloadName)
	if err != nil {
		return err
	}
	out, err := ledger.ReadOrganisation(r.Context(), s.cfg.Ledger, p, o, func() (caseloadView, error) {
		params, errs := request.CaseListQuery(r.URL.Query())
		if len(errs) > 0 {
			return caseloadView{}, problem.Invalid(errs...)
		}
		params.Query.Org, params.Query.Now = org, s.now()
		page, err := projections.CaseloadPage(s.cfg.Runner, params.Query)
		if errs, ok := request.CursorProblem(err); ok {
			return caseloadView{}, problem.Invalid(errs...)
		}
		if err != nil {
			return caseloadView{}, err
		}
		out := caseloadOf(org, page.Rows)
		out.Next, out.Prev = params.Link(r.URL.Path, page.Next, true), params.Link(r.URL.Path, page.Prev, false)
		return out, nil
	})
	if err != nil {
		return err
	}
	w.Header().Set(HeaderPosition, strconv.FormatUint(s.cfg.Runner.Position(), 10))
	return writeJSON(w, http.StatusOK, out)
}

func (s *server) getHandovers(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	org, err := orgParam(r)
	if err != nil {
		return err
	}
	o, err := orgRead(r, org, accessHandovers, projections.HandoversName)
	if err != nil {
		return err
	}
	out, err := ledger.ReadOrganisation(r.Context(), s.cfg.Ledger, p, o, func() (handoverQueueView, error) {
		params, errs := request.HandoverListQuery(r.URL.Query())
		if len(errs) > 0 {
			return handoverQueueView{}, problem.Invalid(errs...)
		}
		params.Query.Org, params.Query.Now = org, s.now()
		page, err := projections.HandoversPage(s.cfg.Runner, params.Query)
		if errs, ok := request.CursorProblem(err); ok {
			return handoverQueueView{}, problem.Invalid(errs...)
		}
		if err != nil {
			return handoverQueueView{}, err
		}
		out := handoverPageOf(org, page.Rows)
		out.Next, out.Prev = params.Link(r.URL.Path, page.Next, true), params.Link(r.URL.Path, page.Prev, false)
		return out, nil
	})
	if err != nil {
		return err
	}
	w.Header().Set(HeaderPosition, strconv.FormatUint(s.cfg.Runner.Position(), 10))
	return writeJSON(w, http.StatusOK, out)
}

// outcomesRead is the ledger's read of the outcomes: counts, no person, so
// nothing is recorded.
func outcomesRead(r *http.Request) (ledger.OrganisationRead, error) {
	pos, err := minPosition(r)
	return ledger.OrganisationRead{Allow: auth.CanReadOutcomes, Projections: []string{projections.OutcomesName}, MinPosition: pos}, err
}

// getOutcomes answers a page of the payment-by-results cohorts: counts, no person.
// Inspectors see every provider's, providers their own.
func (s *server) getOutcomes(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if !auth.CanReadOutcomes(p) {
		return auth.ErrForbidden
	}
	o, err := outcomesRead(r)
	if err != nil {
		return err
	}
	out, err := ledger.ReadOrganisation(r.Context(), s.cfg.Ledger, p, o, func() (outcomesView, error) {
		params, errs := request.CohortListQuery(r.URL.Query())
		if len(errs) > 0 {
			return outcomesView{}, problem.Invalid(errs...)
		}
		if p.Role == auth.RoleProvider {
			if f := params.Query.Filter.Provider; f != "" && f != p.Org {
				return outcomesView{}, auth.ErrForbidden
			}
			params.Query.Filter.Provider = p.Org
		}
		params.Query.Now = s.now()
		page, err := projections.OutcomesPage(s.cfg.Runner, params.Query)
		if errs, ok := request.CursorProblem(err); ok {
			return outcomesView{}, problem.Invalid(errs...)
		}
		if err != nil {
			return outcomesView{}, err
		}
		out := outcomesView{Cohorts: make([]outcomeView, 0, len(page.Rows))}
		for _, c := range page.Rows {
			out.Cohorts = append(out.Cohorts, outcomeOf(c))
		}
		out.Next, out.Prev = params.Link(r.URL.Path, page.Next, true), params.Link(r.URL.Path, page.Prev, false)
		return out, nil
	})
	if err != nil {
		return err
	}
	w.Header().Set(HeaderPosition, strconv.FormatUint(s.cfg.Runner.Position(), 10))
	return writeJSON(w, http.StatusOK, out)
}

// visibleOutcomes are the cohorts p may see: every provider's for an
// inspector, a provider's own.
func visibleOutcomes(p auth.Principal, cs []projections.CohortOutcome) []projections.CohortOutcome {
	if p.Role != auth.RoleProvider {
		return cs
	}
	out := make([]projections.CohortOutcome, 0, len(cs))
	for _, c := range cs {
		if string(c.Provider) == p.Org {
			out = append(out, c)
		}
	}
	return out
}

// getOutcomesCSV answers the cohorts of getOutcomes as a CSV download
// (package export).
func (s *server) getOutcomesCSV(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if !auth.CanReadOutcomes(p) {
		return auth.ErrForbidden
	}
	o, err := outcomesRead(r)
	if err != nil {
		return err
	}
	cs, err := ledger.ReadOrganisation(r.Context(), s.cfg.Ledger, p, o, func() ([]projections.CohortOutcome, error) {
		return projections.Outcomes(s.cfg.Runner, s.now())
	})
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set(HeaderPosition, strconv.FormatUint(s.cfg.Runner.Position(), 10))
	h.Set("Content-Type", "text/csv; charset=utf-8; header=present")
	h.Set("Content-Disposition", `attachment; filename="`+export.OutcomesFilename+`"`)
	if err := export.WriteOutcomesCSV(w, visibleOutcomes(p, cs)); err != nil {
		s.log.WarnContext(r.Context(), "outcomes export cut short", "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// getAccessLog answers who read what between from and to (RFC 3339; the
// last 24 hours by default): inspectors only.
func (s *server) getAccessLog(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if !auth.CanReadAccessLog(p) {
		return auth.ErrForbidden
	}
	q := r.URL.Query()
	var v request.Validator
	now := s.now().UTC()
	from := v.Time("from", q.Get("from"), false)
	to := v.Time("to", q.Get("to"), false)
	if to.IsZero() {
		to = now.Add(time.Second)
	}
	if from.IsZero() {
		from = to.Add(-24 * time.Hour)
	}
	switch {
	case !from.Before(to):
		v.Add("from", "must be before to")
	case to.Sub(from) > maxAccessLogSpan:
		v.Add("from", "read at most 366 days at once")
	}
	if err := v.Err(); err != nil {
		return err
	}
	entries, err := s.cfg.AccessLog.Read(r.Context(), from, to)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, accessLogView{From: from, To: to, Entries: nonNil(entries)})
}

// healthz says the process is alive.
func (s *server) healthz(w http.ResponseWriter, _ *http.Request) {
	_ = writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz says whether the ledger can serve: the event store answers and the
// read models have caught up (and none has failed).
func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"store": "ok", "writes": "ok", "projections": "ok"}
	ready := true
	if err := s.cfg.Store.Ping(ctx); err != nil {
		checks["store"], ready = "not answering", false
		s.log.WarnContext(ctx, "readiness: event store", "err", err)
	} else if err := s.cfg.Store.ProbeWrite(ctx); err != nil {
		// Reads still work on a full disk, but no command can be recorded: not ready
		// until a write succeeds again, which the next probe finds by itself.
		checks["writes"], ready = "failing", false
		if eventstore.IsStoreFull(err) {
			checks["writes"] = "disk full"
		}
		s.log.WarnContext(ctx, "readiness: event store writes", "err", err)
	}
	if h := s.cfg.History; h != nil {
		state, ok := h.Status()
		checks["history"] = state
		ready = ready && ok
	}
	if !s.cfg.Runner.Live() {
		checks["projections"], ready = "catching up", false
		for _, st := range s.cfg.Runner.Status() {
			if st.Failed != nil {
				checks["projections"] = "failed"
			}
		}
	}
	status, code := "ready", http.StatusOK
	if !ready {
		status, code = "not ready", http.StatusServiceUnavailable
	}
	_ = writeJSON(w, code, map[string]any{"status": status, "checks": checks})
}
