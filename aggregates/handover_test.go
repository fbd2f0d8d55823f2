package aggregates

import (
	"testing"
	"time"
)

var (
	tr2019 = time.Date(2019, 3, 4, 9, 0, 0, 0, time.UTC) // split model (a Monday)
	tr2022 = time.Date(2022, 3, 7, 9, 0, 0, 0, time.UTC) // unified model (a Monday)
)

func recv(at time.Time) PrisonerReceived {
	return PrisonerReceived{NOMS: noms, Kind: ReceptionSentence, Prison: "MDI", At: at}
}

func due(at time.Time) time.Time { return pol.Calendar.AddWorkingDays(at, pol.HandoverWorkingDays) }

func TestAllocationModels(t *testing.T) {
	a := DefaultAllocation()
	for _, tc := range []struct {
		at    time.Time
		area  string
		rosh  RoSH
		mappa int
		want  Org
	}{
		{tr2019, "C05", RoSHLow, 0, "C05"},
		{tr2019, "C05", RoSHMedium, 0, "C05"},
		{tr2019, "C05", RoSHHigh, 0, "N02"},
		{tr2019, "C17", RoSHVeryHigh, 0, "N07"},
		{tr2019, "C10", RoSHLow, 1, "N03"},
		{tr2019, "C05", "", 0, "C05"},
		{tr2019, "", RoSHLow, 0, ""},
		// Effective dates are UK dates: 22:59 UTC on 25 June 2021 is 23:59
		// BST on 25 June, 23:30 UTC is 00:30 on 26 June.
		{time.Date(2021, 6, 25, 22, 59, 0, 0, time.UTC), "C05", RoSHLow, 0, "C05"},
		{time.Date(2021, 6, 25, 23, 30, 0, 0, time.UTC), "C05", RoSHLow, 0, "NPS-C"},
		{time.Date(2021, 6, 26, 0, 0, 0, 0, time.UTC), "C05", RoSHLow, 0, "NPS-C"},
		{tr2022, "NPS-D", RoSHLow, 0, "NPS-D"},
		{tr2019, "NPS-D", RoSHLow, 0, ""},
		{tr2022, "C05", RoSHVeryHigh, 3, "NPS-C"},
		{tr2022, "C07", RoSHLow, 0, "NPS-L"},
		{tr2022, "C21", RoSHLow, 0, "NPS-K"},
		{time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC), "C05", RoSHLow, 0, ""},
	} {
		j := Journey{ReleaseArea: tc.area, RoSH: tc.rosh, MAPPA: tc.mappa}
		if got := a.Allocate(j, tc.at); got != tc.want {
			t.Errorf("%s %s %s MAPPA %d: got %q, want %q", tc.at.Format(time.DateOnly), tc.area, tc.rosh, tc.mappa, got, tc.want)
		}
	}
	// Every CPA has a division and a region, and the names resolve.
	for i := 1; i <= 21; i++ {
		code := Org("C" + string(rune('0'+i/10)) + string(rune('0'+i%10)))
		d, ok1 := NPSDivisionFor(string(code))
		r, ok2 := NPSRegionFor(string(code))
		if !ok1 || !ok2 || !ValidNPSDivision(d) || !ValidNPSRegion(r) || code.Name() == string(code) ||
			Org(d).Name() == d || NPSRegionOrg(r).Name() == string(NPSRegionOrg(r)) {
			t.Errorf("%s: %q %q", code, d, r)
		}
	}
}

func TestHandovers(t *testing.T) {
	in := []Event{recv(tr2019)}
	areaC05 := with(in, ReleaseAreaChanged{To: "C05", At: tr2019.Add(time.Hour)})
	open := with(in, HandoverRequested{Seq: 1, From: "MDI", To: "C05", Reason: "r", Due: due(tr2019), At: tr2019})
	heldByCRC := with(areaC05, HandoverRequested{Seq: 1, From: "MDI", To: "C05", Reason: "r", Due: due(tr2019), At: tr2019},
		HandoverAccepted{Seq: 1, To: "C05", At: tr2019.Add(2 * time.Hour)})
	later := tr2019.Add(48 * time.Hour)
	runGWT(t, []gwt{
		{name: "request", given: in, when: RequestHandover{To: "C05", Reason: "release area", Due: later, At: tr2019},
			then: []Event{HandoverRequested{Seq: 1, From: "MDI", To: "C05", Reason: "release area", Due: later, At: tr2019}}},
		{name: "request with default due", given: in, when: RequestHandover{To: "C05", Reason: "r", At: tr2019},
			then: []Event{HandoverRequested{Seq: 1, From: "MDI", To: "C05", Reason: "r", Due: due(tr2019), At: tr2019}}},
		{name: "at most one open", given: open, when: RequestHandover{To: "C06", Reason: "r", At: later}, err: ErrHandoverOpen},
		{name: "to the holder", given: in, when: RequestHandover{To: "MDI", Reason: "r", At: later}, err: ErrInvalidValue},
		{name: "needs reason", given: in, when: RequestHandover{To: "C05", At: later}, err: ErrReasonRequired},
		{name: "bad org", given: in, when: RequestHandover{To: "C99", Reason: "r", At: later}, err: ErrInvalidIdentifier},
		{name: "due before request", given: in, when: RequestHandover{To: "C05", Reason: "r", Due: tr2019.Add(-time.Hour), At: tr2019}, err: ErrDateOrder},
		{name: "not received", when: RequestHandover{To: "C05", Reason: "r", At: tr2019}, err: ErrNotReceived},
		{name: "accept", given: open, when: AcceptHandover{At: later}, then: []Event{HandoverAccepted{Seq: 1, To: "C05", At: later}}},
		{name: "reject", given: open, when: RejectHandover{Reason: "not our area", At: later}, then: []Event{HandoverRejected{Seq: 1, Reason: "not our area", At: later}}},
		{name: "reject needs reason", given: open, when: RejectHandover{At: later}, err: ErrReasonRequired},
		{name: "accept with none open", given: in, when: AcceptHandover{At: later}, err: ErrNoOpenHandover},
		{name: "reject with none open", given: in, when: RejectHandover{Reason: "r", At: later}, err: ErrNoOpenHandover},
		{name: "accept before request", given: open, when: AcceptHandover{At: tr2019.Add(-time.Hour)}, err: ErrDateOrder},
		{name: "closed", given: with(open, closed(later)), when: AcceptHandover{At: later}, err: ErrClosed},

		{name: "release area requests a handover to the CRC (2019)", given: in, when: ChangeReleaseArea{Area: "C05", At: tr2019},
			then: []Event{ReleaseAreaChanged{To: "C05", At: tr2019},
				HandoverRequested{Seq: 1, From: "MDI", To: "C05", Reason: HandoverReasonReleaseArea, Due: due(tr2019), At: tr2019}}},
		{name: "new CPA requests a handover to the new CRC", given: heldByCRC, when: ChangeReleaseArea{Area: "C17", At: later},
			then: []Event{ReleaseAreaChanged{From: "C05", To: "C17", At: later},
				HandoverRequested{Seq: 2, From: "C05", To: "C17", Reason: HandoverReasonReleaseArea, Due: due(later), At: later}}},
		{name: "area change with a handover open records only the change", given: open, when: ChangeReleaseArea{Area: "C17", At: later},
			then: []Event{ReleaseAreaChanged{To: "C17", At: later}}},
		{name: "same area", given: areaC05, when: ChangeReleaseArea{Area: "C05", At: later}, then: nil},
		{name: "bad area", given: in, when: ChangeReleaseArea{Area: "N01", At: later}, err: ErrInvalidIdentifier},

		{name: "escalation to HIGH hands over to the NPS division (2019)", given: with(heldByCRC, RiskAssessed{Level: RoSHMedium, At: tr2019}),
			when: AssessRisk{Level: RoSHHigh, At: later},
			then: []Event{RiskAssessed{Level: RoSHHigh, Previous: RoSHMedium, At: later},
				HandoverRequested{Seq: 2, From: "C05", To: "N02", Reason: HandoverReasonRiskEscalation, Due: due(later), At: later}}},
		{name: "HIGH to VERY_HIGH is not a new escalation", given: with(heldByCRC, RiskAssessed{Level: RoSHHigh, At: tr2019}),
			when: AssessRisk{Level: RoSHVeryHigh, At: later}, then: []Event{RiskAssessed{Level: RoSHVeryHigh, Previous: RoSHHigh, At: later}}},
		{name: "de-escalation does not hand back by itself", given: with(heldByCRC, RiskAssessed{Level: RoSHHigh, At: tr2019}),
			when: AssessRisk{Level: RoSHLow, At: later}, then: []Event{RiskAssessed{Level: RoSHLow, Previous: RoSHHigh, At: later}}},
		{name: "escalation with a handover open records only the risk", given: with(heldByCRC, HandoverRequested{Seq: 2, From: "C05", To: "C17", Reason: "r", Due: due(later), At: later}),
			when: AssessRisk{Level: RoSHHigh, At: later}, then: []Event{RiskAssessed{Level: RoSHHigh, At: later}}},
		{name: "escalation without a release area cannot pick a division", given: in,
			when: AssessRisk{Level: RoSHHigh, At: later}, then: []Event{RiskAssessed{Level: RoSHHigh, At: later}}},
		{name: "bad level", given: in, when: AssessRisk{Level: "EXTREME", At: later}, err: ErrInvalidValue},
		{name: "risk needs reception", when: AssessRisk{Level: RoSHLow, At: later}, err: ErrNotReceived},
		{name: "MAPPA hands over to the NPS (2019)", given: heldByCRC, when: SetMAPPALevel{Level: 2, At: later},
			then: []Event{MAPPALevelSet{Level: 2, At: later},
				HandoverRequested{Seq: 2, From: "C05", To: "N02", Reason: HandoverReasonMAPPA, Due: due(later), At: later}}},
		{name: "MAPPA unchanged", given: with(heldByCRC, MAPPALevelSet{Level: 2, At: later}), when: SetMAPPALevel{Level: 2, At: later}, then: nil},
		{name: "MAPPA out of range", given: in, when: SetMAPPALevel{Level: 4, At: later}, err: ErrInvalidValue},
	})
}

// A case held by a CRC before 26 June 2021 is the NPS region's from that
// date without a recorded handover (Successor); in the unified model an
// escalation changes nothing because the region already holds every case.
func TestHandoversAcrossThe2021Change(t *testing.T) {
	heldByCRC := []Event{recv(tr2019), ReleaseAreaChanged{To: "C05", At: tr2019},
		HandoverRequested{Seq: 1, From: "MDI", To: "C05", Reason: "r", Due: due(tr2019), At: tr2019},
		HandoverAccepted{Seq: 1, To: "C05", At: tr2019}, RiskAssessed{Level: RoSHLow, At: tr2019}}
	heldByRegion := with(heldByCRC, HandoverRequested{Seq: 2, From: "C05", To: "NPS-C", Reason: "unification", Due: due(tr2022), At: tr2022},
		HandoverAccepted{Seq: 2, To: "NPS-C", At: tr2022})
	after := tr2022.Add(24 * time.Hour)
	runGWT(t, []gwt{
		{name: "escalation after the change: the region already holds the CRC's case", given: heldByCRC, when: AssessRisk{Level: RoSHHigh, At: after},
			then: []Event{RiskAssessed{Level: RoSHHigh, Previous: RoSHLow, At: after}}},
		{name: "area change after the change moves the CRC's case from its region", given: heldByCRC, when: ChangeReleaseArea{Area: "C10", At: after},
			then: []Event{ReleaseAreaChanged{From: "C05", To: "C10", At: after},
				HandoverRequested{Seq: 2, From: "NPS-C", To: "NPS-D", Reason: HandoverReasonReleaseArea, Due: due(after), At: after}}},
		{name: "escalation when the region holds the case", given: heldByRegion, when: AssessRisk{Level: RoSHHigh, At: after},
			then: []Event{RiskAssessed{Level: RoSHHigh, Previous: RoSHLow, At: after}}},
		{name: "area change moves region to region", given: heldByRegion, when: ChangeReleaseArea{Area: "C10", At: after},
			then: []Event{ReleaseAreaChanged{From: "C05", To: "C10", At: after},
				HandoverRequested{Seq: 3, From: "NPS-C", To: "NPS-D", Reason: HandoverReasonReleaseArea, Due: due(after), At: after}}},
	})
	j := Rebuild(heldByRegion)
	if got := ResponsibleFor(j, tr2019.Add(-time.Hour)); got != "" {
		t.Errorf("before reception: %q", got)
	}
	if got := ResponsibleFor(j, tr2019.Add(time.Minute)); got != "C05" {
		t.Errorf("2019: %q", got)
	}
	if got := ResponsibleFor(j, time.Date(2021, 6, 25, 22, 59, 0, 0, time.UTC)); got != "C05" {
		t.Errorf("last minute of 25 June 2021 in the UK: %q", got)
	}
	if got := ResponsibleFor(j, time.Date(2021, 6, 25, 23, 0, 0, 0, time.UTC)); got != "NPS-C" {
		t.Errorf("first minute of 26 June 2021 in the UK: %q", got)
	}
	if got := ResponsibleFor(j, after); got != "NPS-C" {
		t.Errorf("2022: %q", got)
	}
	if got := Rebuild(heldByCRC[:1]); ResponsibleFor(got, tr2019.Add(time.Hour)) != "MDI" {
		t.Error("custody first: the prison holds the case")
	}
	// Handover history is never deleted.
	if len(j.Handovers) != 2 || j.Handovers[0].Status != HandoverStatusAccepted {
		t.Errorf("history %+v", j.Handovers)
	}
	if org, need := Rebuild(heldByCRC).HandoverNeeded(pol, after); need {
		t.Errorf("HandoverNeeded = %q %v; the region holds the case by unification", org, need)
	}
	if got := Rebuild(heldByCRC).Responsible(); got != "NPS-C" {
		t.Errorf("a CRC's case now: %q", got)
	}
}

func TestCanSee(t *testing.T) {
	base := []Event{recv(tr2019), ReleaseAreaChanged{To: "C05", At: tr2019},
		HandoverRequested{Seq: 1, From: "MDI", To: "C05", Reason: "r", Due: due(tr2019), At: tr2019}}
	j := Rebuild(base)
	for org, want := range map[string]bool{"MDI": true, "C05": true, "C06": false, "N02": false, "": false, "LEI": false} {
		if got := j.CanSee(org); got != want {
			t.Errorf("open handover: CanSee(%q) = %v", org, got)
		}
	}
	j = Rebuild(with(base, HandoverAccepted{Seq: 1, To: "C05", At: tr2019}, released(tr2019.Add(time.Hour))))
	// Today the CRC is gone and its case is its region's (Successor).
	for org, want := range map[string]bool{"MDI": false, "C05": false, "NPS-C": true, "N02": false} {
		if got := j.CanSee(org); got != want {
			t.Errorf("released, held by CRC until 2021: CanSee(%q) = %v", org, got)
		}
	}
	j = Rebuild(with(base, HandoverRejected{Seq: 1, Reason: "no", At: tr2019}))
	if j.CanSee("C05") || !j.CanSee("MDI") {
		t.Error("a rejected handover closes visibility")
	}
}
