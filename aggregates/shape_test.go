package aggregates

import (
	"reflect"
	"testing"
	"time"
)

type textKind string

func (k *textKind) UnmarshalText(b []byte) error { *k = textKind("t:" + string(b)); return nil }

type selfDecoding struct{ A string }

func (s *selfDecoding) UnmarshalJSON([]byte) error { return nil }

type inner struct{ A string }

// TestShapeOf: a struct the single pass cannot read as encoding/json would gets no
// field table, so that its payloads all go to encoding/json.
func TestShapeOf(t *testing.T) {
	for _, c := range []struct {
		name string
		typ  reflect.Type
		ok   bool
	}{
		{"flat", reflect.TypeFor[struct {
			A string    `json:"a"`
			B bool      `json:"b,omitempty"`
			N int       `json:"n"`
			T time.Time `json:"t"`
			D Date      `json:"d,omitzero"`
			K Pathway   `json:"k"`
			U string    // no tag: the field's name
			S string    `json:"-"`
		}](), true},
		{"nested", reflect.TypeFor[struct {
			R ReleaseDates `json:"r"`
		}](), true},
		{"embedded", reflect.TypeFor[struct{ inner }](), false},
		{"string option", reflect.TypeFor[struct {
			N int `json:"n,string"`
		}](), false},
		{"float", reflect.TypeFor[struct{ F float64 }](), false},
		{"int32", reflect.TypeFor[struct{ N int32 }](), false},
		{"map", reflect.TypeFor[struct{ M map[string]string }](), false},
		{"slice", reflect.TypeFor[struct{ S []string }](), false},
		{"pointer", reflect.TypeFor[struct{ P *string }](), false},
		{"text unmarshaler", reflect.TypeFor[struct{ K textKind }](), false},
		{"json unmarshaler field", reflect.TypeFor[struct{ S selfDecoding }](), false},
		{"json unmarshaler", reflect.TypeFor[selfDecoding](), false},
		{"same name twice", reflect.StructOf([]reflect.StructField{
			{Name: "A", Type: reflect.TypeFor[string](), Tag: `json:"a"`},
			{Name: "B", Type: reflect.TypeFor[string](), Tag: `json:"a"`},
		}), false},
		{"unusual name", reflect.TypeFor[struct {
			A string `json:"a-b"`
		}](), false},
		{"not a struct", reflect.TypeFor[string](), false},
	} {
		if got := shapeOf(c.typ) != nil; got != c.ok {
			t.Errorf("%s: field table %v, want %v", c.name, got, c.ok)
		}
	}
}
