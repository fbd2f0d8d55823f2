package aggregates

import (
	"errors"
	"testing"
)

func TestEndCustody(t *testing.T) {
	in := []Event{received(t0)}
	runGWT(t, []gwt{
		{name: "unlawfully at large", given: in, when: EndCustody{Kind: EndUnlawfullyAtLarge, Prison: "MDI", MovementReasonCode: "UAL", At: h(5)},
			then: []Event{PrisonerUnlawfullyAtLarge{Prison: "MDI", MovementReasonCode: "UAL", At: h(5)}}},
		{name: "a death closes the journey", given: in, when: EndCustody{Kind: EndDied, Prison: "MDI", MovementReasonCode: "DEC", At: h(5)},
			then: []Event{PrisonerDiedInCustody{Prison: "MDI", MovementReasonCode: "DEC", At: h(5)}, JourneyClosed{Reason: CloseDied, At: h(5)}}},
		{name: "hospital, prison not named", given: in, when: EndCustody{Kind: EndSecureHospital, MovementReasonCode: "HO", At: h(5)},
			then: []Event{PrisonerMovedToSecureHospital{Prison: "MDI", MovementReasonCode: "HO", At: h(5)}}},
		{name: "removal centre", given: in, when: EndCustody{Kind: EndRemovalCentre, Prison: "MDI", MovementReasonCode: "DD", At: h(5)},
			then: []Event{PrisonerMovedToRemovalCentre{Prison: "MDI", MovementReasonCode: "DD", At: h(5)}}},
		{name: "a hospital move asks for no community handover", given: with(in, ReleaseAreaChanged{To: "C05", At: h(1)}),
			when: EndCustody{Kind: EndSecureHospital, Prison: "MDI", At: h(5)},
			then: []Event{PrisonerMovedToSecureHospital{Prison: "MDI", At: h(5)}}},
		{name: "redelivered", given: with(in, PrisonerUnlawfullyAtLarge{Prison: "MDI", At: h(5)}),
			when: EndCustody{Kind: EndUnlawfullyAtLarge, Prison: "MDI", At: h(5)}},
		{name: "from a prison that does not hold the person", given: in,
			when: EndCustody{Kind: EndUnlawfullyAtLarge, Prison: "LEI", At: h(5)}, err: ErrWrongPrison},
		{name: "not received", when: EndCustody{Kind: EndDied, Prison: "MDI", At: h(5)}, err: ErrNotReceived},
		{name: "before the first reception", given: in, when: EndCustody{Kind: EndSecureHospital, At: t0.AddDate(-1, 0, 0)}, err: ErrDateOrder},
		{name: "at large twice", given: with(in, PrisonerUnlawfullyAtLarge{Prison: "MDI", At: h(5)}),
			when: EndCustody{Kind: EndUnlawfullyAtLarge, Prison: "MDI", At: h(6)}, err: ErrNotInCustody},
		{name: "after release", given: with(in, released(h(5))),
			when: EndCustody{Kind: EndUnlawfullyAtLarge, Prison: "MDI", At: h(6)}, err: ErrReleased},
		{name: "died in hospital", given: with(in, PrisonerMovedToSecureHospital{Prison: "MDI", At: h(5)}),
			when: EndCustody{Kind: EndDied, At: h(9)},
			then: []Event{PrisonerDiedInCustody{Prison: "MDI", At: h(9)}, JourneyClosed{Reason: CloseDied, At: h(9)}}},
		{name: "late, recorded as history", given: with(in, received(h(20))),
			when: EndCustody{Kind: EndUnlawfullyAtLarge, Prison: "MDI", At: h(5)},
			then: []Event{PrisonerUnlawfullyAtLarge{Prison: "MDI", Late: true, At: h(5)}}},
		{name: "bad kind", given: in, when: EndCustody{Kind: "ESCAPED", At: h(5)}, err: ErrInvalidValue},
	})
}

// What follows each way custody ends: the journey's state, and what may be
// recorded next.
func TestAfterCustodyEnds(t *testing.T) {
	in := []Event{received(t0), ReleaseAreaChanged{To: "C05", At: h(1)}}
	died := with(in, PrisonerDiedInCustody{Prison: "MDI", At: h(5)}, JourneyClosed{Reason: CloseDied, At: h(5)})
	ual := with(in, PrisonerUnlawfullyAtLarge{Prison: "MDI", At: h(5)})
	hospital := with(in, PrisonerMovedToSecureHospital{Prison: "MDI", At: h(5)})
	runGWT(t, []gwt{
		{name: "no reception after a death", given: died, when: ReceivePrisoner{NOMS: noms, Kind: ReceptionRecall, Prison: "MDI", At: h(9)}, err: ErrClosed},
		{name: "no release after a death", given: died, when: ReleasePrisoner{Kind: ReleaseOnLicence, Prison: "MDI", At: h(9)}, err: ErrClosed},
		{name: "history before a death is kept", given: died, when: RecordMovement{Kind: MovementCourtOut, Prison: "MDI", At: h(3)},
			then: []Event{SentToCourt{Prison: "MDI", Late: true, At: h(3)}}},
		{name: "recall reception after being at large", given: ual,
			when: ReceivePrisoner{NOMS: noms, Kind: ReceptionRecall, Prison: "LEI", MovementReasonCode: "24", At: h(30)},
			then: []Event{PrisonerReceived{NOMS: noms, Kind: ReceptionRecall, Prison: "LEI", MovementReasonCode: "24", At: h(30)}}},
		{name: "no release while at large", given: ual, when: ReleasePrisoner{Kind: ReleaseOnLicence, At: h(9)}, err: ErrNotInCustody},
		{name: "no court trip while at large", given: ual, when: RecordMovement{Kind: MovementCourtOut, Prison: "MDI", At: h(9)}, err: ErrNotInCustody},
		{name: "return from hospital is a reception", given: hospital,
			when: ReceivePrisoner{NOMS: noms, Kind: ReceptionAdmission, Prison: "MDI", At: h(40)},
			then: []Event{PrisonerReceived{NOMS: noms, Kind: ReceptionAdmission, Prison: "MDI", At: h(40)}}},
		{name: "released from hospital at the end of detention", given: hospital,
			when: ReleasePrisoner{Kind: ReleaseSentenceEnd, At: h(40)},
			then: []Event{PrisonerReleased{Kind: ReleaseSentenceEnd, Prison: "MDI", At: h(40)},
				HandoverRequested{Seq: 1, From: "MDI", To: "NPS-C", Reason: HandoverReasonRelease, Due: pol.Calendar.AddWorkingDays(h(40), 5), At: h(40)}}},
		{name: "no screening while at large", given: ual, when: CompleteScreening{At: h(9)}, err: ErrNotInCustody},
	})

	cases := []struct {
		name        string
		events      []Event
		custody     CustodyStatus
		closed      bool
		responsible Org
		supervision bool
	}{
		{"died", died, Died, true, "MDI", false},
		{"at large", ual, UnlawfullyAtLarge, false, "MDI", false},
		{"hospital", hospital, DetainedElsewhere, false, "MDI", false},
		{"old release to hospital reads as a hospital move", with(in, PrisonerReleased{Kind: ReleaseToHospital, Prison: "MDI", At: h(5)}), DetainedElsewhere, false, "MDI", false},
		{"released on licence", with(in, released(h(5))), Released, false, "MDI", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := Rebuild(tc.events)
			if j.Custody != tc.custody || j.Closed != tc.closed {
				t.Errorf("custody %q closed %v, want %q %v", j.Custody, j.Closed, tc.custody, tc.closed)
			}
			if got := j.Responsible(); got != tc.responsible {
				t.Errorf("responsible %q, want %q", got, tc.responsible)
			}
			if got := ResponsibleFor(j, h(6)); got != tc.responsible {
				t.Errorf("responsible at h(6) %q, want %q", got, tc.responsible)
			}
			if got := j.Deadlines(pol).SupervisionEnds.Applies(); got != tc.supervision {
				t.Errorf("supervision applies %v, want %v", got, tc.supervision)
			}
		})
	}
}

// The 2010 release filed into a journey that began in 2026 (issue 12): a
// movement before the first reception is refused, whatever its kind, while a
// reception before it is an earlier custody period and is kept as history.
func TestNothingBeforeTheFirstReception(t *testing.T) {
	in := []Event{received(t0)}
	// Two years before the journey began: a date the ledger records, but
	// not in this journey. (A 2010 date is refused before that, by the
	// plausible-dates rule.)
	old := t0.AddDate(-2, 0, 0)
	runGWT(t, []gwt{
		{name: "release", given: in, when: ReleasePrisoner{Kind: ReleaseOnLicence, Prison: "MDI", At: old}, err: ErrDateOrder},
		{name: "release, prison not named", given: in, when: ReleasePrisoner{Kind: ReleaseOnLicence, At: old}, err: ErrDateOrder},
		{name: "court", given: in, when: RecordMovement{Kind: MovementCourtReturn, Prison: "MDI", At: old}, err: ErrDateOrder},
		{name: "earlier reception is history", given: in, when: ReceivePrisoner{NOMS: noms, Kind: ReceptionRemand, Prison: "LEI", At: old},
			then: []Event{PrisonerReceived{NOMS: noms, Kind: ReceptionRemand, Prison: "LEI", Late: true, At: old}}},
		{name: "release from another prison", given: in, when: ReleasePrisoner{Kind: ReleaseOnLicence, Prison: "LEI", At: h(3)}, err: ErrWrongPrison},
		{name: "court, prison not named", given: in, when: RecordMovement{Kind: MovementCourtOut, At: h(3)},
			then: []Event{SentToCourt{Prison: "MDI", At: h(3)}}},
		{name: "a return names the prison arrived at", given: in, when: RecordMovement{Kind: MovementCourtReturn, At: h(3)}, err: ErrInvalidIdentifier},
	})
	j := Rebuild(with(in, PrisonerReceived{NOMS: noms, Kind: ReceptionRemand, Prison: "LEI", Late: true, At: old}))
	if !j.FirstReceivedAt.Equal(old) || j.Prison != "MDI" || !j.ReceivedAt.Equal(t0) {
		t.Errorf("an earlier reception moved the present: %+v", j)
	}
}

// A closed journey treats late receptions and releases by one rule: dated
// before the closure, history; after it, only a reception (a new custody
// period) is recorded.
func TestClosedJourneyRule(t *testing.T) {
	in := []Event{received(t0), released(h(10)), JourneyClosed{Reason: CloseSupervisionEnded, At: h(10).AddDate(1, 0, 0)}}
	during := h(20)
	after := h(10).AddDate(1, 0, 2)
	runGWT(t, []gwt{
		{name: "reception before closure is history", given: in, when: ReceivePrisoner{NOMS: noms, Kind: ReceptionRecall, Prison: "MDI", At: during},
			then: []Event{PrisonerReceived{NOMS: noms, Kind: ReceptionRecall, Prison: "MDI", Late: true, At: during}}},
		{name: "release before closure is history", given: in, when: ReleasePrisoner{Kind: ReleaseOnLicence, Prison: "MDI", At: during},
			then: []Event{PrisonerReleased{Kind: ReleaseOnLicence, Prison: "MDI", Late: true, At: during}}},
		{name: "reception after closure reopens", given: in, when: ReceivePrisoner{NOMS: noms, Kind: ReceptionSentence, Prison: "LEI", At: after},
			then: []Event{PrisonerReceived{NOMS: noms, Kind: ReceptionSentence, Prison: "LEI", At: after}}},
		{name: "release after closure is refused", given: in, when: ReleasePrisoner{Kind: ReleaseOnLicence, Prison: "MDI", At: after}, err: ErrClosed},
	})
}

func TestSentenceDatesToConfirm(t *testing.T) {
	dates := ReleaseDates{ConditionalRelease: NewDate(2024, 12, 1)}
	in := []Event{received(t0), ReleaseDatesSet{Dates: dates, At: h(1)}}
	recalc := with(in, SentenceRecalculated{BookingID: "1", At: h(2)})
	if j := Rebuild(recalc); !j.ReleaseDatesToConfirm {
		t.Fatal("a recalculation does not ask for the dates to be confirmed")
	}
	runGWT(t, []gwt{
		{name: "same dates confirm them", given: recalc, when: SetReleaseDates{Dates: dates, At: h(3)},
			then: []Event{ReleaseDatesChanged{Dates: dates, Previous: dates, Reason: "confirmed after the sentence was recalculated", At: h(3)}}},
		{name: "same dates without a recalculation change nothing", given: in, when: SetReleaseDates{Dates: dates, At: h(3)}},
		{name: "a second notice without an id records nothing", given: recalc, when: NoteSentenceRecalculation{BookingID: "1", At: h(4)}},
	})
	if j := Rebuild(with(recalc, ReleaseDatesChanged{Dates: dates, Previous: dates, At: h(3)})); j.ReleaseDatesToConfirm {
		t.Error("confirming the dates does not clear the flag")
	}
}

func TestMergedPrisonNumber(t *testing.T) {
	in := []Event{received(t0)}
	merged := with(in, PrisonNumberMerged{Into: "A1111AA", At: h(2)})
	runGWT(t, []gwt{
		{name: "merge", given: in, when: MergePrisonNumber{Into: "A1111AA", BookingID: "7", At: h(2)},
			then: []Event{PrisonNumberMerged{Into: "A1111AA", BookingID: "7", At: h(2)}}},
		{name: "merge redelivered", given: merged, when: MergePrisonNumber{Into: "A1111AA", At: h(2)}},
		{name: "merged into another", given: merged, when: MergePrisonNumber{Into: "A2222AA", At: h(3)}, err: ErrAlreadyRecorded},
		{name: "commands for a merged number are refused", given: merged, when: CompleteScreening{At: h(3)}, err: ErrMerged},
		{name: "absorb", given: in, when: AbsorbPrisonNumber{NOMS: noms, From: "A2222BB", At: h(2)},
			then: []Event{PrisonNumberAbsorbed{NOMS: noms, From: "A2222BB", At: h(2)}}},
		{name: "absorb into a journey the ledger has not seen", when: AbsorbPrisonNumber{NOMS: noms, From: "A2222BB", At: h(2)},
			then: []Event{PrisonNumberAbsorbed{NOMS: noms, From: "A2222BB", At: h(2)}}},
		{name: "absorb redelivered", given: with(in, PrisonNumberAbsorbed{NOMS: noms, From: "A2222BB", At: h(2)}), when: AbsorbPrisonNumber{NOMS: noms, From: "A2222BB", At: h(2)}},
	})
	_, err := Decide(Rebuild(merged), CompleteScreening{At: h(3)}, now, pol)
	var me *MergedError
	if !errors.As(err, &me) || me.Into != "A1111AA" {
		t.Fatalf("error %v does not name where the number went", err)
	}
}

// A merge where the removed number holds the person's present custody: the
// remaining journey takes it over, with both movement histories, so the
// person is neither lost from custody nor recorded twice.
func TestMergeAdoptsThePresent(t *testing.T) {
	removed := Rebuild([]Event{received(t0), ReleaseAreaChanged{To: "C05", At: h(1)}, TemporaryAbsenceStarted{Prison: "MDI", At: h(2)}})
	kept := Journey{}
	evs, err := Decide(kept, AbsorbPrisonNumber{NOMS: "A1111AA", From: noms, Removed: removed, At: h(3)}, now, pol)
	if err != nil || len(evs) != 1 {
		t.Fatal(evs, err)
	}
	e := evs[0].(PrisonNumberAbsorbed)
	if f, err := e.Facts(); err != nil || f.Adopted == nil || len(f.Movements) != 2 {
		t.Fatalf("absorbed %+v %v", e, err)
	}
	// The event survives the store.
	typ, data, err := Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(typ, e.SchemaVersion(), data)
	if err != nil {
		t.Fatal(err)
	}
	j := Rebuild([]Event{back})
	if j.NOMS != "A1111AA" {
		t.Fatalf("remaining journey is %q's", j.NOMS)
	}
	if j.Custody != InCustody || j.Prison != "MDI" || j.Away != AwayTemporaryAbsence || j.ReleaseArea != "C05" ||
		len(j.Movements) != 2 || len(j.MergedFrom) != 1 || !j.FirstReceivedAt.Equal(t0) {
		t.Fatalf("remaining journey %+v", j)
	}
	// A redelivered movement under the remaining number is recognised.
	if evs, err := Decide(j, RecordMovement{Kind: MovementTemporaryAbsenceOut, Prison: "MDI", At: h(2)}, now, pol); err != nil || evs != nil {
		t.Fatalf("redelivered movement: %v %v", evs, err)
	}
	if _, err := Decide(j, ReleasePrisoner{Kind: ReleaseOnLicence, At: h(10)}, now, pol); err != nil {
		t.Fatalf("release after the merge: %v", err)
	}
	// The older record does not overwrite a newer one.
	newer := Rebuild([]Event{PrisonerReceived{NOMS: "A1111AA", Kind: ReceptionRemand, Prison: "LEI", At: h(50)}})
	evs, _ = Decide(newer, AbsorbPrisonNumber{NOMS: "A1111AA", From: noms, Removed: removed, At: h(51)}, now, pol)
	after := Evolve(newer, evs[0])
	if after.Prison != "LEI" || len(after.Movements) != 3 || !after.FirstReceivedAt.Equal(t0) {
		t.Fatalf("newer record overwritten: %+v", after)
	}
}
