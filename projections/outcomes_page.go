package projections

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/gateledger/gateledger/projections/readmodel"
)

// One page of the payment-by-results cohorts (provider × quarter rows), ordered by
// cohort then provider as Outcomes orders them, for a page that must not hold every
// quarter since 2014 at once.
//
// The rows are stored by provider then cohort (outcomes.go), not in the list's order,
// so a page reads every row of the providers asked for (all of them, or one), keeps
// those in the quarter range, sorts them and takes the page after the cursor. That is
// providers × quarters rows, a few hundred to a few thousand (12 regions and 28
// divisions and companies over the quarters since June 2014), each a few bytes: it
// does not grow with the number of people, only with time.

// CohortFilter selects cohorts; the zero value selects them all.
type CohortFilter struct {
	// Provider, when set, keeps that provider's cohorts.
	Provider string
	// From and To, when set, keep cohorts from and to those quarters ("2021-Q3"),
	// both included.
	From, To string
}

// CohortQuery asks for one page of cohorts.
type CohortQuery struct {
	Now    time.Time
	Filter CohortFilter
	// Limit is the page size: DefaultPageSize when zero, at most MaxPageSize.
	Limit int
	// After (CohortPage.Next) or Before (CohortPage.Prev); at most one is set.
	After, Before string
}

// CohortPage is one page of cohorts, ordered by cohort then provider.
type CohortPage struct {
	Rows []CohortOutcome
	// Next and Prev are the cursors of the following and preceding pages, "" for none.
	Next, Prev string
}

var quarterLabel = regexp.MustCompile(`^[0-9]{4}-Q[1-4]$`)

// ValidQuarter reports whether s names a quarter as cohorts do: "2021-Q3".
func ValidQuarter(s string) bool { return quarterLabel.MatchString(s) }

// cohortKey is a row's place in the list: cohort ‖ 0x00 ‖ provider.
func cohortKey(c CohortOutcome) []byte {
	return append(append([]byte(c.Cohort), 0), c.Provider...)
}

// OutcomesPage returns one page of the cohorts q.Filter selects, with provisional
// flags decided at q.Now.
func OutcomesPage(r *readmodel.Runner, q CohortQuery) (CohortPage, error) {
	f := q.Filter
	for _, s := range []string{f.From, f.To} {
		if s != "" && !ValidQuarter(s) {
			return CohortPage{}, fmt.Errorf("cohort filter: %q is not a quarter", s)
		}
	}
	if q.After != "" && q.Before != "" {
		return CohortPage{}, fmt.Errorf("after and before: %w", ErrBadCursor)
	}
	var from []byte
	var err error
	switch {
	case q.After != "":
		from, err = decodeCursor(q.After, listCohorts, false)
	case q.Before != "":
		from, err = decodeCursor(q.Before, listCohorts, false)
	}
	if err != nil {
		return CohortPage{}, err
	}
	all, err := outcomesOf(r, q.Now, f.Provider)
	if err != nil {
		return CohortPage{}, err
	}
	keys := make([][]byte, 0, len(all))
	rows := all[:0]
	for _, c := range all {
		if (f.From != "" && c.Cohort < f.From) || (f.To != "" && c.Cohort > f.To) {
			continue
		}
		rows = append(rows, c)
		keys = append(keys, cohortKey(c))
	}
	pb := newPageBuilder[CohortOutcome](listCohorts, false, q.Limit, q.After, q.Before)
	// Where the cursor falls: the first row after it, or the last before it.
	i, found := slices.BinarySearchFunc(keys, from, func(k, t []byte) int { return cmp.Compare(string(k), string(t)) })
	if pb.backward() {
		if from == nil {
			i = len(rows)
		}
		for i--; i >= 0 && !pb.full(); i-- {
			pb.add(keys[i], rows[i])
		}
	} else {
		if found {
			i++
		}
		for ; i < len(rows) && !pb.full(); i++ {
			pb.add(keys[i], rows[i])
		}
	}
	var page CohortPage
	page.Rows, page.Next, page.Prev = pb.finish()
	return page, nil
}
