package aggregates

import "testing"

func TestPlan(t *testing.T) {
	in := []Event{received(t0)}
	scr := with(in, screened(h(10)))
	pl := with(scr, drafted(h(20)))
	runGWT(t, []gwt{
		{name: "drafted", given: scr, when: DraftPlan{Summary: "plan", At: h(20)}, then: []Event{drafted(h(20))}},
		{name: "no plan before screening", given: in, when: DraftPlan{Summary: "plan", At: h(20)}, err: ErrNoScreening},
		{name: "no plan before reception", when: DraftPlan{Summary: "plan", At: h(20)}, err: ErrNotReceived},
		{name: "one draft", given: pl, when: DraftPlan{Summary: "again", At: h(21)}, err: ErrPlanExists},
		{name: "draft before screening time", given: scr, when: DraftPlan{Summary: "plan", At: h(5)}, err: ErrDateOrder},
		{name: "summary required", given: scr, when: DraftPlan{At: h(20)}, err: ErrInvalidValue},
		{name: "after release", given: with(scr, released(h(15))), when: DraftPlan{Summary: "plan", At: h(20)}, err: ErrReleased},
		{name: "closed", given: with(scr, closed(h(15))), when: DraftPlan{Summary: "plan", At: h(20)}, err: ErrClosed},
		{name: "recall needs a new screening", given: with(pl, released(h(30)), received(h(40))),
			when: DraftPlan{Summary: "plan", At: h(50)}, err: ErrNoScreening},
		{name: "revised", given: pl, when: RevisePlan{Summary: "v2", Reason: "housing found", At: h(30)},
			then: []Event{ResettlementPlanRevised{Revision: 2, Summary: "v2", Reason: "housing found", At: h(30)}}},
		{name: "revised after release", given: with(pl, released(h(25))), when: RevisePlan{Summary: "v2", Reason: "r", At: h(30)},
			then: []Event{ResettlementPlanRevised{Revision: 2, Summary: "v2", Reason: "r", At: h(30)}}},
		{name: "revise needs plan", given: scr, when: RevisePlan{Summary: "v2", Reason: "r", At: h(30)}, err: ErrNoPlan},
		{name: "revise needs reason", given: pl, when: RevisePlan{Summary: "v2", At: h(30)}, err: ErrReasonRequired},
		{name: "revise before draft", given: pl, when: RevisePlan{Summary: "v2", Reason: "r", At: h(19)}, err: ErrDateOrder},
		{name: "revise needs summary", given: pl, when: RevisePlan{Reason: "r", At: h(30)}, err: ErrInvalidValue},
	})
}

func TestPathways(t *testing.T) {
	in := []Event{received(t0)}
	need := with(in, PathwayNeedIdentified{Pathway: PathwayAccommodation, Description: "no fixed abode", At: h(1)})
	runGWT(t, []gwt{
		{name: "need identified", given: in, when: IdentifyNeed{Pathway: PathwayAccommodation, Description: "no fixed abode", At: h(1)},
			then: []Event{PathwayNeedIdentified{Pathway: PathwayAccommodation, Description: "no fixed abode", At: h(1)}}},
		{name: "open need twice", given: need, when: IdentifyNeed{Pathway: PathwayAccommodation, Description: "x", At: h(2)}, err: ErrNeedExists},
		{name: "unknown pathway", given: in, when: IdentifyNeed{Pathway: "HOUSING", Description: "x", At: h(2)}, err: ErrInvalidValue},
		{name: "need requires description", given: in, when: IdentifyNeed{Pathway: PathwayHealth, At: h(2)}, err: ErrInvalidValue},
		{name: "need requires reception", when: IdentifyNeed{Pathway: PathwayHealth, Description: "x", At: h(2)}, err: ErrNotReceived},
		{name: "in progress", given: need, when: ChangePathwayStatus{Pathway: PathwayAccommodation, Status: StatusInProgress, At: h(2)},
			then: []Event{PathwayStatusChanged{Pathway: PathwayAccommodation, From: StatusSupportRequired, To: StatusInProgress, At: h(2)}}},
		{name: "declined with reason", given: in, when: ChangePathwayStatus{Pathway: PathwayDrugsAlcohol, Status: StatusSupportDeclined, Reason: "refused", At: h(2)},
			then: []Event{PathwayStatusChanged{Pathway: PathwayDrugsAlcohol, From: StatusNotStarted, To: StatusSupportDeclined, Reason: "refused", At: h(2)}}},
		{name: "declined needs reason", given: in, when: ChangePathwayStatus{Pathway: PathwayDrugsAlcohol, Status: StatusSupportDeclined, At: h(2)}, err: ErrReasonRequired},
		{name: "not required needs reason", given: in, when: ChangePathwayStatus{Pathway: PathwayFinanceID, Status: StatusSupportNotRequired, At: h(2)}, err: ErrReasonRequired},
		{name: "unknown status", given: in, when: ChangePathwayStatus{Pathway: PathwayFinanceID, Status: "MAYBE", At: h(2)}, err: ErrInvalidValue},
		{name: "unchanged", given: need, when: ChangePathwayStatus{Pathway: PathwayAccommodation, Status: StatusSupportRequired, At: h(2)}, then: nil},
		{name: "closed", given: with(need, closed(h(2))), when: ChangePathwayStatus{Pathway: PathwayAccommodation, Status: StatusDone, At: h(3)}, err: ErrClosed},
		{name: "new need after done", given: with(need, PathwayStatusChanged{Pathway: PathwayAccommodation, From: StatusSupportRequired, To: StatusDone, At: h(2)}),
			when: IdentifyNeed{Pathway: PathwayAccommodation, Description: "evicted", At: h(3)},
			then: []Event{PathwayNeedIdentified{Pathway: PathwayAccommodation, Description: "evicted", At: h(3)}}},
	})
}

func TestActions(t *testing.T) {
	in := []Event{received(t0), PathwayNeedIdentified{Pathway: PathwayAccommodation, Description: "nfa", At: h(1)}}
	agreed := with(in, ActionAgreed{ActionID: "a1", Pathway: PathwayAccommodation, Description: "refer to council", Due: NewDate(2024, 7, 1), At: h(2)})
	done := with(agreed, ActionCompleted{ActionID: "a1", Outcome: "housed", At: h(3)})
	runGWT(t, []gwt{
		{name: "agreed", given: in, when: AgreeAction{ActionID: "a1", Pathway: PathwayAccommodation, Description: "refer to council", Due: NewDate(2024, 7, 1), At: h(2)},
			then: []Event{ActionAgreed{ActionID: "a1", Pathway: PathwayAccommodation, Description: "refer to council", Due: NewDate(2024, 7, 1), At: h(2)}}},
		{name: "needs a need", given: in, when: AgreeAction{ActionID: "a1", Pathway: PathwayHealth, Description: "x", At: h(2)}, err: ErrNoNeed},
		{name: "unique ids", given: agreed, when: AgreeAction{ActionID: "a1", Pathway: PathwayAccommodation, Description: "x", At: h(2)}, err: ErrActionExists},
		{name: "due before agreed", given: in, when: AgreeAction{ActionID: "a2", Pathway: PathwayAccommodation, Description: "x", Due: NewDate(2024, 1, 1), At: h(2)}, err: ErrDateOrder},
		{name: "bad id", given: in, when: AgreeAction{ActionID: "", Pathway: PathwayAccommodation, Description: "x", At: h(2)}, err: ErrInvalidIdentifier},
		{name: "bad pathway", given: in, when: AgreeAction{ActionID: "a2", Pathway: "X", Description: "x", At: h(2)}, err: ErrInvalidValue},
		{name: "needs description", given: in, when: AgreeAction{ActionID: "a2", Pathway: PathwayAccommodation, At: h(2)}, err: ErrInvalidValue},
		{name: "assigned to prison", given: agreed, when: AssignAction{ActionID: "a1", Owner: "MDI", At: h(3)},
			then: []Event{ActionAssigned{ActionID: "a1", Owner: "MDI", At: h(3)}}},
		{name: "assigned to provider", given: agreed, when: AssignAction{ActionID: "a1", Owner: "NPS-C", At: h(3)},
			then: []Event{ActionAssigned{ActionID: "a1", Owner: "NPS-C", At: h(3)}}},
		{name: "same owner", given: with(agreed, ActionAssigned{ActionID: "a1", Owner: "C05", At: h(3)}), when: AssignAction{ActionID: "a1", Owner: "C05", At: h(4)}, then: nil},
		{name: "bad owner", given: agreed, when: AssignAction{ActionID: "a1", Owner: "C22", At: h(3)}, err: ErrInvalidIdentifier},
		{name: "unknown action", given: agreed, when: AssignAction{ActionID: "a9", Owner: "C05", At: h(3)}, err: ErrUnknownAction},
		{name: "assign completed", given: done, when: AssignAction{ActionID: "a1", Owner: "C05", At: h(4)}, err: ErrActionCompleted},
		{name: "completed", given: agreed, when: CompleteAction{ActionID: "a1", Outcome: "housed", At: h(3)},
			then: []Event{ActionCompleted{ActionID: "a1", Outcome: "housed", At: h(3)}}},
		{name: "complete twice", given: done, when: CompleteAction{ActionID: "a1", Outcome: "again", At: h(4)}, err: ErrActionCompleted},
		{name: "complete needs outcome", given: agreed, when: CompleteAction{ActionID: "a1", At: h(4)}, err: ErrInvalidValue},
		{name: "complete before agreed", given: agreed, when: CompleteAction{ActionID: "a1", Outcome: "x", At: h(1)}, err: ErrDateOrder},
		{name: "complete unknown", given: agreed, when: CompleteAction{ActionID: "zz", Outcome: "x", At: h(4)}, err: ErrUnknownAction},
	})
}
