package calendar

import "time"

// EnglandAndWales is the working-day calendar of England and Wales: Monday
// to Friday except bank holidays. Dates are taken in Location, because a
// deadline falls on a day in England whatever the zone of the timestamp.
// The zero value uses UTC; pass Europe/London (loaded by the caller, who may
// do I/O) for exact answers near midnight in summer time.
type EnglandAndWales struct {
	Location *time.Location
	// holidays holds the bank holidays of tableFrom..tableTo as yyyymmdd, worked out
	// once by New: deadlines are computed for every event a read model applies, and
	// working the rules out each time was a visible part of a rebuild. It is never
	// written after New, so the calendar stays safe to share.
	holidays map[int]bool
}

// The years New tabulates; dates outside them are worked out from the rules each time.
const (
	tableFrom = 1990
	tableTo   = 2100
)

// New returns the calendar reading dates in loc (UTC if nil).
func New(loc *time.Location) EnglandAndWales {
	h := make(map[int]bool, (tableTo-tableFrom+1)*9)
	for y := tableFrom; y <= tableTo; y++ {
		for _, d := range BankHolidays(y) {
			yy, mm, dd := d.Date.Date()
			h[yy*10000+int(mm)*100+dd] = true
		}
	}
	return EnglandAndWales{Location: loc, holidays: h}
}

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
	if c.holidays != nil && y >= tableFrom && y <= tableTo {
		return !c.holidays[y*10000+int(m)*100+d]
	}
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
