package hmpps

import (
	"errors"
	"testing"

	"github.com/gateledger/gateledger/aggregates"
)

func FuzzParse(f *testing.F) {
	for _, name := range []string{"intake-event.json", "recall-event.json", "release-event.json"} {
		f.Add(sample(f, name))
		f.Add(innerOf(f, name))
	}
	f.Add(event(EventSentenceDatesChanged, "", ""))
	f.Add(event(EventReleased, "UNKNOWN", "X"))
	f.Add([]byte(`{"Message":"{}"}`))
	for _, m := range corpusMessages(f) {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownEventType) && !errors.Is(err, ErrUnmappable) &&
				!errors.Is(err, ErrNothingToRecord) {
				t.Fatalf("untyped error %v", err)
			}
			if r.Steps != nil {
				t.Fatal("commands with an error")
			}
			return
		}
		if !aggregates.ValidNOMS(r.NOMS) || r.IdempotencyKey == "" || r.OccurredAt.IsZero() || len(r.Steps) == 0 {
			t.Fatalf("incomplete result %+v", r)
		}
		for _, st := range r.Steps {
			if !aggregates.ValidNOMS(st.NOMS) || st.Command == nil {
				t.Fatalf("step without a journey or a command: %+v", st)
			}
		}
		again, _ := Parse(data)
		if again.IdempotencyKey != r.IdempotencyKey {
			t.Fatal("key not deterministic")
		}
	})
}
