package inspect

import (
	"context"
	"fmt"
	"strings"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/ledger"
	"github.com/gateledger/gateledger/projections"
)

// Match is one person a search found.
type Match struct {
	NOMS        string
	CRN         string
	Custody     string
	Prison      string
	Responsible string
	Closed      bool
	// Events counts the events of their history.
	Events int
}

// FindResult is the answer to a search: what was asked, read as what kind of
// identifier, and who matched (none is an answer, not an error).
type FindResult struct {
	Query string
	// Kind is "prison number" or "CRN".
	Kind    string
	Matches []Match
}

// NormaliseQuery reads what an inspector typed into a search box: spaces
// anywhere and case do not matter ("a 1234 bc" is A1234BC).
func NormaliseQuery(q string) string {
	return strings.ToUpper(strings.Join(strings.Fields(q), ""))
}

// What a search was read as (FindResult.Kind).
const (
	KindNOMS = "prison number"
	KindCRN  = "CRN"
)

// ClassifyQuery reads what an inspector typed as a prison number or a CRN,
// normalised (NormaliseQuery); anything else is an *InputError on the
// field "query".
func ClassifyQuery(query string) (q, kind string, err error) {
	q = NormaliseQuery(query)
	switch {
	case q == "":
		return "", "", inputError("query", "Enter a prison number or a CRN")
	case aggregates.ValidNOMS(q):
		return q, KindNOMS, nil
	case aggregates.ValidCRN(q):
		return q, KindCRN, nil
	}
	return "", "", inputError("query", "Enter a prison number, like A1234BC, or a CRN, like X123456")
}

// Find looks a person up by prison number (NOMS) or by case reference number
// (CRN). The ledger holds no names, so none can be searched. A CRN is looked
// up in the caseload read model as it stands (projections.PeopleWithCRN); a
// CRN linked a moment ago may not be found yet. A query that
// is neither is an *InputError. The search is recorded in the access log.
func (i *Inspector) Find(ctx context.Context, p auth.Principal, query string) (FindResult, error) {
	if !Allowed(p) {
		return FindResult{}, auth.ErrForbidden
	}
	q, kind, err := ClassifyQuery(query)
	if err != nil {
		return FindResult{}, err
	}
	return ledger.ReadOrganisation(ctx, i.cfg.Ledger, p, ledger.OrganisationRead{Allow: Allowed, Access: accessFind, Subject: q},
		func() (FindResult, error) { return i.find(ctx, p, q, kind) })
}

// find looks up q, read as kind, for Find.
func (i *Inspector) find(ctx context.Context, p auth.Principal, q, kind string) (FindResult, error) {
	var err error
	res := FindResult{Query: q, Kind: kind}
	nomss := []string{q}
	if kind == KindCRN {
		if nomss, err = projections.PeopleWithCRN(i.cfg.Runner, q); err != nil {
			return FindResult{}, fmt.Errorf("inspect: find %s: %w", q, err)
		}
	}
	res.Matches = []Match{}
	for _, noms := range nomss {
		st, err := i.cfg.Journeys.LoadStream(ctx, noms)
		if err != nil {
			return FindResult{}, fmt.Errorf("inspect: find %s: %w", noms, err)
		}
		if !auth.Exists(st.Journey) || auth.AuthorizeRead(p, st.Journey) != nil {
			continue
		}
		j := st.Journey
		res.Matches = append(res.Matches, Match{NOMS: noms, CRN: j.CRN, Custody: string(j.Custody), Prison: j.Prison,
			Responsible: string(j.Responsible()), Closed: j.Closed, Events: len(st.Events)})
	}
	return res, nil
}
