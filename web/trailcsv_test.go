package web

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gateledger/gateledger/web/export"
	"github.com/gateledger/gateledger/web/problem"
)

// TestTrailCSV: the whole history as a CSV download, one row per event with
// who, organisation, when, source and hash, readable by those who may read
// the person (404 for others), and recorded in the access log.
func TestTrailCSV(t *testing.T) {
	w := newWorld(t, nil)
	const noms = "C4567DE"
	j := "/v1/journeys/" + noms
	w.receive(noms, "mdi", "MDI")
	w.do(req{method: "POST", path: j + "/screenings", as: "mdi",
		body: map[string]any{"at": ago(47 * time.Hour)}}).ok(t, http.StatusCreated)

	for _, as := range []string{"inspector", "mdi"} {
		a := w.do(req{method: "GET", path: j + "/trail.csv", as: as}).ok(t, http.StatusOK)
		if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Fatalf("Content-Type %q", ct)
		}
		if cd := a.header.Get("Content-Disposition"); cd != `attachment; filename="gateledger-history-`+noms+`.csv"` {
			t.Fatalf("Content-Disposition %q", cd)
		}
		if a.header.Get("ETag") != `"1"` {
			t.Fatalf("ETag %q, want the revision", a.header.Get("ETag"))
		}
		recs, err := csv.NewReader(strings.NewReader(string(a.body))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 3 || strings.Join(recs[0], ",") != strings.Join(export.Columns, ",") {
			t.Fatalf("CSV:\n%s", a.body)
		}
		col := map[string]int{}
		for i, c := range export.Columns {
			col[c] = i
		}
		for i, want := range []string{"PrisonerReceived", "CustodyScreeningCompleted"} {
			row := recs[i+1]
			if row[col["type"]] != want || row[col["stream"]] != "journey-"+noms || row[col["organisation"]] != "MDI" ||
				row[col["source"]] != "api" || len(row[col["hash"]]) != 64 {
				t.Errorf("row %d: %v", i+1, row)
			}
		}
		// What happened, in words, beside the machine values.
		if recs[1][col["what"]] != "Received into custody" || !strings.Contains(recs[1][col["details"]], "Prison: MDI") {
			t.Errorf("row 1 does not say what happened: %v", recs[1])
		}
	}
	for _, as := range []string{"c17", "lei"} {
		w.do(req{method: "GET", path: j + "/trail.csv", as: as}).problem(t, problem.NotFound)
	}
	w.do(req{method: "GET", path: "/v1/journeys/not-a-noms/trail.csv", as: "inspector"}).problem(t, problem.Validation)

	al := w.do(req{method: "GET", path: "/v1/access-log", as: "inspector"}).ok(t, http.StatusOK).json(t)
	want := principalID(t, w, "inspector") + " export audit trail " + noms
	found := false
	for _, e := range al["entries"].([]any) {
		m := e.(map[string]any)
		if m["principalId"].(string)+" "+m["what"].(string)+" "+m["subject"].(string) == want {
			found = true
		}
	}
	if !found {
		t.Fatalf("access log lacks %q: %v", want, al)
	}
}

// TestTrailSetAndOutcomesCSV: an inspector downloads the histories of every
// person an organisation sees, for a date range, each read recorded; others
// are refused; outcomes come as CSV too.
func TestTrailSetAndOutcomesCSV(t *testing.T) {
	w := newWorld(t, nil)
	const noms = "C4567DE"
	w.receive(noms, "mdi", "MDI")
	w.receive("D5678EF", "mdi", "MDI")

	a := w.do(req{method: "GET", path: "/v1/trail.csv?organisation=MDI", as: "inspector"}).ok(t, http.StatusOK)
	recs, err := csv.NewReader(strings.NewReader(string(a.body))).ReadAll()
	if err != nil || len(recs) != 3 || strings.Join(recs[0], ",") != strings.Join(export.Columns, ",") {
		t.Fatalf("set download: %v\n%s", err, a.body)
	}
	today := time.Now().Format(time.DateOnly)
	a = w.do(req{method: "GET", path: "/v1/trail.csv?organisation=MDI&from=" + today + "&to=" + today, as: "inspector"}).ok(t, http.StatusOK)
	if recs, _ := csv.NewReader(strings.NewReader(string(a.body))).ReadAll(); len(recs) != 1 {
		t.Errorf("receptions two days ago are outside today: %d rows", len(recs)-1)
	}
	w.do(req{method: "GET", path: "/v1/trail.csv?organisation=MDI", as: "mdi"}).problem(t, problem.Forbidden)
	w.do(req{method: "GET", path: "/v1/trail.csv", as: "inspector"}).problem(t, problem.Validation)
	w.do(req{method: "GET", path: "/v1/trail.csv?organisation=MDI&from=2026-02-30", as: "inspector"}).problem(t, problem.Validation)

	al := w.do(req{method: "GET", path: "/v1/access-log", as: "inspector"}).ok(t, http.StatusOK).json(t)
	n := 0
	for _, e := range al["entries"].([]any) {
		if m := e.(map[string]any); m["what"] == "export audit trail" {
			n++
		}
	}
	if n < 4 {
		t.Errorf("%d exports recorded, want one per person per download", n)
	}

	o := w.do(req{method: "GET", path: "/v1/outcomes.csv", as: "inspector"}).ok(t, http.StatusOK)
	if !strings.HasPrefix(string(o.body), strings.Join(export.OutcomeColumns, ",")+"\r\n") || !strings.HasPrefix(o.header.Get("Content-Type"), "text/csv") {
		t.Errorf("outcomes CSV: %q", o.body)
	}
	w.do(req{method: "GET", path: "/v1/outcomes.csv", as: "mdi"}).problem(t, problem.Forbidden)
}
