package aggregates

import "time"

// WorkingDays is a calendar of working days. The calendar package implements
// it for England and Wales; the interface lives here so that the aggregate
// imports nothing of ours.
type WorkingDays interface {
	// IsWorkingDay reports whether t's date is a working day.
	IsWorkingDay(t time.Time) bool
	// AddWorkingDays returns the same clock time n working days after t.
	AddWorkingDays(t time.Time, n int) time.Time
}

// Policy holds the parameters of the rules that have changed over time or
// are not confirmed in a primary source (domain.md "policy parameter").
type Policy struct {
	// ScreeningWindow: Basic Custody Screening part 1 is due this long after
	// reception (through-the-gate specification: 72 hours).
	ScreeningWindow time.Duration
	// PlanWorkingDays: the resettlement plan (screening part 2) is due this
	// many working days after part 1 (CRC specification as widely cited: 5;
	// not confirmed in a primary source).
	PlanWorkingDays int
	// PreReleaseDays: the pre-release window opens this many days before the
	// displayed release date (12 weeks).
	PreReleaseDays int
	// SupervisionMonths: supervision lasts this many months from release
	// (Offender Rehabilitation Act 2014, s.2: at least 12).
	SupervisionMonths int
	// HandoverWorkingDays: due date of a handover the aggregate requests
	// itself (risk escalation, change of release area, release). A local
	// choice, not from a source.
	HandoverWorkingDays int
	// ReoffenceMonths and ConvictionWaitMonths define proven reoffending: an
	// offence within ReoffenceMonths of release, convicted within a further
	// ConvictionWaitMonths.
	ReoffenceMonths      int
	ConvictionWaitMonths int
	// ClockSkew is how far in the future of now an occurredAt may be before
	// it is refused as a future date: feed clocks and ours differ.
	ClockSkew time.Duration
	// EarliestFact is the first UK date a fact may be dated: Gateledger
	// records journeys under the organisations of 1 June 2014 onwards (the
	// NPS/CRC split), so an earlier date is a typing or feed error (a
	// reception "in 1901"), refused with rule "plausible-dates". The zero Date
	// turns the check off. The other end of the range is now plus ClockSkew.
	EarliestFact Date
	// Calendar decides working days.
	Calendar WorkingDays
	// Allocation decides who should be responsible at a given date.
	Allocation AllocationPolicy
}

// DefaultPolicy is the policy of domain.md with cal as its calendar. A nil
// cal counts only weekends as non-working days.
func DefaultPolicy(cal WorkingDays) Policy {
	if cal == nil {
		cal = WeekendsOnly{}
	}
	return Policy{
		ScreeningWindow:      72 * time.Hour,
		PlanWorkingDays:      5,
		PreReleaseDays:       84,
		SupervisionMonths:    12,
		HandoverWorkingDays:  5,
		ReoffenceMonths:      12,
		ConvictionWaitMonths: 6,
		ClockSkew:            5 * time.Minute,
		EarliestFact:         NewDate(2014, time.June, 1),
		Calendar:             cal,
		Allocation:           DefaultAllocation(),
	}
}

// WeekendsOnly is a calendar without holidays, for tests and as a fallback.
type WeekendsOnly struct{}

// IsWorkingDay reports whether t falls Monday to Friday.
func (WeekendsOnly) IsWorkingDay(t time.Time) bool {
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// AddWorkingDays counts n weekdays after t.
func (w WeekendsOnly) AddWorkingDays(t time.Time, n int) time.Time {
	for n > 0 {
		t = t.AddDate(0, 0, 1)
		if w.IsWorkingDay(t) {
			n--
		}
	}
	return t
}
