package hmpps

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
)

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// innerOf returns the bare domain event of a sample envelope.
func innerOf(t testing.TB, name string) []byte {
	var env struct{ Message string }
	if err := json.Unmarshal(sample(t, name), &env); err != nil {
		t.Fatal(err)
	}
	return []byte(env.Message)
}

func TestParseSamples(t *testing.T) {
	for _, tc := range []struct {
		file string
		want aggregates.Command
	}{
		{"intake-event.json", aggregates.ReceivePrisoner{NOMS: "A4092EA", Kind: aggregates.ReceptionAdmission, Prison: "SWI",
			MovementReasonCode: "INTAKE", At: time.Date(2024, 6, 24, 15, 6, 39, 0, time.UTC)}},
		{"recall-event.json", aggregates.ReceivePrisoner{NOMS: "A4092EA", Kind: aggregates.ReceptionRecall, Prison: "SWI",
			MovementReasonCode: "24", At: time.Date(2024, 6, 24, 15, 6, 39, 0, time.UTC)}},
		{"release-event.json", aggregates.ReleasePrisoner{Kind: aggregates.ReleaseOnLicence, Prison: "MDI", MovementReasonCode: "NCS",
			At: time.Date(2024, 12, 11, 15, 43, 20, 0, time.UTC)}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r, err := Parse(sample(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if r.NOMS != "A4092EA" || len(r.Steps) != 1 || r.Steps[0].Command != tc.want {
				t.Fatalf("got %+v", r)
			}
			if !strings.HasPrefix(r.IdempotencyKey, "sns:"+r.MessageID+":") {
				t.Errorf("key %q does not start with the MessageId", r.IdempotencyKey)
			}
			again, _ := Parse(sample(t, tc.file))
			if again.IdempotencyKey != r.IdempotencyKey {
				t.Error("key not stable")
			}
			// The bare event translates the same and gets a content key.
			bare, err := Parse(innerOf(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if bare.Steps[0].Command != tc.want || !strings.HasPrefix(bare.IdempotencyKey, "hmpps:") || bare.MessageID != "" {
				t.Errorf("bare: %+v", bare)
			}
		})
	}
	// The intake and recall samples share a MessageId but are different
	// messages; their keys must differ.
	a, _ := Parse(sample(t, "intake-event.json"))
	b, _ := Parse(sample(t, "recall-event.json"))
	if a.MessageID != b.MessageID || a.IdempotencyKey == b.IdempotencyKey {
		t.Errorf("keys %q and %q", a.IdempotencyKey, b.IdempotencyKey)
	}
}

// event builds a bare event.
func event(eventType, reason, code string) []byte {
	m := map[string]any{
		"version": 1, "eventType": eventType, "occurredAt": "2024-10-14T15:08:51+01:00",
		"personReference": map[string]any{"identifiers": []any{map[string]string{"type": "NOMS", "value": "A8513EA"}}},
		"additionalInformation": map[string]any{"nomsNumber": "A8513EA", "reason": reason, "prisonId": "LEI",
			"nomisMovementReasonCode": code, "bookingId": "1209333", "sentenceCalculationId": 5639097},
	}
	b, _ := json.Marshal(m)
	return b
}

func TestReasonsMapFaithfully(t *testing.T) {
	at := time.Date(2024, 10, 14, 14, 8, 51, 0, time.UTC)
	mv := func(k aggregates.MovementKind) aggregates.Command {
		return aggregates.RecordMovement{Kind: k, Prison: "LEI", At: at}
	}
	for _, tc := range []struct {
		eventType, reason, code string
		want                    aggregates.Command
	}{
		{EventReceived, "ADMISSION", "N", aggregates.ReceivePrisoner{NOMS: "A8513EA", Kind: aggregates.ReceptionRemand, Prison: "LEI", BookingID: "1209333", MovementReasonCode: "N", At: at}},
		{EventReceived, "ADMISSION", "I", aggregates.ReceivePrisoner{NOMS: "A8513EA", Kind: aggregates.ReceptionSentence, Prison: "LEI", BookingID: "1209333", MovementReasonCode: "I", At: at}},
		{EventReceived, "ADMISSION", "INTAKE", aggregates.ReceivePrisoner{NOMS: "A8513EA", Kind: aggregates.ReceptionAdmission, Prison: "LEI", BookingID: "1209333", MovementReasonCode: "INTAKE", At: at}},
		{EventReceived, "TEMPORARY_ABSENCE_RETURN", "C3", mv(aggregates.MovementTemporaryAbsenceReturn)},
		{EventReceived, "RETURN_FROM_COURT", "CRT", mv(aggregates.MovementCourtReturn)},
		{EventReceived, "TRANSFERRED", "INT", mv(aggregates.MovementTransferIn)},
		{EventReleased, "TEMPORARY_ABSENCE_RELEASE", "C3", mv(aggregates.MovementTemporaryAbsenceOut)},
		{EventReleased, "SENT_TO_COURT", "CRT", mv(aggregates.MovementCourtOut)},
		{EventReleased, "TRANSFERRED", "INT", mv(aggregates.MovementTransferOut)},
		{EventReleased, "RELEASED", "CR", aggregates.ReleasePrisoner{Kind: aggregates.ReleaseOnLicence, Prison: "LEI", MovementReasonCode: "CR", At: at}},
		{EventReleased, "RELEASED", "HD", aggregates.ReleasePrisoner{Kind: aggregates.ReleaseHDC, Prison: "LEI", MovementReasonCode: "HD", At: at}},
		{EventReleased, "RELEASED", "ECSL", aggregates.ReleasePrisoner{Kind: aggregates.ReleaseECSL, Prison: "LEI", MovementReasonCode: "ECSL", At: at}},
		{EventReleased, "RELEASED", "UAL", aggregates.EndCustody{Kind: aggregates.EndUnlawfullyAtLarge, Prison: "LEI", MovementReasonCode: "UAL", At: at}},
		{EventReleased, "RELEASED", "DEC", aggregates.EndCustody{Kind: aggregates.EndDied, Prison: "LEI", MovementReasonCode: "DEC", At: at}},
		{EventReleased, "RELEASED", "DD", aggregates.EndCustody{Kind: aggregates.EndRemovalCentre, Prison: "LEI", MovementReasonCode: "DD", At: at}},
		{EventReleased, "RELEASED_TO_HOSPITAL", "HP", aggregates.EndCustody{Kind: aggregates.EndSecureHospital, Prison: "LEI", MovementReasonCode: "HP", At: at}},
		{EventSentenceDatesChanged, "", "", aggregates.NoteSentenceRecalculation{BookingID: "1209333", CalculationID: "5639097", At: at}},
	} {
		r, err := Parse(event(tc.eventType, tc.reason, tc.code))
		if err != nil {
			t.Fatalf("%s %s: %v", tc.eventType, tc.reason, err)
		}
		if len(r.Steps) != 1 || r.Steps[0].Command != tc.want {
			t.Errorf("%s %s: got %#v, want %#v", tc.eventType, tc.reason, r.Steps, tc.want)
		}
	}
	for _, code := range []string{"Y", "PD", "ELR", "B", "24", "ETRLR", "L"} {
		r, err := Parse(event(EventReceived, "ADMISSION", code))
		if err != nil || r.Steps[0].Command.(aggregates.ReceivePrisoner).Kind != aggregates.ReceptionRecall {
			t.Errorf("code %s: %+v %v", code, r, err)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    string
		want  error
		disp  Disposition
		field string
	}{
		{"not json", `{`, ErrMalformed, DeadLetter, "message"},
		{"array", `[]`, ErrMalformed, DeadLetter, "message"},
		{"null", `null`, ErrMalformed, DeadLetter, "message"},
		{"empty message", `{"Type":"Notification","MessageId":"x","Message":""}`, ErrMalformed, DeadLetter, "Message"},
		{"message not a string", `{"Type":"Notification","Message":{}}`, ErrMalformed, DeadLetter, "envelope"},
		{"subscription confirmation", `{"Type":"SubscriptionConfirmation","Message":"hi"}`, ErrUnknownEventType, Ignore, ""},
		{"unknown type", `{"eventType":"prisoner-offender-search.prisoner.updated","additionalInformation":{"reason":[1]}}`, ErrUnknownEventType, Ignore, ""},
		{"no type", `{"occurredAt":"2024-01-01T00:00:00Z"}`, ErrMalformed, DeadLetter, "eventType"},
		{"bad time", strings.Replace(string(event(EventReceived, "ADMISSION", "N")), "2024-10-14T15:08:51+01:00", "yesterday", 1), ErrMalformed, DeadLetter, "occurredAt"},
		{"bad noms", strings.ReplaceAll(string(event(EventReceived, "ADMISSION", "N")), "A8513EA", "A851"), ErrMalformed, DeadLetter, "nomsNumber"},
		{"noms disagree", strings.Replace(string(event(EventReceived, "ADMISSION", "N")), `"value":"A8513EA"`, `"value":"B1234CD"`, 1), ErrMalformed, DeadLetter, "personReference"},
		{"bad prison", strings.Replace(string(event(EventReceived, "ADMISSION", "N")), `"LEI"`, `"LEEDS"`, 1), ErrMalformed, DeadLetter, "prisonId"},
		{"unknown release", string(event(EventReleased, "UNKNOWN", "ZZ")), ErrUnmappable, DeadLetter, ""},
		{"new receive reason", string(event(EventReceived, "TELEPORTED", "ZZ")), ErrUnmappable, DeadLetter, ""},
		{"no reason", string(event(EventReleased, "", "ZZ")), ErrMalformed, DeadLetter, "reason"},
		{"bad booking", strings.Replace(string(event(EventSentenceDatesChanged, "", "")), `"1209333"`, `"12x"`, 1), ErrMalformed, DeadLetter, "bookingId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse([]byte(tc.in))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if d := DispositionOf(err); d != tc.disp {
				t.Errorf("disposition %s, want %s", d, tc.disp)
			}
			var me *MalformedError
			if tc.field != "" && (!errors.As(err, &me) || me.Field != tc.field) {
				t.Errorf("field: %v", err)
			}
			if r.Steps != nil {
				t.Errorf("commands on error: %v", r.Steps)
			}
		})
	}
	// An unmappable event still says whose it is, to file the dead letter.
	r, err := Parse(event(EventReleased, "UNKNOWN", "ZZ"))
	if r.NOMS != "A8513EA" || r.IdempotencyKey == "" || r.OccurredAt.IsZero() || err == nil {
		t.Errorf("dead letter context: %+v", r)
	}
	if _, err := Parse(make([]byte, MaxMessageBytes+1)); !errors.Is(err, ErrMalformed) {
		t.Errorf("oversize: %v", err)
	}
}

func TestOrder(t *testing.T) {
	rs := []Result{
		{NOMS: "c", OccurredAt: time.Unix(30, 0)},
		{NOMS: "a", OccurredAt: time.Unix(10, 0)},
		{NOMS: "b1", OccurredAt: time.Unix(20, 0)},
		{NOMS: "b2", OccurredAt: time.Unix(20, 0)},
	}
	Order(rs)
	var got []string
	for _, r := range rs {
		got = append(got, r.NOMS)
	}
	if strings.Join(got, ",") != "a,b1,b2,c" {
		t.Errorf("order %v", got)
	}
}
