package aggregates

import (
	"errors"
	"testing"
	"time"
)

var (
	lastTRDay = time.Date(2021, 6, 25, 12, 0, 0, 0, time.UTC)
	// 23:30 UTC on 25 June 2021 is 00:30 on 26 June in the UK.
	lateOn25June = time.Date(2021, 6, 25, 23, 30, 0, 0, time.UTC)
)

func TestRegistry(t *testing.T) {
	orgs := Organisations()
	if len(orgs) != 21+7+12 {
		t.Fatalf("%d organisations", len(orgs))
	}
	covered := map[OrgKind]map[string]int{}
	for _, o := range orgs {
		if o.Kind != o.Code.Kind() || o.Name == "" || o.Name == string(o.Code) || len(o.Areas) == 0 {
			t.Errorf("%+v", o)
		}
		if covered[o.Kind] == nil {
			covered[o.Kind] = map[string]int{}
		}
		for _, a := range o.Areas {
			covered[o.Kind][a]++
		}
	}
	// Each generation of organisations covers every area exactly once.
	for _, k := range []OrgKind{OrgCRC, OrgNPSDivision, OrgNPSRegion} {
		if len(covered[k]) != 21 {
			t.Errorf("%s cover %d areas", k, len(covered[k]))
		}
		for a, n := range covered[k] {
			if n != 1 {
				t.Errorf("%s: area %s covered %d times", k, a, n)
			}
		}
	}
	for _, tc := range []struct {
		org  Org
		day  Date
		want bool
	}{
		{"C05", NewDate(2014, 5, 31), false},
		{"C05", NewDate(2014, 6, 1), true},
		{"C05", NewDate(2021, 6, 25), true},
		{"C05", NewDate(2021, 6, 26), false},
		{"N07", NewDate(2021, 6, 25), true},
		{"N07", NewDate(2021, 6, 26), false},
		{"NPS-J", NewDate(2021, 6, 25), false},
		{"NPS-J", NewDate(2021, 6, 26), true},
		{"NPS-J", NewDate(2040, 1, 1), true},
		{"MDI", NewDate(2014, 6, 1), true},
		{"ZZZ", NewDate(2030, 6, 1), true}, // any well-formed prison code; see registry.go
		{"C22", NewDate(2019, 6, 1), false},
		{"NPS-M", NewDate(2022, 6, 1), false},
	} {
		if got := OrgExistsOn(tc.org, tc.day); got != tc.want {
			t.Errorf("OrgExistsOn(%s, %s) = %v", tc.org, tc.day, got)
		}
	}
	if o, ok := LookupOrganisation("N02"); !ok || len(o.Areas) != 5 {
		t.Errorf("N02: %+v", o)
	}
}

func TestSuccessor(t *testing.T) {
	before, after := NewDate(2021, 6, 25), NewDate(2021, 6, 26)
	for _, tc := range []struct {
		org  Org
		area string
		day  Date
		want Org
	}{
		{"C05", "C05", before, "C05"},
		{"C05", "C05", after, "NPS-C"},
		{"C05", "C17", after, "NPS-C"}, // the CRC's own area decides
		{"C07", "", after, "NPS-L"},
		{"N02", "C01", after, "NPS-A"}, // the division covered the release area
		{"N02", "C17", after, "NPS-C"}, // otherwise its main region
		{"N02", "", after, "NPS-C"},
		{"N05", "", after, "NPS-G"},
		{"N07", "C17", before, "N07"},
		{"NPS-J", "C17", after, "NPS-J"},
		{"MDI", "C17", after, "MDI"},
		{"", "", after, ""},
	} {
		if got := Successor(tc.org, tc.area, tc.day); got != tc.want {
			t.Errorf("Successor(%s, %q, %s) = %q, want %q", tc.org, tc.area, tc.day, got, tc.want)
		}
	}
	// Every successor exists the day after unification.
	for _, o := range Organisations() {
		if s := Successor(o.Code, "", Unification); !OrgExistsOn(s, Unification) {
			t.Errorf("%s -> %s does not exist", o.Code, s)
		}
	}
}

// The rules of the registry, given-when-then: a handover, an action owner or
// a release area naming an organisation that does not exist on the command's
// UK date, or of a kind that cannot take the case, is refused with the rule.
func TestRegistryRules(t *testing.T) {
	in2019 := []Event{recv(tr2019)}
	in2022 := []Event{recv(tr2022)}
	inLate2021 := []Event{recv(lastTRDay.Add(-48 * time.Hour))}
	out2022 := with(in2022, PrisonerReleased{Kind: ReleaseOnLicence, Prison: "MDI", At: tr2022.Add(time.Hour)})
	later22 := tr2022.Add(2 * time.Hour)
	agreed22 := with(in2022, PathwayNeedIdentified{Pathway: PathwayHealth, Description: "GP", At: tr2022},
		ActionAgreed{ActionID: "a1", Pathway: PathwayHealth, Description: "register", At: tr2022})
	agreedOut22 := with(agreed22, PrisonerReleased{Kind: ReleaseOnLicence, Prison: "MDI", At: tr2022.Add(time.Hour)})
	openToC05 := with(inLate2021, HandoverRequested{Seq: 1, From: "MDI", To: "C05", Reason: "r", Due: lastTRDay, At: lastTRDay.Add(-time.Hour)})
	runGWT(t, []gwt{
		// RequestHandover.To
		{name: "handover to ZZZ, not the prison holding the person", given: in2022, when: RequestHandover{To: "ZZZ", Reason: "r", At: later22}, err: ErrWrongOrganisation},
		{name: "handover to another prison than the one holding the person", given: in2022, when: RequestHandover{To: "LEI", Reason: "r", At: later22}, err: ErrWrongOrganisation},
		{name: "handover to a prison after release", given: out2022, when: RequestHandover{To: "MDI", Reason: "r", At: later22}, err: ErrWrongOrganisation},
		{name: "handover to a CRC after 25 June 2021", given: in2022, when: RequestHandover{To: "C05", Reason: "r", At: later22}, err: ErrUnknownOrganisation},
		{name: "handover to an NPS division after 25 June 2021", given: in2022, when: RequestHandover{To: "N02", Reason: "r", At: later22}, err: ErrUnknownOrganisation},
		{name: "handover to an NPS region before 26 June 2021", given: in2019, when: RequestHandover{To: "NPS-C", Reason: "r", At: tr2019}, err: ErrUnknownOrganisation},
		{name: "handover to a CRC at 23:30 UTC on 25 June 2021 (26 June in the UK)", given: inLate2021, when: RequestHandover{To: "C05", Reason: "r", Due: lateOn25June.Add(time.Hour), At: lateOn25June}, err: ErrUnknownOrganisation},
		{name: "handover to a CRC on 25 June 2021", given: inLate2021, when: RequestHandover{To: "C05", Reason: "r", Due: lastTRDay.Add(time.Hour), At: lastTRDay},
			then: []Event{HandoverRequested{Seq: 1, From: "MDI", To: "C05", Reason: "r", Due: lastTRDay.Add(time.Hour), At: lastTRDay}}},
		{name: "handover to an NPS region after release", given: out2022, when: RequestHandover{To: "NPS-C", Reason: "r", Due: later22, At: later22},
			then: []Event{HandoverRequested{Seq: 1, From: "MDI", To: "NPS-C", Reason: "r", Due: later22, At: later22}}},
		// AcceptHandover: the receiver must still exist.
		{name: "accepting a handover to a CRC after unification", given: openToC05, when: AcceptHandover{At: tr2022}, err: ErrUnknownOrganisation},
		{name: "accepting a handover to a CRC before unification", given: openToC05, when: AcceptHandover{At: lastTRDay},
			then: []Event{HandoverAccepted{Seq: 1, To: "C05", At: lastTRDay}}},
		// AssignAction.Owner
		{name: "owner: a CRC after 25 June 2021", given: agreed22, when: AssignAction{ActionID: "a1", Owner: "C05", At: later22}, err: ErrUnknownOrganisation},
		{name: "owner: a prison that does not hold the person", given: agreed22, when: AssignAction{ActionID: "a1", Owner: "ZZZ", At: later22}, err: ErrWrongOrganisation},
		{name: "owner: a prison after release", given: agreedOut22, when: AssignAction{ActionID: "a1", Owner: "MDI", At: later22}, err: ErrWrongOrganisation},
		{name: "owner: the prison holding the person", given: agreed22, when: AssignAction{ActionID: "a1", Owner: "MDI", At: later22},
			then: []Event{ActionAssigned{ActionID: "a1", Owner: "MDI", At: later22}}},
		{name: "owner: an NPS region after release", given: agreedOut22, when: AssignAction{ActionID: "a1", Owner: "NPS-J", At: later22},
			then: []Event{ActionAssigned{ActionID: "a1", Owner: "NPS-J", At: later22}}},
		// ChangeReleaseArea.Area
		{name: "release area named by its region before 26 June 2021", given: in2019, when: ChangeReleaseArea{Area: "NPS-C", At: tr2019}, err: ErrUnknownOrganisation},
		{name: "release area named by its region from 26 June 2021", given: in2022, when: ChangeReleaseArea{Area: "NPS-C", At: later22},
			then: []Event{ReleaseAreaChanged{To: "NPS-C", At: later22},
				HandoverRequested{Seq: 1, From: "MDI", To: "NPS-C", Reason: HandoverReasonReleaseArea, Due: due(later22), At: later22}}},
		{name: "release area named by its CPA after 2021 goes to the CPA's region", given: in2022, when: ChangeReleaseArea{Area: "C17", At: later22},
			then: []Event{ReleaseAreaChanged{To: "C17", At: later22},
				HandoverRequested{Seq: 1, From: "MDI", To: "NPS-J", Reason: HandoverReasonReleaseArea, Due: due(later22), At: later22}}},
		{name: "release area that is no area", given: in2022, when: ChangeReleaseArea{Area: "N01", At: later22}, err: ErrInvalidIdentifier},
		{name: "release area that is a prison", given: in2022, when: ChangeReleaseArea{Area: "MDI", At: later22}, err: ErrInvalidIdentifier},
		// Release: 23:30 UTC on 25 June 2021 is 26 June in the UK, so the
		// custody-to-community handover goes to the NPS region.
		{name: "release at 23:30 UTC on 25 June 2021 goes to the NPS region", given: with(inLate2021, ReleaseAreaChanged{To: "C05", At: lastTRDay.Add(-47 * time.Hour)},
			HandoverRequested{Seq: 1, From: "MDI", To: "C05", Reason: "r", Due: lastTRDay, At: lastTRDay.Add(-46 * time.Hour)},
			HandoverRejected{Seq: 1, Reason: "later", At: lastTRDay.Add(-45 * time.Hour)}),
			when: ReleasePrisoner{Kind: ReleaseOnLicence, Prison: "MDI", At: lateOn25June},
			then: []Event{PrisonerReleased{Kind: ReleaseOnLicence, Prison: "MDI", At: lateOn25June},
				HandoverRequested{Seq: 2, From: "MDI", To: "NPS-C", Reason: HandoverReasonRelease, Due: due(lateOn25June), At: lateOn25June}}},
		{name: "release at 22:30 UTC on 25 June 2021 goes to the CRC", given: with(inLate2021, ReleaseAreaChanged{To: "C05", At: lastTRDay.Add(-47 * time.Hour)}),
			when: ReleasePrisoner{Kind: ReleaseOnLicence, Prison: "MDI", At: lateOn25June.Add(-time.Hour)},
			then: []Event{PrisonerReleased{Kind: ReleaseOnLicence, Prison: "MDI", At: lateOn25June.Add(-time.Hour)},
				HandoverRequested{Seq: 1, From: "MDI", To: "C05", Reason: HandoverReasonRelease, Due: due(lateOn25June.Add(-time.Hour)), At: lateOn25June.Add(-time.Hour)}}},
	})
}

// Dates outside the plausible range are refused for every dated command, in
// one place (occurred).
func TestPlausibleDates(t *testing.T) {
	in := []Event{received(t0)}
	early := time.Date(1901, 3, 1, 10, 0, 0, 0, time.UTC)
	// 22:59 UTC on 31 May 2014 is 23:59 BST, still 31 May in the UK.
	edge := time.Date(2014, 5, 31, 22, 59, 0, 0, time.UTC)
	rows := []gwt{
		{name: "reception in 1901", when: ReceivePrisoner{NOMS: noms, Kind: ReceptionSentence, Prison: "MDI", At: early}, err: ErrImplausibleDate},
		{name: "reception on 31 May 2014 (UK)", when: ReceivePrisoner{NOMS: noms, Kind: ReceptionSentence, Prison: "MDI", At: edge}, err: ErrImplausibleDate},
		{name: "reception on 1 June 2014 (UK), 23:00 UTC on 31 May", when: ReceivePrisoner{NOMS: noms, Kind: ReceptionSentence, Prison: "MDI", At: edge.Add(time.Minute)},
			then: []Event{PrisonerReceived{NOMS: noms, Kind: ReceptionSentence, Prison: "MDI", At: edge.Add(time.Minute)}}},
		{name: "reception in the future", when: ReceivePrisoner{NOMS: noms, Kind: ReceptionSentence, Prison: "MDI", At: now.Add(time.Hour)}, err: ErrFutureDate},
		{name: "rule off when the policy says so", pol: &Policy{Allocation: DefaultAllocation()},
			when: ReceivePrisoner{NOMS: noms, Kind: ReceptionSentence, Prison: "MDI", At: early},
			then: []Event{PrisonerReceived{NOMS: noms, Kind: ReceptionSentence, Prison: "MDI", At: early}}},
	}
	// Every dated command meets the same check.
	for _, c := range []Command{
		RecordMovement{Kind: MovementCourtOut, Prison: "MDI", At: early}, ReleasePrisoner{Kind: ReleaseOnLicence, Prison: "MDI", At: early},
		CompleteScreening{At: early}, DraftPlan{Summary: "s", At: early}, RevisePlan{Summary: "s", Reason: "r", At: early},
		IdentifyNeed{Pathway: PathwayHealth, Description: "d", At: early}, ChangePathwayStatus{Pathway: PathwayHealth, Status: StatusDone, At: early},
		AgreeAction{ActionID: "a", Pathway: PathwayHealth, Description: "d", At: early}, AssignAction{ActionID: "a", Owner: "MDI", At: early},
		CompleteAction{ActionID: "a", Outcome: "o", At: early}, SetReleaseDates{Dates: ReleaseDates{ConditionalRelease: NewDate(2025, 1, 1)}, At: early},
		NoteSentenceRecalculation{BookingID: "1", CalculationID: "2", At: early}, RecordMetAtGate{By: "m", At: early},
		RecordSupervisionContact{By: "NPS-C", Kind: "k", At: early}, AssessRisk{Level: RoSHLow, At: early}, SetMAPPALevel{Level: 1, At: early},
		RecordBreach{Description: "d", At: early}, RecallPrisoner{Reason: "r", At: early},
		RecordProvenReoffence{Offence: "o", OffenceDate: NewDate(1901, 1, 1), ConvictionDate: NewDate(1901, 2, 1), At: early},
		LinkCRN{CRN: "X373878", At: early}, CorrectFact{CorrectsEventID: "8d6a9b0e-52a4-4e0b-9a35-4c1f2e7a1b2c", Field: FieldNote, Reason: "r", At: early},
		CloseJourney{Reason: CloseDied, At: early}, RequestHandover{To: "NPS-C", Reason: "r", At: early}, AcceptHandover{At: early},
		RejectHandover{Reason: "r", At: early}, ChangeReleaseArea{Area: "C05", At: early},
	} {
		rows = append(rows, gwt{name: c.CommandName() + " in 1901", given: in, when: c, err: ErrImplausibleDate})
	}
	runGWT(t, rows)
	_, err := Decide(Journey{}, ReceivePrisoner{NOMS: noms, Kind: ReceptionSentence, Prison: "MDI", At: early}, now, pol)
	var re *RuleError
	if !errors.As(err, &re) || re.Rule != "plausible-dates" || re.Field != "at" {
		t.Errorf("error %v does not name the rule", err)
	}
}

func TestUKDates(t *testing.T) {
	for _, tc := range []struct {
		at   time.Time
		want Date
	}{
		{time.Date(2021, 6, 25, 22, 59, 59, 0, time.UTC), NewDate(2021, 6, 25)},
		{time.Date(2021, 6, 25, 23, 0, 0, 0, time.UTC), NewDate(2021, 6, 26)},
		{time.Date(2021, 12, 31, 23, 30, 0, 0, time.UTC), NewDate(2021, 12, 31)}, // GMT in winter
		{time.Date(2021, 3, 31, 23, 30, 0, 0, time.UTC), NewDate(2021, 4, 1)},    // a quarter starts in the UK
		{time.Date(2021, 6, 26, 0, 30, 0, 0, time.FixedZone("EDT", -4*3600)), NewDate(2021, 6, 26)},
	} {
		if got := DateOf(tc.at); got != tc.want {
			t.Errorf("DateOf(%s) = %s, want %s", tc.at, got, tc.want)
		}
	}
	for d := NewDate(2014, 1, 1); d.Before(NewDate(2040, 1, 1)); d = d.AddDays(1) {
		if DateOf(d.Time()) != d || DateOf(d.StartOfDay()) != d || DateOf(d.StartOfDay().Add(-time.Nanosecond)) != d.AddDays(-1) {
			t.Fatalf("%s: midnight UTC or UK midnight is not on that UK date", d)
		}
	}
	if got := NewDate(2021, 6, 26).StartOfDay(); !got.Equal(time.Date(2021, 6, 25, 23, 0, 0, 0, time.UTC)) {
		t.Errorf("StartOfDay = %s", got)
	}
}
