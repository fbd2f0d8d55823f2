// Package request decodes and validates what a client sends, the same for
// every transport of the ledger (the API, package web; the pages, package
// web/pages), so that a command or a list read the same way whichever way
// it came:
//
//   - the table of journey commands and their JSON bodies (CommandRoutes,
//     CommandTarget, DecodeCommand): what each command takes, and how it
//     becomes an aggregate command;
//   - strict JSON decoding (DecodeJSON): one object, no unknown fields, no
//     member twice, no name that matches only when case is ignored, valid
//     UTF-8 (strictjson.go);
//   - the field validator (Validator), which reports every field at fault at
//     once;
//   - the paged lists' query parameters and cursors (CaseListQuery,
//     HandoverListQuery, CohortListQuery, ListLinks, CursorProblem).
//
// A refusal is a *problem.Error (malformed-request or validation) naming the
// fields at fault by their JSON names. Rendering it is the transport's work.
//
// It may import the domain (aggregates), the read models' query types
// (projections) and web/problem; never a transport (web, web/pages).
package request
