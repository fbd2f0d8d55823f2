package pages_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/web/export"
)

// TestInspectorPagesHTTP: the inspector pages without a browser: who may
// open them, what each answers to good and bad input, and the downloads.
func TestInspectorPagesHTTP(t *testing.T) {
	l := startLedger(t)
	const noms = "A1234BC"
	l.receive(noms, "MDI")
	l.command(auth.RolePrison, "MDI", noms, "/screenings", map[string]any{"at": time.Now().Add(-47 * time.Hour).UTC().Format(time.RFC3339)})

	insp := newClient(t, l)
	insp.signIn(l.token(auth.RoleInspector, ""))
	paths := []string{"/inspect", "/inspect?q=" + noms, "/inspect/people/" + noms, "/inspect/people/" + noms + "/as-at?position=1",
		"/inspect/people/" + noms + "/verification", "/inspect/people/" + noms + "/history.csv",
		"/inspect/people/" + noms + "/history.json", "/inspect/outcomes"}
	for _, role := range []struct {
		role auth.Role
		org  string
	}{{auth.RolePrison, "MDI"}, {auth.RoleProvider, "NPS-C"}} {
		c := newClient(t, l)
		c.signIn(l.token(role.role, role.org))
		for _, p := range paths {
			if r := c.do("GET", p, nil); r.status != http.StatusForbidden || strings.Contains(r.body, "PrisonerReceived") {
				t.Errorf("%s on %s: %d, want 403", role.role, p, r.status)
			}
		}
	}
	for _, p := range paths {
		if r := insp.do("GET", p, nil); r.status != http.StatusOK {
			t.Errorf("inspector on %s: %d\n%s", p, r.status, r.body)
		}
	}

	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/inspect?q=", http.StatusBadRequest, `href="#query"`},
		{"/inspect?q=Smith", http.StatusBadRequest, "Enter a prison number, like A1234BC, or a CRN"},
		{"/inspect?q=Z9999ZZ", http.StatusOK, "Nobody with prison number Z9999ZZ"},
		{"/inspect?q=+a1234bc+", http.StatusOK, `href="/inspect/people/A1234BC"`},
		{"/inspect/people/Z9999ZZ", http.StatusNotFound, "Page not found"},
		{"/inspect/people/not-a-number", http.StatusNotFound, "Page not found"},
		{"/inspect/people/" + noms + "/as-at?day=31&month=2&year=2024", http.StatusBadRequest, `href="#as-at-day"`},
		{"/inspect/people/" + noms + "/as-at?day=1&month=1&year=2999", http.StatusBadRequest, "today or in the past"},
		{"/inspect/people/" + noms + "/as-at", http.StatusBadRequest, "Enter the date"},
		{"/inspect/people/" + noms + "/as-at?position=x", http.StatusBadRequest, "whole number"},
		{"/inspect/people/" + noms + "/as-at?day=1&month=1&year=2020", http.StatusOK, "knew nothing of A1234BC"},
		{"/inspect/people/Z9999ZZ/as-at?position=1", http.StatusNotFound, "Page not found"},
		{"/inspect/people/Z9999ZZ/history.csv", http.StatusNotFound, "Page not found"},
		{"/inspect/outcomes?cohort=1999-Q1", http.StatusBadRequest, "Choose a cohort from the list"},
		{"/inspect/people/" + noms + "/verification", http.StatusOK, "The record has not been changed"},
	} {
		r := insp.do("GET", tc.path, nil)
		if r.status != tc.status || !strings.Contains(r.body, tc.want) {
			t.Errorf("GET %s: %d, want %d with %q\n%s", tc.path, r.status, tc.status, tc.want, r.body)
		}
	}

	j := insp.do("GET", "/inspect/people/"+noms+"/history.json", nil)
	if ct, cd := j.header.Get("Content-Type"), j.header.Get("Content-Disposition"); ct != "application/json" ||
		cd != `attachment; filename="gateledger-history-A1234BC.json"` {
		t.Errorf("JSON download headers: %q, %q", ct, cd)
	}
	var trail struct {
		NOMS    string         `json:"noms"`
		Entries []export.Entry `json:"entries"`
	}
	if err := json.Unmarshal([]byte(j.body), &trail); err != nil || trail.NOMS != noms || len(trail.Entries) != 2 ||
		trail.Entries[1].Type != "CustodyScreeningCompleted" || trail.Entries[0].Organisation != "MDI" {
		t.Errorf("JSON download: %v %+v", err, trail)
	}
	c := insp.do("GET", "/inspect/people/"+noms+"/history.csv", nil)
	if ct := c.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") || c.header.Get("Cache-Control") != "no-store" {
		t.Errorf("CSV download headers: %v", c.header)
	}
	if recs, err := csv.NewReader(strings.NewReader(c.body)).ReadAll(); err != nil || len(recs) != 3 {
		t.Errorf("CSV download: %v, %d records", err, len(recs))
	}

	// A read that cannot be recorded is not shown.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.access.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/inspect/people/" + noms, "/inspect/people/" + noms + "/history.csv", "/inspect?q=" + noms} {
		if r := insp.do("GET", p, nil); r.status != http.StatusServiceUnavailable || strings.Contains(r.body, "PrisonerReceived") ||
			strings.Contains(r.body, "Prisoner received") {
			t.Errorf("%s with the access log closed: %d", p, r.status)
		}
	}
}
