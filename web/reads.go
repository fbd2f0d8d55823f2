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
	"github.com/gateledger/gateledger/folds"
	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/projections/readmodel"
	"github.com/gateledger/gateledger/web/export"
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
	var v validator
	noms := v.ident("noms", "noms", r.PathValue("noms"), true)
	return noms, v.err()
}

// loadReadableFor is loadReadable, then waits until the named projection has applied the
// person's last event, so that what it answers includes everything read (read-your-writes).
func (s *server) loadReadableFor(r *http.Request, p auth.Principal, noms, projection string) (eventlog.JourneyStream, error) {
	st, err := s.loadReadable(r.Context(), p, noms)
	if err != nil {
		return eventlog.JourneyStream{}, err
	}
	if err := s.waitRead(r, projection, st.Position().Commit); err != nil {
		return eventlog.JourneyStream{}, err
	}
	return st, nil
}

// loadReadable loads the journey of noms from the store and authorises p to
// read it. A journey p may not read answers exactly like one that does not
// exist (auth.ErrNotFound). A prison number that was merged into another
// resolves to the journey it was merged into, authorised as that one: it is
// the same person's case (st.NOMS says which number answered).
func (s *server) loadReadable(ctx context.Context, p auth.Principal, noms string) (eventlog.JourneyStream, error) {
	st, err := s.cfg.Journeys.LoadPerson(ctx, noms)
	if err != nil {
		return eventlog.JourneyStream{}, err
	}
	if err := auth.AuthorizeRead(p, st.Journey); err != nil {
		return eventlog.JourneyStream{}, err
	}
	return st, nil
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
		return 0, validationProblem(FieldError{Field: HeaderMinPosition, Message: "must be a $all position (a non-negative integer) from Gateledger-Position"})
	}
	return n, nil
}

// waitRead waits until the read model has reached the later of the
// caller's Gateledger-Min-Position and floor (for a person's reads, the
// journey's last event as loaded: a read never shows a person older than the
// store does). It answers not-caught-up after Config.WaitTimeout.
func (s *server) waitRead(r *http.Request, projection string, floor uint64) error {
	pos, err := minPosition(r)
	if err != nil {
		return err
	}
	pos = max(pos, floor)
	if pos == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.WaitTimeout)
	defer cancel()
	if err := s.cfg.Runner.WaitFor(ctx, projection, pos); err != nil {
		if errors.Is(err, readmodel.ErrNotCaughtUp) {
			return &problemError{kind: ProblemNotCaughtUp, detail: "the read model is behind; retry shortly", err: err,
				header: map[string]string{"Retry-After": "1"}}
		}
		return &problemError{kind: ProblemUnavailable, detail: "the read model is not available", err: err}
	}
	return nil
}

// record stores the access before the answer is sent: a read that cannot be
// recorded is not served.
func (s *server) record(ctx context.Context, p auth.Principal, what, subject string) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.WaitTimeout)
	defer cancel()
	if err := s.cfg.AccessLog.Record(ctx, p, what, subject); err != nil {
		s.metrics.accessFail.Inc()
		return &problemError{kind: ProblemUnavailable, detail: "the access could not be recorded, so it is not served", err: err,
			header: map[string]string{"Retry-After": "5"}}
	}
	return nil
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
	st, err := s.loadReadable(r.Context(), p, noms)
	if err != nil {
		return err
	}
	noms = st.NOMS
	if err := s.record(r.Context(), p, accessJourney, noms); err != nil {
		return err
	}
	pos := st.Position().Commit
	setPosition(w, st.Revision(), pos)
	return writeJSON(w, http.StatusOK, journeyView{NOMS: noms, Revision: st.Revision(), Position: pos, Journey: st.Journey})
}

func (s *server) getPlan(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	noms, err := nomsParam(r)
	if err != nil {
		return err
	}
	st, err := s.loadReadableFor(r, p, noms, projections.PlansName)
	if err != nil {
		return err
	}
	noms = st.NOMS
	v, err := projections.Plan(s.cfg.Runner, noms, s.now(), s.cfg.Policy)
	if err != nil {
		return err
	}
	if err := s.record(r.Context(), p, accessPlan, noms); err != nil {
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
	var v validator
	asAt := v.time("as_at", q.Get("as_at"), false)
	var asAtPos uint64
	if s := q.Get("as_at_position"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			v.add("as_at_position", "must be a $all position (a non-negative integer)")
		}
		asAtPos = n
	}
	if !asAt.IsZero() && asAtPos != 0 {
		v.add("as_at", "give as_at or as_at_position, not both")
	}
	if err := v.err(); err != nil {
		return err
	}
	st, err := s.loadReadableFor(r, p, noms, projections.AuditName)
	if err != nil {
		return err
	}
	noms = st.NOMS
	entries, err := s.personTrail(st)
	if err != nil {
		return err
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
			j, err = folds.AsAt(r.Context(), s.cfg.Store.Client, noms, asAt)
		} else {
			j, err = folds.AsAtPosition(r.Context(), s.cfg.Store.Client, noms, asAtPos)
		}
		switch {
		case errors.Is(err, folds.ErrNoEvents):
			// The ledger knew nothing of the person then.
		case err != nil:
			return err
		default:
			out.Journey = &j
		}
	}
	if err := s.record(r.Context(), p, accessTrail, noms); err != nil {
		return err
	}
	setPosition(w, st.Revision(), st.Position().Commit)
	return writeJSON(w, http.StatusOK, out)
}

// getTrailCSV answers the person's whole audit trail as a CSV download
// (package export: RFC 4180, formula-guarded), streamed.
func (s *server) getTrailCSV(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	noms, err := nomsParam(r)
	if err != nil {
		return err
	}
	st, err := s.loadReadableFor(r, p, noms, projections.AuditName)
	if err != nil {
		return err
	}
	noms = st.NOMS
	entries, err := s.personTrail(st)
	if err != nil {
		return err
	}
	if err := s.record(r.Context(), p, accessTrailExport, noms); err != nil {
		return err
	}
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
	st, err := s.loadReadable(r.Context(), p, noms)
	if err != nil {
		return err
	}
	v, err := projections.VerifyPerson(r.Context(), s.cfg.Runner, s.cfg.Store.Client, noms)
	if err != nil {
		return err
	}
	if err := s.record(r.Context(), p, accessVerification, noms); err != nil {
		return err
	}
	setPosition(w, st.Revision(), st.Position().Commit)
	return writeJSON(w, http.StatusOK, streamVerificationOf(v))
}

// verifyAll checks every chain in the store: inspectors only. It may read
// the whole store, so it extends its own write deadline.
func (s *server) verifyAll(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if p.Role != auth.RoleInspector || p.Validate() != nil {
		return auth.ErrForbidden
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(30 * time.Minute))
	v, err := projections.VerifyAll(r.Context(), s.cfg.Runner, s.cfg.Store.Client)
	if err != nil {
		return err
	}
	if err := s.record(r.Context(), p, accessVerifyAll, ""); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, storeVerificationOf(v))
}

// orgParam reads {org} and checks p may read that organisation's queues:
// inspectors any, prisons and providers their own.
func orgParam(r *http.Request, p auth.Principal) (string, error) {
	var v validator
	org := string(v.org("org", r.PathValue("org"), true))
	if err := v.err(); err != nil {
		return "", err
	}
	if p.Validate() != nil {
		return "", auth.ErrForbidden
	}
	switch p.Role {
	case auth.RoleInspector:
		return org, nil
	case auth.RolePrison, auth.RoleProvider:
		if p.Org == org {
			return org, nil
		}
	}
	return "", auth.ErrForbidden
}

func (s *server) getCaseload(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	org, err := orgParam(r, p)
	if err != nil {
		return err
	}
	params, errs := CaseListQuery(r.URL.Query())
	if len(errs) > 0 {
		return validationProblem(errs...)
	}
	if err := s.waitRead(r, projections.CaseloadName, 0); err != nil {
		return err
	}
	params.Query.Org, params.Query.Now = org, s.now()
	page, err := projections.CaseloadPage(s.cfg.Runner, params.Query)
	if errs, ok := CursorProblem(err); ok {
		return validationProblem(errs...)
	}
	if err != nil {
		return err
	}
	if err := s.record(r.Context(), p, accessCaseload, org); err != nil {
		return err
	}
	w.Header().Set(HeaderPosition, strconv.FormatUint(s.cfg.Runner.Position(), 10))
	out := caseloadOf(org, page.Rows)
	out.Next, out.Prev = params.Link(r.URL.Path, page.Next, true), params.Link(r.URL.Path, page.Prev, false)
	return writeJSON(w, http.StatusOK, out)
}

func (s *server) getHandovers(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	org, err := orgParam(r, p)
	if err != nil {
		return err
	}
	params, errs := HandoverListQuery(r.URL.Query())
	if len(errs) > 0 {
		return validationProblem(errs...)
	}
	if err := s.waitRead(r, projections.HandoversName, 0); err != nil {
		return err
	}
	params.Query.Org, params.Query.Now = org, s.now()
	page, err := projections.HandoversPage(s.cfg.Runner, params.Query)
	if errs, ok := CursorProblem(err); ok {
		return validationProblem(errs...)
	}
	if err != nil {
		return err
	}
	if err := s.record(r.Context(), p, accessHandovers, org); err != nil {
		return err
	}
	w.Header().Set(HeaderPosition, strconv.FormatUint(s.cfg.Runner.Position(), 10))
	out := handoverPageOf(org, page.Rows)
	out.Next, out.Prev = params.Link(r.URL.Path, page.Next, true), params.Link(r.URL.Path, page.Prev, false)
	return writeJSON(w, http.StatusOK, out)
}

// getOutcomes answers a page of the payment-by-results cohorts: counts, no person.
// Inspectors see every provider's, providers their own.
func (s *server) getOutcomes(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if p.Validate() != nil || (p.Role != auth.RoleInspector && p.Role != auth.RoleProvider) {
		return auth.ErrForbidden
	}
	params, errs := CohortListQuery(r.URL.Query())
	if len(errs) > 0 {
		return validationProblem(errs...)
	}
	if p.Role == auth.RoleProvider {
		if f := params.Query.Filter.Provider; f != "" && f != p.Org {
			return auth.ErrForbidden
		}
		params.Query.Filter.Provider = p.Org
	}
	if err := s.waitRead(r, projections.OutcomesName, 0); err != nil {
		return err
	}
	params.Query.Now = s.now()
	page, err := projections.OutcomesPage(s.cfg.Runner, params.Query)
	if errs, ok := CursorProblem(err); ok {
		return validationProblem(errs...)
	}
	if err != nil {
		return err
	}
	out := outcomesView{Cohorts: make([]outcomeView, 0, len(page.Rows))}
	for _, c := range page.Rows {
		out.Cohorts = append(out.Cohorts, outcomeOf(c))
	}
	out.Next, out.Prev = params.Link(r.URL.Path, page.Next, true), params.Link(r.URL.Path, page.Prev, false)
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
	if p.Validate() != nil || (p.Role != auth.RoleInspector && p.Role != auth.RoleProvider) {
		return auth.ErrForbidden
	}
	if err := s.waitRead(r, projections.OutcomesName, 0); err != nil {
		return err
	}
	cs, err := projections.Outcomes(s.cfg.Runner, s.now())
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
	var v validator
	now := s.now().UTC()
	from := v.time("from", q.Get("from"), false)
	to := v.time("to", q.Get("to"), false)
	if to.IsZero() {
		to = now.Add(time.Second)
	}
	if from.IsZero() {
		from = to.Add(-24 * time.Hour)
	}
	switch {
	case !from.Before(to):
		v.add("from", "must be before to")
	case to.Sub(from) > maxAccessLogSpan:
		v.add("from", "read at most 366 days at once")
	}
	if err := v.err(); err != nil {
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
		if eventlog.IsStoreFull(err) {
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
