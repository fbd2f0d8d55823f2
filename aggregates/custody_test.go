package aggregates

import "testing"

func TestReception(t *testing.T) {
	runGWT(t, []gwt{
		{name: "first reception", when: ReceivePrisoner{NOMS: noms, Kind: ReceptionRemand, Prison: "LEI", BookingID: "1209333", At: t0},
			then: []Event{PrisonerReceived{NOMS: noms, Kind: ReceptionRemand, Prison: "LEI", BookingID: "1209333", At: t0}}},
		{name: "first reception may be a recall", when: ReceivePrisoner{NOMS: noms, Kind: ReceptionRecall, Prison: "SWI", MovementReasonCode: "24", At: t0},
			then: []Event{PrisonerReceived{NOMS: noms, Kind: ReceptionRecall, Prison: "SWI", MovementReasonCode: "24", At: t0}}},
		{name: "recall after release continues the journey", given: []Event{received(t0), released(h(100)), LicenceRevoked{Reason: "breach", At: h(200)}},
			when: ReceivePrisoner{NOMS: noms, Kind: ReceptionRecall, Prison: "LEI", At: h(300)},
			then: []Event{PrisonerReceived{NOMS: noms, Kind: ReceptionRecall, Prison: "LEI", At: h(300)}}},
		{name: "a new reception reopens a closed journey", given: []Event{received(t0), released(h(1)), closed(h(2))},
			when: ReceivePrisoner{NOMS: noms, Kind: ReceptionSentence, Prison: "LEI", At: h(3)},
			then: []Event{PrisonerReceived{NOMS: noms, Kind: ReceptionSentence, Prison: "LEI", At: h(3)}}},
		{name: "duplicate is already reflected", given: []Event{received(t0)},
			when: ReceivePrisoner{NOMS: noms, Kind: ReceptionSentence, Prison: "MDI", At: t0}, then: nil},
		{name: "same movement, different kind, is a conflict", given: []Event{received(t0)},
			when: ReceivePrisoner{NOMS: noms, Kind: ReceptionRecall, Prison: "MDI", At: t0}, err: ErrConflictingDuplicate},
		{name: "reception while in custody", given: []Event{received(t0)},
			when: ReceivePrisoner{NOMS: noms, Kind: ReceptionSentence, Prison: "LEI", At: h(5)}, err: ErrInCustody},
		{name: "late reception is recorded as late", given: []Event{received(t0), released(h(100))},
			when: ReceivePrisoner{NOMS: noms, Kind: ReceptionSentence, Prison: "LEI", At: h(50)},
			then: []Event{PrisonerReceived{NOMS: noms, Kind: ReceptionSentence, Prison: "LEI", Late: true, At: h(50)}}},
		{name: "bad NOMS", when: ReceivePrisoner{NOMS: "A409EA", Kind: ReceptionRemand, Prison: "LEI", At: t0}, err: ErrInvalidIdentifier},
		{name: "other person's journey", given: []Event{received(t0), released(h(1))},
			when: ReceivePrisoner{NOMS: "B1234CD", Kind: ReceptionRemand, Prison: "LEI", At: h(2)}, err: ErrInvalidValue},
		{name: "bad prison", when: ReceivePrisoner{NOMS: noms, Kind: ReceptionRemand, Prison: "Leeds", At: t0}, err: ErrInvalidIdentifier},
		{name: "bad booking id", when: ReceivePrisoner{NOMS: noms, Kind: ReceptionRemand, Prison: "LEI", BookingID: "12a", At: t0}, err: ErrInvalidIdentifier},
		{name: "bad kind", when: ReceivePrisoner{NOMS: noms, Kind: "BAIL", Prison: "LEI", At: t0}, err: ErrInvalidValue},
		{name: "no time", when: ReceivePrisoner{NOMS: noms, Kind: ReceptionRemand, Prison: "LEI"}, err: ErrInvalidValue},
		{name: "future", when: ReceivePrisoner{NOMS: noms, Kind: ReceptionRemand, Prison: "LEI", At: now.Add(pol.ClockSkew + 1)}, err: ErrFutureDate},
		{name: "within clock skew", when: ReceivePrisoner{NOMS: noms, Kind: ReceptionRemand, Prison: "LEI", At: now.Add(pol.ClockSkew)},
			then: []Event{PrisonerReceived{NOMS: noms, Kind: ReceptionRemand, Prison: "LEI", At: now.Add(pol.ClockSkew)}}},
	})
}

func TestMovementsAreNotReleases(t *testing.T) {
	in := []Event{received(t0)}
	runGWT(t, []gwt{
		{name: "temporary absence out", given: in, when: RecordMovement{Kind: MovementTemporaryAbsenceOut, Prison: "MDI", At: h(1)},
			then: []Event{TemporaryAbsenceStarted{Prison: "MDI", At: h(1)}}},
		{name: "temporary absence back", given: with(in, TemporaryAbsenceStarted{Prison: "MDI", At: h(1)}),
			when: RecordMovement{Kind: MovementTemporaryAbsenceReturn, Prison: "MDI", At: h(2)},
			then: []Event{TemporaryAbsenceEnded{Prison: "MDI", At: h(2)}}},
		{name: "court out", given: in, when: RecordMovement{Kind: MovementCourtOut, Prison: "MDI", At: h(1)},
			then: []Event{SentToCourt{Prison: "MDI", At: h(1)}}},
		{name: "court back", given: in, when: RecordMovement{Kind: MovementCourtReturn, Prison: "MDI", At: h(1)},
			then: []Event{ReturnedFromCourt{Prison: "MDI", At: h(1)}}},
		{name: "transfer out", given: in, when: RecordMovement{Kind: MovementTransferOut, Prison: "MDI", At: h(1)},
			then: []Event{TransferDeparted{Prison: "MDI", At: h(1)}}},
		{name: "transfer into resettlement prison", given: in,
			when: RecordMovement{Kind: MovementTransferIn, Prison: "LEI", IntoResettlementPrison: true, At: h(1)},
			then: []Event{PrisonerTransferred{FromPrison: "MDI", ToPrison: "LEI", IntoResettlementPrison: true, At: h(1)}}},
		{name: "duplicate movement", given: with(in, SentToCourt{Prison: "MDI", At: h(1)}),
			when: RecordMovement{Kind: MovementCourtOut, Prison: "MDI", At: h(1)}, then: nil},
		{name: "late movement", given: with(in, SentToCourt{Prison: "MDI", At: h(5)}),
			when: RecordMovement{Kind: MovementTemporaryAbsenceOut, Prison: "MDI", At: h(2)},
			then: []Event{TemporaryAbsenceStarted{Prison: "MDI", Late: true, At: h(2)}}},
		{name: "late movement after release", given: with(in, released(h(10))),
			when: RecordMovement{Kind: MovementCourtOut, Prison: "MDI", At: h(2)},
			then: []Event{SentToCourt{Prison: "MDI", Late: true, At: h(2)}}},
		{name: "no movement before reception", when: RecordMovement{Kind: MovementCourtOut, Prison: "MDI", At: h(1)}, err: ErrNotReceived},
		{name: "no movement after release", given: with(in, released(h(1))),
			when: RecordMovement{Kind: MovementCourtOut, Prison: "MDI", At: h(2)}, err: ErrReleased},
		{name: "no movement after close", given: with(in, closed(h(1))),
			when: RecordMovement{Kind: MovementCourtOut, Prison: "MDI", At: h(2)}, err: ErrClosed},
		{name: "bad kind", given: in, when: RecordMovement{Kind: "ESCAPE", Prison: "MDI", At: h(1)}, err: ErrInvalidValue},
		{name: "bad prison", given: in, when: RecordMovement{Kind: MovementCourtOut, Prison: "M", At: h(1)}, err: ErrInvalidIdentifier},
		{name: "bad from prison", given: in, when: RecordMovement{Kind: MovementTransferIn, Prison: "LEI", FromPrison: "x", At: h(1)}, err: ErrInvalidIdentifier},
	})
	// State after a temporary absence is still in custody.
	j := Rebuild(with(in, TemporaryAbsenceStarted{Prison: "MDI", At: h(1)}))
	if j.Custody != InCustody || j.Away != AwayTemporaryAbsence {
		t.Errorf("state %v %v", j.Custody, j.Away)
	}
}

func TestRelease(t *testing.T) {
	in := []Event{received(t0)}
	runGWT(t, []gwt{
		{name: "on licence", given: in, when: ReleasePrisoner{Kind: ReleaseOnLicence, Prison: "MDI", At: h(10)},
			then: []Event{PrisonerReleased{Kind: ReleaseOnLicence, Prison: "MDI", At: h(10)}}},
		{name: "HDC", given: in, when: ReleasePrisoner{Kind: ReleaseHDC, Prison: "MDI", At: h(10)},
			then: []Event{PrisonerReleased{Kind: ReleaseHDC, Prison: "MDI", At: h(10)}}},
		{name: "sentence end", given: in, when: ReleasePrisoner{Kind: ReleaseSentenceEnd, Prison: "MDI", At: h(10)},
			then: []Event{PrisonerReleased{Kind: ReleaseSentenceEnd, Prison: "MDI", At: h(10)}}},
		{name: "to hospital", given: in, when: ReleasePrisoner{Kind: ReleaseToHospital, Prison: "MDI", At: h(10)},
			then: []Event{PrisonerMovedToSecureHospital{Prison: "MDI", At: h(10)}}},
		{name: "release asks the area's provider to take the case", given: with(in, ReleaseAreaChanged{To: "C05", At: h(1)}),
			when: ReleasePrisoner{Kind: ReleaseOnLicence, Prison: "MDI", At: h(10)},
			then: []Event{PrisonerReleased{Kind: ReleaseOnLicence, Prison: "MDI", At: h(10)},
				HandoverRequested{Seq: 1, From: "MDI", To: "NPS-C", Reason: HandoverReasonRelease, Due: pol.Calendar.AddWorkingDays(h(10), 5), At: h(10)}}},
		{name: "no release before reception", when: ReleasePrisoner{Kind: ReleaseOnLicence, Prison: "MDI", At: h(10)}, err: ErrNotReceived},
		{name: "no release after release", given: with(in, released(h(10))),
			when: ReleasePrisoner{Kind: ReleaseOnLicence, Prison: "MDI", At: h(11)}, err: ErrReleased},
		{name: "duplicate release", given: with(in, released(h(10))),
			when: ReleasePrisoner{Kind: ReleaseOnLicence, Prison: "MDI", At: h(10)}, then: nil},
		{name: "conflicting duplicate release", given: with(in, released(h(10))),
			when: ReleasePrisoner{Kind: ReleaseHDC, Prison: "MDI", At: h(10)}, err: ErrConflictingDuplicate},
		{name: "late release after a later reception", given: with(in, released(h(10)), received(h(20))),
			when: ReleasePrisoner{Kind: ReleaseOnLicence, Prison: "MDI", At: h(5)},
			then: []Event{PrisonerReleased{Kind: ReleaseOnLicence, Prison: "MDI", Late: true, At: h(5)}}},
		{name: "no release after close", given: with(in, closed(h(1))), when: ReleasePrisoner{Kind: ReleaseOnLicence, Prison: "MDI", At: h(2)}, err: ErrClosed},
		{name: "bad kind", given: in, when: ReleasePrisoner{Kind: "ESCAPED", Prison: "MDI", At: h(2)}, err: ErrInvalidValue},
		{name: "bad prison", given: in, when: ReleasePrisoner{Kind: ReleaseHDC, Prison: "M1", At: h(2)}, err: ErrInvalidIdentifier},
		{name: "no prison means the prison holding the person", given: in, when: ReleasePrisoner{Kind: ReleaseHDC, At: h(2)},
			then: []Event{PrisonerReleased{Kind: ReleaseHDC, Prison: "MDI", At: h(2)}}},
	})
}

func TestScreening(t *testing.T) {
	in := []Event{received(t0)}
	runGWT(t, []gwt{
		{name: "screened", given: in, when: CompleteScreening{At: h(20)}, then: []Event{screened(h(20))}},
		{name: "not received", when: CompleteScreening{At: h(20)}, err: ErrNotReceived},
		{name: "twice", given: with(in, screened(h(1))), when: CompleteScreening{At: h(20)}, err: ErrAlreadyScreened},
		{name: "after release", given: with(in, released(h(1))), when: CompleteScreening{At: h(20)}, err: ErrReleased},
		{name: "before reception", given: in, when: CompleteScreening{At: h(-1)}, err: ErrDateOrder},
		{name: "closed", given: with(in, closed(h(1))), when: CompleteScreening{At: h(2)}, err: ErrClosed},
		{name: "again after recall", given: with(in, screened(h(1)), released(h(2)), received(h(3))),
			when: CompleteScreening{At: h(4)}, then: []Event{screened(h(4))}},
	})
}

func TestReleaseDates(t *testing.T) {
	in := []Event{received(t0)}
	crd := NewDate(2025, 3, 14)
	hdc := NewDate(2025, 1, 10)
	runGWT(t, []gwt{
		{name: "set", given: in, when: SetReleaseDates{Dates: ReleaseDates{ConditionalRelease: crd}, At: h(1)},
			then: []Event{ReleaseDatesSet{Dates: ReleaseDates{ConditionalRelease: crd}, At: h(1)}}},
		{name: "changed", given: with(in, ReleaseDatesSet{Dates: ReleaseDates{ConditionalRelease: crd}, At: h(1)}),
			when: SetReleaseDates{Dates: ReleaseDates{ConditionalRelease: crd, HDCActual: hdc}, Reason: "HDC approved", At: h(2)},
			then: []Event{ReleaseDatesChanged{Dates: ReleaseDates{ConditionalRelease: crd, HDCActual: hdc},
				Previous: ReleaseDates{ConditionalRelease: crd}, Reason: "HDC approved", At: h(2)}}},
		{name: "unchanged", given: with(in, ReleaseDatesSet{Dates: ReleaseDates{ConditionalRelease: crd}, At: h(1)}),
			when: SetReleaseDates{Dates: ReleaseDates{ConditionalRelease: crd}, At: h(2)}, then: nil},
		{name: "empty", given: in, when: SetReleaseDates{At: h(1)}, err: ErrInvalidValue},
		{name: "before reception", given: in, when: SetReleaseDates{Dates: ReleaseDates{AutomaticRelease: NewDate(2020, 1, 1)}, At: h(1)}, err: ErrDateOrder},
		{name: "HDC after CRD", given: in, when: SetReleaseDates{Dates: ReleaseDates{ConditionalRelease: hdc, HDCActual: crd}, At: h(1)}, err: ErrDateOrder},
		{name: "after release", given: with(in, released(h(1))), when: SetReleaseDates{Dates: ReleaseDates{ConditionalRelease: crd}, At: h(2)}, err: ErrReleased},
		{name: "not received", when: SetReleaseDates{Dates: ReleaseDates{ConditionalRelease: crd}, At: h(2)}, err: ErrNotReceived},
	})
	// The displayed date is the first present in the published order.
	for _, tc := range []struct {
		d    ReleaseDates
		want Date
	}{
		{ReleaseDates{}, Date{}},
		{ReleaseDates{AutomaticRelease: NewDate(2025, 5, 1)}, NewDate(2025, 5, 1)},
		{ReleaseDates{AutomaticRelease: NewDate(2025, 5, 1), ConditionalRelease: NewDate(2025, 4, 1)}, NewDate(2025, 4, 1)},
		{ReleaseDates{ConditionalRelease: NewDate(2025, 4, 1), HDCActual: NewDate(2025, 2, 1)}, NewDate(2025, 2, 1)},
		{ReleaseDates{HDCActual: NewDate(2025, 2, 1), ActualParole: NewDate(2025, 3, 1)}, NewDate(2025, 3, 1)},
		{ReleaseDates{ActualParole: NewDate(2025, 3, 1), ConfirmedRelease: NewDate(2025, 3, 2), AutomaticRelease: NewDate(2025, 1, 1)}, NewDate(2025, 3, 2)},
	} {
		if got := tc.d.Displayed(); got != tc.want {
			t.Errorf("%+v: displayed %s, want %s", tc.d, got, tc.want)
		}
	}
}

func TestSentenceRecalculation(t *testing.T) {
	in := []Event{received(t0)}
	runGWT(t, []gwt{
		{name: "noted", given: in, when: NoteSentenceRecalculation{BookingID: "1209333", CalculationID: "5639097", At: h(1)},
			then: []Event{SentenceRecalculated{BookingID: "1209333", CalculationID: "5639097", At: h(1)}}},
		{name: "duplicate", given: with(in, SentenceRecalculated{BookingID: "1209333", CalculationID: "5639097", At: h(1)}),
			when: NoteSentenceRecalculation{BookingID: "1209333", CalculationID: "5639097", At: h(2)}, then: nil},
		{name: "bad booking", given: in, when: NoteSentenceRecalculation{BookingID: "x", CalculationID: "1", At: h(1)}, err: ErrInvalidIdentifier},
		{name: "bad calculation", given: in, when: NoteSentenceRecalculation{BookingID: "1", CalculationID: "abc", At: h(1)}, err: ErrInvalidIdentifier},
		{name: "without a calculation id", given: in, when: NoteSentenceRecalculation{BookingID: "1", At: h(1)},
			then: []Event{SentenceRecalculated{BookingID: "1", At: h(1)}}},
		{name: "not received", when: NoteSentenceRecalculation{BookingID: "1", CalculationID: "1", At: h(1)}, err: ErrNotReceived},
	})
}

// The brief's out-of-order case: the reception of a booking arrives after
// its later release; the release is refused until the reception is there,
// and replaying it afterwards records both in order.
func TestOutOfOrderFeed(t *testing.T) {
	var j Journey
	rel := ReleasePrisoner{Kind: ReleaseDischarged, Prison: "MDI", At: h(100)}
	rec := ReceivePrisoner{NOMS: noms, Kind: ReceptionAdmission, Prison: "MDI", At: t0}
	if _, err := Decide(j, rel, now, pol); err == nil {
		t.Fatal("release before any reception accepted")
	}
	evs, err := Decide(j, rec, now, pol)
	if err != nil {
		t.Fatal(err)
	}
	j = Evolve(j, evs[0])
	evs, err = Decide(j, rel, now, pol) // dead letter replayed
	if err != nil {
		t.Fatal(err)
	}
	j = Evolve(j, evs[0])
	// A transfer between them arrives last: recorded, late, custody unchanged.
	evs, err = Decide(j, RecordMovement{Kind: MovementTransferIn, Prison: "LEI", At: h(50)}, now, pol)
	if err != nil || len(evs) != 1 {
		t.Fatal(evs, err)
	}
	j = Evolve(j, evs[0])
	if j.Custody != Released || j.Prison != "MDI" || len(j.Movements) != 3 || !j.Movements[2].Late {
		t.Fatalf("state %+v", j)
	}
	if got := j.prisonAt(h(60)); got != "MDI" {
		t.Errorf("late facts must not rewrite the in-order history: prison at h60 = %q", got)
	}
	// And the same three messages again change nothing.
	for _, c := range []Command{rec, rel, RecordMovement{Kind: MovementTransferIn, Prison: "LEI", At: h(50)}} {
		if evs, err := Decide(j, c, now, pol); err != nil || evs != nil {
			t.Errorf("redelivery of %s: %v %v", c.CommandName(), evs, err)
		}
	}
}
