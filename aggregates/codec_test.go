package aggregates

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"testing"
	"time"
)

// oneOfEach has a populated instance of every event type.
func oneOfEach() []Event {
	at := time.Date(2024, 6, 24, 15, 6, 39, 123456789, time.UTC)
	d := NewDate(2025, 3, 14)
	return []Event{
		PrisonerReceived{NOMS: noms, Kind: ReceptionRecall, Prison: "SWI", BookingID: "1", MovementReasonCode: "24", Late: true, At: at},
		CustodyScreeningCompleted{Prison: "SWI", At: at},
		ResettlementPlanDrafted{Summary: "s", At: at},
		ResettlementPlanRevised{Revision: 2, Summary: "s", Reason: "r", At: at},
		PathwayNeedIdentified{Pathway: PathwayHealth, Description: "d", At: at},
		PathwayStatusChanged{Pathway: PathwayHealth, From: StatusNotStarted, To: StatusSupportDeclined, Reason: "r", At: at},
		ActionAgreed{ActionID: "a", Pathway: PathwayHealth, Description: "d", Due: d, At: at},
		ActionAssigned{ActionID: "a", Owner: "C05", At: at},
		ActionCompleted{ActionID: "a", Outcome: "o", At: at},
		TemporaryAbsenceStarted{Prison: "SWI", Late: true, At: at},
		TemporaryAbsenceEnded{Prison: "SWI", At: at},
		SentToCourt{Prison: "SWI", At: at},
		ReturnedFromCourt{Prison: "SWI", At: at},
		TransferDeparted{Prison: "SWI", At: at},
		PrisonerTransferred{FromPrison: "SWI", ToPrison: "LEI", IntoResettlementPrison: true, At: at},
		ReleaseDatesSet{Dates: ReleaseDates{ConditionalRelease: d}, At: at},
		ReleaseDatesChanged{Dates: ReleaseDates{HDCActual: d}, Previous: ReleaseDates{ConditionalRelease: d}, Reason: "r", At: at},
		SentenceRecalculated{BookingID: "1", CalculationID: "2", At: at},
		PrisonerReleased{Kind: ReleaseHDC, Prison: "SWI", MovementReasonCode: "HD", At: at},
		MetAtGate{By: "m", At: at},
		SupervisionContactRecorded{By: "C05", Kind: "OFFICE", Note: "n", At: at},
		RiskAssessed{Level: RoSHHigh, Previous: RoSHLow, At: at},
		PrisonerSentenced{Type: SentenceDeterminate, LengthMonths: 18, SentenceDate: d, OffenceDate: d.AddDays(-30), Under18: true, At: at},
		ReleaseDatesChanged{Dates: ReleaseDates{ConditionalRelease: d}, Previous: ReleaseDates{AutomaticRelease: d}, CalculatedAt: at.Add(-time.Hour), At: at},
		MAPPALevelSet{Level: 2, Previous: 1, At: at},
		BreachRecorded{Description: "d", At: at},
		LicenceRevoked{Reason: "r", At: at},
		ProvenReoffenceRecorded{Offence: "o", OffenceDate: d, ConvictionDate: d, ReleasedAt: at, At: at},
		CRNLinked{CRN: "X373878", PNC: "12/1A", At: at},
		FactCorrected{CorrectsEventID: "3f2504e0-4f89-11d3-9a0c-0305e82c3301", Field: FieldNote, Value: "v", Reason: "r", At: at},
		JourneyClosed{Reason: CloseDied, At: at},
		HandoverRequested{Seq: 1, From: "MDI", To: "C05", Reason: "r", Due: at, At: at},
		HandoverAccepted{Seq: 1, To: "C05", At: at},
		HandoverRejected{Seq: 1, Reason: "r", At: at},
		ReleaseAreaChanged{From: "C05", To: "C06", At: at},
		PrisonerUnlawfullyAtLarge{Prison: "SWI", MovementReasonCode: "UAL", At: at},
		PrisonerDiedInCustody{Prison: "SWI", MovementReasonCode: "DEC", At: at},
		PrisonerMovedToSecureHospital{Prison: "SWI", MovementReasonCode: "HO", Late: true, At: at},
		PrisonerMovedToRemovalCentre{Prison: "SWI", MovementReasonCode: "DD", At: at},
		PrisonNumberMerged{Into: "A1234BC", BookingID: "1", At: at},
		PrisonNumberAbsorbed{NOMS: noms, From: "A1234BC", BookingID: "1", Carried: `{"movements":[]}`, At: at},
	}
}

func TestEncodeDecodeEveryType(t *testing.T) {
	seen := map[string]bool{}
	for _, ev := range oneOfEach() {
		typ, data, err := Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		seen[typ] = true
		if v, ok := SchemaVersionOf(typ); !ok || v != ev.SchemaVersion() || v < 1 {
			t.Errorf("%s: schema version %d %v", typ, v, ok)
		}
		back, err := Decode(typ, ev.SchemaVersion(), data)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if !reflect.DeepEqual(back, ev) {
			t.Errorf("%s round trip\n got  %#v\n want %#v", typ, back, ev)
		}
		// Field names are lower camel and times are named occurredAt.
		var m map[string]any
		_ = json.Unmarshal(data, &m)
		if _, ok := m["occurredAt"]; !ok {
			t.Errorf("%s: no occurredAt in %s", typ, data)
		}
		// A newer writer's extra field does not break the reader.
		m["addedLater"] = true
		more, _ := json.Marshal(m)
		if _, err := Decode(typ, ev.SchemaVersion(), more); err != nil {
			t.Errorf("%s with an unknown field: %v", typ, err)
		}
	}
	if len(seen) != len(EventTypes()) {
		t.Errorf("tested %d types, registry has %d", len(seen), len(EventTypes()))
	}
}

func TestDecodeStoredV1Fixture(t *testing.T) {
	data, err := os.ReadFile("testdata/PrisonerReceived.v1.json")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := Decode(TypePrisonerReceived, 1, data)
	if err != nil {
		t.Fatal(err)
	}
	want := PrisonerReceived{NOMS: noms, Kind: ReceptionSentence, Prison: "SWI", BookingID: "1209333",
		At: time.Date(2019, 3, 4, 9, 0, 0, 0, time.UTC)}
	if !reflect.DeepEqual(ev, want) {
		t.Fatalf("got %#v", ev)
	}
	if j := Rebuild([]Event{ev}); j.Custody != InCustody || !j.ReceivedAt.Equal(want.At) {
		t.Errorf("upcast event does not fold: %+v", j)
	}
}

func TestDecodeErrors(t *testing.T) {
	if _, err := Decode("PrisonerEscaped", 1, []byte(`{}`)); !errors.Is(err, ErrUnknownEventType) {
		t.Errorf("unknown type: %v", err)
	} else {
		var ue *UnknownEventTypeError
		if !errors.As(err, &ue) || ue.EventType != "PrisonerEscaped" {
			t.Errorf("unknown type as: %v", err)
		}
	}
	if _, err := Decode(TypePrisonerReceived, 3, []byte(`{}`)); !errors.Is(err, ErrUnsupportedSchemaVersion) {
		t.Errorf("future version: %v", err)
	}
	if _, err := Decode(TypeRiskAssessed, 1, []byte(`{"level":`)); !errors.Is(err, ErrMalformedEvent) {
		t.Errorf("bad json: %v", err)
	}
	if _, err := Decode(TypePrisonerReceived, 1, []byte(`null`)); !errors.Is(err, ErrMalformedEvent) {
		t.Errorf("null v1: %v", err)
	}
	if _, err := Decode(TypeActionAgreed, 1, []byte(`{"due":"14/03/2025"}`)); !errors.Is(err, ErrMalformedEvent) {
		t.Errorf("bad date: %v", err)
	}
	if _, _, err := Encode(nil); err == nil {
		t.Error("encode nil")
	}
}

func TestMetadataJSON(t *testing.T) {
	m := Metadata{UserID: "u", Role: "PRISON_STAFF", Organisation: "MDI", OccurredAt: t0, RecordedAt: t0, Source: SourceHMPPSFeed,
		CorrelationID: "c", CausationID: "k", IdempotencyKey: "i", SchemaVersion: 2, PreviousHash: "00", Hash: "ff"}
	b, _ := json.Marshal(m)
	want := `{"userId":"u","role":"PRISON_STAFF","organisation":"MDI","occurredAt":"2024-06-24T15:06:39Z","recordedAt":"2024-06-24T15:06:39Z","source":"hmpps-feed","correlationId":"c","causationId":"k","idempotencyKey":"i","schemaVersion":2,"previousHash":"00","hash":"ff"}`
	if string(b) != want {
		t.Errorf("got %s", b)
	}
	var back Metadata
	if err := json.Unmarshal(b, &back); err != nil || back != m || !back.Source.Valid() {
		t.Errorf("round trip %+v %v", back, err)
	}
}
