package pages

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/journeys"
)

// One of the faults of issue 15 a person met (the others are in
// issue15_test.go, through the whole ledger).

// TestNoticeTellsTheTruth: a command that recorded only late history, or
// nothing, does not say "Release recorded" as if the person had left.
func TestNoticeTellsTheTruth(t *testing.T) {
	late := journeys.Result{Events: []eventlog.JourneyEvent{{Event: aggregates.PrisonerReleased{Kind: aggregates.ReleaseOnLicence, Prison: "MDI", Late: true}}}}
	now := journeys.Result{Events: []eventlog.JourneyEvent{{Event: aggregates.PrisonerReleased{Kind: aggregates.ReleaseOnLicence, Prison: "MDI"}}}}
	for _, tc := range []struct {
		res      journeys.Result
		outcome  string
		contains string
	}{
		{now, "", "Release recorded"},
		{late, outcomeHistory, "Recorded as history: release recorded"},
		{journeys.Result{}, outcomeUnchanged, "Nothing new was recorded"},
	} {
		if got := outcomeOf(tc.res); got != tc.outcome {
			t.Errorf("outcomeOf = %q, want %q", got, tc.outcome)
		}
		w := httptest.NewRecorder()
		afterCommand(w, httptest.NewRequest("POST", "/x", nil), "/prison/people/A1234BC", tc.res, "release")
		r := httptest.NewRequest("GET", w.Header().Get("Location"), nil)
		if got := doneNotice(r); !strings.Contains(got, tc.contains) {
			t.Errorf("notice %q after %s, want it to say %q", got, w.Header().Get("Location"), tc.contains)
		}
	}
}
