// Package calendar knows the bank holidays of England and Wales and counts
// working days for the journey's deadlines. It implements
// aggregates.WorkingDays without importing it.
//
// Bank holidays are computed from the rules, so the calendar never runs out:
// the days fixed by the Banking and Financial Dealings Act 1971 (Schedule 1:
// Easter Monday, the last Monday in May, the last Monday in August, 26
// December if not a Sunday and 27 December when 25 or 26 December is a
// Sunday), the common-law holidays of Good Friday and Christmas Day, and the
// days added by royal proclamation under s.1(3) of the Act that have become
// customary (New Year's Day since 1974, the early May bank holiday since
// 1978), with the substitute days for holidays falling at a weekend as
// published at https://www.gov.uk/bank-holidays. Exceptional proclamations
// (moved or extra days) are a table in exceptions.go, each with its date of
// effect; a new one is one more row.
package calendar
