package calendar

import "time"

// EnglandAndWales is the working-day calendar of England and Wales: Monday
// to Friday except bank holidays. Dates are taken in Location, because a
// deadline falls on a day in England whatever the zone of the timestamp.
// The zero value uses UTC; pass Europe/London (loaded by the caller, who may
// do I/O) for exact answers near midnight in summer time.
type EnglandAndWales struct {
	Location *time.Location
}

// New returns the calendar reading dates in loc (UTC if nil).
func New(loc *time.Location) EnglandAndWales { return EnglandAndWales{Location: loc} }

func (c EnglandAndWales) in(t time.Time) time.Time {
	if c.Location == nil {
		return t.UTC()
	}
	return t.In(c.Location)
}

// IsWorkingDay reports whether t's date is a working day.
func (c EnglandAndWales) IsWorkingDay(t time.Time) bool {
	t = c.in(t)
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	y, m, d := t.Date()
	return !IsBankHoliday(y, m, d)
}

// AddWorkingDays returns the same wall-clock time n working days after t
// (counting from the day after t, so a Saturday screening counts Monday as
// day one). n <= 0 returns t unchanged. The result is in the calendar's
// location.
func (c EnglandAndWales) AddWorkingDays(t time.Time, n int) time.Time {
	t = c.in(t)
	if n <= 0 {
		return t
	}
	y, m, d := t.Date()
	hh, mm, ss := t.Clock()
	loc := t.Location()
	for i := 1; n > 0; i++ {
		next := time.Date(y, m, d+i, hh, mm, ss, t.Nanosecond(), loc)
		if c.IsWorkingDay(next) {
			n--
			if n == 0 {
				return next
			}
		}
	}
	return t
}
