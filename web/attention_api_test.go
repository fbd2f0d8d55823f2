package web

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gateledger/gateledger/closure"
	"github.com/gateledger/gateledger/web/problem"
)

// The scenarios of issue 13 about responsibility, attention, sentence facts,
// order of facts and closure, through the HTTP API of a running ledger.

// post sends a command and returns the answer; status is checked.
func (w *world) post(t *testing.T, as, path string, body map[string]any, status int) answer {
	t.Helper()
	return w.do(req{method: "POST", path: path, as: as, body: body}).ok(t, status)
}

// caseRow reads org's caseload row for noms, after the command whose answer is
// after; nil when it has none.
func (w *world) caseRow(t *testing.T, as, org, noms string, after answer) map[string]any {
	t.Helper()
	cl := w.do(req{method: "GET", path: "/v1/organisations/" + org + "/caseload", as: as,
		header: map[string]string{HeaderMinPosition: after.header.Get(HeaderPosition)}}).ok(t, http.StatusOK).json(t)
	for _, c := range cl["cases"].([]any) {
		if row := c.(map[string]any); row["noms"] == noms {
			return row
		}
	}
	return nil
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func hasAll(list []string, want ...string) bool {
	for _, x := range want {
		if !slices.Contains(list, x) {
			return false
		}
	}
	return true
}

func TestNPSCannotHandACaseToAPrisonNotHoldingThePerson(t *testing.T) {
	w := newWorld(t, nil)
	const noms = "B1000AA"
	j := "/v1/journeys/" + noms
	w.receive(noms, "mdi", "MDI")
	w.post(t, "mdi", j+"/release-area", map[string]any{"area": "C05", "at": ago(47 * time.Hour)}, http.StatusCreated)
	w.post(t, "c05", j+"/handovers/current/acceptance", map[string]any{"at": ago(46 * time.Hour)}, http.StatusCreated)
	p := w.do(req{method: "POST", path: j + "/handovers", as: "c05",
		body: map[string]any{"to": "LEI", "reason": "custody", "at": ago(45 * time.Hour)}}).problem(t, problem.RuleViolation)
	if p.Rule != "prison-must-hold-person" {
		t.Fatalf("handover to LEI: %+v", p)
	}
	// NPS-C still holds the case and can read it.
	w.do(req{method: "GET", path: j, as: "c05"}).ok(t, http.StatusOK)
}

func TestReleasedWithNoReleaseAreaThePrisonRoutesItOn(t *testing.T) {
	w := newWorld(t, nil)
	const noms = "B2000AA"
	j := "/v1/journeys/" + noms
	w.receive(noms, "mdi", "MDI")
	rel := w.post(t, "mdi", j+"/releases", map[string]any{"kind": "ON_LICENCE", "prison": "MDI", "at": ago(40 * time.Hour)}, http.StatusCreated)
	row := w.caseRow(t, "mdi", "MDI", noms, rel)
	if row == nil || !hasAll(strs(row["attention"]), "NO_RELEASE_AREA") || row["responsible"] != "MDI" {
		t.Fatalf("MDI row after a release with no area: %v", row)
	}
	// The prison, still responsible, records the area; the handover follows.
	area := w.post(t, "mdi", j+"/release-area", map[string]any{"area": "C05", "at": ago(39 * time.Hour)}, http.StatusCreated)
	row = w.caseRow(t, "mdi", "MDI", noms, area)
	if row == nil || slices.Contains(strs(row["attention"]), "NO_RELEASE_AREA") || !hasAll(strs(row["attention"]), "HANDOVER_OPEN") {
		t.Fatalf("MDI row after the area: %v", row)
	}
	if r := w.caseRow(t, "c05", "NPS-C", noms, area); r == nil || !hasAll(strs(r["relations"]), "RECEIVING") {
		t.Fatalf("NPS-C row: %v", r)
	}
}

func TestEscalationWhileAHandoverIsOpenShowsOnBothCaseloads(t *testing.T) {
	w := newWorld(t, nil)
	const noms = "B3000AA"
	j := "/v1/journeys/" + noms
	w.receive(noms, "mdi", "MDI")
	w.post(t, "mdi", j+"/release-area", map[string]any{"area": "C05", "at": ago(47 * time.Hour)}, http.StatusCreated)
	risk := w.post(t, "c05", j+"/risk", map[string]any{"level": "HIGH", "at": ago(46 * time.Hour)}, http.StatusCreated)
	for _, side := range [][2]string{{"mdi", "MDI"}, {"c05", "NPS-C"}} {
		if r := w.caseRow(t, side[0], side[1], noms, risk); r == nil || !hasAll(strs(r["attention"]), "HANDOVER_OPEN") {
			t.Fatalf("%s row during the open handover: %v", side[1], r)
		}
	}
	// The release address moves to London while the handover is open: the rule's
	// handover to NPS-J cannot be requested, and shows once NPS-C accepts.
	w.post(t, "mdi", j+"/release-area", map[string]any{"area": "C17", "at": ago(45 * time.Hour)}, http.StatusCreated)
	acc := w.post(t, "c05", j+"/handovers/current/acceptance", map[string]any{"at": ago(44 * time.Hour)}, http.StatusCreated)
	r := w.caseRow(t, "c05", "NPS-C", noms, acc)
	if r == nil || !hasAll(strs(r["attention"]), "HANDOVER_NEEDED") || r["shouldTake"] != "NPS-J" {
		t.Fatalf("NPS-C row: %v", r)
	}
	r = w.caseRow(t, "c17", "NPS-J", noms, acc)
	if r == nil || !slices.Equal(strs(r["relations"]), []string{"SHOULD_TAKE"}) || !hasAll(strs(r["attention"]), "HANDOVER_NEEDED") {
		t.Fatalf("NPS-J row: %v", r)
	}
	// Being told is not sight: NPS-J reads the journey once it is asked.
	w.do(req{method: "GET", path: j, as: "c17"}).problem(t, problem.NotFound)
	asked := w.post(t, "c05", j+"/handovers", map[string]any{"to": "NPS-J", "reason": "moved to London", "at": ago(43 * time.Hour)}, http.StatusCreated)
	if r := w.caseRow(t, "c05", "NPS-C", noms, asked); r == nil || slices.Contains(strs(r["attention"]), "HANDOVER_NEEDED") {
		t.Fatalf("NPS-C row after the request: %v", r)
	}
	w.do(req{method: "GET", path: j, as: "c17"}).ok(t, http.StatusOK)
}

func TestMAPPACaseWhoseHandoverWasRejectedNeedsAttention(t *testing.T) {
	w := newWorld(t, nil)
	const noms = "B4000AA"
	j := "/v1/journeys/" + noms
	w.receive(noms, "mdi", "MDI")
	w.post(t, "mdi", j+"/release-area", map[string]any{"area": "C05", "at": ago(47 * time.Hour)}, http.StatusCreated)
	w.post(t, "c05", j+"/mappa", map[string]any{"level": 2, "at": ago(46 * time.Hour)}, http.StatusCreated)
	rej := w.post(t, "c05", j+"/handovers/current/rejection", map[string]any{"reason": "not ours", "at": ago(45 * time.Hour)}, http.StatusCreated)
	r := w.caseRow(t, "mdi", "MDI", noms, rej)
	if r == nil || !hasAll(strs(r["attention"]), "HANDOVER_NEEDED", "HANDOVER_REJECTED") || r["shouldTake"] != "NPS-C" {
		t.Fatalf("MDI row: %v", r)
	}
	r = w.caseRow(t, "c05", "NPS-C", noms, rej)
	if r == nil || !hasAll(strs(r["relations"]), "SHOULD_TAKE") || !hasAll(strs(r["attention"]), "HANDOVER_REJECTED") {
		t.Fatalf("NPS-C row: %v", r)
	}
	plan := w.do(req{method: "GET", path: j + "/plan", as: "mdi", header: map[string]string{HeaderMinPosition: rej.header.Get(HeaderPosition)}}).
		ok(t, http.StatusOK).json(t)
	if !hasAll(strs(plan["attention"]), "HANDOVER_REJECTED") || plan["shouldTake"] != "NPS-C" {
		t.Fatalf("plan view: %v", plan)
	}
	// Asked again and accepted: the attention clears.
	w.post(t, "mdi", j+"/handovers", map[string]any{"to": "NPS-C", "reason": "MAPPA 2: NPS case", "at": ago(44 * time.Hour)}, http.StatusCreated)
	acc := w.post(t, "c05", j+"/handovers/current/acceptance", map[string]any{"at": ago(43 * time.Hour)}, http.StatusCreated)
	if r := w.caseRow(t, "c05", "NPS-C", noms, acc); r == nil || len(strs(r["attention"])) != 0 {
		t.Fatalf("NPS-C row after acceptance: %v", r)
	}
}

func TestRemandPrisonerSentenceFacts(t *testing.T) {
	w := newWorld(t, nil)
	const noms, later = "B5000AA", "B5100AA"
	j := "/v1/journeys/" + noms
	w.post(t, "mdi", j+"/receptions", map[string]any{"kind": "REMAND", "prison": "MDI", "at": ago(300 * time.Hour)}, http.StatusCreated)
	scr := w.post(t, "mdi", j+"/screenings", map[string]any{"at": ago(299 * time.Hour)}, http.StatusCreated)
	plan := w.do(req{method: "GET", path: j + "/plan", as: "mdi", header: map[string]string{HeaderMinPosition: scr.header.Get(HeaderPosition)}}).
		ok(t, http.StatusOK).json(t)
	if due := plan["deadlines"].(map[string]any)["plan"].(map[string]any)["due"]; due != nil || len(strs(plan["overdue"])) != 0 {
		t.Fatalf("remand plan deadline: %v", plan["deadlines"])
	}
	p := w.do(req{method: "POST", path: j + "/release-dates", as: "mdi",
		body: map[string]any{"dates": map[string]any{"conditionalReleaseDate": "2030-01-01"}, "at": ago(298 * time.Hour)}}).problem(t, problem.RuleViolation)
	if p.Rule != "release-dates-need-sentence" {
		t.Fatalf("release dates on remand: %+v", p)
	}
	w.post(t, "mdi", j+"/release-area", map[string]any{"area": "C05", "at": ago(297 * time.Hour)}, http.StatusCreated)
	w.post(t, "c05", j+"/handovers/current/acceptance", map[string]any{"at": ago(296 * time.Hour)}, http.StatusCreated)
	rel := w.post(t, "mdi", j+"/releases", map[string]any{"kind": "DISCHARGED", "prison": "MDI", "at": ago(200 * time.Hour)}, http.StatusCreated)
	plan = w.do(req{method: "GET", path: j + "/plan", as: "c05", header: map[string]string{HeaderMinPosition: rel.header.Get(HeaderPosition)}}).
		ok(t, http.StatusOK).json(t)
	if d := plan["deadlines"].(map[string]any)["supervisionEnds"].(map[string]any); d["due"] != nil {
		t.Fatalf("supervision after a remand discharge: %v", d)
	}
	p = w.do(req{method: "POST", path: j + "/recalls", as: "c05", body: map[string]any{"reason": "r", "at": ago(100 * time.Hour)}}).problem(t, problem.RuleViolation)
	if p.Rule != "recall-needs-licence" {
		t.Fatalf("recall after a remand discharge: %+v", p)
	}
	out := w.do(req{method: "GET", path: "/v1/outcomes", as: "inspector", header: map[string]string{HeaderMinPosition: rel.header.Get(HeaderPosition)}}).
		ok(t, http.StatusOK).json(t)
	if cs, _ := out["cohorts"].([]any); len(cs) != 0 {
		t.Fatalf("a remand discharge in a cohort: %v", out)
	}

	// A remand prisoner sentenced without a new reception: the plan clock starts.
	lj := "/v1/journeys/" + later
	w.post(t, "mdi", lj+"/receptions", map[string]any{"kind": "REMAND", "prison": "MDI", "at": ago(300 * time.Hour)}, http.StatusCreated)
	w.post(t, "mdi", lj+"/screenings", map[string]any{"at": ago(299 * time.Hour)}, http.StatusCreated)
	sent := w.post(t, "mdi", lj+"/sentences", map[string]any{"type": "DETERMINATE", "lengthMonths": 18,
		"sentenceDate": time.Now().Add(-100 * time.Hour).UTC().Format(time.DateOnly), "at": ago(100 * time.Hour)}, http.StatusCreated)
	plan = w.do(req{method: "GET", path: lj + "/plan", as: "mdi", header: map[string]string{HeaderMinPosition: sent.header.Get(HeaderPosition)}}).
		ok(t, http.StatusOK).json(t)
	if due := plan["deadlines"].(map[string]any)["plan"].(map[string]any)["due"]; due == nil {
		t.Fatalf("no plan deadline after sentence: %v", plan["deadlines"])
	}
	// A provider cannot record a sentence.
	w.do(req{method: "POST", path: lj + "/sentences", as: "c05", body: map[string]any{"type": "DETERMINATE", "lengthMonths": 6,
		"sentenceDate": "2026-01-01", "at": ago(time.Hour)}}).problem(t, problem.NotFound)
}

func TestFactsInOrder(t *testing.T) {
	w := newWorld(t, nil)
	const noms = "B6000AA"
	j := "/v1/journeys/" + noms
	w.receive(noms, "mdi", "MDI") // 48 hours ago
	p := w.do(req{method: "POST", path: j + "/releases", as: "mdi",
		body: map[string]any{"kind": "ON_LICENCE", "prison": "MDI", "at": ago(100 * time.Hour)}}).problem(t, problem.RuleViolation)
	if p.Rule != "before-first-reception" {
		t.Fatalf("release before the only reception: %+v", p)
	}
	w.post(t, "mdi", j+"/release-dates", map[string]any{"dates": map[string]any{"conditionalReleaseDate": "2031-01-01"},
		"calculatedAt": ago(10 * time.Hour), "at": ago(9 * time.Hour)}, http.StatusCreated)
	p = w.do(req{method: "POST", path: j + "/release-dates", as: "mdi",
		body: map[string]any{"dates": map[string]any{"conditionalReleaseDate": "2032-01-01"}, "calculatedAt": ago(20 * time.Hour), "at": ago(8 * time.Hour)}}).
		problem(t, problem.RuleViolation)
	if p.Rule != "release-dates-by-calculation-time" {
		t.Fatalf("older calculation: %+v", p)
	}
	jv := w.do(req{method: "GET", path: j, as: "mdi"}).ok(t, http.StatusOK).json(t)
	if rd := jv["journey"].(map[string]any)["releaseDates"].(map[string]any); rd["conditionalReleaseDate"] != "2031-01-01" {
		t.Fatalf("release dates %v", rd)
	}
}

func TestReoffenceFromTheFirstLicenceAfterARecall(t *testing.T) {
	w := newWorld(t, nil)
	const noms = "B7000AA"
	j := "/v1/journeys/" + noms
	day := 24 * time.Hour
	w.post(t, "mdi", j+"/receptions", map[string]any{"kind": "SENTENCE", "prison": "MDI", "at": ago(300 * day)}, http.StatusCreated)
	w.post(t, "mdi", j+"/release-area", map[string]any{"area": "C05", "at": ago(299 * day)}, http.StatusCreated)
	w.post(t, "c05", j+"/handovers/current/acceptance", map[string]any{"at": ago(298 * day)}, http.StatusCreated)
	first := w.post(t, "mdi", j+"/releases", map[string]any{"kind": "ON_LICENCE", "prison": "MDI", "at": ago(200 * day)}, http.StatusCreated)
	_ = first
	w.post(t, "c05", j+"/recalls", map[string]any{"reason": "further offence", "at": ago(150 * day)}, http.StatusCreated)
	w.post(t, "mdi", j+"/receptions", map[string]any{"kind": "RECALL", "prison": "MDI", "at": ago(149 * day)}, http.StatusCreated)
	w.post(t, "mdi", j+"/releases", map[string]any{"kind": "ON_LICENCE", "prison": "MDI", "at": ago(100 * day)}, http.StatusCreated)
	offence := time.Now().Add(-180 * day).UTC().Format(time.DateOnly)
	conviction := time.Now().Add(-10 * day).UTC().Format(time.DateOnly)
	w.post(t, "c05", j+"/reoffences", map[string]any{"offence": "theft", "offenceDate": offence, "convictionDate": conviction, "at": ago(day)}, http.StatusCreated)
	jv := w.do(req{method: "GET", path: j, as: "c05"}).ok(t, http.StatusOK).json(t)
	ro := jv["journey"].(map[string]any)["reoffences"].([]any)[0].(map[string]any)
	got, _ := time.Parse(time.RFC3339, ro["releasedAt"].(string))
	want, _ := time.Parse(time.RFC3339, ago(200*day))
	if got.Sub(want).Abs() > time.Minute {
		t.Fatalf("reoffence attached to the release of %v, want the first, %v", got, want)
	}
}

func TestTheLedgerClosesAJourneyWhoseSupervisionEnded(t *testing.T) {
	w := newWorld(t, nil)
	const noms = "B8000AA"
	j := "/v1/journeys/" + noms
	now := time.Now().UTC()
	w.post(t, "mdi", j+"/receptions", map[string]any{"kind": "SENTENCE", "prison": "MDI", "at": now.AddDate(0, -16, 0).Format(time.RFC3339)}, http.StatusCreated)
	rel := w.post(t, "mdi", j+"/releases", map[string]any{"kind": "ON_LICENCE", "prison": "MDI", "at": now.AddDate(0, -13, 0).Format(time.RFC3339)}, http.StatusCreated)
	if r := w.caseRow(t, "mdi", "MDI", noms, rel); r == nil || !hasAll(strs(r["attention"]), "SUPERVISION_ENDED") {
		t.Fatalf("MDI row: %v", r)
	}
	// The closer serve starts (cmd/gateledger), over this ledger.
	closed, err := (&closure.Closer{Journeys: w.svc, Runner: w.runner}).Pass(context.Background())
	if err != nil || !slices.Equal(closed, []string{noms}) {
		t.Fatalf("closer: %v %v", closed, err)
	}
	jv := w.do(req{method: "GET", path: j, as: "inspector"}).ok(t, http.StatusOK).json(t)
	if jj := jv["journey"].(map[string]any); jj["closed"] != true || jj["closeReason"] != "SUPERVISION_ENDED" {
		t.Fatalf("journey after the closer: %v", jj)
	}
	again, err := (&closure.Closer{Journeys: w.svc, Runner: w.runner}).Pass(context.Background())
	if err != nil || len(again) != 0 {
		t.Fatalf("second pass: %v %v", again, err)
	}
}
