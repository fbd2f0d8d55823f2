// Package labels holds the words people read for what the ledger stores as
// codes and instants: ONE table that maps every enum (custody status,
// release, reception and custody-end kinds, pathways and their statuses,
// RoSH, stages, reasons for attention, event types, handover reasons,
// statuses and directions, relations, close reasons, sources) to its label,
// ONE formatter of instants and dates in UK local time as GOV.UK writes them
// ("1 December 2026, 9:00am", "1 December 2026"), and ONE table of what to do
// next when a journey rule refuses a command.
//
// Pages (web/pages), the API's error details (web), downloads (web/export),
// live announcements (web/live) and the inspector's views (web/inspect) all
// call it, so a code reads the same wherever it is shown.
//
// It may import aggregates and projections (whose types it labels) and the
// standard library, nothing else of ours. aggregates, which imports nothing
// of ours, keeps its own unexported ukTime for the words of its rule errors;
// TestWhenAgreesWithAggregates holds the two to the same output.
package labels
