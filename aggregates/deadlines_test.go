package aggregates_test

import (
	"testing"
	"time"

	. "github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/calendar"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDeadlines(t *testing.T) {
	p := DefaultPolicy(calendar.New(nil))
	for _, tc := range []struct {
		name               string
		received, screened string
		wantScreen         string
		wantPlan           string
	}{
		{"plain week", "2024-06-03T10:00:00Z", "2024-06-04T10:00:00Z", "2024-06-06T10:00:00Z", "2024-06-11T10:00:00Z"},
		{"screening over a weekend", "2024-06-07T16:00:00Z", "2024-06-08T11:00:00Z", "2024-06-10T16:00:00Z", "2024-06-14T11:00:00Z"},
		{"Christmas 2024", "2024-12-17T09:00:00Z", "2024-12-19T15:00:00Z", "2024-12-20T09:00:00Z", "2024-12-30T15:00:00Z"},
		{"Christmas on a weekend 2021", "2021-12-21T09:00:00Z", "2021-12-23T09:00:00Z", "2021-12-24T09:00:00Z", "2022-01-04T09:00:00Z"}, // 27, 28 Dec and 3 Jan 2022 are holidays,
		{"Easter 2024", "2024-03-26T09:00:00Z", "2024-03-27T09:00:00Z", "2024-03-29T09:00:00Z", "2024-04-05T09:00:00Z"},                 // Good Friday and Easter Monday skipped,
		{"Jubilee and funeral year 2022", "2022-05-31T09:00:00Z", "2022-05-31T12:00:00Z", "2022-06-03T09:00:00Z", "2022-06-09T12:00:00Z"},
		{"State funeral 2022", "2022-09-14T09:00:00Z", "2022-09-15T09:00:00Z", "2022-09-17T09:00:00Z", "2022-09-23T09:00:00Z"},
		{"Coronation 2023", "2023-05-02T09:00:00Z", "2023-05-02T12:00:00Z", "2023-05-05T09:00:00Z", "2023-05-10T12:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := Rebuild([]Event{
				PrisonerReceived{NOMS: "A4092EA", Kind: ReceptionSentence, Prison: "MDI", At: at(tc.received)},
				CustodyScreeningCompleted{Prison: "MDI", At: at(tc.screened)},
			})
			d := j.Deadlines(p)
			if !d.Screening.Due.Equal(at(tc.wantScreen)) || !d.Screening.Met {
				t.Errorf("screening %+v, want %s", d.Screening, tc.wantScreen)
			}
			if !d.Plan.Due.Equal(at(tc.wantPlan)) || d.Plan.Met {
				t.Errorf("plan %+v, want %s", d.Plan, tc.wantPlan)
			}
			if got := d.Overdue(d.Plan.Due.Add(time.Second)); len(got) != 1 || got[0].Name != "plan" {
				t.Errorf("overdue after plan due: %+v", got)
			}
			if got := d.Overdue(d.Plan.Due); len(got) != 0 {
				t.Errorf("overdue at the due time: %+v", got)
			}
		})
	}
}

func TestScreeningOverdueAndWindows(t *testing.T) {
	p := DefaultPolicy(calendar.New(nil))
	rec := at("2024-06-03T10:00:00Z")
	j := Rebuild([]Event{PrisonerReceived{NOMS: "A4092EA", Kind: ReceptionSentence, Prison: "MDI", At: rec}})
	d := j.Deadlines(p)
	if d.Plan.Applies() {
		t.Error("plan deadline before screening")
	}
	if got := d.Overdue(rec.Add(72*time.Hour + time.Second)); len(got) != 1 || got[0].Name != "screening" {
		t.Errorf("screening overdue: %+v", got)
	}
	// Pre-release window: 84 days before the displayed date.
	j = Evolve(j, ReleaseDatesSet{Dates: ReleaseDates{ConditionalRelease: NewDate(2024, 12, 20), AutomaticRelease: NewDate(2025, 1, 10)}, At: rec})
	d = j.Deadlines(p)
	if d.ReleaseDate != NewDate(2024, 12, 20) || !d.PreReleaseWindowOpens.Equal(at("2024-09-27T00:00:00Z")) {
		t.Errorf("window %s %s", d.ReleaseDate, d.PreReleaseWindowOpens)
	}
	if d.InPreReleaseWindow(at("2024-09-26T23:59:59Z")) || !d.InPreReleaseWindow(at("2024-09-27T00:00:00Z")) {
		t.Error("window edges")
	}
	// Supervision: twelve months after release; met when closed.
	rel := at("2024-12-20T09:30:00Z")
	j = Evolve(j, PrisonerReleased{Kind: ReleaseOnLicence, Prison: "MDI", At: rel})
	d = j.Deadlines(p)
	if !d.SupervisionEnds.Due.Equal(at("2025-12-20T09:30:00Z")) || d.SupervisionEnds.Met || !d.PreReleaseWindowOpens.IsZero() {
		t.Errorf("supervision %+v", d)
	}
	j = Evolve(j, JourneyClosed{Reason: CloseSupervisionEnded, At: at("2025-12-20T09:30:00Z")})
	if d := j.Deadlines(p); !d.SupervisionEnds.Met || len(d.Overdue(at("2030-01-01T00:00:00Z"))) != 0 {
		t.Errorf("closed %+v", d)
	}
	// Policy parameters are parameters.
	p.ScreeningWindow = 24 * time.Hour
	j = Rebuild([]Event{PrisonerReceived{NOMS: "A4092EA", Kind: ReceptionSentence, Prison: "MDI", At: rec}})
	if d := j.Deadlines(p); !d.Screening.Due.Equal(rec.Add(24 * time.Hour)) {
		t.Error("screening window not taken from the policy")
	}
}
