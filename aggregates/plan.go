package aggregates

import "time"

func decideDraftPlan(j Journey, c DraftPlan, now time.Time, p Policy) ([]Event, error) {
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	if err := requireInCustody(j); err != nil {
		return nil, errorf(c, err)
	}
	if j.ScreenedAt.IsZero() {
		return nil, errorf(c, rule("plan-requires-screening", ErrNoScreening, "", "custody screening part 1 must be recorded first"))
	}
	if j.Plan.Revision > 0 {
		return nil, errorf(c, rule("one-plan-per-custody", ErrPlanExists, "", "drafted %s; revise it instead", ukTime(j.Plan.DraftedAt)))
	}
	if err := notBefore("At", at, j.ScreenedAt, "screening"); err != nil {
		return nil, errorf(c, err)
	}
	if err := required("Summary", c.Summary); err != nil {
		return nil, errorf(c, err)
	}
	return one(ResettlementPlanDrafted{Summary: c.Summary, At: at})
}

func decideRevisePlan(j Journey, c RevisePlan, now time.Time, p Policy) ([]Event, error) {
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	if err := requireOpen(j); err != nil {
		return nil, errorf(c, err)
	}
	if j.Plan.Revision == 0 {
		return nil, errorf(c, rule("revise-requires-plan", ErrNoPlan, "", "no plan drafted in this custody period"))
	}
	last := j.Plan.DraftedAt
	if j.Plan.RevisedAt.After(last) {
		last = j.Plan.RevisedAt
	}
	if err := notBefore("At", at, last, "the last plan revision"); err != nil {
		return nil, errorf(c, err)
	}
	if err := required("Summary", c.Summary); err != nil {
		return nil, errorf(c, err)
	}
	if c.Reason == "" {
		return nil, errorf(c, rule("revision-needs-reason", ErrReasonRequired, "Reason", "say why the plan changed"))
	}
	return one(ResettlementPlanRevised{Revision: j.Plan.Revision + 1, Summary: c.Summary, Reason: c.Reason, At: at})
}

func decideIdentifyNeed(j Journey, c IdentifyNeed, now time.Time, p Policy) ([]Event, error) {
	if !c.Pathway.Valid() {
		return nil, errorf(c, invalid("Pathway", "unknown pathway %q", c.Pathway))
	}
	if err := required("Description", c.Description); err != nil {
		return nil, errorf(c, err)
	}
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	if err := requireOpen(j); err != nil {
		return nil, errorf(c, err)
	}
	if s := j.Pathway(c.Pathway); s.Status == StatusSupportRequired || s.Status == StatusInProgress {
		return nil, errorf(c, rule("one-open-need-per-pathway", ErrNeedExists, "Pathway", "%s already has an open need: %s", c.Pathway, s.Need))
	}
	return one(PathwayNeedIdentified{Pathway: c.Pathway, Description: c.Description, At: at})
}

func decidePathwayStatus(j Journey, c ChangePathwayStatus, now time.Time, p Policy) ([]Event, error) {
	if !c.Pathway.Valid() {
		return nil, errorf(c, invalid("Pathway", "unknown pathway %q", c.Pathway))
	}
	if !c.Status.Valid() {
		return nil, errorf(c, invalid("Status", "unknown pathway status %q", c.Status))
	}
	if c.Status.NeedsReason() && c.Reason == "" {
		return nil, errorf(c, rule("declined-needs-reason", ErrReasonRequired, "Reason", "%s needs a reason", c.Status))
	}
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	if err := requireOpen(j); err != nil {
		return nil, errorf(c, err)
	}
	cur := j.Pathway(c.Pathway)
	if cur.Status == c.Status && cur.Reason == c.Reason {
		return nil, nil
	}
	return one(PathwayStatusChanged{Pathway: c.Pathway, From: cur.Status, To: c.Status, Reason: c.Reason, At: at})
}

func decideAgreeAction(j Journey, c AgreeAction, now time.Time, p Policy) ([]Event, error) {
	if err := checkID("actionId", c.ActionID); err != nil {
		return nil, errorf(c, err)
	}
	if !c.Pathway.Valid() {
		return nil, errorf(c, invalid("Pathway", "unknown pathway %q", c.Pathway))
	}
	if err := required("Description", c.Description); err != nil {
		return nil, errorf(c, err)
	}
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	if err := requireOpen(j); err != nil {
		return nil, errorf(c, err)
	}
	if j.Pathway(c.Pathway).Need == "" {
		return nil, errorf(c, rule("action-requires-need", ErrNoNeed, "Pathway", "no need identified on %s", c.Pathway))
	}
	if _, ok := j.Actions[c.ActionID]; ok {
		return nil, errorf(c, rule("action-ids-unique", ErrActionExists, "ActionID", "%s already agreed", c.ActionID))
	}
	if !c.Due.IsZero() && c.Due.Before(DateOf(at)) {
		return nil, errorf(c, rule("dates-in-order", ErrDateOrder, "Due", "due %s is before it was agreed %s", ukDate(c.Due), ukDate(DateOf(at))))
	}
	return one(ActionAgreed{ActionID: c.ActionID, Pathway: c.Pathway, Description: c.Description, Due: c.Due, At: at})
}

// openAction finds an action that can still change.
func (j Journey) openAction(id string) (Action, error) {
	a, ok := j.Actions[id]
	if !ok {
		return Action{}, rule("action-must-exist", ErrUnknownAction, "ActionID", "%q was never agreed", id)
	}
	if a.Completed() {
		return Action{}, rule("completed-actions-are-final", ErrActionCompleted, "ActionID", "%s completed %s", id, ukTime(a.CompletedAt))
	}
	return a, nil
}

func decideAssignAction(j Journey, c AssignAction, now time.Time, p Policy) ([]Event, error) {
	if err := validOrg("Owner", c.Owner); err != nil {
		return nil, errorf(c, err)
	}
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	if err := requireOpen(j); err != nil {
		return nil, errorf(c, err)
	}
	a, err := j.openAction(c.ActionID)
	if err != nil {
		return nil, errorf(c, err)
	}
	if a.Owner == c.Owner {
		return nil, nil
	}
	if err := checkHolder("Owner", j, c.Owner, at); err != nil {
		return nil, errorf(c, err)
	}
	return one(ActionAssigned{ActionID: c.ActionID, Owner: c.Owner, At: at})
}

func decideCompleteAction(j Journey, c CompleteAction, now time.Time, p Policy) ([]Event, error) {
	if err := required("Outcome", c.Outcome); err != nil {
		return nil, errorf(c, err)
	}
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	if err := requireOpen(j); err != nil {
		return nil, errorf(c, err)
	}
	a, err := j.openAction(c.ActionID)
	if err != nil {
		return nil, errorf(c, err)
	}
	if err := notBefore("At", at, a.AgreedAt, "the action was agreed"); err != nil {
		return nil, errorf(c, err)
	}
	return one(ActionCompleted{ActionID: c.ActionID, Outcome: c.Outcome, At: at})
}
