package request

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/web/problem"
)

// Lists at national size: the query parameters of the paged lists (API and pages
// alike), read in one place so that a link means the same thing to both. Every list
// takes limit and cursor (pageParams) and gives next and prev links (ListLinks.Link).
//
// The caseload (CaseListQuery):
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
// The handover queue (HandoverListQuery): limit, cursor, q as above, and
//
//	direction  incoming (handovers to the organisation) or outgoing (from it)
//	status     open or decided (accepted or rejected)
//	overdue    true: open handovers past their due time
//
// The outcome cohorts (CohortListQuery): limit, cursor, and
//
//	provider   one provider's cohorts (an organisation code)
//	from, to   the first and last quarter, like 2021-Q3, both included
//
// The cursor says which way it reads: a next cursor is passed as cursor, a prev one as
// cursor too; pageParams tells them apart by their prefix.

// ListLinks are a list's parameters as given, minus cursor: the base of the next and
// previous links.
type ListLinks struct {
	Values url.Values
}

// CaseListParams are the caseload's parameters, as parsed: the projection's query and
// what the links of the page need to repeat.
type CaseListParams struct {
	Query projections.CaseQuery
	ListLinks
}

// HandoverListParams are the handover queue's parameters, as parsed.
type HandoverListParams struct {
	Query projections.HandoverQuery
	ListLinks
}

// CohortListParams are the outcome cohorts' parameters, as parsed.
type CohortListParams struct {
	Query projections.CohortQuery
	ListLinks
}

// keep copies the parameter name of q, when given, into the links' values.
func (l ListLinks) keep(q url.Values, name string) {
	if vs, ok := q[name]; ok {
		l.Values[name] = vs
	}
}

// pageParams reads what every list takes: limit, and cursor as a next (after) or
// previous (before) cursor.
func pageParams(q url.Values, v *Validator, l ListLinks) (limit int, after, before string) {
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > projections.MaxPageSize {
			v.Add("limit", "must be a whole number from 1 to %d", projections.MaxPageSize)
		}
		limit = n
		l.keep(q, "limit")
	}
	if c := q.Get("cursor"); c != "" {
		switch {
		case strings.HasPrefix(c, nextPrefix):
			after = c[len(nextPrefix):]
		case strings.HasPrefix(c, prevPrefix):
			before = c[len(prevPrefix):]
		default:
			v.Add("cursor", "is not a cursor from a previous page; start again without it")
		}
	}
	return limit, after, before
}

// numberSearch reads q, part of a prison number (or CRN): letters and numbers only.
func numberSearch(q url.Values, v *Validator, l ListLinks, what string) string {
	s := strings.TrimSpace(q.Get("q"))
	if s == "" {
		return ""
	}
	if len(s) > 20 || strings.ContainsFunc(s, func(r rune) bool {
		return (r < '0' || r > '9') && (r < 'A' || r > 'Z') && (r < 'a' || r > 'z')
	}) {
		v.Add("q", "must be part of %s: letters and numbers only", what)
	}
	l.keep(q, "q")
	return s
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
// answers a problem.FieldError naming it, with what to do.
func CaseListQuery(q url.Values) (CaseListParams, []problem.FieldError) {
	var v Validator
	out := CaseListParams{ListLinks: ListLinks{Values: url.Values{}}}
	cq := &out.Query
	keep := func(name string) { out.keep(q, name) }
	cq.Limit, cq.After, cq.Before = pageParams(q, &v, out.ListLinks)
	if s := q.Get("sort"); s != "" {
		srt, ok := sortNames[s]
		if !ok {
			v.Add("sort", "must be one of noms, releaseDate, deadline")
		}
		cq.Sort = srt
		keep("sort")
	}
	switch q.Get("order") {
	case "", "asc":
	case "desc":
		cq.Desc = true
	default:
		v.Add("order", "must be asc or desc")
	}
	keep("order")
	for _, s := range listValues(q["stage"]) {
		st, ok := projections.ParseStage(s)
		if !ok {
			v.Add("stage", "must be one of %s", stageNames())
			break
		}
		cq.Filter.Stages = append(cq.Filter.Stages, st)
	}
	keep("stage")
	for _, s := range listValues(q["attention"]) {
		a, ok := projections.ParseAttention(s)
		if !ok {
			v.Add("attention", "must be one of %s", strings.Join(projections.AttentionReasons(), ", "))
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
			v.Add("deadline", "must be overdue, or a whole number of days from 1 to %d", maxDeadlineDays)
		}
		cq.Filter.Deadline.Within = time.Duration(n) * 24 * time.Hour
	}
	keep("deadline")
	cq.Filter.Search = numberSearch(q, &v, out.ListLinks, "a prison number (like A1234BC) or a CRN")
	switch q.Get("closed") {
	case "":
	case "include":
		cq.Filter.IncludeClosed = true
	default:
		v.Add("closed", "must be include, or left out to hide closed cases")
	}
	keep("closed")
	return out, v.errs
}

// HandoverListQuery reads the handover queue's parameters of q. A field that is not
// valid answers a problem.FieldError naming it, with what to do.
func HandoverListQuery(q url.Values) (HandoverListParams, []problem.FieldError) {
	var v Validator
	out := HandoverListParams{ListLinks: ListLinks{Values: url.Values{}}}
	hq := &out.Query
	hq.Limit, hq.After, hq.Before = pageParams(q, &v, out.ListLinks)
	switch q.Get("direction") {
	case "":
	case "incoming":
		hq.Filter.Direction = projections.Receiving
	case "outgoing":
		hq.Filter.Direction = projections.Sending
	default:
		v.Add("direction", "must be incoming or outgoing, or left out for both")
	}
	out.keep(q, "direction")
	switch q.Get("status") {
	case "":
	case "open":
		hq.Filter.State = projections.HandoverOpen
	case "decided":
		hq.Filter.State = projections.HandoverDecided
	default:
		v.Add("status", "must be open or decided, or left out for both")
	}
	out.keep(q, "status")
	switch q.Get("overdue") {
	case "", "false":
	case "true":
		hq.Filter.Overdue = true
	default:
		v.Add("overdue", "must be true or false")
	}
	out.keep(q, "overdue")
	hq.Filter.Search = numberSearch(q, &v, out.ListLinks, "a prison number (like A1234BC)")
	return out, v.errs
}

// CohortListQuery reads the outcome cohorts' parameters of q. A field that is not
// valid answers a problem.FieldError naming it, with what to do.
func CohortListQuery(q url.Values) (CohortListParams, []problem.FieldError) {
	var v Validator
	out := CohortListParams{ListLinks: ListLinks{Values: url.Values{}}}
	cq := &out.Query
	cq.Limit, cq.After, cq.Before = pageParams(q, &v, out.ListLinks)
	if s := strings.TrimSpace(q.Get("provider")); s != "" {
		cq.Filter.Provider = string(v.Org("provider", s, false))
		out.keep(q, "provider")
	}
	for _, name := range []string{"from", "to"} {
		s := strings.TrimSpace(q.Get(name))
		if s == "" {
			continue
		}
		if !projections.ValidQuarter(s) {
			v.Add(name, "must be a quarter like 2021-Q3")
			s = ""
		}
		if name == "from" {
			cq.Filter.From = s
		} else {
			cq.Filter.To = s
		}
		out.keep(q, name)
	}
	if f := cq.Filter; f.From != "" && f.To != "" && f.To < f.From {
		v.Add("to", "must be the same quarter as from or later")
	}
	return out, v.errs
}

// Link returns path with the list's parameters and cursor (a page's Next or Prev;
// next says which), or "" when cursor is "".
func (p ListLinks) Link(path, cursor string, next bool) string {
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
func CursorProblem(err error) ([]problem.FieldError, bool) {
	if errors.Is(err, projections.ErrBadCursor) {
		return []problem.FieldError{{Field: "cursor", Message: "is not a cursor from a previous page of this list (or the sort changed); start again without it"}}, true
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
