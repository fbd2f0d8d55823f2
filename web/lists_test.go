package web

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
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
		p := w.do(req{method: "GET", path: base + "?" + tc.query, as: "mdi"}).problem(t, ProblemValidation)
		if len(p.Errors) != 1 || p.Errors[0].Field != tc.field {
			t.Errorf("%s: errors %+v, want one about %s", tc.query, p.Errors, tc.field)
		}
	}
	// A cursor of one order is refused in another.
	next := w.do(req{method: "GET", path: base + "?limit=2", as: "mdi"}).json(t)["next"].(string)
	cursor := next[strings.Index(next, "cursor=")+len("cursor="):]
	if p := w.do(req{method: "GET", path: base + "?sort=releaseDate&cursor=" + cursor, as: "mdi"}).problem(t, ProblemValidation); p.Errors[0].Field != "cursor" {
		t.Fatalf("%+v", p)
	}
}
