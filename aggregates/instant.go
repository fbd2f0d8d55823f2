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
func ParseInstant[S ~string | ~[]byte](s S) (t time.Time, ok bool) {
	const minLen = len("2006-01-02T15:04:05Z")
	if len(s) < minLen || s[len(s)-1] != 'Z' ||
		s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	ok = true
	num := func(i, n, lo, hi int) int {
		x := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				ok = false
				return lo
			}
			x = x*10 + int(c-'0')
		}
		if x < lo || x > hi {
			ok = false
		}
		return x
	}
	year := num(0, 4, 0, 9999)
	month := num(5, 2, 1, 12)
	if !ok {
		return time.Time{}, false
	}
	day := num(8, 2, 1, daysIn(time.Month(month), year))
	hour := num(11, 2, 0, 23)
	minute := num(14, 2, 0, 59)
	sec := num(17, 2, 0, 59)
	if !ok {
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
