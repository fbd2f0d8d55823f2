package calendar

import "time"

// exception changes the rule-computed holidays of one year: Drop removes a
// day the rules give (a moved holiday), Add adds one.
type exception struct {
	year int
	drop []day
	add  []Holiday
}

type day struct {
	m time.Month
	d int
}

// exceptions are the proclamations that moved or added bank holidays in
// England and Wales, from the gov.uk list and the proclamations it records.
var exceptions = []exception{
	// 50th anniversary of VE day: early May bank holiday moved to 8 May.
	{1995, []day{{time.May, 1}}, []Holiday{{date(1995, time.May, 8), "Early May bank holiday (VE day)"}}},
	// Millennium: an extra day on 31 December 1999.
	{1999, nil, []Holiday{{date(1999, time.December, 31), "Millennium celebrations"}}},
	// Golden Jubilee: spring bank holiday moved to 4 June, extra day 3 June.
	{2002, []day{{time.May, 27}}, []Holiday{
		{date(2002, time.June, 3), "Golden Jubilee bank holiday"},
		{date(2002, time.June, 4), "Spring bank holiday"}}},
	// Royal wedding of Prince William and Catherine Middleton.
	{2011, nil, []Holiday{{date(2011, time.April, 29), "Royal wedding"}}},
	// Diamond Jubilee: spring bank holiday moved to 4 June, extra day 5 June.
	{2012, []day{{time.May, 28}}, []Holiday{
		{date(2012, time.June, 4), "Spring bank holiday"},
		{date(2012, time.June, 5), "Queen's Diamond Jubilee"}}},
	// 75th anniversary of VE day: early May bank holiday moved to Friday 8 May.
	{2020, []day{{time.May, 4}}, []Holiday{{date(2020, time.May, 8), "Early May bank holiday (VE day)"}}},
	// Platinum Jubilee: spring bank holiday moved to Thursday 2 June, extra
	// day Friday 3 June; state funeral of Queen Elizabeth II on 19 September.
	{2022, []day{{time.May, 30}}, []Holiday{
		{date(2022, time.June, 2), "Spring bank holiday"},
		{date(2022, time.June, 3), "Platinum Jubilee bank holiday"},
		{date(2022, time.September, 19), "Bank Holiday for the State Funeral of Queen Elizabeth II"}}},
	// Coronation of King Charles III: an extra day on Monday 8 May.
	{2023, nil, []Holiday{{date(2023, time.May, 8), "Bank holiday for the coronation of King Charles III"}}},
}
