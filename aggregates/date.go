package aggregates

import (
	"encoding/json"
	"fmt"
	"time"
)

// Date is a civil date with no time or zone, as sentence dates are. The zero
// Date means "absent". It marshals as "YYYY-MM-DD".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the UK calendar date (Europe/London, see UK) of the instant
// t, whatever t's location: the one place where an instant becomes a date, so
// that effective dates, cohorts, deadlines and "today" agree. Midnight UTC,
// which Date.Time returns, always falls on the same date in the UK, so
// DateOf(d.Time()) == d.
func DateOf(t time.Time) Date {
	y, m, d := t.In(UK).Date()
	return Date{y, m, d}
}

// NewDate returns the date y-m-d, normalised as time.Date does.
func NewDate(y int, m time.Month, d int) Date {
	return DateOf(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
}

// ParseDate parses "YYYY-MM-DD".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("aggregates: date %q: %w", s, err)
	}
	return DateOf(t), nil
}

// IsZero reports whether d is absent.
func (d Date) IsZero() bool { return d == Date{} }

// Time is midnight UTC at the start of d: an ordering key for dates, not the
// instant the UK day begins (see StartOfDay).
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// AddDays returns d plus n days.
func (d Date) AddDays(n int) Date { return DateOf(d.Time().AddDate(0, 0, n)) }

// Before reports whether d is earlier than o.
func (d Date) Before(o Date) bool { return d.Time().Before(o.Time()) }

// After reports whether d is later than o.
func (d Date) After(o Date) bool { return d.Time().After(o.Time()) }

func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Time().Format(time.DateOnly)
}

// MarshalJSON writes "YYYY-MM-DD", or null when absent.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(d.String())
}

// UnmarshalJSON reads "YYYY-MM-DD"; null and "" give the zero Date.
func (d *Date) UnmarshalJSON(b []byte) error {
	var s *string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("aggregates: date: %w", err)
	}
	if s == nil || *s == "" {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(*s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
