package aggregates

import (
	"time"
	_ "time/tzdata" // Europe/London without reading the host's zone files: the package stays pure
)

// london is the zone every date rule and message of the domain uses.
var london = mustLondon()

func mustLondon() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic("aggregates: Europe/London missing from the embedded zone database: " + err.Error())
	}
	return loc
}

// ukTime formats an instant for people, in UK local time, as GOV.UK writes
// it: "1 December 2026, 9:00am".
func ukTime(t time.Time) string {
	if t.IsZero() {
		return "an unknown time"
	}
	l := t.In(london)
	return l.Format("2 January 2006, 3:04") + map[bool]string{true: "pm", false: "am"}[l.Hour() >= 12]
}
