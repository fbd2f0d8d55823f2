package calendar

import (
	"slices"
	"time"
)

// Holiday is one bank holiday; Date is midnight UTC of the day.
type Holiday struct {
	Date  time.Time
	Title string
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// firstMonday returns the first Monday of month m of year y.
func firstMonday(y int, m time.Month) time.Time {
	t := date(y, m, 1)
	return t.AddDate(0, 0, (int(time.Monday)-int(t.Weekday())+7)%7)
}

// lastMonday returns the last Monday of month m of year y.
func lastMonday(y int, m time.Month) time.Time {
	t := date(y, m+1, 0)
	return t.AddDate(0, 0, -((int(t.Weekday()) - int(time.Monday) + 7) % 7))
}

// BankHolidays returns the bank holidays of England and Wales in year, in
// date order. Years before 1974 (when New Year's Day became a bank holiday)
// are computed by today's rules and are not historically exact.
func BankHolidays(year int) []Holiday {
	var hs []Holiday
	// New Year's Day, with the next Monday as substitute at a weekend.
	ny := date(year, time.January, 1)
	switch ny.Weekday() {
	case time.Saturday:
		hs = append(hs, Holiday{ny.AddDate(0, 0, 2), "New Year's Day (substitute day)"})
	case time.Sunday:
		hs = append(hs, Holiday{ny.AddDate(0, 0, 1), "New Year's Day (substitute day)"})
	default:
		hs = append(hs, Holiday{ny, "New Year's Day"})
	}
	easter := Easter(year)
	hs = append(hs,
		Holiday{easter.AddDate(0, 0, -2), "Good Friday"},
		Holiday{easter.AddDate(0, 0, 1), "Easter Monday"},
		Holiday{firstMonday(year, time.May), "Early May bank holiday"},
		Holiday{lastMonday(year, time.May), "Spring bank holiday"},
		Holiday{lastMonday(year, time.August), "Summer bank holiday"},
	)
	// Christmas and Boxing Day. At a weekend each takes the next weekday
	// not already taken by the other.
	xmas := date(year, time.December, 25)
	switch xmas.Weekday() {
	case time.Friday: // Boxing Day on Saturday -> Monday 28th
		hs = append(hs, Holiday{xmas, "Christmas Day"}, Holiday{xmas.AddDate(0, 0, 3), "Boxing Day (substitute day)"})
	case time.Saturday: // Christmas -> Monday 27th, Boxing Day (Sunday) -> Tuesday 28th
		hs = append(hs, Holiday{xmas.AddDate(0, 0, 2), "Christmas Day (substitute day)"}, Holiday{xmas.AddDate(0, 0, 3), "Boxing Day (substitute day)"})
	case time.Sunday: // Boxing Day Monday 26th, Christmas -> Tuesday 27th
		hs = append(hs, Holiday{xmas.AddDate(0, 0, 1), "Boxing Day"}, Holiday{xmas.AddDate(0, 0, 2), "Christmas Day (substitute day)"})
	default:
		hs = append(hs, Holiday{xmas, "Christmas Day"}, Holiday{xmas.AddDate(0, 0, 1), "Boxing Day"})
	}
	for _, ex := range exceptions {
		if ex.year != year {
			continue
		}
		hs = slices.DeleteFunc(hs, func(h Holiday) bool {
			return slices.ContainsFunc(ex.drop, func(d day) bool { return h.Date.Month() == d.m && h.Date.Day() == d.d })
		})
		hs = append(hs, ex.add...)
	}
	slices.SortFunc(hs, func(a, b Holiday) int { return a.Date.Compare(b.Date) })
	return hs
}

// IsBankHoliday reports whether the civil date y-m-d is a bank holiday in
// England and Wales.
func IsBankHoliday(y int, m time.Month, d int) bool {
	t := date(y, m, d)
	return slices.ContainsFunc(BankHolidays(t.Year()), func(h Holiday) bool { return h.Date.Equal(t) })
}
