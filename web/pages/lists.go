package pages

import (
	"net/http"
	"net/url"
	"time"

	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/ledger"
	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/web"
)

// Lists at national size: the prison's people and the provider's caseload are read a
// page at a time (projections.CaseloadPage), filtered and sorted by the query string
// (web.CaseListQuery, the same parameters as the API), so that the pages work without
// script, links can be shared, and the back button does what people expect.

// caseList is what the list partial (_lists.html) shows.
type caseList struct {
	// Action is the page's own path: the filter form's action.
	Action string
	Label  string // "people" or "cases", for captions and labels
	People []caseRow
	Filter listFilter
	// Next and Prev are the links to the pages after and before, "" for none.
	Next, Prev string
	// Total is every row the organisation has, closed cases included.
	Total int
	// Filtered: a filter narrows the list (the empty message says so).
	Filtered bool
	// Sort and Order are the order, for the live script to place changed rows.
	Sort, Order string
}

// listFilter is the filter form as submitted, and its options.
type listFilter struct {
	Q         string
	Stages    map[string]bool
	Attention string
	Deadline  string
	Closed    bool
	Sort      string
	Order     string

	StageOptions     []option
	AttentionOptions []option
	DeadlineOptions  []option
	SortOptions      []option
}

var deadlineOptions = []option{
	{Value: "", Label: "Any"},
	{Value: "overdue", Label: "Overdue"},
	{Value: "7", Label: "Due within 7 days"},
	{Value: "28", Label: "Due within 28 days"},
}

var sortOptions = []option{
	{Value: "noms", Label: "Prison number"},
	{Value: "releaseDate", Label: "Release date"},
	{Value: "deadline", Label: "Next deadline"},
}

func newListFilter(q url.Values) listFilter {
	f := listFilter{Q: q.Get("q"), Stages: map[string]bool{}, Attention: q.Get("attention"), Deadline: q.Get("deadline"),
		Closed: q.Get("closed") == "include", Sort: q.Get("sort"), Order: q.Get("order"),
		DeadlineOptions: deadlineOptions, SortOptions: sortOptions}
	for _, s := range q["stage"] {
		f.Stages[s] = true
	}
	for _, s := range projections.Stages() {
		f.StageOptions = append(f.StageOptions, option{Value: string(s), Label: words(string(s))})
	}
	f.AttentionOptions = []option{{Value: "", Label: "Any reason"}}
	for _, a := range projections.AttentionReasons() {
		f.AttentionOptions = append(f.AttentionOptions, option{Value: a, Label: projections.AttentionLabel(a)})
	}
	if f.Sort == "" {
		f.Sort = "noms"
	}
	if f.Order == "" {
		f.Order = "asc"
	}
	return f
}

// readCaseList reads the page of org's caseload the request asks for. Invalid
// parameters come back as field errors for the page's error summary, with no rows.
func (s *server) readCaseList(r *http.Request, org, label string) (caseList, []fieldError, error) {
	q := r.URL.Query()
	out := caseList{Action: r.URL.Path, Label: label, Filter: newListFilter(q), People: []caseRow{}}
	out.Sort, out.Order = out.Filter.Sort, out.Filter.Order
	params, errs := web.CaseListQuery(q)
	if len(errs) == 0 {
		params.Query.Org, params.Query.Now = org, s.now()
		page, err := projections.CaseloadPage(s.cfg.Runner, params.Query)
		if ferrs, ok := web.CursorProblem(err); ok {
			errs = ferrs
		} else if err != nil {
			return out, nil, err
		} else {
			if out.People, err = s.caseRows(page.Rows, params.Query.Sort); err != nil {
				return out, nil, err
			}
			out.Next, out.Prev = params.Link(r.URL.Path, page.Next, true), params.Link(r.URL.Path, page.Prev, false)
		}
	}
	ferrs := listErrors(errs)
	f := params.Query.Filter
	out.Filtered = len(f.Stages) > 0 || f.Attention != 0 || f.Deadline.Overdue || f.Deadline.Within > 0 || f.Search != ""
	total, err := projections.CaseloadCount(s.cfg.Runner, org)
	out.Total = total
	return out, ferrs, err
}

// listAnchor is the id of the filter's input for a parameter.
func listAnchor(field string) string {
	switch field {
	case "stage":
		return "stage"
	case "closed":
		return "closed"
	case "deadline":
		return "deadline"
	case "q", "attention", "sort", "order", "direction", "status", "overdue", "provider", "from", "to":
		return field
	}
	return ""
}

// listMessage says what to do about a parameter, as people read it.
func listMessage(e web.FieldError) string {
	switch e.Field {
	case "q":
		return "Enter part of a prison number or CRN, using letters and numbers only"
	case "cursor":
		return "The page you asked for no longer exists: start again from the first page"
	case "deadline":
		return "Choose a deadline from the list"
	case "stage", "attention", "sort", "order", "closed", "direction", "status", "overdue", "provider":
		return "Choose from the list"
	case "from", "to":
		return "Choose a quarter from the list, with the first no later than the last"
	case "limit":
		return "Show between 1 and 500 people on a page"
	}
	return e.Message
}

// caseloadRead is the ledger's read of p's own caseload (the API's caseload
// read), waiting for the position the request names.
// more names read models the answer also comes from.
func caseloadRead(r *http.Request, p auth.Principal, more ...string) ledger.OrganisationRead {
	return ledger.OrganisationRead{Org: p.Org, Access: auth.AccessReadCaseload,
		Projections: append([]string{projections.CaseloadName}, more...), MinPosition: at(r)}
}

// handoverList is what the handover filter and the pagination partial show.
type handoverList struct {
	Action     string
	Label      string
	Next, Prev string
	Filtered   bool
	// The filter as submitted.
	Q, Direction, Status string
	Overdue              bool

	DirectionOptions, StatusOptions []option
}

var handoverDirections = []option{{Value: "", Label: "Both"}, {Value: "incoming", Label: "To you"}, {Value: "outgoing", Label: "From you"}}
var handoverStatuses = []option{{Value: "", Label: "Any"}, {Value: "open", Label: "Open"}, {Value: "decided", Label: "Accepted or rejected"}}

// readHandoverList reads the page of org's handovers the request asks for, with the
// same parameters as the API (web.HandoverListQuery). Invalid parameters come back as
// field errors for the page's error summary, with no rows.
func (s *server) readHandoverList(r *http.Request, org string, now time.Time) (handoverList, []projections.HandoverRow, []fieldError, error) {
	q := r.URL.Query()
	out := handoverList{Action: r.URL.Path, Label: "handovers", Q: q.Get("q"), Direction: q.Get("direction"), Status: q.Get("status"),
		Overdue: q.Get("overdue") == "true", DirectionOptions: handoverDirections, StatusOptions: handoverStatuses}
	rows := []projections.HandoverRow{}
	params, errs := web.HandoverListQuery(q)
	if len(errs) == 0 {
		params.Query.Org, params.Query.Now = org, now
		page, err := projections.HandoversPage(s.cfg.Runner, params.Query)
		if ferrs, ok := web.CursorProblem(err); ok {
			errs = ferrs
		} else if err != nil {
			return out, nil, nil, err
		} else {
			rows = page.Rows
			out.Next, out.Prev = params.Link(r.URL.Path, page.Next, true), params.Link(r.URL.Path, page.Prev, false)
		}
	}
	f := params.Query.Filter
	out.Filtered = f != (projections.HandoverFilter{})
	return out, rows, listErrors(errs), nil
}

// listErrors are the field errors of a list's parameters, for the error summary.
func listErrors(errs []web.FieldError) []fieldError {
	var out []fieldError
	for _, e := range errs {
		out = append(out, fieldError{Field: e.Field, Anchor: listAnchor(e.Field), Message: listMessage(e)})
	}
	return out
}
