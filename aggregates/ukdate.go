package aggregates

import (
	"time"
	// The zone rules of Europe/London are compiled into the binary so that
	// the date of an instant is the same on every machine, with or without
	// an operating-system zoneinfo database (containers often have none).
	_ "time/tzdata"
)

// UK is the Europe/London zone: every date rule of the ledger (effective
// dates of organisations and allocation models, cohort quarters, deadlines
// counted in days, "today") uses the UK calendar date of an instant, because
// that is the date the people and documents involved use. A release at 23:30
// UTC on 25 June 2021 happened on 26 June 2021.
//
// It is loaded once, when the package is initialised, from the embedded
// database if the machine has none; Decide and Evolve never load anything.
// The embedded rules are those of the Go release the binary was built with;
// the UK rules for every date the ledger accepts (from 1 June 2014) are
// settled in every published version.
var UK = mustLoadUK()

func mustLoadUK() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		// Unreachable with time/tzdata linked in; a ledger that cannot tell
		// UK dates must not start.
		panic("aggregates: Europe/London: " + err.Error())
	}
	return loc
}

// StartOfDay is the instant the UK day d begins (midnight in London, which is
// 23:00 UTC the evening before during British Summer Time).
func (d Date) StartOfDay() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, UK).UTC()
}

// ukTime formats an instant for people, in UK local time, as GOV.UK writes
// it: "1 December 2026, 9:00am". It words rule errors. Every other reader
// uses labels.When; there are two because aggregates may import nothing of
// ours, and labels' tests (TestWhenAgreesWithAggregates) hold them to the
// same output.
func ukTime(t time.Time) string {
	if t.IsZero() {
		return "an unknown time"
	}
	l := t.In(UK)
	suffix := "am"
	if l.Hour() >= 12 {
		suffix = "pm"
	}
	return l.Format("2 January 2006, 3:04") + suffix
}

// ukDate formats a calendar date for people, as GOV.UK writes it: "1
// December 2026". ukTime and ukDate are the words of rule errors; package
// labels (which aggregates may not import) formats for every other reader,
// and its tests hold the two to the same output.
func ukDate(d Date) string {
	if d.IsZero() {
		return "an unknown date"
	}
	return d.Time().Format("2 January 2006")
}
