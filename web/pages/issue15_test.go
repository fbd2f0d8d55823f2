package pages_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
)

// The faults of issue 15 a person met, one test each (and one in
// notice_test.go, inside the package).

// TestPagesAfterARelease: after a real release the person page shows the
// release date; the provider's handovers say their direction in words; the
// timeline says who acted by name and what happened in words; the history
// download says what happened; a rule error says its times in UK time and
// what to do next.
func TestPagesAfterARelease(t *testing.T) {
	l := startLedger(t)
	const noms, other = "A1234BC", "B2222BB"
	l.receive(noms, "MDI")
	l.handOver(noms, "MDI", "NPS-C", true)
	released := time.Now().Add(-time.Hour)
	l.command(auth.RolePrison, "MDI", noms, "/releases", map[string]any{"kind": "ECSL", "prison": "MDI", "at": released.UTC().Format(time.RFC3339)})
	l.receive(other, "MDI")
	l.handOver(other, "MDI", "NPS-C", false)

	prov := newClient(t, l)
	prov.signIn(l.token(auth.RoleProvider, "NPS-C"))
	day := released.In(aggregates.UK).Format("2 January 2006")
	if r := prov.do("GET", "/provider/people/"+noms, nil); !strings.Contains(pageText(r.body), day+" (released)") {
		t.Errorf("provider person page after release: no release date %q\n%s", day, pageText(r.body))
	}
	if r := prov.do("GET", "/provider/handovers", nil); !strings.Contains(pageText(r.body), "Receiving") || strings.Contains(r.body, "%!") {
		t.Errorf("handovers direction:\n%s", pageText(r.body))
	}

	insp := newClient(t, l)
	insp.signIn(l.token(auth.RoleInspector, ""))
	tl := pageText(insp.do("GET", "/inspect/people/"+noms, nil).body)
	for _, want := range []string{"by Test prison MDI, Prison staff", "End of custody supervised licence (ECSL)", "Received into custody", "Release kind"} {
		if !strings.Contains(tl, want) {
			t.Errorf("timeline does not say %q", want)
		}
	}
	if strings.Contains(tl, "token:") {
		t.Errorf("timeline shows a token id instead of a name")
	}
	csv := insp.do("GET", "/inspect/people/"+noms+"/history.csv", nil).body
	if !strings.Contains(csv, "Release kind: End of custody supervised licence (ECSL); Prison: MDI") || !strings.Contains(csv, "Test prison MDI") {
		t.Errorf("history download does not say what happened or who:\n%s", csv)
	}
	if r := insp.do("GET", "/inspect/outcomes.csv", nil); r.status != http.StatusOK || !strings.HasPrefix(r.body, "provider,cohort,") {
		t.Errorf("outcomes download: %d %q", r.status, r.body)
	}

	// A release dated before the reception: the rule error's words.
	body, _ := json.Marshal(map[string]any{"kind": "ON_LICENCE", "prison": "MDI", "at": time.Now().Add(-30 * 24 * time.Hour).UTC().Format(time.RFC3339)})
	req, _ := http.NewRequest("POST", l.URL+"/v1/journeys/"+other+"/releases", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+l.token(auth.RolePrison, "MDI"))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ans, _ := io.ReadAll(resp.Body)
	var p struct{ Detail string }
	_ = json.Unmarshal(ans, &p)
	if resp.StatusCode != http.StatusConflict || len(wordFaults(p.Detail)) > 0 || !strings.Contains(p.Detail, "Check the date") {
		t.Errorf("release before reception: %d %q %v", resp.StatusCode, p.Detail, wordFaults(p.Detail))
	}
}
