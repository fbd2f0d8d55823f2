package aggregates

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

// Fixed times for given-when-then tests. All UTC.
var (
	t0  = time.Date(2024, 6, 24, 15, 6, 39, 0, time.UTC) // a Monday
	now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pol = DefaultPolicy(nil)
)

func h(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }

const noms = "A4092EA"

// Given-event helpers.
func received(at time.Time) PrisonerReceived {
	return PrisonerReceived{NOMS: noms, Kind: ReceptionSentence, Prison: "MDI", At: at}
}
func screened(at time.Time) CustodyScreeningCompleted {
	return CustodyScreeningCompleted{Prison: "MDI", At: at}
}
func drafted(at time.Time) ResettlementPlanDrafted {
	return ResettlementPlanDrafted{Summary: "plan", At: at}
}
func released(at time.Time) PrisonerReleased {
	return PrisonerReleased{Kind: ReleaseOnLicence, Prison: "MDI", At: at}
}
func closed(at time.Time) JourneyClosed { return JourneyClosed{Reason: CloseDied, At: at} }

// gwt is one given-when-then case: given events, when a command at now,
// then events, or an error matching err under errors.Is.
type gwt struct {
	name  string
	given []Event
	when  Command
	then  []Event
	err   error
	now   time.Time
	pol   *Policy
}

func runGWT(t *testing.T, cases []gwt) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			state := Rebuild(tc.given)
			n := now
			if !tc.now.IsZero() {
				n = tc.now
			}
			p := pol
			if tc.pol != nil {
				p = *tc.pol
			}
			got, err := Decide(state, tc.when, n, p)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("error = %v, want %v", err, tc.err)
				}
				if got != nil {
					t.Fatalf("events with an error: %v", got)
				}
				var re *RuleError
				var ie *IdentifierError
				if !errors.As(err, &re) && !errors.As(err, &ie) {
					t.Fatalf("error %T is neither *RuleError nor *IdentifierError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !reflect.DeepEqual(got, tc.then) {
				t.Fatalf("events\n got  %#v\n want %#v", got, tc.then)
			}
			// Evolve must accept whatever Decide produced.
			after := state
			for _, ev := range got {
				after = Evolve(after, ev)
			}
			if after.Version != state.Version+len(got) {
				t.Fatalf("version %d after %d events", after.Version, len(got))
			}
		})
	}
}

// with returns base followed by evs, never sharing base's backing array
// (given slices are reused across cases).
func with(base []Event, evs ...Event) []Event {
	return append(slices.Clone(base), evs...)
}
