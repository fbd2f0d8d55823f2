package ingest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/hmpps"
)

// FuzzIngestDecode drives the decoding half of Ingest without a store: parse,
// disposition, the commands decided on an empty and on a received journey,
// and the dead letter a failure would keep, which must give back the exact
// message bytes. It must never panic.
//
//	go test -run '^$' -fuzz FuzzIngestDecode ./ingest/
func FuzzIngestDecode(f *testing.F) {
	for _, name := range []string{"intake-event.json", "recall-event.json", "release-event.json"} {
		b, err := os.ReadFile(filepath.Join("..", "hmpps", "testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	for _, s := range []string{"", "null", "[]", "{}", `{"Message":null}`, `{"Message":"{}"}`, "\xff\xfe",
		`{"eventType":"prison-offender-events.prisoner.released","occurredAt":"2024-12-11T15:43:20Z","additionalInformation":{"nomsNumber":"A4092EA","reason":"UNKNOWN","prisonId":"MDI"}}`,
		`{"eventType":"prison-offender-events.prisoner.sentence-dates-changed","occurredAt":"2024-12-11T15:43:20Z","additionalInformation":{"nomsNumber":"A4092EA","bookingId":12,"sentenceCalculationId":"9"}}`,
		`{"eventType":"x.y","occurredAt":1}`} {
		f.Add([]byte(s))
	}
	now := time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
	policy := aggregates.DefaultPolicy(nil)
	received := aggregates.Rebuild([]aggregates.Event{aggregates.PrisonerReceived{NOMS: "A4092EA", Kind: aggregates.ReceptionSentence,
		Prison: "SWI", At: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}})
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := hmpps.Parse(body)
		switch hmpps.DispositionOf(err) {
		case hmpps.Apply:
			if len(r.Steps) == 0 || !aggregates.ValidNOMS(r.NOMS) || r.IdempotencyKey == "" {
				t.Fatalf("applicable message without commands, NOMS or key: %+v", r)
			}
			for i, st := range r.Steps {
				c := st.Command
				for _, j := range []aggregates.Journey{{}, received} {
					if _, err := aggregates.Decide(j, c, now, policy); err != nil {
						if reason, permanent := classify(err); !permanent || reason != ReasonRejected {
							t.Fatalf("rule error %v classified %q permanent=%v", err, reason, permanent)
						}
						checkDeadLetter(t, body, r, err, i, now)
					}
				}
			}
		case hmpps.Ignore:
			if r.IdempotencyKey == "" && r.EventType != "" && r.MessageID == "" && r.EventType[:min(4, len(r.EventType))] != "sns:" {
				t.Fatalf("ignored event without a key: %+v", r)
			}
		case hmpps.DeadLetter:
			if reason, permanent := classify(err); !permanent || (reason != ReasonMalformed && reason != ReasonUnmappable) {
				t.Fatalf("parse error %v classified %q permanent=%v", err, reason, permanent)
			}
			checkDeadLetter(t, body, r, err, -1, now)
		}
	})
}

func checkDeadLetter(t *testing.T, body []byte, r hmpps.Result, err error, i int, now time.Time) {
	t.Helper()
	d := newDeadLetter(body, r, err, i, now)
	b, merr := json.Marshal(d)
	if merr != nil {
		t.Fatalf("marshal dead letter: %v", merr)
	}
	var back DeadLetterRecorded
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("unmarshal dead letter: %v", err)
	}
	if back.Key == "" || back.Reason == "" || back.Error == "" || back.MessageBytes != len(body) {
		t.Fatalf("dead letter %+v", back)
	}
	if !back.Truncated && !bytes.Equal(back.Raw(), body) {
		t.Fatalf("raw message not kept: %q != %q", back.Raw(), body)
	}
}
