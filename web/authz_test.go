package web

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gateledger/gateledger/web/problem"
	"github.com/gateledger/gateledger/web/request"
)

// validBodies holds a well-formed body for every command, so that a refusal
// can only come from authorisation.
func validBodies() map[string]map[string]any {
	at := ago(time.Hour)
	return map[string]map[string]any{
		"ReceivePrisoner":           {"kind": "SENTENCE", "prison": "MDI", "at": at},
		"RecordMovement":            {"kind": "COURT_OUT", "prison": "MDI", "at": at},
		"ReleasePrisoner":           {"kind": "ON_LICENCE", "prison": "MDI", "at": at},
		"EndCustody":                {"kind": "UNLAWFULLY_AT_LARGE", "prison": "MDI", "at": at},
		"CompleteScreening":         {"at": at},
		"DraftPlan":                 {"summary": "s", "at": at},
		"RevisePlan":                {"summary": "s", "reason": "r", "at": at},
		"IdentifyNeed":              {"description": "d", "at": at},
		"ChangePathwayStatus":       {"status": "IN_PROGRESS", "at": at},
		"AgreeAction":               {"actionId": "a1", "pathway": "HEALTH", "description": "d", "due": "2030-01-01", "at": at},
		"AssignAction":              {"owner": "NPS-J", "at": at},
		"CompleteAction":            {"outcome": "o", "at": at},
		"SetReleaseDates":           {"dates": map[string]any{"conditionalReleaseDate": "2030-01-01"}, "at": at},
		"SentencePrisoner":          {"type": "DETERMINATE", "lengthMonths": 18, "sentenceDate": "2026-01-01", "at": at},
		"NoteSentenceRecalculation": {"bookingId": "123", "calculationId": "42", "at": at},
		"RecordMetAtGate":           {"by": "mentor", "at": at},
		"RecordSupervisionContact":  {"by": "NPS-J", "kind": "office", "at": at},
		"AssessRisk":                {"level": "HIGH", "at": at},
		"SetMAPPALevel":             {"level": 0, "at": at},
		"RecordBreach":              {"description": "d", "at": at},
		"RecallPrisoner":            {"reason": "r", "at": at},
		"RecordProvenReoffence":     {"offence": "o", "offenceDate": "2026-01-01", "convictionDate": "2026-02-01", "at": at},
		"LinkCRN":                   {"crn": "X123456", "at": at},
		"CorrectFact":               {"correctsEventId": "00000000-0000-4000-8000-000000000000", "field": "note", "reason": "r", "at": at},
		"CloseJourney":              {"reason": "ADMINISTRATIVE", "at": at},
		"RequestHandover":           {"to": "NPS-J", "reason": "r", "at": at},
		"AcceptHandover":            {"at": at},
		"RejectHandover":            {"reason": "r", "at": at},
		"ChangeReleaseArea":         {"area": "NPS-J", "at": at},
	}
}

// TestCommandAuthorisation: for every command route, an organisation with no
// part in the case gets 404 (as for a person who does not exist), and the
// roles that write nothing (inspector, feed, admin) get 403; nothing is
// recorded either way.
func TestCommandAuthorisation(t *testing.T) {
	w := newWorld(t, nil)
	const noms = "F6789GH"
	w.receive(noms, "mdi", "MDI")
	w.do(req{method: "POST", path: "/v1/journeys/" + noms + "/handovers", as: "mdi",
		body: map[string]any{"to": "NPS-C", "reason": "r", "at": ago(47 * time.Hour)}}).ok(t, http.StatusCreated)
	bodies := validBodies()
	for _, c := range request.CommandRoutes() {
		t.Run(c.Name, func(t *testing.T) {
			body, ok := bodies[c.Name]
			if !ok {
				t.Fatal("no valid body for this command")
			}
			path := "/v1/journeys/" + noms + c.Path
			path = replacePath(path)
			for _, as := range []string{"c17", "lei"} {
				if c.Name == "ReceivePrisoner" && as == "lei" {
					continue // a prison may always try a reception into its own prison (below)
				}
				w.do(req{method: "POST", path: path, as: as, body: body}).problem(t, problem.NotFound)
			}
			for _, as := range []string{"inspector", "feed", "admin"} {
				w.do(req{method: "POST", path: path, as: as, body: body}).problem(t, problem.Forbidden)
			}
		})
	}
	// Reads: every role without a part in the case gets what a missing
	// person gets.
	for _, as := range []string{"c17", "lei", "feed", "admin"} {
		for _, sub := range []string{"", "/plan", "/trail", "/trail?as_at_position=1", "/trail.csv", "/verification"} {
			w.do(req{method: "GET", path: "/v1/journeys/" + noms + sub, as: as}).problem(t, problem.NotFound)
		}
	}
	for _, as := range []string{"feed", "admin", "c17"} {
		for _, path := range []string{"/v1/organisations/NPS-C/caseload", "/v1/organisations/MDI/handovers", "/v1/verification", "/v1/access-log"} {
			w.do(req{method: "GET", path: path, as: as}).problem(t, problem.Forbidden)
		}
	}
	// Another prison receiving a person held in MDI: not found, as if absent.
	w.do(req{method: "POST", path: "/v1/journeys/" + noms + "/receptions", as: "lei",
		body: map[string]any{"kind": "SENTENCE", "prison": "LEI", "at": ago(time.Hour)}}).problem(t, problem.NotFound)
	st, err := w.svc.LoadStream(context.Background(), noms)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Events) != 2 {
		t.Fatalf("refused commands recorded events: %d in the stream", len(st.Events))
	}
}

// TestEveryCommandRoute: each command route decides its command for a caller
// allowed to send it (a 2xx or the journey's own rule refusal, never a
// routing, decoding or authorisation problem).
func TestEveryCommandRoute(t *testing.T) {
	w := newWorld(t, nil)
	const noms = "G7890HJ"
	w.receive(noms, "mdi", "MDI")
	bodies := validBodies()
	// Custody commands come from the prison; case work from the provider once
	// it is responsible.
	prison := map[string]bool{"ReceivePrisoner": true, "RecordMovement": true, "ReleasePrisoner": true, "EndCustody": true, "CompleteScreening": true,
		"SetReleaseDates": true, "NoteSentenceRecalculation": true, "RequestHandover": true, "SentencePrisoner": true}
	for _, c := range request.CommandRoutes() {
		if !prison[c.Name] || c.Name == "ReceivePrisoner" || c.Name == "ReleasePrisoner" || c.Name == "EndCustody" || c.Name == "RequestHandover" || c.Name == "RecordMovement" {
			continue
		}
		w.do(req{method: "POST", path: replacePath("/v1/journeys/" + noms + c.Path), as: "mdi", body: bodies[c.Name]}).ok(t, http.StatusCreated)
	}
	w.do(req{method: "POST", path: "/v1/journeys/" + noms + "/handovers", as: "mdi", body: bodies["RequestHandover"]}).ok(t, http.StatusCreated)
	w.do(req{method: "POST", path: "/v1/journeys/" + noms + "/handovers/current/acceptance", as: "c17", body: bodies["AcceptHandover"]}).
		ok(t, http.StatusCreated)
	for _, c := range request.CommandRoutes() {
		if prison[c.Name] || c.Name == "AcceptHandover" {
			continue
		}
		a := w.do(req{method: "POST", path: replacePath("/v1/journeys/" + noms + c.Path), as: "c17", body: bodies[c.Name]})
		switch a.status {
		case http.StatusCreated, http.StatusOK:
		case http.StatusForbidden:
			// Only a receiving side may reject, and no handover is open now.
			if c.Name != "RejectHandover" {
				t.Errorf("%s: %s", c.Name, a.body)
			}
		case http.StatusConflict, http.StatusBadRequest:
			// The journey's rules (released, no open handover, ...): decided.
			p := a.problem(t, map[int]problem.Kind{409: problem.RuleViolation, 400: problem.Validation}[a.status])
			if a.status == http.StatusBadRequest && p.Errors[0].Field != "correctsEventId" {
				t.Errorf("%s: %s", c.Name, a.body)
			}
		default:
			t.Errorf("%s: %d %s", c.Name, a.status, a.body)
		}
	}
	// The prison that holds the person records that custody ended without a
	// release; nobody else may.
	const other = "G7891HJ"
	w.receive(other, "mdi", "MDI")
	w.do(req{method: "POST", path: "/v1/journeys/" + other + "/custody-ends", as: "lei", body: bodies["EndCustody"]}).ok(t, http.StatusNotFound)
	w.do(req{method: "POST", path: "/v1/journeys/" + other + "/custody-ends", as: "mdi", body: bodies["EndCustody"]}).ok(t, http.StatusCreated)
	j := w.do(req{method: "GET", path: "/v1/journeys/" + other, as: "mdi"}).ok(t, http.StatusOK).json(t)["journey"].(map[string]any)
	if j["custody"] != "UNLAWFULLY_AT_LARGE" {
		t.Errorf("after EndCustody: %v", j["custody"])
	}
}

func replacePath(p string) string {
	return replacer.Replace(p)
}
