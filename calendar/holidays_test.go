package calendar

import (
	"testing"
	"time"
)

// gov.uk/bank-holidays, England and Wales, as published.
var published = map[int][]string{
	2019: {"2019-01-01", "2019-04-19", "2019-04-22", "2019-05-06", "2019-05-27", "2019-08-26", "2019-12-25", "2019-12-26"},
	2020: {"2020-01-01", "2020-04-10", "2020-04-13", "2020-05-08", "2020-05-25", "2020-08-31", "2020-12-25", "2020-12-28"},
	2021: {"2021-01-01", "2021-04-02", "2021-04-05", "2021-05-03", "2021-05-31", "2021-08-30", "2021-12-27", "2021-12-28"},
	2022: {"2022-01-03", "2022-04-15", "2022-04-18", "2022-05-02", "2022-06-02", "2022-06-03", "2022-08-29", "2022-09-19", "2022-12-26", "2022-12-27"},
	2023: {"2023-01-02", "2023-04-07", "2023-04-10", "2023-05-01", "2023-05-08", "2023-05-29", "2023-08-28", "2023-12-25", "2023-12-26"},
	2024: {"2024-01-01", "2024-03-29", "2024-04-01", "2024-05-06", "2024-05-27", "2024-08-26", "2024-12-25", "2024-12-26"},
	2025: {"2025-01-01", "2025-04-18", "2025-04-21", "2025-05-05", "2025-05-26", "2025-08-25", "2025-12-25", "2025-12-26"},
	2026: {"2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31", "2026-12-25", "2026-12-28"},
	2027: {"2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03", "2027-05-31", "2027-08-30", "2027-12-27", "2027-12-28"},
	// Diamond Jubilee year.
	2012: {"2012-01-02", "2012-04-06", "2012-04-09", "2012-05-07", "2012-06-04", "2012-06-05", "2012-08-27", "2012-12-25", "2012-12-26"},
}

func TestBankHolidaysMatchGovUK(t *testing.T) {
	for year, want := range published {
		got := BankHolidays(year)
		if len(got) != len(want) {
			t.Errorf("%d: got %d holidays %v, want %d %v", year, len(got), got, len(want), want)
			continue
		}
		for i, h := range got {
			if s := h.Date.Format(time.DateOnly); s != want[i] {
				t.Errorf("%d #%d: got %s (%s), want %s", year, i, s, h.Title, want[i])
			}
		}
	}
}

func TestEaster(t *testing.T) {
	for year, want := range map[int]string{
		1961: "1961-04-02", 2000: "2000-04-23", 2008: "2008-03-23", 2011: "2011-04-24",
		2019: "2019-04-21", 2024: "2024-03-31", 2038: "2038-04-25", 2285: "2285-03-22",
	} {
		if got := Easter(year).Format(time.DateOnly); got != want {
			t.Errorf("Easter(%d) = %s, want %s", year, got, want)
		}
	}
}

// The rules never run out: every year far ahead has eight holidays, none at
// a weekend, all distinct.
func TestHolidaysNeverRunOut(t *testing.T) {
	for year := 2028; year <= 2200; year++ {
		hs := BankHolidays(year)
		if len(hs) != 8 {
			t.Fatalf("%d: %d holidays", year, len(hs))
		}
		for i, h := range hs {
			if wd := h.Date.Weekday(); wd == time.Saturday || wd == time.Sunday {
				t.Errorf("%d: %s on a %s", year, h.Title, wd)
			}
			if i > 0 && !hs[i-1].Date.Before(h.Date) {
				t.Errorf("%d: holidays not strictly ordered at %s", year, h.Date)
			}
		}
	}
}

func d(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestAddWorkingDays(t *testing.T) {
	cal := New(nil)
	for _, tc := range []struct {
		name string
		from string
		n    int
		want string
	}{
		{"plain week", "2024-06-03T10:00:00Z", 5, "2024-06-10T10:00:00Z"},
		{"over a weekend", "2024-06-06T10:00:00Z", 2, "2024-06-10T10:00:00Z"},
		{"from a Saturday", "2024-06-08T10:00:00Z", 1, "2024-06-10T10:00:00Z"},
		{"Christmas 2024: Thu 19 Dec + 5 skips 25, 26 Dec and the weekend", "2024-12-19T14:30:00Z", 5, "2024-12-30T14:30:00Z"},
		{"Christmas on a weekend 2021: Thu 23 Dec + 1", "2021-12-23T09:00:00Z", 1, "2021-12-24T09:00:00Z"},
		{"Christmas on a weekend 2021: Fri 24 Dec + 1 skips 27, 28", "2021-12-24T09:00:00Z", 1, "2021-12-29T09:00:00Z"},
		{"Easter 2025: Thu 17 Apr + 1 skips Good Friday and Easter Monday", "2025-04-17T09:00:00Z", 1, "2025-04-22T09:00:00Z"},
		{"Jubilee 2022: Wed 1 Jun + 1 skips 2, 3 Jun and weekend", "2022-06-01T09:00:00Z", 1, "2022-06-06T09:00:00Z"},
		{"Coronation 2023: Fri 5 May + 1 skips 8 May", "2023-05-05T09:00:00Z", 1, "2023-05-09T09:00:00Z"},
		{"Funeral 2022: Fri 16 Sep + 1 skips 19 Sep", "2022-09-16T09:00:00Z", 1, "2022-09-20T09:00:00Z"},
		{"zero", "2024-12-25T09:00:00Z", 0, "2024-12-25T09:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cal.AddWorkingDays(d(tc.from), tc.n); !got.Equal(d(tc.want)) {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestIsWorkingDayUsesLocation(t *testing.T) {
	// 23:30 UTC on Sunday 25 May 2025 is 00:30 on Monday 26 May (spring bank
	// holiday) in a UTC+1 zone; in UTC it is a Sunday. Either way not a
	// working day, but 23:30 UTC on Thursday 17 April 2025 is Good Friday in
	// UTC+1.
	bst := time.FixedZone("BST", 3600)
	thu := d("2025-04-17T23:30:00Z")
	if !New(nil).IsWorkingDay(thu) {
		t.Error("Thursday 17 April in UTC should be a working day")
	}
	if New(bst).IsWorkingDay(thu) {
		t.Error("Good Friday in UTC+1 should not be a working day")
	}
}

// TestTableAgreesWithTheRules: the table New builds answers exactly as the rules do.
func TestTableAgreesWithTheRules(t *testing.T) {
	tabled, ruled := New(time.UTC), EnglandAndWales{}
	for d := time.Date(tableFrom-1, 12, 20, 12, 0, 0, 0, time.UTC); d.Year() <= tableTo+1; d = d.AddDate(0, 0, 1) {
		if tabled.IsWorkingDay(d) != ruled.IsWorkingDay(d) {
			t.Fatalf("%s: table says working day %v, rules say %v", d.Format(time.DateOnly), tabled.IsWorkingDay(d), ruled.IsWorkingDay(d))
		}
	}
}
