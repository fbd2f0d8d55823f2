package pages

import (
	"net/http"

	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/projections"
)

// prisonRoutes are the pages of prison staff.
func (s *server) prisonRoutes() []route {
	prison := []auth.Role{auth.RolePrison}
	return []route{
		{Method: "GET", Path: "/prison/people", Roles: prison, Nav: "People", Home: true, h: s.prisonPeople},
	}
}

// caseRow is one person in a caseload table.
type caseRow struct {
	projections.CaseRow
	// Attention are the reasons to act, as words.
	Attention []string
}

type peopleBody struct {
	Org    string
	People []caseRow
}

// prisonPeople lists the people the prison can see: those it holds, those
// it released and is still responsible for, and handovers it is part of.
func (s *server) prisonPeople(w http.ResponseWriter, r *http.Request, sess *session) error {
	p := sess.principal
	if err := s.waitRead(r, projections.CaseloadName); err != nil {
		return err
	}
	rows, err := projections.Caseload(s.cfg.Runner, p.Org, s.now())
	if err != nil {
		return err
	}
	if err := s.record(r.Context(), p, auth.AccessReadCaseload, p.Org); err != nil {
		return err
	}
	body := peopleBody{Org: p.Org, People: make([]caseRow, 0, len(rows))}
	for _, c := range rows {
		body.People = append(body.People, caseRow{CaseRow: c, Attention: c.Attention.Reasons()})
	}
	s.render(w, r, sess, http.StatusOK, "prison-people", page{Title: "People in " + p.Org, Body: body})
	return nil
}
