package inspect

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/folds"
	"github.com/gateledger/gateledger/labels"
	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/web/export"
)

// AsAtQuery says which past state to show: the end of a day (Date), or just
// after the event at a $all position (Position). Exactly one is set.
type AsAtQuery struct {
	Date     aggregates.Date
	Position uint64
}

// earliestYear bounds the dates an inspector may ask about: the ledger
// records nothing before the Transforming Rehabilitation reforms.
const earliestYear = 2000

// ParseDate reads the three fields of a GOV.UK date input. Each field may
// have spaces around it; the month may be a number or a month's name or its
// first three letters. Errors name the field to link to from the error
// summary (prefix + "-day", "-month" or "-year", or prefix for the whole
// date) and say what to fix, as the GOV.UK pattern asks. A date after today
// (in loc) is refused: nothing is known of the future.
func ParseDate(prefix, day, month, year string, today aggregates.Date) (aggregates.Date, error) {
	day, month, year = strings.TrimSpace(day), strings.TrimSpace(month), strings.TrimSpace(year)
	var missing []string
	for _, f := range []struct{ name, v string }{{"day", day}, {"month", month}, {"year", year}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	switch len(missing) {
	case 3:
		return aggregates.Date{}, inputError(prefix+"-day", "Enter the date to see the plan as it was")
	case 2:
		return aggregates.Date{}, inputError(prefix+"-"+missing[0], "The date must include a "+missing[0]+" and a "+missing[1])
	case 1:
		return aggregates.Date{}, inputError(prefix+"-"+missing[0], "The date must include a "+missing[0])
	}
	d, derr := strconv.Atoi(day)
	m, merr := parseMonth(month)
	y, yerr := strconv.Atoi(year)
	switch {
	case derr != nil || len(day) > 2:
		return aggregates.Date{}, inputError(prefix+"-day", "The day must be a number, like 27")
	case merr != nil:
		return aggregates.Date{}, inputError(prefix+"-month", "The month must be a number from 1 to 12, or its name")
	case yerr != nil || len(year) != 4:
		return aggregates.Date{}, inputError(prefix+"-year", "The year must include 4 numbers, like 2024")
	}
	if d < 1 || d > 31 {
		return aggregates.Date{}, inputError(prefix+"-day", "The day must be between 1 and 31")
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return aggregates.Date{}, inputError(prefix+"-day", fmt.Sprintf("%s %d has only %d days", time.Month(m), y,
			time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()))
	}
	date := aggregates.NewDate(y, time.Month(m), d)
	switch {
	case y < earliestYear:
		return aggregates.Date{}, inputError(prefix+"-year", fmt.Sprintf("The year must be %d or later", earliestYear))
	case date.After(today):
		return aggregates.Date{}, inputError(prefix, "The date must be today or in the past")
	}
	return date, nil
}

var monthNames = func() map[string]int {
	m := map[string]int{}
	for k := time.January; k <= time.December; k++ {
		name := strings.ToLower(k.String())
		m[name], m[name[:3]] = int(k), int(k)
	}
	m["sept"] = 9
	return m
}()

func parseMonth(s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil && len(s) <= 2 {
		if n < 1 || n > 12 {
			return 0, errors.New("month out of range")
		}
		return n, nil
	}
	if n, ok := monthNames[strings.ToLower(s)]; ok {
		return n, nil
	}
	return 0, errors.New("not a month")
}

// ParsePosition reads an as-at position (a link from the timeline).
func ParsePosition(s string) (uint64, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil || n == 0 {
		return 0, inputError("position", "The position must be a whole number greater than 0")
	}
	return n, nil
}

// AsAtView is a person's journey and plan as the ledger knew them at a past
// moment.
type AsAtView struct {
	NOMS string
	// Query is what was asked; At the moment it stands for (the end of the
	// day in the Inspector's location, or the event's recorded time).
	Query AsAtQuery
	At    time.Time
	// Known is false when the ledger knew nothing of the person then; the
	// rest is then empty.
	Known bool
	// Events counts the events known by then, of Total.
	Events int
	Total  int
	// LastEvent is the last event known by then.
	LastEvent *TimelineItem
	Person    PersonSummary
	Plan      projections.PlanView
	// Deadlines are the plan's deadlines as they stood, in journey order.
	Deadlines []DeadlineRow
}

// DeadlineRow is one deadline as the pages list it.
type DeadlineRow struct {
	// Name says which, in words ("Screening").
	Name    string
	Due     time.Time
	Met     bool
	Overdue bool
}

func deadlineRows(d projections.DeadlinesView) []DeadlineRow {
	out := make([]DeadlineRow, 0, 4)
	for _, x := range []struct {
		name string
		d    projections.DeadlineView
	}{{"Screening", d.Screening}, {"Plan", d.Plan}, {"Handover", d.Handover}, {"Supervision ends", d.SupervisionEnds}} {
		out = append(out, DeadlineRow{Name: x.name, Due: x.d.Due, Met: x.d.Met, Overdue: x.d.Overdue})
	}
	return out
}

// AsAt folds the person's events as the ledger knew them at the end of
// q.Date (in the Inspector's location), or up to and including the event at
// q.Position, and derives the plan with its deadlines as they stood then.
// The read is recorded as a read of the plan.
func (i *Inspector) AsAt(ctx context.Context, p auth.Principal, noms string, q AsAtQuery) (AsAtView, error) {
	if (q.Date.IsZero()) == (q.Position == 0) {
		return AsAtView{}, inputError("as-at-day", "Enter the date to see the plan as it was")
	}
	return read(ctx, i, p, noms, accessPlan, projections.AuditName, func(eventlog.JourneyStream) (AsAtView, error) {
		return i.asAt(ctx, noms, q)
	})
}

// asAt builds AsAt's view.
func (i *Inspector) asAt(ctx context.Context, noms string, q AsAtQuery) (AsAtView, error) {
	entries, err := projections.Trail(i.cfg.Runner, noms)
	if err != nil {
		return AsAtView{}, fmt.Errorf("inspect: trail of %s: %w", noms, err)
	}
	v := AsAtView{NOMS: noms, Query: q, Total: len(entries)}
	var j aggregates.Journey
	var last *projections.AuditEntry
	if !q.Date.IsZero() {
		d := q.Date
		next := time.Date(d.Year, d.Month, d.Day+1, 0, 0, 0, 0, i.cfg.Location)
		v.At = next.Add(-time.Nanosecond)
		for k := range entries {
			if known := knownAt(entries[k]); !known.After(v.At) {
				last = &entries[k]
				v.Events++
			}
		}
		j, err = folds.AsAt(ctx, i.cfg.Store.Client, noms, v.At)
	} else {
		for k := range entries {
			if entries[k].Position <= q.Position {
				last = &entries[k]
				v.Events++
			}
		}
		if last != nil {
			v.At = knownAt(*last)
		}
		j, err = folds.AsAtPosition(ctx, i.cfg.Store.Client, noms, q.Position)
	}
	switch {
	case errors.Is(err, folds.ErrNoEvents):
	case err != nil:
		return AsAtView{}, fmt.Errorf("inspect: %s as at: %w", noms, err)
	}
	v.At = inLoc(v.At, i.cfg.Location)
	if last == nil || j.Version == 0 {
		v.Events = 0
		return v, nil
	}
	v.Known = true
	item := TimelineItem{Position: last.Position, Revision: last.Revision, Type: last.Type, Title: labels.EventType(last.Type),
		OccurredAt: inLoc(last.OccurredAt, i.cfg.Location), RecordedAt: inLoc(knownAt(*last), i.cfg.Location),
		UserID: last.UserID, Who: i.who(last.UserID), Role: last.Role, Organisation: last.Organisation, Source: string(last.Source)}
	v.LastEvent = &item
	v.Person = PersonSummary{NOMS: noms, CRN: j.CRN, PNC: j.PNC, Custody: string(j.Custody), Prison: j.Prison,
		Responsible: string(j.Responsible()), ReleaseArea: j.ReleaseArea, Closed: j.Closed, Revision: int64(j.Version) - 1,
		Events: j.Version}
	now := v.At
	if q.Position != 0 {
		now = knownAt(*last)
	}
	v.Plan = projections.PlanOf(j, now, i.cfg.Policy)
	v.Plan.NOMS = noms
	v.Deadlines = deadlineRows(v.Plan.Deadlines)
	return v, nil
}

// knownAt is when the ledger learned of an audited event, as
// folds.AsAt decides it.
func knownAt(e projections.AuditEntry) time.Time { return export.EntryOf(e).KnownAt() }
