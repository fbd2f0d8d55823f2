package projections

import (
	"slices"
	"testing"

	"github.com/gateledger/gateledger/aggregates"
)

func TestPeopleWithCRN(t *testing.T) {
	w := newWorld(t)
	a := planJourney(w)
	b := policyChangeJourney(w) // seen by two organisations while the handover is open
	w.do(a, "MDI", aggregates.LinkCRN{CRN: "X123456", At: day(2024, 6, 5, 10)})
	w.do(b, "C05", aggregates.LinkCRN{CRN: "X654321", At: day(2021, 7, 21, 9)})
	w.sync(w.r)
	for _, tc := range []struct {
		crn  string
		want []string
	}{
		{"X123456", []string{a}},
		{"X654321", []string{b}},
		{"X000000", nil},
		{"X12345", nil}, // a prefix is not a match
		{"", nil},
	} {
		got, err := PeopleWithCRN(w.r, tc.crn)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("PeopleWithCRN(%q) = %v, want %v", tc.crn, got, tc.want)
		}
	}
}

// TestPlanOf: the plan view of a folded journey is the plans read model's view of
// the same state, history apart.
func TestPlanOf(t *testing.T) {
	w := newWorld(t)
	noms := planJourney(w)
	w.sync(w.r)
	now := day(2024, 6, 21, 0)
	want, err := Plan(w.r, noms, now, w.policy)
	if err != nil {
		t.Fatal(err)
	}
	got := PlanOf(w.journey(noms), now, w.policy)
	if got.Revision != want.Revision || got.Plan != want.Plan || got.Custody != want.Custody || got.Prison != want.Prison ||
		got.Deadlines != want.Deadlines || !slices.Equal(got.Overdue, want.Overdue) || len(got.Pathways) != len(want.Pathways) {
		t.Fatalf("PlanOf %+v\nPlan %+v", got, want)
	}
	for i := range got.Pathways {
		g, x := got.Pathways[i], want.Pathways[i]
		if g.Pathway != x.Pathway || g.PathwayState != x.PathwayState || len(g.Actions) != len(x.Actions) {
			t.Errorf("pathway %d: %+v, want %+v", i, g, x)
		}
		for k := range g.Actions {
			if g.Actions[k].Action != x.Actions[k].Action || g.Actions[k].Overdue != x.Actions[k].Overdue {
				t.Errorf("action %+v, want %+v", g.Actions[k], x.Actions[k])
			}
		}
	}
}
