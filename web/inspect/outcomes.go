package inspect

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/projections"
)

// OutcomeRow is the payment-by-results measure of one provider over one or
// more release cohorts.
type OutcomeRow struct {
	Provider string
	// Cohort is the quarter ("2021-Q3"), or empty for a total over cohorts.
	Cohort      string
	Size        int
	Reoffenders int
	Reoffences  int
	Excluded    int
	// BinaryRate is Reoffenders / Size; FrequencyRate Reoffences /
	// Reoffenders (0 when nobody reoffended).
	BinaryRate    float64
	FrequencyRate float64
	// Provisional: convictions may still come in for some of the cohort.
	Provisional bool
}

func (r *OutcomeRow) add(c projections.CohortOutcome) {
	r.Size += c.Size
	r.Reoffenders += c.Reoffenders
	r.Reoffences += c.Reoffences
	r.Excluded += c.ExcludedReoffences
	r.Provisional = r.Provisional || c.Provisional
	r.BinaryRate, r.FrequencyRate = 0, 0
	if r.Size > 0 {
		r.BinaryRate = float64(r.Reoffenders) / float64(r.Size)
	}
	if r.Reoffenders > 0 {
		r.FrequencyRate = float64(r.Reoffences) / float64(r.Reoffenders)
	}
}

// CohortTable is one quarterly release cohort, a row per provider.
type CohortTable struct {
	Cohort      string
	Start, End  aggregates.Date
	Provisional bool
	// FinalFrom is when no conviction can change the figures any more.
	FinalFrom time.Time
	Rows      []OutcomeRow
	Total     OutcomeRow
}

// OutcomesView is the payment-by-results page: one cohort (or all), the
// providers' totals over it, each cohort's table, and a chart of the binary
// reoffending rate by provider with the totals table as its text
// alternative.
type OutcomesView struct {
	// Cohorts lists every cohort, oldest first, for the cohort chooser.
	Cohorts []string
	// Cohort is the cohort shown, empty for all of them.
	Cohort string
	// ByProvider is each provider's figures over the cohort(s) shown.
	ByProvider []OutcomeRow
	// ByCohort is every cohort shown, oldest first: with no cohort chosen,
	// the RecentCohorts most recent, so that the page stays a page (each
	// cohort is a table with a row per provider); Earlier counts the others,
	// which the cohort chooser and the CSV download still reach.
	ByCohort []CohortTable
	Earlier  int
	Chart    BarChart
}

// RecentCohorts is how many cohort tables the outcomes page shows when no
// cohort is chosen.
const RecentCohorts = 4

// Outcomes builds the outcomes view of cohort ("2021-Q3"), or of every
// cohort when it is empty. A cohort the ledger does not have is an
// *InputError. Outcomes are counts, with no person in them, so the read is
// not recorded in the access log (as in the HTTP API).
func (i *Inspector) Outcomes(ctx context.Context, p auth.Principal, cohort string) (OutcomesView, error) {
	if !Allowed(p) {
		return OutcomesView{}, auth.ErrForbidden
	}
	cs, err := projections.Outcomes(i.cfg.Runner, i.cfg.Clock())
	if err != nil {
		return OutcomesView{}, fmt.Errorf("inspect: outcomes: %w", err)
	}
	return buildOutcomes(cs, cohort)
}

// Cohorts are the cohorts of Outcomes as the read model holds them, for the
// CSV download.
func (i *Inspector) Cohorts(ctx context.Context, p auth.Principal) ([]projections.CohortOutcome, error) {
	if !Allowed(p) {
		return nil, auth.ErrForbidden
	}
	cs, err := projections.Outcomes(i.cfg.Runner, i.cfg.Clock())
	if err != nil {
		return nil, fmt.Errorf("inspect: outcomes: %w", err)
	}
	return cs, nil
}

// buildOutcomes groups the read model's cohorts (ordered by cohort, then
// provider) into the view.
func buildOutcomes(cs []projections.CohortOutcome, cohort string) (OutcomesView, error) {
	v := OutcomesView{Cohort: cohort, Cohorts: []string{}, ByProvider: []OutcomeRow{}, ByCohort: []CohortTable{}}
	byProvider := map[string]*OutcomeRow{}
	for _, c := range cs {
		if len(v.Cohorts) == 0 || v.Cohorts[len(v.Cohorts)-1] != c.Cohort {
			v.Cohorts = append(v.Cohorts, c.Cohort)
		}
		if cohort != "" && c.Cohort != cohort {
			continue
		}
		if n := len(v.ByCohort); n == 0 || v.ByCohort[n-1].Cohort != c.Cohort {
			v.ByCohort = append(v.ByCohort, CohortTable{Cohort: c.Cohort, Start: c.Start, End: c.End, FinalFrom: c.FinalFrom,
				Total: OutcomeRow{Provider: "All providers", Cohort: c.Cohort}})
		}
		t := &v.ByCohort[len(v.ByCohort)-1]
		row := OutcomeRow{Provider: string(c.Provider), Cohort: c.Cohort}
		row.add(c)
		t.Rows = append(t.Rows, row)
		t.Total.add(c)
		t.Provisional = t.Provisional || c.Provisional
		if t.FinalFrom.Before(c.FinalFrom) {
			t.FinalFrom = c.FinalFrom
		}
		pr := byProvider[row.Provider]
		if pr == nil {
			pr = &OutcomeRow{Provider: row.Provider}
			byProvider[row.Provider] = pr
		}
		pr.add(c)
	}
	if cohort != "" && !slices.Contains(v.Cohorts, cohort) {
		return OutcomesView{}, inputError("cohort", "Choose a cohort from the list")
	}
	if cohort == "" && len(v.ByCohort) > RecentCohorts {
		v.Earlier = len(v.ByCohort) - RecentCohorts
		v.ByCohort = v.ByCohort[v.Earlier:]
	}
	for _, r := range byProvider {
		v.ByProvider = append(v.ByProvider, *r)
	}
	slices.SortFunc(v.ByProvider, func(a, b OutcomeRow) int { return cmp.Compare(a.Provider, b.Provider) })
	which := "all release cohorts"
	if cohort != "" {
		which = "the " + cohort + " release cohort"
	}
	v.Chart = BarChart{
		ID:    "outcomes-chart",
		Title: "Binary reoffending rate by provider, " + which,
		Desc: "Horizontal bar chart of the share of each provider's released people who committed a proven reoffence " +
			"that counts. Hatched bars are provisional figures. The table below the chart gives the same figures.",
		Max: 1,
	}
	for _, r := range v.ByProvider {
		b := Bar{Label: r.Provider, Value: r.BinaryRate, Text: Percent(r.BinaryRate)}
		// Provisional figures are hatched (the caption says so), which keeps
		// the text beside a bar short enough to read on a phone.
		b.Hatched = r.Provisional
		v.Chart.Bars = append(v.Chart.Bars, b)
	}
	return v, nil
}

// ProviderName is the provider as people know it ("NPS Yorkshire and the
// Humber", "Northumbria CRC"), its code for one the ledger has no name for.
func (r OutcomeRow) ProviderName() string { return aggregates.Org(r.Provider).Name() }

// BinaryPercent is the binary rate as the pages show it: "12.5%".
func (r OutcomeRow) BinaryPercent() string { return Percent(r.BinaryRate) }

// FrequencyText is the frequency rate as the pages show it, "1.50", or
// "none" when nobody reoffended.
func (r OutcomeRow) FrequencyText() string {
	if r.Reoffenders == 0 {
		return "none"
	}
	return fmt.Sprintf("%.2f", r.FrequencyRate)
}

// Percent shows a rate as the pages do: "12.5%".
func Percent(rate float64) string {
	return fmt.Sprintf("%.1f%%", rate*100)
}
