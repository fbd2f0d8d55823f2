package pages

import (
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/web/export"
	"github.com/gateledger/gateledger/web/inspect"
)

// inspectorRoutes are the pages of inspectors (HM Inspectorate of
// Probation). Each route with a Nav label appears in their navigation; the
// one marked Home is where "/" sends them. Inspectors read every case and
// write nothing, so every route is a GET; the views come from package
// inspect, which authorises and records each read of a person in the access
// log. Without Config.Inspector there are none.
func (s *server) inspectorRoutes() []route {
	if s.cfg.Inspector == nil {
		return nil
	}
	inspector := []auth.Role{auth.RoleInspector}
	return []route{
		{Method: "GET", Path: "/inspect", Roles: inspector, Nav: "Find a person", Home: true, h: s.inspectFind},
		{Method: "GET", Path: "/inspect/people/{noms}", Roles: inspector, h: s.inspectPerson},
		{Method: "GET", Path: "/inspect/people/{noms}/as-at", Roles: inspector, h: s.inspectAsAt},
		{Method: "GET", Path: "/inspect/people/{noms}/verification", Roles: inspector, h: s.inspectVerification},
		{Method: "GET", Path: "/inspect/people/{noms}/history.csv", Roles: inspector, h: s.inspectHistory("csv")},
		{Method: "GET", Path: "/inspect/people/{noms}/history.json", Roles: inspector, h: s.inspectHistory("json")},
		{Method: "GET", Path: "/inspect/outcomes", Roles: inspector, Nav: "Outcomes", h: s.inspectOutcomes},
		{Method: "GET", Path: "/inspect/outcomes.csv", Roles: inspector, h: s.inspectOutcomesCSV},
	}
}

// inspectInputErrors turns what package inspect says is wrong with a form into the
// error summary's entries.
func inspectInputErrors(err error) ([]fieldError, bool) {
	var ie *inspect.InputError
	if !errors.As(err, &ie) {
		return nil, false
	}
	out := make([]fieldError, 0, len(ie.Errors))
	for _, e := range ie.Errors {
		out = append(out, fieldError{Field: e.Field, Message: e.Message})
	}
	return out, true
}

// inspectError maps an error of package inspect to what the page answers:
// a malformed prison number in a path is "not found", like any other page
// that does not exist (a read that could not be recorded is "unavailable",
// as on every page: writeError).
func inspectError(err error) error {
	switch {
	case errors.As(err, new(*inspect.InputError)):
		return errors.Join(auth.ErrNotFound, err)
	}
	return err
}

type inspectFindBody struct {
	Query  string
	Result *inspect.FindResult
}

// inspectFind is the search: by prison number or CRN (?q=).
func (s *server) inspectFind(w http.ResponseWriter, r *http.Request, sess *session) error {
	q, asked := r.URL.Query()["q"]
	body := inspectFindBody{}
	pg := page{Title: "Find a person", Body: &body}
	if !asked {
		s.render(w, r, sess, http.StatusOK, "inspector-find", pg)
		return nil
	}
	body.Query = strings.TrimSpace(q[0])
	res, err := s.cfg.Inspector.Find(r.Context(), sess.principal, body.Query)
	if errs, ok := inspectInputErrors(err); ok {
		pg.Errors = errs
		s.render(w, r, sess, http.StatusBadRequest, "inspector-find", pg)
		return nil
	}
	if err != nil {
		return inspectError(err)
	}
	body.Query = res.Query
	body.Result = &res
	s.render(w, r, sess, http.StatusOK, "inspector-find", pg)
	return nil
}

// inspectPersonBody serves the timeline and the "as at" page (one template: both
// carry the as-at date form).
type inspectPersonBody struct {
	NOMS             string
	Day, Month, Year string
	Timeline         *inspect.TimelineView
	AsAt             *inspect.AsAtView
}

// inspectPerson is a person's record and timeline.
func (s *server) inspectPerson(w http.ResponseWriter, r *http.Request, sess *session) error {
	noms := r.PathValue("noms")
	v, err := s.cfg.Inspector.Timeline(r.Context(), sess.principal, noms)
	if err != nil {
		return inspectError(err)
	}
	s.render(w, r, sess, http.StatusOK, "inspector-person", page{Title: noms + ": timeline", Body: &inspectPersonBody{NOMS: noms, Timeline: &v}})
	return nil
}

// inspectAsAt is the plan as it was at the end of a day (?day=&month=&year=)
// or just after an event (?position=).
func (s *server) inspectAsAt(w http.ResponseWriter, r *http.Request, sess *session) error {
	noms := r.PathValue("noms")
	q := r.URL.Query()
	body := &inspectPersonBody{NOMS: noms, Day: q.Get("day"), Month: q.Get("month"), Year: q.Get("year")}
	var aq inspect.AsAtQuery
	var err error
	if pos := q.Get("position"); pos != "" && body.Day+body.Month+body.Year == "" {
		aq.Position, err = inspect.ParsePosition(pos)
	} else {
		today := aggregates.DateOf(s.now().In(s.cfg.Inspector.Location()))
		aq.Date, err = inspect.ParseDate("as-at", body.Day, body.Month, body.Year, today)
	}
	var v inspect.AsAtView
	if err == nil {
		v, err = s.cfg.Inspector.AsAt(r.Context(), sess.principal, noms, aq)
	}
	if errs, ok := inspectInputErrors(err); ok && aggregates.ValidNOMS(noms) {
		// The form is shown again, on the timeline, with what to fix.
		tl, terr := s.cfg.Inspector.Timeline(r.Context(), sess.principal, noms)
		if terr != nil {
			return inspectError(terr)
		}
		body.Timeline = &tl
		s.render(w, r, sess, http.StatusBadRequest, "inspector-person", page{Title: noms + ": timeline", Body: body, Errors: errs})
		return nil
	}
	if err != nil {
		return inspectError(err)
	}
	body.AsAt = &v
	if aq.Position == 0 {
		d := aq.Date
		body.Day, body.Month, body.Year = strconv.Itoa(d.Day), strconv.Itoa(int(d.Month)), strconv.Itoa(d.Year)
	} else if !v.At.IsZero() {
		t := v.At
		body.Day, body.Month, body.Year = strconv.Itoa(t.Day()), strconv.Itoa(int(t.Month())), strconv.Itoa(t.Year())
	}
	title := noms + " at the end of " + inspect.FormatDate(aq.Date)
	switch {
	case aq.Position == 0:
	case v.LastEvent != nil:
		title = noms + " just after " + strings.ToLower(v.LastEvent.Title[:1]) + v.LastEvent.Title[1:]
	default:
		title = noms + " before their first event"
	}
	s.render(w, r, sess, http.StatusOK, "inspector-person", page{Title: title, Body: body})
	return nil
}

type inspectVerificationBody struct {
	View inspect.VerificationView
}

// inspectVerification recomputes the person's hash chain.
func (s *server) inspectVerification(w http.ResponseWriter, r *http.Request, sess *session) error {
	noms := r.PathValue("noms")
	v, err := s.cfg.Inspector.Verify(r.Context(), sess.principal, noms)
	if err != nil {
		return inspectError(err)
	}
	s.render(w, r, sess, http.StatusOK, "inspector-verification", page{Title: noms + ": is the record intact?", Body: inspectVerificationBody{View: v}})
	return nil
}

// inspectHistory serves the whole history as a CSV or JSON download
// (package export), streamed after the read is recorded.
func (s *server) inspectHistory(format string) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, sess *session) error {
		noms := r.PathValue("noms")
		entries, d, err := s.cfg.Inspector.HistoryDescribed(r.Context(), sess.principal, noms)
		if err != nil {
			return inspectError(err)
		}
		h := w.Header()
		if format == "csv" {
			h.Set("Content-Type", "text/csv; charset=utf-8; header=present")
		} else {
			h.Set("Content-Type", "application/json")
		}
		h.Set("Content-Disposition", `attachment; filename="`+export.Filename(noms, format)+`"`)
		w.WriteHeader(http.StatusOK)
		if format == "csv" {
			err = export.WriteCSV(w, entries, d)
		} else {
			err = export.WriteJSON(w, noms, entries, d)
		}
		if err != nil {
			// The download has begun: cut it, so that it cannot pass for a
			// complete one.
			s.log.WarnContext(r.Context(), "pages: history download cut short", "noms", noms, "err", err)
			panic(http.ErrAbortHandler)
		}
		return nil
	}
}

// inspectOutcomesCSV serves every cohort as a CSV download (package export).
func (s *server) inspectOutcomesCSV(w http.ResponseWriter, r *http.Request, sess *session) error {
	cs, err := s.cfg.Inspector.Cohorts(r.Context(), sess.principal)
	if err != nil {
		return inspectError(err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8; header=present")
	h.Set("Content-Disposition", `attachment; filename="`+export.OutcomesFilename+`"`)
	w.WriteHeader(http.StatusOK)
	if err := export.WriteOutcomesCSV(w, cs); err != nil {
		s.log.WarnContext(r.Context(), "pages: outcomes download cut short", "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

type inspectOutcomesBody struct {
	View  inspect.OutcomesView
	Chart template.HTML
}

// inspectOutcomes is payment by results by provider and cohort, as tables
// and a chart.
func (s *server) inspectOutcomes(w http.ResponseWriter, r *http.Request, sess *session) error {
	cohort := strings.TrimSpace(r.URL.Query().Get("cohort"))
	v, err := s.cfg.Inspector.Outcomes(r.Context(), sess.principal, cohort)
	if errs, ok := inspectInputErrors(err); ok {
		if v, err = s.cfg.Inspector.Outcomes(r.Context(), sess.principal, ""); err != nil {
			return inspectError(err)
		}
		s.render(w, r, sess, http.StatusBadRequest, "inspector-outcomes", page{Title: "Outcomes", Body: inspectOutcomesBody{View: v, Chart: v.Chart.SVG()}, Errors: errs})
		return nil
	}
	if err != nil {
		return inspectError(err)
	}
	s.render(w, r, sess, http.StatusOK, "inspector-outcomes", page{Title: "Outcomes", Body: inspectOutcomesBody{View: v, Chart: v.Chart.SVG()}})
	return nil
}
