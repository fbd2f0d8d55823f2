package live

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/gateledger/gateledger/aggregates"
)

// FuzzDecodeClientMessage: decoding never panics; what it accepts is
// well-formed (valid, sorted, unique NOMS numbers and event types within the
// limits) and decodes the same again once re-encoded; what it refuses is a
// *ProtocolError.
func FuzzDecodeClientMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"subscribe"}`,
		`{"type":"subscribe","from":"now"}`,
		`{"type":"subscribe","from":"start","people":["A1234BC","A1234BC","B2345CD"]}`,
		`{"type":"subscribe","from":12345,"eventTypes":["HandoverAccepted"]}`,
		`{"type":"subscribe","from":-1}`,
		`{"type":"subscribe","from":1e3}`,
		`{"type":"subscribe","from":18446744073709551616}`,
		`{"type":"subscribe","people":["$all"]}`,
		`{"type":"subscribe","eventTypes":["$metadata"]}`,
		`{"type":"subscribe"} {}`,
		`{"type":"unsubscribe"}`,
		`{"type":"subscribe","extra":true}`,
		`[]`, `null`, ``, `{"type":"subscribe","people":null,"from":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeClientMessage(b)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) || pe.Code != CodeBadRequest || pe.Message == "" {
				t.Fatalf("refusal %v is not a bad-request ProtocolError", err)
			}
			return
		}
		if len(s.People) > MaxPeople || len(s.EventTypes) > MaxEventTypes {
			t.Fatalf("over the limits: %d people, %d types", len(s.People), len(s.EventTypes))
		}
		for _, n := range s.People {
			if !aggregates.ValidNOMS(n) {
				t.Fatalf("accepted NOMS %q", n)
			}
		}
		for _, typ := range s.EventTypes {
			if !eventTypePattern.MatchString(typ) || typ[0] == '$' {
				t.Fatalf("accepted event type %q", typ)
			}
		}
		if !slices.IsSorted(s.People) || len(slices.Compact(slices.Clone(s.People))) != len(s.People) ||
			!slices.IsSorted(s.EventTypes) || len(slices.Compact(slices.Clone(s.EventTypes))) != len(s.EventTypes) {
			t.Fatalf("lists not sorted sets: %+v", s)
		}
		if s.From != FromPosition && s.Position != 0 {
			t.Fatalf("position %d without from position", s.Position)
		}
		w := map[string]any{"type": "subscribe", "people": s.People, "eventTypes": s.EventTypes}
		switch s.From {
		case FromNow:
			w["from"] = "now"
		case FromStart:
			w["from"] = "start"
		case FromPosition:
			w["from"] = s.Position
		}
		again, err := DecodeClientMessage(mustJSON(w))
		if err != nil {
			t.Fatalf("re-encoded %s refused: %v", mustJSON(w), err)
		}
		a, _ := json.Marshal(s)
		bb, _ := json.Marshal(again)
		if string(a) != string(bb) {
			t.Fatalf("round trip: %s then %s", a, bb)
		}
	})
}
