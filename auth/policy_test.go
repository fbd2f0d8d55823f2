package auth

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	ag "github.com/gateledger/gateledger/aggregates"
)

var t0 = time.Date(2024, time.March, 4, 9, 0, 0, 0, time.UTC)

func at(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }

// Journeys in the states the rules distinguish. The person is received into
// MDI in 2024, after probation unification, so the organisations are NPS regions:
// the release area is NPS-C (Yorkshire and the Humber); NPS-A and NPS-B are other regions.
var (
	evReceived   = ag.PrisonerReceived{NOMS: "A1234BC", Kind: ag.ReceptionSentence, Prison: "MDI", At: at(0)}
	evArea       = ag.ReleaseAreaChanged{To: "NPS-C", At: at(1)}
	evRequestC05 = ag.HandoverRequested{Seq: 1, From: "MDI", To: "NPS-C", Reason: ag.HandoverReasonRelease, Due: at(100), At: at(3)}
	evAcceptC05  = ag.HandoverAccepted{Seq: 1, To: "NPS-C", At: at(4)}
	evReleased   = ag.PrisonerReleased{Kind: ag.ReleaseOnLicence, Prison: "MDI", At: at(2)}
	evRequestN02 = ag.HandoverRequested{Seq: 2, From: "NPS-C", To: "NPS-A", Reason: ag.HandoverReasonRiskEscalation, Due: at(100), At: at(5)}
	evAcceptN02  = ag.HandoverAccepted{Seq: 2, To: "NPS-A", At: at(6)}
	evRequestC06 = ag.HandoverRequested{Seq: 2, From: "NPS-C", To: "NPS-B", Reason: "moved to Liverpool", Due: at(100), At: at(5)}
	evRejectC06  = ag.HandoverRejected{Seq: 2, Reason: "not our area", At: at(6)}
	evDeparted   = ag.TransferDeparted{Prison: "MDI", At: at(1)}
	evArrived    = ag.PrisonerTransferred{FromPrison: "MDI", ToPrison: "LEI", At: at(2)}
	evAtLarge    = ag.PrisonerUnlawfullyAtLarge{Prison: "MDI", MovementReasonCode: "UAL", At: at(2)}
	evHospital   = ag.PrisonerMovedToSecureHospital{Prison: "MDI", MovementReasonCode: "HO", At: at(2)}
	evDied       = ag.PrisonerDiedInCustody{Prison: "MDI", MovementReasonCode: "DEC", At: at(2)}
	evDiedClosed = ag.JourneyClosed{Reason: ag.CloseDied, At: at(2)}
	evActionMDI  = []ag.Event{
		ag.PathwayNeedIdentified{Pathway: ag.PathwayAccommodation, Description: "no fixed abode", At: at(1)},
		ag.ActionAgreed{ActionID: "a1", Pathway: ag.PathwayAccommodation, Description: "housing referral", At: at(1)},
		ag.ActionAssigned{ActionID: "a1", Owner: "MDI", At: at(1)},
	}
)

func journey(evs ...ag.Event) ag.Journey { return ag.Rebuild(evs) }

var scenarios = map[string]ag.Journey{
	"never recorded":                          {},
	"in MDI":                                  journey(evReceived),
	"in MDI, handover to NPS-C open":          journey(evReceived, evArea, evRequestC05),
	"in MDI, held by NPS-C":                   journey(evReceived, evArea, evRequestC05, evAcceptC05),
	"released by MDI, handover open":          journey(evReceived, evArea, evReleased, evRequestC05),
	"released by MDI, no handover":            journey(evReceived, evReleased),
	"released, held by NPS-C":                 journey(evReceived, evArea, evReleased, evRequestC05, evAcceptC05),
	"released, escalation to NPS-A open":      journey(evReceived, evArea, evReleased, evRequestC05, evAcceptC05, evRequestN02),
	"released, held by NPS-A":                 journey(evReceived, evArea, evReleased, evRequestC05, evAcceptC05, evRequestN02, evAcceptN02),
	"released, held by NPS-C, NPS-B rejected": journey(evReceived, evArea, evReleased, evRequestC05, evAcceptC05, evRequestC06, evRejectC06),
	"departing MDI on transfer":               journey(evReceived, evDeparted),
	"transferred to LEI":                      journey(evReceived, evDeparted, evArrived),
	"in MDI, action owned by MDI":             journey(append([]ag.Event{evReceived}, evActionMDI...)...),
	"at large from MDI":                       journey(evReceived, evArea, evAtLarge),
	"moved from MDI to a secure hospital":     journey(evReceived, evArea, evHospital),
	"died in MDI":                             journey(evReceived, evArea, evDied, evDiedClosed),
}

var principals = map[string]Principal{
	"MDI":       {ID: "token:mdi", Role: RolePrison, Org: "MDI"},
	"LEI":       {ID: "token:lei", Role: RolePrison, Org: "LEI"},
	"NPS-C":     {ID: "token:npsc", Role: RoleProvider, Org: "NPS-C"},
	"NPS-B":     {ID: "token:npsb", Role: RoleProvider, Org: "NPS-B"},
	"NPS-A":     {ID: "token:npsa", Role: RoleProvider, Org: "NPS-A"},
	"NPS-D":     {ID: "token:npsd", Role: RoleProvider, Org: "NPS-D"},
	"inspector": {ID: "token:hmip", Role: RoleInspector},
	"feed":      {ID: "token:feed", Role: RoleFeed},
	"admin":     {ID: "token:ops", Role: RoleAdmin},
	// Principals that fail Validate may do nothing at all.
	"provider with prison code": {ID: "x", Role: RoleProvider, Org: "MDI"},
	"prison with no org":        {ID: "x", Role: RolePrison},
	"no role":                   {ID: "x", Org: "MDI"},
}

func TestCanReadJourney(t *testing.T) {
	// Who reads each journey; everyone not listed is refused.
	readers := map[string][]string{
		"never recorded":                          {"inspector"},
		"in MDI":                                  {"MDI", "inspector"},
		"in MDI, handover to NPS-C open":          {"MDI", "NPS-C", "inspector"},
		"in MDI, held by NPS-C":                   {"MDI", "NPS-C", "inspector"},
		"released by MDI, handover open":          {"MDI", "NPS-C", "inspector"},
		"released by MDI, no handover":            {"MDI", "inspector"},
		"released, held by NPS-C":                 {"NPS-C", "inspector"},
		"released, escalation to NPS-A open":      {"NPS-C", "NPS-A", "inspector"},
		"released, held by NPS-A":                 {"NPS-A", "inspector"},
		"released, held by NPS-C, NPS-B rejected": {"NPS-C", "inspector"},
		"departing MDI on transfer":               {"MDI", "inspector"},
		"transferred to LEI":                      {"LEI", "inspector"},
		"in MDI, action owned by MDI":             {"MDI", "inspector"},
		// The prison a person left without a release stays accountable and
		// keeps sight of the case; after a death, as the last prison.
		"at large from MDI":                   {"MDI", "inspector"},
		"moved from MDI to a secure hospital": {"MDI", "inspector"},
		"died in MDI":                         {"MDI", "inspector"},
	}
	for sname, j := range scenarios {
		want, ok := readers[sname]
		if !ok {
			t.Fatalf("no readers listed for %q", sname)
		}
		for pname, p := range principals {
			t.Run(sname+"/"+pname, func(t *testing.T) {
				if got := CanReadJourney(p, j); got != slices.Contains(want, pname) {
					t.Fatalf("CanReadJourney = %v", got)
				}
				err := AuthorizeRead(p, j)
				if slices.Contains(want, pname) && Exists(j) {
					if err != nil {
						t.Fatalf("AuthorizeRead = %v", err)
					}
				} else if !errors.Is(err, ErrNotFound) {
					// Refused and absent are the same answer.
					t.Fatalf("AuthorizeRead = %v, want ErrNotFound", err)
				}
			})
		}
	}
}

// Another organisation never sees a case: for every journey, every
// provider or prison that is not a party to it is refused every read and
// every command, with the answer a missing case gets.
func TestOtherOrganisationsSeeNothing(t *testing.T) {
	parties := map[string][]string{
		"in MDI, held by NPS-C":              {"MDI", "NPS-C"},
		"released, escalation to NPS-A open": {"NPS-C", "NPS-A"},
		"released, held by NPS-A":            {"NPS-A"},
		"transferred to LEI":                 {"LEI"},
	}
	for sname, ps := range parties {
		j := scenarios[sname]
		for _, org := range []string{"MDI", "LEI", "NPS-C", "NPS-B", "NPS-A", "NPS-D"} {
			if slices.Contains(ps, org) {
				continue
			}
			p := principals[org]
			if CanReadJourney(p, j) {
				t.Errorf("%s: %s reads", sname, org)
			}
			for _, cmd := range allCommands("MDI") {
				if _, ok := cmd.(ag.ReceivePrisoner); ok {
					continue // a reception into one's own prison is decided on its own
				}
				if err := AuthorizeCommand(p, j, cmd); !errors.Is(err, ErrNotFound) {
					t.Errorf("%s: %s %s: %v, want ErrNotFound", sname, org, cmd.CommandName(), err)
				}
			}
		}
	}
}

// allCommands is one of each command; prison is the prison named in those
// that name one.
func allCommands(prison string) []ag.Command {
	return []ag.Command{
		ag.ReceivePrisoner{NOMS: "A1234BC", Kind: ag.ReceptionRecall, Prison: prison, At: at(9)},
		ag.RecordMovement{Kind: ag.MovementCourtOut, Prison: prison, At: at(9)},
		ag.RecordMovement{Kind: ag.MovementTransferIn, Prison: prison, At: at(9)},
		ag.ReleasePrisoner{Kind: ag.ReleaseOnLicence, Prison: prison, At: at(9)},
		ag.EndCustody{Kind: ag.EndUnlawfullyAtLarge, Prison: prison, At: at(9)},
		ag.CompleteScreening{At: at(9)},
		ag.DraftPlan{Summary: "s", At: at(9)},
		ag.RevisePlan{Summary: "s", Reason: "r", At: at(9)},
		ag.IdentifyNeed{Pathway: ag.PathwayHealth, Description: "d", At: at(9)},
		ag.ChangePathwayStatus{Pathway: ag.PathwayHealth, Status: ag.StatusNotStarted, At: at(9)},
		ag.AgreeAction{ActionID: "a2", Pathway: ag.PathwayHealth, Description: "d", At: at(9)},
		ag.AssignAction{ActionID: "a1", Owner: "NPS-C", At: at(9)},
		ag.CompleteAction{ActionID: "a1", Outcome: "done", At: at(9)},
		ag.SetReleaseDates{At: at(9)},
		ag.NoteSentenceRecalculation{BookingID: "1", CalculationID: "2", At: at(9)},
		ag.RecordMetAtGate{By: "mentor", At: at(9)},
		ag.RecordSupervisionContact{By: "NPS-C", Kind: "visit", At: at(9)},
		ag.AssessRisk{Level: "HIGH", At: at(9)},
		ag.SetMAPPALevel{Level: 1, At: at(9)},
		ag.RecordBreach{Description: "d", At: at(9)},
		ag.RecallPrisoner{Reason: "r", At: at(9)},
		ag.RecordProvenReoffence{Offence: "o", At: at(9)},
		ag.LinkCRN{CRN: "X123456", At: at(9)},
		ag.CorrectFact{Reason: "r", At: at(9)},
		ag.CloseJourney{At: at(9)},
		ag.RequestHandover{To: "NPS-B", Reason: "r", At: at(9)},
		ag.AcceptHandover{At: at(9)},
		ag.RejectHandover{Reason: "r", At: at(9)},
		ag.ChangeReleaseArea{Area: "NPS-B", At: at(9)},
		ag.SentencePrisoner{Type: ag.SentenceDeterminate, LengthMonths: 6, At: at(9)},
	}
}

func name(c ag.Command) string {
	if m, ok := c.(ag.RecordMovement); ok {
		return "RecordMovement " + string(m.Kind)
	}
	return c.CommandName()
}

func TestCanCommand(t *testing.T) {
	type row struct {
		scenario, principal string
		// allowed lists the commands (by name) allowed; every other command
		// must be refused.
		allowed []string
	}
	custody := []string{"RecordMovement COURT_OUT", "RecordMovement TRANSFER_IN", "ReleasePrisoner", "EndCustody", "CompleteScreening",
		"SetReleaseDates", "NoteSentenceRecalculation", "CorrectFact", "ReceivePrisoner", "SentencePrisoner"}
	caseWork := []string{"DraftPlan", "RevisePlan", "IdentifyNeed", "ChangePathwayStatus", "AgreeAction", "AssignAction",
		"CompleteAction", "RecordMetAtGate", "RecordSupervisionContact", "AssessRisk", "SetMAPPALevel", "RecordBreach",
		"RecordProvenReoffence", "LinkCRN", "CorrectFact", "ChangeReleaseArea"}
	responsibleOnly := []string{"RequestHandover", "RecallPrisoner", "CloseJourney"}
	receiving := []string{"AcceptHandover", "RejectHandover"}
	cat := func(lists ...[]string) []string { return slices.Concat(lists...) }
	// Out of the prison estate (at large, in hospital), a person is received
	// back, not transferred in.
	notTransferIn := func(l []string) []string {
		return slices.DeleteFunc(slices.Clone(l), func(n string) bool { return n == "RecordMovement TRANSFER_IN" })
	}
	rows := []row{
		// Prisons.
		{"never recorded", "MDI", []string{"ReceivePrisoner"}},
		{"in MDI", "MDI", cat(custody, []string{"RequestHandover", "ChangeReleaseArea"})},
		{"in MDI", "LEI", nil},
		{"in MDI, handover to NPS-C open", "MDI", cat(custody, []string{"ChangeReleaseArea", "RequestHandover"})},
		{"in MDI, held by NPS-C", "MDI", custody},
		{"in MDI, action owned by MDI", "MDI", cat(custody, []string{"RequestHandover", "ChangeReleaseArea", "CompleteAction"})},
		// The prison still responsible for a released person routes the case
		// on (issue 13: it was refused the very commands that would).
		{"released by MDI, handover open", "MDI", []string{"ReceivePrisoner", "RequestHandover", "ChangeReleaseArea"}},
		{"released by MDI, no handover", "MDI", []string{"ReceivePrisoner", "RequestHandover", "ChangeReleaseArea"}},
		{"released, held by NPS-C", "MDI", []string{"ReceivePrisoner"}},
		{"released, held by NPS-C", "LEI", []string{"ReceivePrisoner"}},
		{"departing MDI on transfer", "MDI", cat(custody, []string{"RequestHandover", "ChangeReleaseArea"})},
		{"departing MDI on transfer", "LEI", []string{"RecordMovement TRANSFER_IN"}},
		{"transferred to LEI", "MDI", nil},
		{"transferred to LEI", "LEI", cat(custody, []string{"RequestHandover", "ChangeReleaseArea"})},
		{"at large from MDI", "MDI", notTransferIn(cat(custody, []string{"RequestHandover", "ChangeReleaseArea"}))},
		{"at large from MDI", "LEI", []string{"ReceivePrisoner"}},
		{"moved from MDI to a secure hospital", "MDI", notTransferIn(cat(custody, []string{"RequestHandover", "ChangeReleaseArea"}))},
		{"died in MDI", "MDI", []string{"ReceivePrisoner"}},
		{"died in MDI", "C05", nil},
		// Providers: before the handover is accepted, the receiving side
		// may act on the case and decide the handover; after, it is
		// responsible.
		{"in MDI", "NPS-C", nil},
		{"in MDI, handover to NPS-C open", "NPS-C", cat(caseWork, receiving)},
		{"in MDI, held by NPS-C", "NPS-C", cat(caseWork, responsibleOnly)},
		{"released by MDI, handover open", "NPS-C", cat(caseWork, receiving)},
		{"released, held by NPS-C", "NPS-C", cat(caseWork, responsibleOnly)},
		{"released, held by NPS-C", "NPS-B", nil},
		{"released, escalation to NPS-A open", "NPS-C", cat(caseWork, responsibleOnly)},
		{"released, escalation to NPS-A open", "NPS-A", cat(caseWork, receiving)},
		{"released, held by NPS-A", "NPS-C", nil},
		{"released, held by NPS-A", "NPS-A", cat(caseWork, responsibleOnly)},
		{"released, held by NPS-C, NPS-B rejected", "NPS-B", nil},
		{"never recorded", "NPS-C", nil},
		// Roles that send no commands.
		{"released, held by NPS-C", "inspector", nil},
		{"in MDI", "inspector", nil},
		{"in MDI", "feed", nil},
		{"in MDI", "admin", nil},
		{"in MDI", "provider with prison code", nil},
		{"in MDI", "prison with no org", nil},
	}
	for _, r := range rows {
		j, p := scenarios[r.scenario], principals[r.principal]
		prison := p.Org
		if p.Role != RolePrison {
			prison = "MDI"
		}
		for _, cmd := range allCommands(prison) {
			t.Run(fmt.Sprintf("%s/%s/%s", r.scenario, r.principal, name(cmd)), func(t *testing.T) {
				err := CanCommand(p, j, cmd)
				want := slices.Contains(r.allowed, name(cmd))
				if want && err != nil {
					t.Fatalf("refused: %v", err)
				}
				if !want && !errors.Is(err, ErrForbidden) {
					t.Fatalf("err = %v, want ErrForbidden", err)
				}
				aerr := AuthorizeCommand(p, j, cmd)
				switch {
				case want:
					if aerr != nil {
						t.Fatalf("AuthorizeCommand = %v", aerr)
					}
				case p.Role != RolePrison && p.Role != RoleProvider || p.Validate() != nil:
					if !errors.Is(aerr, ErrForbidden) {
						t.Fatalf("AuthorizeCommand = %v, want ErrForbidden", aerr)
					}
				case !Exists(j) || !CanReadJourney(p, j):
					if !errors.Is(aerr, ErrNotFound) {
						t.Fatalf("AuthorizeCommand = %v, want ErrNotFound", aerr)
					}
				default:
					if !errors.Is(aerr, ErrForbidden) {
						t.Fatalf("AuthorizeCommand = %v, want ErrForbidden", aerr)
					}
				}
			})
		}
	}
}

// A prison records custody only for its own prison, even for a person it
// holds.
func TestPrisonCommandsNameItsOwnPrison(t *testing.T) {
	j := scenarios["in MDI"]
	mdi := principals["MDI"]
	for _, cmd := range []ag.Command{
		ag.ReceivePrisoner{NOMS: "A1234BC", Kind: ag.ReceptionRecall, Prison: "LEI", At: at(9)},
		ag.RecordMovement{Kind: ag.MovementCourtOut, Prison: "LEI", At: at(9)},
		ag.ReleasePrisoner{Kind: ag.ReleaseOnLicence, Prison: "LEI", At: at(9)},
	} {
		if err := CanCommand(mdi, j, cmd); !errors.Is(err, ErrForbidden) {
			t.Errorf("%s naming LEI: %v", cmd.CommandName(), err)
		}
	}
}

func TestRoleGates(t *testing.T) {
	for pname, p := range principals {
		valid := p.Validate() == nil
		if got, want := CanIngest(p), valid && p.Role == RoleFeed; got != want {
			t.Errorf("CanIngest(%s) = %v", pname, got)
		}
		if got, want := CanManageTokens(p), valid && p.Role == RoleAdmin; got != want {
			t.Errorf("CanManageTokens(%s) = %v", pname, got)
		}
		if got, want := CanReadAccessLog(p), valid && p.Role == RoleInspector; got != want {
			t.Errorf("CanReadAccessLog(%s) = %v", pname, got)
		}
		if got, want := CanReadDeadLetters(p), valid && (p.Role == RoleAdmin || p.Role == RoleInspector); got != want {
			t.Errorf("CanReadDeadLetters(%s) = %v", pname, got)
		}
		if got, want := CanWorkDeadLetters(p), valid && p.Role == RoleAdmin; got != want {
			t.Errorf("CanWorkDeadLetters(%s) = %v", pname, got)
		}
	}
}

func TestPrincipalValidate(t *testing.T) {
	tests := []struct {
		p  Principal
		ok bool
	}{
		{Principal{ID: "a", Role: RolePrison, Org: "MDI"}, true},
		{Principal{ID: "a", Role: RolePrison, Org: "mdi"}, false},
		{Principal{ID: "a", Role: RolePrison, Org: "NPS-C"}, false},
		{Principal{ID: "a", Role: RoleProvider, Org: "C21"}, true},
		{Principal{ID: "a", Role: RoleProvider, Org: "C22"}, false},
		{Principal{ID: "a", Role: RoleProvider, Org: "N07"}, true},
		{Principal{ID: "a", Role: RoleProvider, Org: "N08"}, false},
		{Principal{ID: "a", Role: RoleProvider, Org: "NPS-L"}, true},
		{Principal{ID: "a", Role: RoleProvider, Org: "NPS-M"}, false},
		{Principal{ID: "a", Role: RoleProvider}, false},
		{Principal{ID: "a", Role: RoleInspector}, true},
		{Principal{ID: "a", Role: RoleInspector, Org: "MDI"}, false},
		{Principal{ID: "a", Role: RoleFeed}, true},
		{Principal{ID: "a", Role: RoleFeed, Org: "MDI"}, true},
		{Principal{ID: "a", Role: RoleAdmin, Org: "bogus"}, false},
		{Principal{Role: RoleAdmin}, false},
		{Principal{ID: "a", Role: "root"}, false},
		{Principal{ID: "a\x00", Role: RoleAdmin}, false},
		{Principal{ID: "a", Name: strings.Repeat("n", MaxNameLen+1), Role: RoleAdmin}, false},
	}
	for _, tc := range tests {
		err := tc.p.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%+v: Validate = %v", tc.p, err)
		}
		if err != nil && !errors.Is(err, ErrInvalidPrincipal) {
			t.Errorf("%+v: %v does not match ErrInvalidPrincipal", tc.p, err)
		}
	}
}

func TestCanReadOrganisation(t *testing.T) {
	tests := []struct {
		name string
		p    Principal
		org  string
		want bool
	}{
		{"an inspector, any organisation", Principal{ID: "i", Role: RoleInspector}, "MDI", true},
		{"a prison, its own", Principal{ID: "p", Role: RolePrison, Org: "MDI"}, "MDI", true},
		{"a prison, another's", Principal{ID: "p", Role: RolePrison, Org: "MDI"}, "LEI", false},
		{"a provider, its own", Principal{ID: "v", Role: RoleProvider, Org: "NPS-C"}, "NPS-C", true},
		{"a provider, another's", Principal{ID: "v", Role: RoleProvider, Org: "NPS-C"}, "NPS-A", false},
		{"the feed", Principal{ID: "f", Role: RoleFeed}, "MDI", false},
		{"an admin", Principal{ID: "a", Role: RoleAdmin}, "MDI", false},
		{"no organisation named", Principal{ID: "i", Role: RoleInspector}, "", false},
		{"an invalid principal", Principal{Role: RolePrison, Org: "MDI"}, "MDI", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CanReadOrganisation(tt.p, tt.org); got != tt.want {
				t.Errorf("CanReadOrganisation(%+v, %q) = %v, want %v", tt.p, tt.org, got, tt.want)
			}
		})
	}
}

func TestCanReadAcrossOrganisationsAndOutcomes(t *testing.T) {
	tests := []struct {
		name             string
		p                Principal
		across, outcomes bool
	}{
		{"an inspector", Principal{ID: "i", Role: RoleInspector}, true, true},
		{"a provider", Principal{ID: "v", Role: RoleProvider, Org: "NPS-C"}, false, true},
		{"a prison", Principal{ID: "p", Role: RolePrison, Org: "MDI"}, false, false},
		{"the feed", Principal{ID: "f", Role: RoleFeed}, false, false},
		{"an admin", Principal{ID: "a", Role: RoleAdmin}, false, false},
		{"an inspector without an id", Principal{Role: RoleInspector}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CanReadAcrossOrganisations(tt.p); got != tt.across {
				t.Errorf("CanReadAcrossOrganisations = %v, want %v", got, tt.across)
			}
			if got := CanReadOutcomes(tt.p); got != tt.outcomes {
				t.Errorf("CanReadOutcomes = %v, want %v", got, tt.outcomes)
			}
		})
	}
}
