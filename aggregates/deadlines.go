package aggregates

import "time"

// Deadline is one derived due time. Due is zero when the deadline does not
// apply yet (no reception, no release date, ...).
type Deadline struct {
	Name string    `json:"name"`
	Due  time.Time `json:"due,omitzero"`
	// Met reports whether what was due has happened (and then MetAt when).
	Met   bool      `json:"met"`
	MetAt time.Time `json:"metAt,omitzero"`
}

// Applies reports whether the deadline has a due time.
func (d Deadline) Applies() bool { return !d.Due.IsZero() }

// Overdue reports whether the deadline applies, is not met and is past at now.
func (d Deadline) Overdue(now time.Time) bool {
	return d.Applies() && !d.Met && now.After(d.Due)
}

// Deadlines are the journey's due times, derived from its events and a
// Policy; none of them is stored.
type Deadlines struct {
	// Screening: Basic Custody Screening part 1, ScreeningWindow after the
	// current reception.
	Screening Deadline `json:"screening"`
	// Plan: the resettlement plan, PlanWorkingDays working days after
	// screening part 1 (or, for a remand prisoner sentenced later, after the
	// sentence); none on remand or for a sentence over 4 years (PlanDue).
	Plan Deadline `json:"plan"`
	// Handover: the due date of the open handover, if any.
	Handover Deadline `json:"handover"`
	// ReleaseDate is the displayed release date (first present of confirmed
	// release, actual parole, HDC actual, conditional release, automatic
	// release).
	ReleaseDate Date `json:"releaseDate,omitzero"`
	// PreReleaseWindowOpens is PreReleaseDays before ReleaseDate (midnight
	// UTC of that date); zero when there is no release date.
	PreReleaseWindowOpens time.Time `json:"preReleaseWindowOpens,omitzero"`
	// SupervisionEnds is when supervision after release ends
	// (SupervisionAfterRelease); it does not apply when none follows the
	// release or it has no computed end. Met once the journey is closed.
	SupervisionEnds Deadline `json:"supervisionEnds"`
	// InCustody and Closed say which deadlines can still be acted on:
	// screening and plan only in custody, nothing once closed.
	InCustody bool `json:"inCustody"`
	Closed    bool `json:"closed"`
}

// Overdue lists the deadlines that are overdue at now and can still be
// acted on, in journey order. A missed screening stays visible in Screening
// after release; it just stops being a task.
func (d Deadlines) Overdue(now time.Time) []Deadline {
	if d.Closed {
		return nil
	}
	var out []Deadline
	live := []Deadline{d.Handover, d.SupervisionEnds}
	if d.InCustody {
		live = append([]Deadline{d.Screening, d.Plan}, live...)
	}
	for _, x := range live {
		if x.Overdue(now) {
			out = append(out, x)
		}
	}
	return out
}

// InPreReleaseWindow reports whether now is inside the pre-release window and
// the person is still in custody-facing time (before the release date).
func (d Deadlines) InPreReleaseWindow(now time.Time) bool {
	if d.PreReleaseWindowOpens.IsZero() {
		return false
	}
	return !now.Before(d.PreReleaseWindowOpens) && now.Before(d.ReleaseDate.Time().AddDate(0, 0, 1))
}

// Deadlines derives the journey's due times under policy p.
func (j Journey) Deadlines(p Policy) Deadlines {
	var d Deadlines
	d.Screening.Name = "screening"
	d.Plan.Name = "plan"
	d.Handover.Name = "handover"
	d.SupervisionEnds.Name = "supervisionEnds"
	d.InCustody, d.Closed = j.Custody == InCustody && !j.Closed, j.Closed
	if !j.ReceivedAt.IsZero() {
		d.Screening.Due = j.ReceivedAt.Add(p.ScreeningWindow)
		d.Screening.Met, d.Screening.MetAt = !j.ScreenedAt.IsZero(), j.ScreenedAt
	}
	if start, due := j.PlanDue(); due && !start.IsZero() {
		d.Plan.Due = p.Calendar.AddWorkingDays(start, p.PlanWorkingDays)
		d.Plan.Met, d.Plan.MetAt = j.Plan.Revision > 0, j.Plan.DraftedAt
	}
	if h := j.OpenHandover(); h != nil {
		d.Handover.Due = h.Due
	}
	if j.Custody == InCustody {
		d.ReleaseDate = j.ReleaseDates.Displayed()
		if !d.ReleaseDate.IsZero() {
			d.PreReleaseWindowOpens = d.ReleaseDate.AddDays(-p.PreReleaseDays).Time()
		}
	}
	if j.Custody == Released || (j.Closed && !j.ReleasedAt.IsZero()) {
		d.SupervisionEnds.Due = j.SupervisionEnd(p)
		d.SupervisionEnds.Met, d.SupervisionEnds.MetAt = j.Closed, j.ClosedAt
	}
	return d
}

// SupervisionEnd is when supervision ends for the current release: zero if
// the person has not been released, no supervision follows the release, or
// it has no end the ledger can compute (SupervisionAfterRelease).
func (j Journey) SupervisionEnd(p Policy) time.Time {
	return j.SupervisionAfterRelease(p).Ends
}
