package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gateledger/gateledger/web/problem"
)

// The scenarios of issue 13 about organisations, dates and CRNs, through the HTTP
// API of a running ledger: each is refused with the rule named, or lands where the
// rules say.
func TestOrganisationAndDateRulesThroughTheAPI(t *testing.T) {
	w := newWorld(t, nil)
	const noms = "A5555AA"
	j := "/v1/journeys/" + noms
	w.receive(noms, "mdi", "MDI")

	for _, tc := range []struct {
		name, to, rule string
	}{
		{"a handover to ZZZ", "ZZZ", "prison-must-hold-person"},
		{"a handover to a prison that does not hold the person", "LEI", "prison-must-hold-person"},
		{"a handover to a CRC after 26 June 2021", "C05", "organisation-must-exist"},
		{"a handover to an NPS division after 26 June 2021", "N02", "organisation-must-exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := w.do(req{method: "POST", path: j + "/handovers", as: "mdi",
				body: map[string]any{"to": tc.to, "reason": "r", "at": ago(40 * time.Hour)}}).problem(t, problem.RuleViolation)
			if p.Rule != tc.rule {
				t.Fatalf("rule %q, want %q: %+v", p.Rule, tc.rule, p)
			}
		})
	}
	// A reception in 1901 is refused and makes no journey (nor a 1901 cohort).
	p := w.do(req{method: "POST", path: "/v1/journeys/A6666AA/receptions", as: "mdi",
		body: map[string]any{"kind": "SENTENCE", "prison": "MDI", "at": "1901-03-01T10:00:00Z"}}).problem(t, problem.RuleViolation)
	if p.Rule != "plausible-dates" {
		t.Fatalf("1901 reception: %+v", p)
	}
	w.do(req{method: "GET", path: "/v1/journeys/A6666AA", as: "inspector"}).problem(t, problem.NotFound)

	// A release area recorded at 23:30 UTC on 25 June 2021 (26 June in the UK) is
	// handed to the NPS region, not the CRC: effective dates are UK dates.
	const late = "A7777AA"
	lj := "/v1/journeys/" + late
	w.do(req{method: "POST", path: lj + "/receptions", as: "mdi",
		body: map[string]any{"kind": "SENTENCE", "prison": "MDI", "at": "2021-06-01T09:00:00Z"}}).ok(t, http.StatusCreated)
	w.do(req{method: "POST", path: lj + "/release-area", as: "mdi", body: map[string]any{"area": "C05", "at": "2021-06-25T23:30:00Z"}}).
		ok(t, http.StatusCreated)
	got := w.do(req{method: "GET", path: lj, as: "inspector"}).ok(t, http.StatusOK).json(t)
	jv, _ := got["journey"].(map[string]any)
	hs, _ := jv["handovers"].([]any)
	if len(hs) != 1 || hs[0].(map[string]any)["to"] != "NPS-C" {
		t.Fatalf("handovers after a release area late on 25 June 2021: %v", jv["handovers"])
	}
}

// A CRN belongs to one person: a second link is refused with the rule named, and the
// refusal names the other journey only to a caller who may read it.
func TestCRNBelongsToOnePersonThroughTheAPI(t *testing.T) {
	w := newWorld(t, nil)
	for _, c := range []struct{ noms, prison, to, provider string }{
		{"A1000AA", "mdi", "NPS-C", "c05"}, {"A2000AA", "mdi", "NPS-C", "c05"}, {"A3000AA", "lei", "NPS-J", "c17"},
	} {
		j := "/v1/journeys/" + c.noms
		w.receive(c.noms, c.prison, strings.ToUpper(c.prison))
		w.do(req{method: "POST", path: j + "/handovers", as: c.prison, body: map[string]any{"to": c.to, "reason": "r", "at": ago(45 * time.Hour)}}).
			ok(t, http.StatusCreated)
		w.do(req{method: "POST", path: j + "/handovers/current/acceptance", as: c.provider, body: map[string]any{"at": ago(44 * time.Hour)}}).
			ok(t, http.StatusCreated)
	}
	w.do(req{method: "POST", path: "/v1/journeys/A1000AA/crn", as: "c05", body: map[string]any{"crn": "X373878", "at": ago(40 * time.Hour)}}).
		ok(t, http.StatusCreated)
	// NPS-C holds both people: it is told whose the CRN is.
	p := w.do(req{method: "POST", path: "/v1/journeys/A2000AA/crn", as: "c05", body: map[string]any{"crn": "X373878", "at": ago(39 * time.Hour)}}).
		problem(t, problem.RuleViolation)
	if p.Rule != "crn-belongs-to-one-person" || !strings.Contains(p.Detail, "A1000AA") {
		t.Fatalf("to a caller who may read the other journey: %+v", p)
	}
	// NPS-J may not read A1000AA: it learns the CRN is taken, not by whom.
	p = w.do(req{method: "POST", path: "/v1/journeys/A3000AA/crn", as: "c17", body: map[string]any{"crn": "X373878", "at": ago(39 * time.Hour)}}).
		problem(t, problem.RuleViolation)
	if p.Rule != "crn-belongs-to-one-person" || strings.Contains(string(w.do(req{method: "POST", path: "/v1/journeys/A3000AA/crn", as: "c17",
		body: map[string]any{"crn": "X373878", "at": ago(38 * time.Hour)}}).body), "A1000AA") {
		t.Fatalf("to a caller who may not read the other journey: %+v", p)
	}
}
