package projections

import (
	"cmp"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/projections/readmodel"
)

// variedCaseload records n people received at Moorland, their case held by NPS-C, in every
// stage: some with CRNs, release dates or none, released, closed, or being handed on.
func variedCaseload(tb testing.TB, f *feeder, n int) []readmodel.Event {
	var evs []readmodel.Event
	for i := range n {
		noms := nomsFor(i)
		t := time.Date(2019, 1, 6, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)
		do := func(org string, c aggregates.Command) { evs = append(evs, f.cmd(tb, noms, org, c)...) }
		do("MDI", aggregates.ReceivePrisoner{NOMS: noms, Kind: aggregates.ReceptionSentence, Prison: "MDI", At: t})
		if i%4 != 0 {
			do("MDI", aggregates.CompleteScreening{At: t.Add(time.Hour)})
		}
		if i%6 != 0 {
			do("MDI", aggregates.SetReleaseDates{Dates: aggregates.ReleaseDates{ConditionalRelease: aggregates.NewDate(2019, time.Month(6+i%8), 1+i%27)}, At: t.Add(2 * time.Hour)})
		}
		if i%3 == 0 {
			do("MDI", aggregates.LinkCRN{CRN: fmt.Sprintf("X%06d", i), At: t.Add(3 * time.Hour)})
		}
		if i%5 == 1 {
			do("MDI", aggregates.IdentifyNeed{Pathway: aggregates.PathwayHealth, Description: "no GP", At: t.Add(4 * time.Hour)})
			do("MDI", aggregates.AgreeAction{ActionID: "a1", Pathway: aggregates.PathwayHealth, Description: "register with a GP",
				Due: aggregates.NewDate(2019, time.Month(3+i%10), 10), At: t.Add(4 * time.Hour)})
		}
		do("MDI", aggregates.ChangeReleaseArea{Area: "C05", At: t.Add(5 * time.Hour)})
		do("C05", aggregates.AcceptHandover{At: t.Add(6 * time.Hour)})
		switch {
		case i%7 == 0:
			do("C05", aggregates.CloseJourney{Reason: aggregates.CloseAdministrative, At: t.Add(7 * time.Hour)})
		case i%5 == 0:
			do("MDI", aggregates.ReleasePrisoner{Kind: aggregates.ReleaseOnLicence, Prison: "MDI", At: t.Add(48 * time.Hour)})
		case i%11 == 0:
			do("C05", aggregates.RequestHandover{To: "C06", Reason: "moved area", Due: t.Add(96 * time.Hour), At: t.Add(8 * time.Hour)})
		}
	}
	return evs
}

func pageRunner(t *testing.T) (*readmodel.Runner, *feeder) {
	t.Helper()
	r, err := readmodel.Open(filepath.Join(t.TempDir(), "page.db"), nil, quiet(), All(testPolicy())...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r, newFeeder(testPolicy())
}

// refMatch is the filter as a reader would state it, over the whole caseload.
func refMatch(f CaseFilter, c CaseRow, now time.Time) bool {
	if c.Stage == StageClosed && !f.IncludeClosed && !slices.Contains(f.Stages, StageClosed) {
		return false
	}
	if len(f.Stages) > 0 && !slices.Contains(f.Stages, c.Stage) {
		return false
	}
	if f.Attention != 0 && c.Attention&f.Attention == 0 {
		return false
	}
	if s := strings.ToUpper(f.Search); s != "" && !strings.Contains(c.NOMS, s) && !strings.Contains(c.CRN, s) {
		return false
	}
	d := f.Deadline
	if d.Overdue || d.Within > 0 {
		if c.NextDue.IsZero() {
			return false
		}
		overdue := c.NextDue.Before(now)
		soon := !overdue && !c.NextDue.After(now.Add(d.Within)) && d.Within > 0
		return (d.Overdue && overdue) || soon
	}
	return true
}

func refSortValue(s CaseSort, c CaseRow) int64 {
	switch s {
	case SortReleaseDate:
		if c.ReleaseDate.IsZero() {
			return math.MaxInt64
		}
		return int64(dateDays(c.ReleaseDate))
	case SortDeadline:
		if c.NextDue.IsZero() {
			return math.MaxInt64
		}
		return c.NextDue.UnixNano()
	}
	return 0
}

// reference answers a query from the whole caseload, filtered and sorted in memory.
func reference(t *testing.T, r *readmodel.Runner, q CaseQuery) []string {
	t.Helper()
	all, err := Caseload(r, q.Org, q.Now)
	if err != nil {
		t.Fatal(err)
	}
	var rows []CaseRow
	for _, c := range all {
		if refMatch(q.Filter, c, q.Now) {
			rows = append(rows, c)
		}
	}
	slices.SortFunc(rows, func(a, b CaseRow) int {
		return cmp.Or(cmp.Compare(refSortValue(q.Sort, a), refSortValue(q.Sort, b)), cmp.Compare(a.NOMS, b.NOMS))
	})
	if q.Desc {
		slices.Reverse(rows)
	}
	out := []string{}
	for _, c := range rows {
		out = append(out, c.NOMS)
	}
	return out
}

func nomsOf(rows []CaseRow) []string {
	out := []string{}
	for _, c := range rows {
		out = append(out, c.NOMS)
	}
	return out
}

// walk reads every page forwards with Next, then backwards with Prev from the last,
// and checks both cover want exactly once, in order, in pages of at most the limit.
func walk(t *testing.T, r *readmodel.Runner, q CaseQuery, want []string) {
	t.Helper()
	var pages [][]string
	var got []string
	p, err := CaseloadPage(r, q)
	for ; ; p, err = CaseloadPage(r, q) {
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Rows) > q.Limit {
			t.Fatalf("page of %d rows, limit %d", len(p.Rows), q.Limit)
		}
		if len(pages) == 0 && p.Prev != "" {
			t.Fatalf("the first page has a previous page")
		}
		pages = append(pages, nomsOf(p.Rows))
		got = append(got, nomsOf(p.Rows)...)
		if p.Next == "" {
			break
		}
		if len(p.Rows) != q.Limit {
			t.Fatalf("a page of %d rows before the last (limit %d)", len(p.Rows), q.Limit)
		}
		q.After, q.Before = p.Next, ""
		if len(pages) > len(want)+2 {
			t.Fatal("the walk does not end")
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("forward walk:\n got %v\nwant %v", got, want)
	}
	// Backwards from the last page: each Prev gives the page before, whole.
	for i := len(pages) - 1; p.Prev != ""; i-- {
		q.After, q.Before = "", p.Prev
		if p, err = CaseloadPage(r, q); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(nomsOf(p.Rows), pages[i-1]) {
			t.Fatalf("page %d backwards: got %v, want %v", i-1, nomsOf(p.Rows), pages[i-1])
		}
		if p.Next == "" {
			t.Fatalf("page %d backwards has no next page", i-1)
		}
	}
}

func TestCaseloadPage(t *testing.T) {
	r, f := pageRunner(t)
	applyDirect(t, r, variedCaseload(t, f, 240), 500)
	// Receptions run from 7 to 17 January: some deadlines have passed, some are to come.
	now := time.Date(2019, 1, 12, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		filter CaseFilter
		min    int // the reference must have at least this many rows: the case is real
	}{
		{"open cases", CaseFilter{}, 150},
		{"closed included", CaseFilter{IncludeClosed: true}, 240},
		{"closed only", CaseFilter{Stages: []Stage{StageClosed}}, 30},
		{"released", CaseFilter{Stages: []Stage{StageReleased}}, 20},
		{"custody or pre-release", CaseFilter{Stages: []Stage{StageCustody, StagePreRelease}}, 50},
		{"screening overdue", CaseFilter{Attention: AttnScreeningOverdue}, 10},
		{"handover or actions", CaseFilter{Attention: AttnHandoverOpen | AttnActionsOverdue}, 10},
		{"overdue", CaseFilter{Deadline: DeadlineFilter{Overdue: true}}, 10},
		{"due within 30 days", CaseFilter{Deadline: DeadlineFilter{Within: 30 * 24 * time.Hour}}, 3},
		{"overdue or due within 30 days", CaseFilter{Deadline: DeadlineFilter{Overdue: true, Within: 30 * 24 * time.Hour}}, 15},
		{"search number", CaseFilter{Search: "a001"}, 9},
		{"search CRN", CaseFilter{Search: "x0001", IncludeClosed: true}, 5},
		{"search one", CaseFilter{Search: nomsFor(3)}, 1},
		{"nobody", CaseFilter{Search: "Z9"}, 0},
	}
	for _, tc := range tests {
		for _, s := range []CaseSort{SortNOMS, SortReleaseDate, SortDeadline} {
			for _, desc := range []bool{false, true} {
				for _, limit := range []int{1, 7, 50} {
					if limit == 1 && (desc || s != SortNOMS) {
						continue // one-row pages once: the walk is long
					}
					t.Run(fmt.Sprintf("%s/%c/desc=%t/limit=%d", tc.name, s, desc, limit), func(t *testing.T) {
						q := CaseQuery{Org: "NPS-C", Now: now, Filter: tc.filter, Sort: s, Desc: desc, Limit: limit}
						want := reference(t, r, q)
						if len(want) < tc.min {
							t.Fatalf("%s: the reference has %d rows, want at least %d: the case tests nothing", tc.name, len(want), tc.min)
						}
						walk(t, r, q, want)
					})
				}
			}
		}
	}
}

// TestCaseloadPageIndexFollowsChanges: after release dates change, people are released,
// handed on and closed, the index orders by the new values and holds no stale entry.
func TestCaseloadPageIndexFollowsChanges(t *testing.T) {
	r, f := pageRunner(t)
	applyDirect(t, r, variedCaseload(t, f, 60), 100)
	var evs []readmodel.Event
	at := time.Date(2019, 5, 1, 9, 0, 0, 0, time.UTC)
	for i := 1; i < 60; i += 2 {
		noms := nomsFor(i)
		j := f.people[noms].j
		if j.Closed || j.Custody != aggregates.InCustody || j.OpenHandover() != nil {
			continue
		}
		evs = append(evs, f.cmd(t, noms, "MDI", aggregates.SetReleaseDates{Dates: aggregates.ReleaseDates{ConditionalRelease: aggregates.NewDate(2020, 1, 1+i%28)}, At: at})...)
		if i%3 == 0 {
			evs = append(evs, f.cmd(t, noms, "C05", aggregates.RequestHandover{To: "C06", Reason: "moved", Due: at.Add(72 * time.Hour), At: at})...)
			evs = append(evs, f.cmd(t, noms, "C06", aggregates.AcceptHandover{At: at.Add(time.Hour)})...)
		}
	}
	applyDirect(t, r, evs, 7)
	now := time.Date(2019, 7, 1, 9, 0, 0, 0, time.UTC)
	for _, org := range []string{"NPS-C", "C05", "C06", "MDI"} {
		for _, s := range []CaseSort{SortNOMS, SortReleaseDate, SortDeadline} {
			q := CaseQuery{Org: org, Now: now, Filter: CaseFilter{IncludeClosed: true}, Sort: s, Limit: 9}
			walk(t, r, q, reference(t, r, q))
		}
	}
	// Every index entry names a row, and every row has one entry per order.
	var entries, rows int
	err := r.Dump(CaseloadName, func(path [][]byte, k, v []byte) {
		if len(path) == 1 && string(path[0]) == string(caseSorted) {
			entries++
		}
		if len(path) == 1 && string(path[0]) == string(caseRows) {
			rows++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if entries != rows*len(indexedSorts) {
		t.Fatalf("%d index entries for %d rows", entries, rows)
	}
}

func TestCaseloadPageRefusesForeignCursors(t *testing.T) {
	r, f := pageRunner(t)
	applyDirect(t, r, variedCaseload(t, f, 20), 100)
	now := time.Date(2019, 7, 1, 9, 0, 0, 0, time.UTC)
	p, err := CaseloadPage(r, CaseQuery{Org: "NPS-C", Now: now, Limit: 2})
	if err != nil || p.Next == "" {
		t.Fatalf("%v, next %q", err, p.Next)
	}
	for _, q := range []CaseQuery{
		{Org: "C05", Now: now, Sort: SortReleaseDate, After: p.Next},
		{Org: "C05", Now: now, Desc: true, After: p.Next},
		{Org: "C05", Now: now, After: "not a cursor"},
		{Org: "C05", Now: now, After: p.Next, Before: p.Next},
	} {
		if _, err := CaseloadPage(r, q); err == nil {
			t.Errorf("%+v: no error", q)
		}
	}
	// An organisation with no cases has an empty page, not nil.
	if p, err := CaseloadPage(r, CaseQuery{Org: "C99", Now: now}); err != nil || p.Rows == nil || len(p.Rows) != 0 || p.Next != "" {
		t.Fatalf("%+v, %v", p, err)
	}
}
