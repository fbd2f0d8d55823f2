package labels_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/labels"
	"github.com/gateledger/gateledger/projections"
)

func TestWhen(t *testing.T) {
	for _, c := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), "1 December 2026, 9:00am"},
		{time.Date(2026, 6, 1, 11, 30, 0, 0, time.UTC), "1 June 2026, 12:30pm"}, // BST
		{time.Date(2021, 6, 25, 23, 30, 0, 0, time.UTC), "26 June 2021, 12:30am"},
		{time.Time{}, ""},
	} {
		if got := labels.When(c.in); got != c.want {
			t.Errorf("When(%v) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := labels.Date(aggregates.Date{Year: 2026, Month: 12, Day: 1}); got != "1 December 2026" {
		t.Errorf("Date = %q", got)
	}
}

// TestWhenAgreesWithAggregates holds the rule errors' words (aggregates'
// own unexported formatter) to labels.When: a release before reception says
// both instants exactly as the pages do.
func TestWhenAgreesWithAggregates(t *testing.T) {
	received := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	released := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	j := aggregates.Journey{}
	p := aggregates.DefaultPolicy(nil)
	evs, err := aggregates.Decide(j, aggregates.ReceivePrisoner{NOMS: "A1234BC", Prison: "MDI", Kind: aggregates.ReceptionSentence, At: received}, received.Add(time.Hour), p)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		j = aggregates.Evolve(j, e)
	}
	_, err = aggregates.Decide(j, aggregates.ReleasePrisoner{Prison: "MDI", Kind: aggregates.ReleaseOnLicence, At: released}, received.Add(time.Hour), p)
	var re *aggregates.RuleError
	if !errors.As(err, &re) {
		t.Fatalf("release before reception: %v", err)
	}
	for _, want := range []string{labels.When(released), labels.When(received)} {
		if !strings.Contains(re.Detail, want) {
			t.Errorf("rule detail %q does not say %q", re.Detail, want)
		}
	}
	if strings.Contains(re.Detail, "T09:00:00Z") {
		t.Errorf("rule detail %q has an ISO timestamp", re.Detail)
	}
}

// TestEveryEnumHasALabel: no code of a known list falls back to its code.
func TestEveryEnumHasALabel(t *testing.T) {
	codes := []any{
		aggregates.NotReceived, aggregates.InCustody, aggregates.Released, aggregates.UnlawfullyAtLarge, aggregates.DetainedElsewhere, aggregates.Died,
		aggregates.ReleaseOnLicence, aggregates.ReleaseHDC, aggregates.ReleaseECSL, aggregates.ReleaseSentenceEnd, aggregates.ReleaseToHospital, aggregates.ReleaseDischarged,
		aggregates.EndUnlawfullyAtLarge, aggregates.EndDied, aggregates.EndSecureHospital, aggregates.EndRemovalCentre,
		aggregates.ReceptionRemand, aggregates.ReceptionSentence, aggregates.ReceptionRecall, aggregates.ReceptionAdmission,
		aggregates.StatusNotStarted, aggregates.StatusSupportRequired, aggregates.StatusInProgress, aggregates.StatusSupportNotRequired, aggregates.StatusSupportDeclined, aggregates.StatusDone,
		aggregates.RoSHLow, aggregates.RoSHMedium, aggregates.RoSHHigh, aggregates.RoSHVeryHigh,
		aggregates.CloseSupervisionEnded, aggregates.CloseDied, aggregates.CloseDeported, aggregates.CloseAdministrative,
		aggregates.HandoverStatusOpen, aggregates.HandoverStatusAccepted, aggregates.HandoverStatusRejected,
		projections.Sending, projections.Receiving,
		projections.StageCustody, projections.StagePreRelease, projections.StageReleased, projections.StageClosed, projections.StageAtLarge, projections.StageDetainedElsewhere,
		aggregates.SourceAPI, aggregates.SourceUI, aggregates.SourceHMPPSFeed, aggregates.SourceSystem,
	}
	for _, p := range aggregates.Pathways() {
		codes = append(codes, p)
	}
	raw := regexp.MustCompile(`[A-Z]{2,}_|^[A-Z]+$|%!`)
	for _, c := range codes {
		l := labels.Of(c)
		if l == "" || (raw.MatchString(l) && l != "API") {
			t.Errorf("Of(%#v) = %q: not a label", c, l)
		}
	}
	if got := labels.Of(aggregates.PathwayFinanceID); got != "Finance and ID" {
		t.Errorf("Finance and ID: %q", got)
	}
	if got := labels.Of(projections.Receiving); got != "Receiving" {
		t.Errorf("direction: %q", got)
	}
	for in, want := range map[string]string{"CRNLinked": "CRN linked", "MAPPALevelSet": "MAPPA level set", "ReleaseAreaChanged": "Release area changed"} {
		if got := labels.EventType(in); got != want {
			t.Errorf("EventType(%s) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"RELEASE_AREA_CHANGED": "Release area changed", "RISK_ESCALATION": "Risk of serious harm rose"} {
		if got := labels.HandoverReason(in); got != want {
			t.Errorf("HandoverReason(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestText(t *testing.T) {
	got := labels.Text("closed 1 December 2026, 9:00am (SUPERVISION_ENDED); already ON_LICENCE, now said to be HDC")
	want := "closed 1 December 2026, 9:00am (supervision ended); already on licence, now said to be HDC"
	if got != want {
		t.Errorf("Text = %q, want %q", got, want)
	}
}

// TestEveryRuleHasWords reads the aggregates' source for every rule slug and
// asks that the table says what to do next for each.
func TestEveryRuleHasWords(t *testing.T) {
	files, err := filepath.Glob("../aggregates/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("aggregates sources: %v", err)
	}
	slug := regexp.MustCompile(`rule\("([a-z0-9-]+)"|Rule: "([a-z0-9-]+)"`)
	seen := 0
	for _, f := range append(files, "../journeys/crnindex.go") {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range slug.FindAllStringSubmatch(string(b), -1) {
			s := m[1] + m[2]
			seen++
			if !labels.KnownRule(s) {
				t.Errorf("rule %q (%s) has no words in labels.rules", s, filepath.Base(f))
			}
		}
	}
	if seen < 40 {
		t.Fatalf("found only %d rule slugs; has the source moved?", seen)
	}
}
