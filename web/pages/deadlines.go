package pages

import (
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/labels"
	"github.com/gateledger/gateledger/projections"
)

// DueSoon is how close a deadline must be to be highlighted as due soon.
const DueSoon = 3 * 24 * time.Hour

// deadline is one deadline as a page shows it.
type deadline struct {
	// Label names it ("Screening due").
	Label string
	Due   time.Time
	// DueDate is Due for people to read.
	DueDate string
	Met     bool
	// Tag highlights an overdue deadline (red) or one due within DueSoon
	// (orange); nil otherwise.
	Tag *tag
}

// tag is a GOV.UK tag.
type tag struct {
	Text, Class string
}

var (
	tagOverdue = &tag{Text: "Overdue", Class: "govuk-tag--red"}
	tagDueSoon = &tag{Text: "Due soon", Class: "govuk-tag--orange"}
	tagMet     = &tag{Text: "Done", Class: "govuk-tag--green"}
)

// newDeadline describes a deadline at now: overdue when the read model says
// so (it knows which deadlines still matter), due soon within DueSoon.
func newDeadline(label string, d projections.DeadlineView, now time.Time) deadline {
	out := deadline{Label: label, Due: d.Due, Met: d.Met}
	if !d.Due.IsZero() {
		out.DueDate = labels.When(d.Due)
	}
	switch {
	case d.Met:
		out.Tag = tagMet
	case d.Overdue:
		out.Tag = tagOverdue
	case !d.Due.IsZero() && d.Due.After(now) && d.Due.Sub(now) <= DueSoon:
		out.Tag = tagDueSoon
	}
	return out
}

// deadlines are the deadlines of a plan that apply, in journey order.
func deadlines(v projections.PlanView, now time.Time) []deadline {
	var out []deadline
	add := func(label string, d projections.DeadlineView) {
		if !d.Due.IsZero() {
			out = append(out, newDeadline(label, d, now))
		}
	}
	add("Screening due", v.Deadlines.Screening)
	add("Plan due", v.Deadlines.Plan)
	if !v.Deadlines.PreReleaseWindowOpens.IsZero() && v.Custody == aggregates.InCustody {
		w := projections.DeadlineView{Due: v.Deadlines.PreReleaseWindowOpens, Met: v.Deadlines.InPreReleaseWindow}
		d := newDeadline("Pre-release window opens", w, now)
		if d.Met {
			d.Tag = &tag{Text: "Open", Class: "govuk-tag--blue"}
		}
		out = append(out, d)
	}
	add("Handover decision due", v.Deadlines.Handover)
	add("Supervision ends", v.Deadlines.SupervisionEnds)
	return out
}

// nextDeadline is the first deadline still to meet: overdue ones first,
// then the earliest due. ok is false when none is open.
func nextDeadline(v projections.PlanView, now time.Time) (deadline, bool) {
	var best deadline
	found := false
	for _, d := range deadlines(v, now) {
		if d.Met {
			continue
		}
		better := !found || (d.Tag == tagOverdue && best.Tag != tagOverdue) ||
			((d.Tag == tagOverdue) == (best.Tag == tagOverdue) && d.Due.Before(best.Due))
		if better {
			best, found = d, true
		}
	}
	return best, found
}
