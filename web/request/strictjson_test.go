package request

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/gateledger/gateledger/web/problem"
)

// TestStrictDecoding: what encoding/json alone accepts — duplicate names,
// names in another case, invalid UTF-8 — is refused as a malformed request
// naming the field; everything else decodes as before.
func TestStrictDecoding(t *testing.T) {
	const at = `"at":"2026-01-01T09:00:00Z"`
	cases := []struct {
		name  string
		body  string
		dst   func() any
		field string // "" means accepted
	}{
		{"plain", `{"kind":"SENTENCE","prison":"MDI",` + at + `}`, newReception, ""},
		{"duplicate", `{"prison":"MDI","prison":"LEI",` + at + `}`, newReception, "prison"},
		{"duplicate unknown", `{"x":1,"x":2}`, newReception, "x"},
		{"case variant", `{"Prison":"MDI",` + at + `}`, newReception, "Prison"},
		{"case variant beside exact", `{"prison":"MDI","PRISON":"LEI",` + at + `}`, newReception, "PRISON"},
		{"kelvin sign folds to k", `{"\u212aind":"SENTENCE",` + at + `}`, newReception, "\u212aind"},
		{"nested duplicate", `{"dates":{"hdcActualDate":"2030-01-01","hdcActualDate":"2030-01-02"},` + at + `}`, newReleaseDates, "dates.hdcActualDate"},
		{"nested case variant", `{"dates":{"HDCActualDate":"2030-01-01"},` + at + `}`, newReleaseDates, "dates.HDCActualDate"},
		{"invalid UTF-8 value", "{\"prison\":\"M\xffI\"," + at + "}", newReception, "prison"},
		{"invalid UTF-8 name", "{\"pr\xc3\":\"MDI\"}", newReception, "pr\ufffd"},
		{"lone high surrogate", `{"prison":"\ud800",` + at + `}`, newReception, "prison"},
		{"lone low surrogate", `{"prison":"\udc00x",` + at + `}`, newReception, "prison"},
		{"surrogate pair is fine", `{"movementReasonCode":"\ud83d\ude00",` + at + `}`, newReception, ""},
		{"escaped backslash then u", `{"movementReasonCode":"\\ud800",` + at + `}`, newReception, ""},
		{"duplicate inside an array", `[{"a":1,"a":2}]`, func() any { return &[]map[string]int{} }, "[0].a"},
		{"map keys in two cases are different keys", `{"a":1,"A":2}`, func() any { return &map[string]int{} }, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := jsonBytes([]byte(c.body), c.dst())
			if c.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var pe *problem.Error
			if !errors.As(err, &pe) {
				t.Fatalf("want a problem naming %q, got %v", c.field, err)
			}
			if pe.Kind != problem.MalformedRequest || pe.Kind.Status != http.StatusBadRequest {
				t.Fatalf("kind %v", pe.Kind)
			}
			if len(pe.Fields) != 1 || pe.Fields[0].Field != c.field {
				t.Fatalf("fields %+v, want %q", pe.Fields, c.field)
			}
		})
	}
}

func newReception() any    { return &receptionBody{} }
func newReleaseDates() any { return &releaseDatesBody{} }

func TestValidJSONString(t *testing.T) {
	for raw, want := range map[string]bool{
		`"abc"`: true, `"\u00e9"`: true, `"\ud83d\ude00"`: true, `"\ud83d"`: false, `"\ude00"`: false,
		`"\ud83d\u0041"`: false, `"\\ud83d"`: true, "\"\xff\"": false, `"\ud83d\ud83d\ude00"`: false,
	} {
		if got := validJSONString([]byte(raw)); got != want {
			t.Errorf("%s: %v, want %v", raw, got, want)
		}
	}
}

// FuzzStrictDecoding checks the strict decoder against reference decoders:
// whatever it accepts, jsontext (RFC 8259 strict: unique names, valid UTF-8)
// accepts as a value, and encoding/json decodes to the same result; and it
// never accepts a body whose object names at a struct position differ from
// the struct's names only in case.
func FuzzStrictDecoding(f *testing.F) {
	for _, s := range []string{
		`{"kind":"SENTENCE","prison":"MDI","at":"2026-01-01T09:00:00Z"}`,
		`{"prison":"MDI","prison":"LEI"}`, `{"PRISON":"MDI"}`, "{\"prison\":\"\xff\"}", `{"prison":"\ud800"}`,
		`{"dates":{"hdcActualDate":"2030-01-01"},"reason":"r","at":"2026-01-01T09:00:00Z"}`,
		`{"dates":{"hdcActualDate":"1","HdcActualDate":"2"}}`, `[]`, `null`, `{}{}`, `{"a":[{"b":1,"b":2}]}`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, dates bool) {
		newDst := newReception
		if dates {
			newDst = newReleaseDates
		}
		dst := newDst()
		err := jsonBytes(body, dst)
		if err != nil {
			var pe *problem.Error
			if !errors.As(err, &pe) || pe.Kind.Status != http.StatusBadRequest {
				t.Fatalf("error is not a 400 problem: %v", err)
			}
			for _, e := range pe.Fields {
				if e.Field == "" || e.Message == "" {
					t.Fatalf("empty field error %+v", e)
				}
			}
			return
		}
		if !jsontext.Value(body).IsValid() {
			t.Fatalf("accepted %q, which jsontext refuses", body)
		}
		ref := newDst()
		if err := json.Unmarshal(body, ref); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", body, err)
		}
		if !reflect.DeepEqual(dst, ref) {
			t.Fatalf("decoded %+v, encoding/json %+v", dst, ref)
		}
		// Every name of the top-level object (and of "dates") is exact.
		var top map[string]json.RawMessage
		if json.Unmarshal(body, &top) == nil {
			fields := structFieldsOf(reflect.TypeOf(dst))
			for k := range top {
				if _, ok := fields.exact[k]; !ok {
					t.Fatalf("accepted name %q, not a field", k)
				}
			}
		}
	})
}
