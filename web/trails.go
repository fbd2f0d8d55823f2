package web

import (
	"net/http"
	"strconv"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/ledger"
	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/web/export"
	"github.com/gateledger/gateledger/web/problem"
	"github.com/gateledger/gateledger/web/request"
)

// MaxTrailSetPeople bounds a download of many people's histories
// (getTrailSetCSV): a set larger than this is refused with a request to
// narrow it, so one download never holds a region.
const MaxTrailSetPeople = 2000

// getTrailSetCSV answers, for inspectors, the histories of every person an
// organisation sees now (its caseload), optionally only the events that
// happened on UK dates from..to, as one CSV download in words (package
// export). It is streamed person by person, each person's read recorded in
// the access log before any of their rows is written, as a single person's
// download is.
func (s *server) getTrailSetCSV(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if !auth.CanReadAcrossOrganisations(p) {
		return auth.ErrForbidden
	}
	q := r.URL.Query()
	var v request.Validator
	org := v.Org("organisation", q.Get("organisation"), true)
	from := v.Date("from", q.Get("from"), false)
	to := v.Date("to", q.Get("to"), false)
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		v.Add("to", "must be on or after from")
	}
	if err := v.Err(); err != nil {
		return err
	}
	minPos, err := minPosition(r)
	if err != nil {
		return err
	}
	// A download of a set says everything recorded before it was asked for:
	// the read models wait for the store's last event, not only for the
	// caller's Gateledger-Min-Position.
	head, err := eventlog.LastPosition(r.Context(), s.cfg.Store.Client)
	if err != nil {
		return err
	}
	rows, err := ledger.ReadOrganisation(r.Context(), s.cfg.Ledger, p, ledger.OrganisationRead{Org: string(org), Allow: auth.CanReadAcrossOrganisations,
		Projections: []string{projections.CaseloadName, projections.AuditName}, MinPosition: max(minPos, head)},
		func() ([]projections.CaseRow, error) {
			rows, err := projections.Caseload(s.cfg.Runner, string(org), s.now())
			if err == nil && len(rows) > MaxTrailSetPeople {
				return nil, problem.Invalid(problem.FieldError{Field: "organisation",
					Message: "the organisation sees " + strconv.Itoa(len(rows)) + " people, more than " + strconv.Itoa(MaxTrailSetPeople) + " in one download; download people one at a time"})
			}
			return rows, err
		})
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8; header=present")
	h.Set("Content-Disposition", `attachment; filename="gateledger-history-`+string(org)+`.csv"`)
	cw := export.NewCSV(w)
	abort := func(noms string, err error) error {
		s.countAccessFailure(err)
		s.log.WarnContext(r.Context(), "history set export cut short", "organisation", org, "noms", noms, "err", err)
		panic(http.ErrAbortHandler)
	}
	for _, row := range rows {
		// Each person's read is recorded before any of their rows is written.
		pe, err := ledger.Read(r.Context(), s.cfg.Ledger, p, row.NOMS, ledger.ReadOptions{Access: accessTrailExport}, s.readEntries)
		if err != nil {
			return abort(row.NOMS, err)
		}
		d := s.describer(pe.st)
		for _, e := range pe.entries {
			if day := aggregates.DateOf(e.OccurredAt); (!from.IsZero() && day.Before(from)) || (!to.IsZero() && day.After(to)) {
				continue
			}
			if err := cw.Write(d.Entry(e)); err != nil {
				return abort(row.NOMS, err)
			}
		}
	}
	if err := cw.Close(); err != nil {
		return abort("", err)
	}
	return nil
}
