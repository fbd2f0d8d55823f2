package web

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gateledger/gateledger/web/export"
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
		for i, want := range []string{"PrisonerReceived", "CustodyScreeningCompleted"} {
			row := recs[i+1]
			if row[4] != want || row[1] != "journey-"+noms || row[11] != "MDI" || row[12] != "api" || len(row[17]) != 64 {
				t.Errorf("row %d: %v", i+1, row)
			}
		}
	}
	for _, as := range []string{"c17", "lei"} {
		w.do(req{method: "GET", path: j + "/trail.csv", as: as}).problem(t, ProblemNotFound)
	}
	w.do(req{method: "GET", path: "/v1/journeys/not-a-noms/trail.csv", as: "inspector"}).problem(t, ProblemValidation)

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
