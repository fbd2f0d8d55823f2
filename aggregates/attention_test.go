package aggregates

import (
	"testing"
	"time"
)

// Needs: every reason a case needs attention arises from the facts and clears
// when the fact that resolves it is recorded.
func TestNeeds(t *testing.T) {
	t22 := tr2022
	at := func(n int) time.Time { return t22.Add(time.Duration(n) * time.Hour) }
	rcv := PrisonerReceived{NOMS: noms, Kind: ReceptionSentence, Prison: "MDI", At: at(0)}
	rel := PrisonerReleased{Kind: ReleaseOnLicence, Prison: "MDI", At: at(100)}
	areaC05 := ReleaseAreaChanged{To: "C05", At: at(1)}
	toC := HandoverRequested{Seq: 1, From: "MDI", To: "NPS-C", Reason: HandoverReasonReleaseArea, Due: at(120), At: at(1)}
	for _, tc := range []struct {
		name  string
		given []Event
		want  Needs
	}{
		{"in custody, nothing to do", []Event{rcv}, Needs{}},
		{"released with no release area", []Event{rcv, rel}, Needs{NoReleaseArea: true}},
		{"… cleared by the release area (the handover is open)", []Event{rcv, rel, ReleaseAreaChanged{To: "C05", At: at(101)},
			HandoverRequested{Seq: 1, From: "MDI", To: "NPS-C", Reason: HandoverReasonReleaseArea, Due: at(200), At: at(101)}}, Needs{}},
		{"a remand discharge needs no area", []Event{remanded(at(0)), PrisonerReleased{Kind: ReleaseDischarged, Prison: "MDI", At: at(100)}}, Needs{}},
		{"handover rejected", []Event{rcv, areaC05, toC, HandoverRejected{Seq: 1, Reason: "no", At: at(5)}},
			Needs{HandoverTo: "NPS-C", HandoverRejected: true}},
		{"… cleared by a new request", []Event{rcv, areaC05, toC, HandoverRejected{Seq: 1, Reason: "no", At: at(5)},
			HandoverRequested{Seq: 2, From: "MDI", To: "NPS-C", Reason: "again", Due: at(120), At: at(6)}}, Needs{}},
		{"… and by acceptance", []Event{rcv, areaC05, toC, HandoverAccepted{Seq: 1, To: "NPS-C", At: at(5)}}, Needs{}},
		{"area changed while a handover was open: blocked, then accepted", []Event{rcv, areaC05, toC,
			ReleaseAreaChanged{From: "C05", To: "C17", At: at(2)}, HandoverAccepted{Seq: 1, To: "NPS-C", At: at(5)}},
			Needs{HandoverTo: "NPS-J"}},
		{"overtaken by unification: an open handover to a CRC", []Event{
			PrisonerReceived{NOMS: noms, Kind: ReceptionSentence, Prison: "MDI", At: time.Date(2021, 6, 1, 9, 0, 0, 0, time.UTC)},
			HandoverRequested{Seq: 1, From: "MDI", To: "C05", Reason: "r", Due: time.Date(2021, 6, 8, 9, 0, 0, 0, time.UTC), At: time.Date(2021, 6, 1, 10, 0, 0, 0, time.UTC)}},
			Needs{HandoverTo: "NPS-C", HandoverOvertaken: true}},
		{"closed: nothing", []Event{rcv, rel, JourneyClosed{Reason: CloseAdministrative, At: at(200)}}, Needs{}},
	} {
		if got := Rebuild(tc.given).Needs(pol); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// Under the split model, an escalation to HIGH RoSH while another handover is
// open cannot request its own: HandoverNeeded reports it once the open one
// is decided, at that date.
func TestEscalationBlockedByAnOpenHandover(t *testing.T) {
	at := func(n int) time.Time { return tr2019.Add(time.Duration(n) * time.Hour) }
	j := Rebuild([]Event{recv(at(0)), ReleaseAreaChanged{To: "C05", At: at(1)},
		HandoverRequested{Seq: 1, From: "MDI", To: "C05", Reason: HandoverReasonReleaseArea, Due: at(120), At: at(1)}})
	evs, err := Decide(j, AssessRisk{Level: RoSHHigh, At: at(2)}, at(3), pol)
	if err != nil || len(evs) != 1 {
		t.Fatalf("escalation while a handover is open: %v %v", evs, err)
	}
	j = Evolve(Evolve(j, evs[0]), HandoverAccepted{Seq: 1, To: "C05", At: at(4)})
	if to, ok := j.HandoverNeeded(pol, at(5)); !ok || to != "N02" {
		t.Fatalf("HandoverNeeded after the blocked escalation: %q %v", to, ok)
	}
	if ResponsibleFor(j, at(5)) != "C05" {
		t.Fatalf("responsible: %s", ResponsibleFor(j, at(5)))
	}
}

// A case handed to a prison follows the person: the prison holding them is
// accountable, never one that no longer holds them.
func TestCaseHandedToAPrisonFollowsThePerson(t *testing.T) {
	at := func(n int) time.Time { return tr2022.Add(time.Duration(n) * time.Hour) }
	j := Rebuild([]Event{recv(at(0)), ReleaseAreaChanged{To: "C05", At: at(1)},
		HandoverRequested{Seq: 1, From: "MDI", To: "NPS-C", Reason: "r", Due: at(100), At: at(1)},
		HandoverAccepted{Seq: 1, To: "NPS-C", At: at(2)},
		HandoverRequested{Seq: 2, From: "NPS-C", To: "MDI", Reason: "back to custody", Due: at(100), At: at(3)},
		HandoverAccepted{Seq: 2, To: "MDI", At: at(4)},
		TransferDeparted{Prison: "MDI", At: at(5)},
		PrisonerTransferred{FromPrison: "MDI", ToPrison: "LEI", At: at(6)}})
	if got := j.Responsible(); got != "LEI" {
		t.Fatalf("responsible after a transfer: %s, want LEI", got)
	}
	if got := ResponsibleFor(j, at(5)); got != "MDI" {
		t.Fatalf("responsible before the transfer: %s, want MDI", got)
	}
}
