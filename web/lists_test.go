package web

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gateledger/gateledger/web/problem"
)

// TestCaseloadPagesThroughTheAPI: a prison's caseload read page by page through the
// next links covers every open case once; closed cases are hidden unless asked for;
// filters and orders apply; bad parameters answer problems naming the field.
func TestCaseloadPagesThroughTheAPI(t *testing.T) {
	w := newWorld(t, nil)
	var all []string
	var last answer
	for i := range 7 {
		noms := fmt.Sprintf("A%04dBC", 1000+i)
		all = append(all, noms)
		last = w.receive(noms, "mdi", "MDI")
	}
	// One released and one closed.
	w.do(req{method: "POST", path: "/v1/journeys/" + all[5] + "/releases", as: "mdi",
		body: map[string]any{"kind": "ON_LICENCE", "prison": "MDI", "at": ago(30 * time.Hour)}}).ok(t, http.StatusCreated)
	j6 := "/v1/journeys/" + all[6]
	w.do(req{method: "POST", path: j6 + "/handovers", as: "mdi",
		body: map[string]any{"to": "NPS-C", "reason": "release planning", "at": ago(25 * time.Hour)}}).ok(t, http.StatusCreated)
	w.do(req{method: "POST", path: j6 + "/handovers/current/acceptance", as: "c05", body: map[string]any{"at": ago(24 * time.Hour)}}).
		ok(t, http.StatusCreated)
	last = w.do(req{method: "POST", path: j6 + "/closure", as: "c05",
		body: map[string]any{"reason": "ADMINISTRATIVE", "at": ago(20 * time.Hour)}}).ok(t, http.StatusCreated)
	pos := map[string]string{HeaderMinPosition: last.header.Get(HeaderPosition)}

	walk := func(path string) (got []string, pages int) {
		t.Helper()
		for path != "" {
			a := w.do(req{method: "GET", path: path, as: "mdi", header: pos}).ok(t, http.StatusOK).json(t)
			for _, c := range a["cases"].([]any) {
				got = append(got, c.(map[string]any)["noms"].(string))
			}
			pages++
			path, _ = a["next"].(string)
			if pages > 10 {
				t.Fatal("the next links do not end")
			}
		}
		return got, pages
	}
	const base = "/v1/organisations/MDI/caseload"
	got, pages := walk(base + "?limit=2")
	if want := all[:6]; !slices.Equal(got, want) || pages != 3 {
		t.Fatalf("open cases in %d pages: %v, want %v", pages, got, want)
	}
	if got, _ := walk(base + "?limit=3&closed=include"); !slices.Equal(got, all) {
		t.Fatalf("with closed cases: %v, want %v", got, all)
	}
	backward := slices.Clone(all)
	slices.Reverse(backward)
	if got, _ := walk(base + "?limit=2&order=desc&closed=include"); !slices.Equal(got, backward) {
		t.Fatalf("descending: %v", got)
	}
	if got, _ := walk(base + "?stage=RELEASED"); !slices.Equal(got, all[5:6]) {
		t.Fatalf("released: %v", got)
	}
	if got, _ := walk(base + "?q=" + strings.ToLower(all[3])); !slices.Equal(got, all[3:4]) {
		t.Fatalf("search by prison number: %v", got)
	}
	if got, _ := walk(base + "?sort=deadline&limit=4"); len(got) != 6 {
		t.Fatalf("by deadline: %v", got)
	}
	// The previous link of the second page gives the first page back.
	first := w.do(req{method: "GET", path: base + "?limit=2", as: "mdi"}).ok(t, http.StatusOK).json(t)
	second := w.do(req{method: "GET", path: first["next"].(string), as: "mdi"}).ok(t, http.StatusOK).json(t)
	prev := w.do(req{method: "GET", path: second["prev"].(string), as: "mdi"}).ok(t, http.StatusOK).json(t)
	if cs := prev["cases"].([]any); len(cs) != 2 || cs[0].(map[string]any)["noms"] != all[0] || prev["prev"] != nil {
		t.Fatalf("previous page: %v", prev)
	}

	for _, tc := range []struct{ query, field string }{
		{"limit=0", "limit"}, {"limit=501", "limit"}, {"limit=ten", "limit"},
		{"sort=name", "sort"}, {"order=up", "order"}, {"stage=ASLEEP", "stage"},
		{"attention=BORED", "attention"}, {"deadline=soon", "deadline"}, {"deadline=400", "deadline"},
		{"q=A1234%25", "q"}, {"closed=yes", "closed"}, {"cursor=zzz", "cursor"}, {"cursor=n.zzz", "cursor"},
	} {
		p := w.do(req{method: "GET", path: base + "?" + tc.query, as: "mdi"}).problem(t, problem.Validation)
		if len(p.Errors) != 1 || p.Errors[0].Field != tc.field {
			t.Errorf("%s: errors %+v, want one about %s", tc.query, p.Errors, tc.field)
		}
	}
	// A cursor of one order is refused in another.
	next := w.do(req{method: "GET", path: base + "?limit=2", as: "mdi"}).json(t)["next"].(string)
	cursor := next[strings.Index(next, "cursor=")+len("cursor="):]
	if p := w.do(req{method: "GET", path: base + "?sort=releaseDate&cursor=" + cursor, as: "mdi"}).problem(t, problem.Validation); p.Errors[0].Field != "cursor" {
		t.Fatalf("%+v", p)
	}
}

// TestHandoversAndOutcomesPageThroughTheAPI: the handover queue and the outcome
// cohorts read page by page through the next links cover every row once; the filters
// apply; bad parameters answer problems naming the field.
func TestHandoversAndOutcomesPageThroughTheAPI(t *testing.T) {
	w := newWorld(t, nil)
	var people []string
	for i := range 6 {
		noms := fmt.Sprintf("A%04dHO", 3000+i)
		people = append(people, noms)
		w.receive(noms, "mdi", "MDI")
		body := map[string]any{"to": "NPS-C", "reason": "release planning", "at": ago(45 * time.Hour)}
		if i%2 == 0 {
			body["due"] = ago(40 * time.Hour) // overdue while open
		}
		w.post(t, "mdi", "/v1/journeys/"+noms+"/handovers", body, http.StatusCreated)
	}
	// Two accepted, one rejected, three left open (two of them overdue).
	w.post(t, "c05", "/v1/journeys/"+people[0]+"/handovers/current/acceptance", map[string]any{"at": ago(30 * time.Hour)}, http.StatusCreated)
	w.post(t, "c05", "/v1/journeys/"+people[1]+"/handovers/current/acceptance", map[string]any{"at": ago(30 * time.Hour)}, http.StatusCreated)
	last := w.post(t, "c05", "/v1/journeys/"+people[3]+"/handovers/current/rejection", map[string]any{"reason": "not ours", "at": ago(30 * time.Hour)}, http.StatusCreated)
	pos := map[string]string{HeaderMinPosition: last.header.Get(HeaderPosition)}

	walk := func(as, path, list string) (got []string, pages int) {
		t.Helper()
		for path != "" {
			a := w.do(req{method: "GET", path: path, as: as, header: pos}).ok(t, http.StatusOK).json(t)
			for _, side := range strings.Split(list, ",") {
				for _, c := range a[side].([]any) {
					m := c.(map[string]any)
					if side == "cohorts" {
						got = append(got, m["cohort"].(string)+"/"+m["provider"].(string))
					} else {
						got = append(got, m["noms"].(string)+"/"+m["status"].(string))
					}
				}
			}
			pages++
			path, _ = a["next"].(string)
			if pages > 10 {
				t.Fatal("the next links do not end")
			}
		}
		return got, pages
	}
	const base = "/v1/organisations/NPS-C/handovers"
	open := []string{people[2] + "/OPEN", people[4] + "/OPEN", people[5] + "/OPEN"}
	decided := []string{people[0] + "/ACCEPTED", people[1] + "/ACCEPTED", people[3] + "/REJECTED"}
	if got, pages := walk("c05", base+"?limit=2", "receiving,sending"); !slices.Equal(got, slices.Concat(open, decided)) || pages != 3 {
		t.Fatalf("queue in %d pages: %v", pages, got)
	}
	if got, _ := walk("c05", base+"?status=open&limit=1", "receiving"); !slices.Equal(got, open) {
		t.Fatalf("open: %v", got)
	}
	if got, _ := walk("c05", base+"?overdue=true", "receiving"); !slices.Equal(got, []string{people[2] + "/OPEN", people[4] + "/OPEN"}) {
		t.Fatalf("overdue: %v", got)
	}
	if got, _ := walk("c05", base+"?direction=outgoing", "receiving,sending"); len(got) != 0 {
		t.Fatalf("NPS-C sends nothing: %v", got)
	}
	if got, _ := walk("mdi", "/v1/organisations/MDI/handovers?direction=outgoing&status=decided&q="+strings.ToLower(people[3]), "sending"); !slices.Equal(got, decided[2:]) {
		t.Fatalf("MDI, decided, searched: %v", got)
	}
	first := w.do(req{method: "GET", path: base + "?limit=2", as: "c05"}).ok(t, http.StatusOK).json(t)
	second := w.do(req{method: "GET", path: first["next"].(string), as: "c05"}).ok(t, http.StatusOK).json(t)
	prev := w.do(req{method: "GET", path: second["prev"].(string), as: "c05"}).ok(t, http.StatusOK).json(t)
	if rs := prev["receiving"].([]any); len(rs) != 2 || rs[0].(map[string]any)["noms"] != people[2] || prev["prev"] != nil {
		t.Fatalf("previous page: %v", prev)
	}
	for _, tc := range []struct{ query, field string }{
		{"limit=0", "limit"}, {"limit=501", "limit"}, {"direction=sideways", "direction"}, {"status=pending", "status"},
		{"overdue=yes", "overdue"}, {"q=A1%25", "q"}, {"cursor=zzz", "cursor"}, {"cursor=n.zzz", "cursor"},
	} {
		p := w.do(req{method: "GET", path: base + "?" + tc.query, as: "c05"}).problem(t, problem.Validation)
		if len(p.Errors) != 1 || p.Errors[0].Field != tc.field {
			t.Errorf("%s: errors %+v, want one about %s", tc.query, p.Errors, tc.field)
		}
	}
	// A caseload cursor is not a handover cursor.
	cl := w.do(req{method: "GET", path: "/v1/organisations/MDI/caseload?limit=1", as: "mdi"}).json(t)["next"].(string)
	cursor := cl[strings.Index(cl, "cursor=")+len("cursor="):]
	if p := w.do(req{method: "GET", path: "/v1/organisations/MDI/handovers?cursor=" + cursor, as: "mdi"}).problem(t, problem.Validation); p.Errors[0].Field != "cursor" {
		t.Fatalf("%+v", p)
	}

	// Outcomes: releases into two providers' cohorts of this quarter.
	w.post(t, "mdi", "/v1/journeys/"+people[0]+"/releases", map[string]any{"kind": "ON_LICENCE", "prison": "MDI", "at": ago(20 * time.Hour)}, http.StatusCreated)
	j := "/v1/journeys/A4000JJ"
	w.receive("A4000JJ", "mdi", "MDI")
	w.post(t, "mdi", j+"/release-area", map[string]any{"area": "C17", "at": ago(47 * time.Hour)}, http.StatusCreated)
	w.post(t, "c17", j+"/handovers/current/acceptance", map[string]any{"at": ago(46 * time.Hour)}, http.StatusCreated)
	rel := w.post(t, "mdi", j+"/releases", map[string]any{"kind": "ON_LICENCE", "prison": "MDI", "at": ago(20 * time.Hour)}, http.StatusCreated)
	pos = map[string]string{HeaderMinPosition: rel.header.Get(HeaderPosition)}
	all, _ := walk("inspector", "/v1/outcomes", "cohorts")
	if len(all) != 2 || !strings.HasSuffix(all[0], "/NPS-C") || !strings.HasSuffix(all[1], "/NPS-J") {
		t.Fatalf("cohorts: %v", all)
	}
	quarter := strings.Split(all[0], "/")[0]
	if got, pages := walk("inspector", "/v1/outcomes?limit=1&from="+quarter+"&to="+quarter, "cohorts"); !slices.Equal(got, all) || pages != 2 {
		t.Fatalf("a cohort a page: %v in %d", got, pages)
	}
	if got, _ := walk("inspector", "/v1/outcomes?provider=NPS-J", "cohorts"); !slices.Equal(got, all[1:]) {
		t.Fatalf("NPS-J: %v", got)
	}
	if got, _ := walk("c05", "/v1/outcomes", "cohorts"); !slices.Equal(got, all[:1]) {
		t.Fatalf("a provider sees its own: %v", got)
	}
	if got, _ := walk("inspector", "/v1/outcomes?to=2014-Q2", "cohorts"); len(got) != 0 {
		t.Fatalf("before 2014-Q3: %v", got)
	}
	w.do(req{method: "GET", path: "/v1/outcomes?provider=NPS-J", as: "c05"}).problem(t, problem.Forbidden)
	for _, tc := range []struct{ query, field string }{
		{"from=2021", "from"}, {"to=2021-Q5", "to"}, {"from=2022-Q1&to=2021-Q4", "to"}, {"provider=nobody", "provider"},
		{"limit=x", "limit"}, {"cursor=p.zzz", "cursor"},
	} {
		p := w.do(req{method: "GET", path: "/v1/outcomes?" + tc.query, as: "inspector"}).problem(t, problem.Validation)
		if len(p.Errors) != 1 || p.Errors[0].Field != tc.field {
			t.Errorf("%s: errors %+v, want one about %s", tc.query, p.Errors, tc.field)
		}
	}
}
