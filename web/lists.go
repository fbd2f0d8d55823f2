package web

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gateledger/gateledger/projections"
)

// Lists at national size: the query parameters of the caseload (API and pages alike),
// read in one place so that a link means the same thing to both.
//
//	limit      page size, 1 to projections.MaxPageSize (default projections.DefaultPageSize)
//	cursor     the next (or prev) of the page before; opaque
//	sort       noms (default), releaseDate or deadline
//	order      asc (default) or desc
//	stage      a stage (CUSTODY, RELEASED, ...); repeat it, or separate with commas, for any of several
//	attention  a reason for attention (SCREENING_OVERDUE, ...); repeatable like stage
//	deadline   overdue, or a whole number of days: the next deadline falls within them
//	q          part of a prison number or CRN (the ledger holds no names)
//	closed     include: show closed cases too (hidden otherwise)
//
// The cursor says which way it reads: a next cursor is passed as cursor, a prev one as
// cursor too; CaseListQuery tells them apart by their prefix.

// CaseListParams are the parameters above, as parsed: the projection's query and what
// the links of the page need to repeat.
type CaseListParams struct {
	Query projections.CaseQuery
	// Values are the parameters as given, minus cursor: the base of the next and
	// previous links.
	Values url.Values
}

// Sort names as the API writes them.
var sortNames = map[string]projections.CaseSort{
	"noms": projections.SortNOMS, "releaseDate": projections.SortReleaseDate, "deadline": projections.SortDeadline,
}

// maxDeadlineDays bounds the deadline filter's window.
const maxDeadlineDays = 366

// Cursors carry which way they read, so that one parameter serves both links.
const (
	nextPrefix = "n."
	prevPrefix = "p."
)

// CaseListQuery reads the caseload list parameters of q. A field that is not valid
// answers a FieldError naming it, with what to do.
func CaseListQuery(q url.Values) (CaseListParams, []FieldError) {
	var v validator
	out := CaseListParams{Values: url.Values{}}
	cq := &out.Query
	keep := func(name string) {
		if vs, ok := q[name]; ok {
			out.Values[name] = vs
		}
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > projections.MaxPageSize {
			v.add("limit", "must be a whole number from 1 to %d", projections.MaxPageSize)
		}
		cq.Limit = n
		keep("limit")
	}
	if s := q.Get("sort"); s != "" {
		srt, ok := sortNames[s]
		if !ok {
			v.add("sort", "must be one of noms, releaseDate, deadline")
		}
		cq.Sort = srt
		keep("sort")
	}
	switch q.Get("order") {
	case "", "asc":
	case "desc":
		cq.Desc = true
	default:
		v.add("order", "must be asc or desc")
	}
	keep("order")
	for _, s := range listValues(q["stage"]) {
		st, ok := projections.ParseStage(s)
		if !ok {
			v.add("stage", "must be one of %s", stageNames())
			break
		}
		cq.Filter.Stages = append(cq.Filter.Stages, st)
	}
	keep("stage")
	for _, s := range listValues(q["attention"]) {
		a, ok := projections.ParseAttention(s)
		if !ok {
			v.add("attention", "must be one of %s", strings.Join(projections.AttentionReasons(), ", "))
			break
		}
		cq.Filter.Attention |= a
	}
	keep("attention")
	switch s := q.Get("deadline"); s {
	case "":
	case "overdue":
		cq.Filter.Deadline.Overdue = true
	default:
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxDeadlineDays {
			v.add("deadline", "must be overdue, or a whole number of days from 1 to %d", maxDeadlineDays)
		}
		cq.Filter.Deadline.Within = time.Duration(n) * 24 * time.Hour
	}
	keep("deadline")
	if s := strings.TrimSpace(q.Get("q")); s != "" {
		if len(s) > 20 || strings.ContainsFunc(s, func(r rune) bool {
			return (r < '0' || r > '9') && (r < 'A' || r > 'Z') && (r < 'a' || r > 'z')
		}) {
			v.add("q", "must be part of a prison number (like A1234BC) or a CRN: letters and numbers only")
		}
		cq.Filter.Search = s
		keep("q")
	}
	switch q.Get("closed") {
	case "":
	case "include":
		cq.Filter.IncludeClosed = true
	default:
		v.add("closed", "must be include, or left out to hide closed cases")
	}
	keep("closed")
	if c := q.Get("cursor"); c != "" {
		switch {
		case strings.HasPrefix(c, nextPrefix):
			cq.After = c[len(nextPrefix):]
		case strings.HasPrefix(c, prevPrefix):
			cq.Before = c[len(prevPrefix):]
		default:
			v.add("cursor", "is not a cursor from a previous page; start again without it")
		}
	}
	return out, v.errs
}

// Link returns path with the list's parameters and cursor (a CasePage's Next or
// Prev; next says which), or "" when cursor is "".
func (p CaseListParams) Link(path, cursor string, next bool) string {
	if cursor == "" {
		return ""
	}
	vs := url.Values{}
	for k, v := range p.Values {
		vs[k] = v
	}
	if next {
		vs.Set("cursor", nextPrefix+cursor)
	} else {
		vs.Set("cursor", prevPrefix+cursor)
	}
	return path + "?" + vs.Encode()
}

// CursorProblem is the field error for a cursor the projection refused.
func CursorProblem(err error) ([]FieldError, bool) {
	if errors.Is(err, projections.ErrBadCursor) {
		return []FieldError{{Field: "cursor", Message: "is not a cursor from a previous page of this list (or the sort changed); start again without it"}}, true
	}
	return nil, false
}

// listValues splits repeated and comma-separated values.
func listValues(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func stageNames() string {
	var names []string
	for _, s := range projections.Stages() {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}
