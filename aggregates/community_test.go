package aggregates

import "testing"

func TestCommunity(t *testing.T) {
	in := []Event{received(t0)}
	out := with(in, released(h(100)))
	runGWT(t, []gwt{
		{name: "met at gate", given: out, when: RecordMetAtGate{By: "mentor-17", At: h(100)}, then: []Event{MetAtGate{By: "mentor-17", At: h(100)}}},
		{name: "gate before release", given: in, when: RecordMetAtGate{By: "m", At: h(100)}, err: ErrNotReleased},
		{name: "gate twice", given: with(out, MetAtGate{By: "m", At: h(100)}), when: RecordMetAtGate{By: "m", At: h(101)}, err: ErrAlreadyRecorded},
		{name: "gate before release time", given: out, when: RecordMetAtGate{By: "m", At: h(99)}, err: ErrDateOrder},
		{name: "gate needs who", given: out, when: RecordMetAtGate{At: h(101)}, err: ErrInvalidValue},
		{name: "contact", given: out, when: RecordSupervisionContact{By: "C05", Kind: "OFFICE", At: h(120)},
			then: []Event{SupervisionContactRecorded{By: "C05", Kind: "OFFICE", At: h(120)}}},
		{name: "contact in custody", given: in, when: RecordSupervisionContact{By: "C05", Kind: "OFFICE", At: h(120)}, err: ErrNotReleased},
		{name: "contact bad org", given: out, when: RecordSupervisionContact{By: "X", Kind: "OFFICE", At: h(120)}, err: ErrInvalidIdentifier},
		{name: "contact needs kind", given: out, when: RecordSupervisionContact{By: "C05", At: h(120)}, err: ErrInvalidValue},
		{name: "contact before release", given: out, when: RecordSupervisionContact{By: "C05", Kind: "OFFICE", At: h(90)}, err: ErrDateOrder},
		{name: "breach", given: out, when: RecordBreach{Description: "missed appointment", At: h(200)},
			then: []Event{BreachRecorded{Description: "missed appointment", At: h(200)}}},
		{name: "breach in custody", given: in, when: RecordBreach{Description: "x", At: h(200)}, err: ErrNotReleased},
		{name: "breach needs description", given: out, when: RecordBreach{At: h(200)}, err: ErrInvalidValue},
		{name: "breach before release", given: out, when: RecordBreach{Description: "x", At: h(50)}, err: ErrDateOrder},
		{name: "recall", given: out, when: RecallPrisoner{Reason: "further offence", At: h(300)},
			then: []Event{LicenceRevoked{Reason: "further offence", At: h(300)}}},
		{name: "recall needs reason", given: out, when: RecallPrisoner{At: h(300)}, err: ErrReasonRequired},
		{name: "recall in custody", given: in, when: RecallPrisoner{Reason: "x", At: h(300)}, err: ErrNotReleased},
		{name: "recall twice", given: with(out, LicenceRevoked{Reason: "x", At: h(300)}), when: RecallPrisoner{Reason: "x", At: h(301)}, err: ErrAlreadyRecorded},
		{name: "recall before release", given: out, when: RecallPrisoner{Reason: "x", At: h(99)}, err: ErrDateOrder},
		{name: "community event after close", given: with(out, closed(h(101))), when: RecordBreach{Description: "x", At: h(200)}, err: ErrClosed},
	})
}

func TestProvenReoffence(t *testing.T) {
	rel := h(100) // 2024-06-28
	out := []Event{received(t0), released(rel)}
	off, conv := NewDate(2024, 9, 1), NewDate(2025, 2, 1)
	runGWT(t, []gwt{
		{name: "recorded", given: out, when: RecordProvenReoffence{Offence: "theft", OffenceDate: off, ConvictionDate: conv, At: h(8000)},
			then: []Event{ProvenReoffenceRecorded{Offence: "theft", OffenceDate: off, ConvictionDate: conv, ReleasedAt: rel, At: h(8000)}}},
		{name: "after close (convictions come late)", given: with(out, JourneyClosed{Reason: CloseSupervisionEnded, At: rel.AddDate(1, 0, 0)}),
			when: RecordProvenReoffence{Offence: "theft", OffenceDate: off, ConvictionDate: conv, At: h(12000)},
			then: []Event{ProvenReoffenceRecorded{Offence: "theft", OffenceDate: off, ConvictionDate: conv, ReleasedAt: rel, At: h(12000)}}},
		{name: "never released", given: out[:1], when: RecordProvenReoffence{Offence: "t", OffenceDate: off, ConvictionDate: conv, At: h(8000)}, err: ErrNotReleased},
		{name: "not received", when: RecordProvenReoffence{Offence: "t", OffenceDate: off, ConvictionDate: conv, At: h(8000)}, err: ErrNotReceived},
		{name: "offence after conviction", given: out, when: RecordProvenReoffence{Offence: "t", OffenceDate: conv, ConvictionDate: off, At: h(8000)}, err: ErrDateOrder},
		{name: "offence before release", given: out, when: RecordProvenReoffence{Offence: "t", OffenceDate: NewDate(2024, 6, 1), ConvictionDate: conv, At: h(8000)}, err: ErrDateOrder},
		{name: "conviction in the future", given: out, when: RecordProvenReoffence{Offence: "t", OffenceDate: off, ConvictionDate: conv, At: h(1000)}, err: ErrFutureDate},
		{name: "dates required", given: out, when: RecordProvenReoffence{Offence: "t", At: h(8000)}, err: ErrInvalidValue},
		{name: "offence required", given: out, when: RecordProvenReoffence{OffenceDate: off, ConvictionDate: conv, At: h(8000)}, err: ErrInvalidValue},
	})
	j := Rebuild(with(out,
		ProvenReoffenceRecorded{Offence: "a", OffenceDate: off, ConvictionDate: conv, ReleasedAt: rel, At: h(8000)},
		ProvenReoffenceRecorded{Offence: "late", OffenceDate: NewDate(2025, 7, 1), ConvictionDate: NewDate(2025, 8, 1), ReleasedAt: rel, At: h(10000)},
		ProvenReoffenceRecorded{Offence: "slow", OffenceDate: NewDate(2025, 6, 1), ConvictionDate: NewDate(2026, 1, 5), ReleasedAt: rel, At: h(13000)}))
	if ok, n := j.ProvenReoffending(pol); !ok || n != 1 {
		t.Errorf("proven reoffending = %v %d, want true 1", ok, n)
	}
}

func TestClose(t *testing.T) {
	rel := h(100)
	out := []Event{received(t0), released(rel)}
	end := rel.AddDate(1, 0, 0)
	runGWT(t, []gwt{
		{name: "supervision ended", given: out, when: CloseJourney{Reason: CloseSupervisionEnded, At: end},
			then: []Event{JourneyClosed{Reason: CloseSupervisionEnded, At: end}}},
		{name: "too early", given: out, when: CloseJourney{Reason: CloseSupervisionEnded, At: end.Add(-1)}, err: ErrSupervisionActive},
		{name: "supervision needs release", given: out[:1], when: CloseJourney{Reason: CloseSupervisionEnded, At: end}, err: ErrNotReleased},
		{name: "died in custody", given: out[:1], when: CloseJourney{Reason: CloseDied, At: h(5)}, then: []Event{JourneyClosed{Reason: CloseDied, At: h(5)}}},
		{name: "twice", given: with(out, closed(end)), when: CloseJourney{Reason: CloseDied, At: end}, err: ErrClosed},
		{name: "unknown reason", given: out, when: CloseJourney{Reason: "BORED", At: end}, err: ErrInvalidValue},
		{name: "not received", when: CloseJourney{Reason: CloseDied, At: end}, err: ErrNotReceived},
		{name: "before reception", given: out, when: CloseJourney{Reason: CloseDied, At: h(-5)}, err: ErrDateOrder},
	})
}

func TestIdentity(t *testing.T) {
	in := []Event{received(t0)}
	id := "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
	runGWT(t, []gwt{
		{name: "CRN linked", given: in, when: LinkCRN{CRN: "X373878", PNC: "2012/394773H", At: h(1)},
			then: []Event{CRNLinked{CRN: "X373878", PNC: "2012/394773H", At: h(1)}}},
		{name: "short PNC", given: in, when: LinkCRN{CRN: "X373878", PNC: "12/394773H", At: h(1)},
			then: []Event{CRNLinked{CRN: "X373878", PNC: "12/394773H", At: h(1)}}},
		{name: "same again", given: with(in, CRNLinked{CRN: "X373878", At: h(1)}), when: LinkCRN{CRN: "X373878", At: h(2)}, then: nil},
		{name: "different CRN", given: with(in, CRNLinked{CRN: "X373878", At: h(1)}), when: LinkCRN{CRN: "Y373878", At: h(2)}, err: ErrAlreadyRecorded},
		{name: "different PNC", given: with(in, CRNLinked{CRN: "X373878", PNC: "12/1A", At: h(1)}), when: LinkCRN{CRN: "X373878", PNC: "12/2A", At: h(2)}, err: ErrAlreadyRecorded},
		{name: "bad CRN", given: in, when: LinkCRN{CRN: "X37387", At: h(1)}, err: ErrInvalidIdentifier},
		{name: "bad PNC", given: in, when: LinkCRN{CRN: "X373878", PNC: "123/4A", At: h(1)}, err: ErrInvalidIdentifier},
		{name: "not received", when: LinkCRN{CRN: "X373878", At: h(1)}, err: ErrNotReceived},
		{name: "correction", given: in, when: CorrectFact{CorrectsEventID: id, Field: FieldReceptionKind, Value: "RECALL", Reason: "wrong reason on the feed", At: h(2)},
			then: []Event{FactCorrected{CorrectsEventID: id, Field: FieldReceptionKind, Value: "RECALL", Reason: "wrong reason on the feed", At: h(2)}}},
		{name: "correction on a closed journey", given: with(in, closed(h(1))), when: CorrectFact{CorrectsEventID: id, Field: FieldNote, Reason: "typo", At: h(2)},
			then: []Event{FactCorrected{CorrectsEventID: id, Field: FieldNote, Reason: "typo", At: h(2)}}},
		{name: "correction needs reason", given: in, when: CorrectFact{CorrectsEventID: id, Field: FieldNote, At: h(2)}, err: ErrReasonRequired},
		{name: "correction needs event id", given: in, when: CorrectFact{CorrectsEventID: "7", Field: FieldNote, Reason: "r", At: h(2)}, err: ErrInvalidIdentifier},
		{name: "correction of unknown field", given: in, when: CorrectFact{CorrectsEventID: id, Field: "name", Reason: "r", At: h(2)}, err: ErrInvalidValue},
		{name: "correction with bad value", given: in, when: CorrectFact{CorrectsEventID: id, Field: FieldPrison, Value: "x", Reason: "r", At: h(2)}, err: ErrInvalidIdentifier},
		{name: "release kind needs release", given: in, when: CorrectFact{CorrectsEventID: id, Field: FieldReleaseKind, Value: "HDC", Reason: "r", At: h(2)}, err: ErrNotReleased},
		{name: "correction before reception", when: CorrectFact{CorrectsEventID: id, Field: FieldNote, Reason: "r", At: h(2)}, err: ErrNotReceived},
	})
	j := Rebuild(with(in, FactCorrected{CorrectsEventID: id, Field: FieldReceptionKind, Value: "RECALL", Reason: "r", At: h(2)}))
	if j.ReceptionKind != ReceptionRecall || len(j.Corrections) != 1 || len(j.Movements) != 1 || j.Movements[0].Kind != string(ReceptionSentence) {
		t.Errorf("correction must change the derived kind, not the history: %+v", j)
	}
}

func TestUnknownCommand(t *testing.T) {
	runGWT(t, []gwt{
		{name: "nil", when: nil, err: ErrUnknownCommand},
		{name: "pointer", when: &ReceivePrisoner{}, err: ErrUnknownCommand},
	})
}
