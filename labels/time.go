package labels

import (
	"time"

	"github.com/gateledger/gateledger/aggregates"
)

// When is an instant for people: UK local time, GOV.UK style, "1 December
// 2026, 9:00am" (midday is "12:00pm"). The zero time is "".
func When(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	l := t.In(aggregates.UK)
	suffix := "am"
	if l.Hour() >= 12 {
		suffix = "pm"
	}
	return l.Format("2 January 2006, 3:04") + suffix
}

// Date is a calendar date for people: "1 December 2026". The zero date is "".
func Date(d aggregates.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.Time().Format("2 January 2006")
}

// Day is the UK calendar date of an instant, for people: "1 December 2026".
func Day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(aggregates.UK).Format("2 January 2006")
}
