package projections

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/projections/readmodel"
)

// walkPages reads every page forwards with next, then backwards with prev from the
// last, and checks both cover want exactly once, in order, in pages of at most limit.
// read answers the page after (or before) a cursor: the rows' names and its cursors.
func walkPages(t *testing.T, limit int, want []string, read func(after, before string) ([]string, string, string, error)) {
	t.Helper()
	var pages [][]string
	var got []string
	rows, next, prev, err := read("", "")
	for {
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) > limit {
			t.Fatalf("page of %d rows, limit %d", len(rows), limit)
		}
		if len(pages) == 0 && prev != "" {
			t.Fatalf("the first page has a previous page")
		}
		pages = append(pages, rows)
		got = append(got, rows...)
		if next == "" {
			break
		}
		if len(rows) != limit {
			t.Fatalf("a page of %d rows before the last (limit %d)", len(rows), limit)
		}
		if len(pages) > len(want)+2 {
			t.Fatal("the walk does not end")
		}
		rows, next, prev, err = read(next, "")
	}
	if !slices.Equal(got, want) {
		t.Fatalf("forward walk:\n got %v\nwant %v", got, want)
	}
	for i := len(pages) - 1; prev != ""; i-- {
		if rows, next, prev, err = read("", prev); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rows, pages[i-1]) {
			t.Fatalf("page %d backwards: got %v, want %v", i-1, rows, pages[i-1])
		}
		if next == "" {
			t.Fatalf("page %d backwards has no next page", i-1)
		}
	}
}

// handoverTraffic: n people received at Moorland and handed to C05 (decided); then
// C05 hands some on to C06 or C07, which accept, reject or leave them open, some due
// before now and some after.
func handoverTraffic(tb testing.TB, f *feeder, n int) []readmodel.Event {
	var evs []readmodel.Event
	for i := range n {
		noms := nomsFor(i)
		t := time.Date(2019, 1, 6, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)
		do := func(org string, c aggregates.Command) { evs = append(evs, f.cmd(tb, noms, org, c)...) }
		do("MDI", aggregates.ReceivePrisoner{NOMS: noms, Kind: aggregates.ReceptionSentence, Prison: "MDI", At: t})
		do("MDI", aggregates.ChangeReleaseArea{Area: "C05", At: t.Add(time.Hour)})
		if i%4 == 3 {
			continue // left open with C05
		}
		do("C05", aggregates.AcceptHandover{At: t.Add(2 * time.Hour)})
		if i%3 == 0 {
			continue
		}
		to := aggregates.Org("C06")
		if i%2 == 0 {
			to = "C07"
		}
		do("C05", aggregates.RequestHandover{To: to, Reason: "moved area", Due: t.Add(time.Duration(24+i%200) * time.Hour), At: t.Add(3 * time.Hour)})
		switch i % 5 {
		case 0:
			do(string(to), aggregates.AcceptHandover{At: t.Add(4 * time.Hour)})
		case 1:
			do(string(to), aggregates.RejectHandover{Reason: "not ours", At: t.Add(4 * time.Hour)})
		}
	}
	return evs
}

// refHandovers answers a query from the whole queue, filtered and sorted in memory.
func refHandovers(t *testing.T, r *readmodel.Runner, q HandoverQuery) []string {
	t.Helper()
	all, err := Handovers(r, q.Org, q.Now)
	if err != nil {
		t.Fatal(err)
	}
	var rows []HandoverRow
	for _, h := range slices.Concat(all.Receiving, all.Sending) {
		f := q.Filter
		open := h.Status == aggregates.HandoverStatusOpen
		if (f.Direction != 0 && h.Direction != f.Direction) || (f.State == HandoverOpen && !open) ||
			(f.State == HandoverDecided && open) || (f.Overdue && !h.Overdue) ||
			!strings.Contains(h.NOMS, strings.ToUpper(f.Search)) {
			continue
		}
		rows = append(rows, h)
	}
	rank := func(h HandoverRow) int {
		n := 0
		if h.Direction == Sending {
			n += 2
		}
		if h.Status != aggregates.HandoverStatusOpen {
			n++
		}
		return n
	}
	slices.SortFunc(rows, func(a, b HandoverRow) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a.NOMS, b.NOMS), cmp.Compare(a.Seq, b.Seq))
	})
	return handoverNames(rows)
}

func handoverNames(rows []HandoverRow) []string {
	out := []string{}
	for _, h := range rows {
		out = append(out, fmt.Sprintf("%c/%s/%d/%s", h.Direction, h.NOMS, h.Seq, h.Status))
	}
	return out
}

func TestHandoversPage(t *testing.T) {
	r, f := pageRunner(t)
	applyDirect(t, r, handoverTraffic(t, f, 120), 300)
	now := time.Date(2019, 1, 14, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		org    string
		filter HandoverFilter
		min    int // the reference must hold at least this many: the case is real
	}{
		{"C05", HandoverFilter{}, 150},
		{"C05", HandoverFilter{Direction: Receiving}, 100},
		{"C05", HandoverFilter{Direction: Sending}, 50},
		{"C05", HandoverFilter{State: HandoverOpen}, 40},
		{"C05", HandoverFilter{State: HandoverDecided}, 100},
		{"C05", HandoverFilter{Direction: Sending, State: HandoverDecided}, 20},
		{"C05", HandoverFilter{Overdue: true}, 10},
		{"C05", HandoverFilter{Direction: Sending, Overdue: true}, 5},
		{"C05", HandoverFilter{Search: "a001"}, 10},
		{"C05", HandoverFilter{Search: nomsFor(7), Direction: Receiving}, 1},
		{"C06", HandoverFilter{}, 20},
		{"C07", HandoverFilter{State: HandoverOpen}, 5},
		{"MDI", HandoverFilter{}, 120},
		{"C05", HandoverFilter{Search: "Z9"}, 0},
		{"C99", HandoverFilter{}, 0},
	}
	for _, tc := range tests {
		for _, limit := range []int{1, 7, 50} {
			if limit == 1 && tc.min > 50 {
				continue // one-row pages for the short lists: the walk is long
			}
			t.Run(fmt.Sprintf("%s/%+v/limit=%d", tc.org, tc.filter, limit), func(t *testing.T) {
				q := HandoverQuery{Org: tc.org, Now: now, Filter: tc.filter, Limit: limit}
				want := refHandovers(t, r, q)
				if len(want) < tc.min {
					t.Fatalf("the reference has %d rows, want at least %d: the case tests nothing", len(want), tc.min)
				}
				walkPages(t, limit, want, func(after, before string) ([]string, string, string, error) {
					q.After, q.Before = after, before
					p, err := HandoversPage(r, q)
					return handoverNames(p.Rows), p.Next, p.Prev, err
				})
			})
		}
	}
	// A decision moves the row from the open range to the decided one: no stale row.
	all, _ := Handovers(r, "C05", now)
	var open []HandoverRow
	for _, h := range all.Receiving {
		if h.Status == aggregates.HandoverStatusOpen {
			open = append(open, h)
		}
	}
	if len(open) == 0 {
		t.Fatal("no open handover to C05")
	}
	applyDirect(t, r, f.cmd(t, open[0].NOMS, "C05", aggregates.AcceptHandover{At: now}), 10)
	after, _ := Handovers(r, "C05", now)
	if n, m := len(all.Receiving), len(after.Receiving); n != m || after.Open != all.Open-1 || after.Accepted != all.Accepted+1 {
		t.Fatalf("after a decision: %d rows (was %d), open %d (was %d)", m, n, after.Open, all.Open)
	}
	// Cursors of other lists, and nonsense, are refused.
	cp, err := CaseloadPage(r, CaseQuery{Org: "C05", Now: now, Limit: 1})
	if err != nil || cp.Next == "" {
		t.Fatalf("%v %q", err, cp.Next)
	}
	for _, q := range []HandoverQuery{
		{Org: "C05", After: cp.Next}, {Org: "C05", Before: "zzz"}, {Org: "C05", After: "x", Before: "y"},
		{Org: "C05", Filter: HandoverFilter{Direction: 'X'}},
	} {
		if _, err := HandoversPage(r, q); err == nil {
			t.Errorf("%+v: no error", q)
		}
	}
}

// cohortTraffic: n people received from 2015 on, each released a month later into
// the area of one of six companies, some reoffending: cohorts over many quarters.
func cohortTraffic(tb testing.TB, f *feeder, n int) []readmodel.Event {
	var evs []readmodel.Event
	for i := range n {
		noms := nomsFor(i)
		t := time.Date(2015, 1, 6, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * 5 * 24 * time.Hour)
		do := func(org string, c aggregates.Command) { evs = append(evs, f.cmd(tb, noms, org, c)...) }
		area := aggregates.Org(fmt.Sprintf("C%02d", 1+i%6))
		do("MDI", aggregates.ReceivePrisoner{NOMS: noms, Kind: aggregates.ReceptionSentence, Prison: "MDI", At: t})
		do("MDI", aggregates.ChangeReleaseArea{Area: string(area), At: t.Add(time.Hour)})
		do(string(area), aggregates.AcceptHandover{At: t.Add(2 * time.Hour)})
		do("MDI", aggregates.ReleasePrisoner{Kind: aggregates.ReleaseOnLicence, Prison: "MDI", At: t.Add(30 * 24 * time.Hour)})
	}
	return evs
}

func cohortNames(rows []CohortOutcome) []string {
	out := []string{}
	for _, c := range rows {
		out = append(out, c.Cohort+"/"+string(c.Provider))
	}
	return out
}

func TestOutcomesPage(t *testing.T) {
	r, f := pageRunner(t)
	applyDirect(t, r, cohortTraffic(t, f, 300), 500)
	now := time.Date(2021, 1, 1, 9, 0, 0, 0, time.UTC)
	all, err := Outcomes(r, now)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		filter CohortFilter
		min    int
	}{
		{CohortFilter{}, 90},
		{CohortFilter{Provider: "C03"}, 15},
		{CohortFilter{From: "2016-Q2"}, 50},
		{CohortFilter{To: "2016-Q2"}, 30},
		{CohortFilter{From: "2016-Q1", To: "2017-Q4", Provider: "C05"}, 8},
		{CohortFilter{From: "2016-Q3", To: "2016-Q3"}, 6},
		{CohortFilter{Provider: "C21"}, 0},
		{CohortFilter{From: "2030-Q1"}, 0},
	}
	for _, tc := range tests {
		var want []string
		for _, c := range all {
			if (tc.filter.Provider == "" || string(c.Provider) == tc.filter.Provider) &&
				(tc.filter.From == "" || c.Cohort >= tc.filter.From) && (tc.filter.To == "" || c.Cohort <= tc.filter.To) {
				want = append(want, c.Cohort+"/"+string(c.Provider))
			}
		}
		if len(want) < tc.min {
			t.Fatalf("%+v: the reference has %d rows, want at least %d", tc.filter, len(want), tc.min)
		}
		for _, limit := range []int{1, 7, 50} {
			t.Run(fmt.Sprintf("%+v/limit=%d", tc.filter, limit), func(t *testing.T) {
				walkPages(t, limit, want, func(after, before string) ([]string, string, string, error) {
					p, err := OutcomesPage(r, CohortQuery{Now: now, Filter: tc.filter, Limit: limit, After: after, Before: before})
					return cohortNames(p.Rows), p.Next, p.Prev, err
				})
			})
		}
	}
	hp, err := HandoversPage(r, HandoverQuery{Org: "MDI", Now: now, Limit: 1})
	if err != nil || hp.Next == "" {
		t.Fatalf("%v %q", err, hp.Next)
	}
	for _, q := range []CohortQuery{{After: hp.Next}, {Before: "zzz"}, {Filter: CohortFilter{From: "2021-Q5"}}} {
		if _, err := OutcomesPage(r, q); err == nil {
			t.Errorf("%+v: no error", q)
		}
	}
}
