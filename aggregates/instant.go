package aggregates

import "time"

// ParseInstant reads an instant in the form the ledger writes: an RFC 3339 UTC
// time "2024-06-24T15:06:39Z", with an optional fraction of a second
// ("2024-06-24T15:06:39.665736228Z"). For every input it accepts, the result
// is exactly what time.Parse(time.RFC3339Nano, s) and time.Time's
// UnmarshalJSON give (location UTC, digits past the ninth dropped). Any other
// form (a numeric offset, a lowercase "t" or "z", a one-digit hour, a comma
// before the fraction, an out-of-range field) is reported with ok false, so
// that the caller can leave it to the standard library, whose rules for those
// forms differ from one function to another.
//
// Decoders call it once or twice per stored event, where time.Parse's string
// conversion and generality showed up in profiles.
func ParseInstant[S ~string | ~[]byte](s S) (time.Time, bool) {
	const minLen = len("2006-01-02T15:04:05Z")
	if len(s) < minLen || s[len(s)-1] != 'Z' ||
		s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year := digits(s, 0, 4)
	month := digits(s, 5, 2)
	if year < 0 || month < 1 || month > 12 {
		return time.Time{}, false
	}
	day := digits(s, 8, 2)
	hour := digits(s, 11, 2)
	minute := digits(s, 14, 2)
	sec := digits(s, 17, 2)
	if day < 1 || day > daysIn(time.Month(month), year) || hour < 0 || hour > 23 ||
		minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	nsec := 0
	if frac := s[19 : len(s)-1]; len(frac) > 0 {
		// A period and at least one digit, all digits; the standard library
		// keeps the first nine.
		if len(frac) < 2 || frac[0] != '.' {
			return time.Time{}, false
		}
		scale := 100_000_000
		for i := 1; i < len(frac); i++ {
			c := frac[i]
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
			if i <= 9 {
				nsec += int(c-'0') * scale
				scale /= 10
			}
		}
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), true
}

// digits is the number written by the n decimal digits of s at i, or -1.
func digits[S ~string | ~[]byte](s S, i, n int) int {
	x := 0
	for _, c := range []byte(s[i : i+n]) {
		if c < '0' || c > '9' {
			return -1
		}
		x = x*10 + int(c-'0')
	}
	return x
}

// daysIn is the number of days of month m of year y (proleptic Gregorian).
func daysIn(m time.Month, y int) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}
