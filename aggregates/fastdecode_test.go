package aggregates_test

import (
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/calendar"
	"github.com/gateledger/gateledger/internal/journeygen"
)

type payload struct {
	typ     string
	version int
	data    []byte
}

// generated is the payloads of generated journeys, as the ledger stores them.
var generated = sync.OnceValue(func() []payload {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	g := journeygen.New(11, now, 4*365*24*time.Hour, aggregates.DefaultPolicy(calendar.New(time.UTC)))
	var out []payload
	for i := range 300 {
		for _, s := range g.Journey(i).Steps {
			for _, ev := range s.Events {
				typ, data, err := aggregates.Encode(ev)
				if err != nil {
					panic(err)
				}
				out = append(out, payload{typ, ev.SchemaVersion(), data})
			}
		}
	}
	return out
})

// checkDecode fails unless Decode gives exactly what encoding/json alone gives:
// the same value and the same error.
func checkDecode(t *testing.T, typ string, version int, data []byte) {
	t.Helper()
	want, wantErr := aggregates.DecodeJSONOnly(typ, version, data)
	got, err := aggregates.Decode(typ, version, data)
	if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
		t.Fatalf("%s v%d %q: error %v, encoding/json gives %v", typ, version, data, err, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s v%d %q:\n got %#v\nwant %#v", typ, version, data, got, want)
	}
}

func TestEveryTypeHasAFieldTable(t *testing.T) {
	for _, typ := range aggregates.EventTypes() {
		if !aggregates.HasFieldTable(typ) {
			t.Errorf("%s has no field table: every payload of it goes through encoding/json", typ)
		}
	}
}

// TestGeneratedPayloadsTakeTheFastPath: what the ledger writes is read without
// encoding/json, and read the same.
func TestGeneratedPayloadsTakeTheFastPath(t *testing.T) {
	types := map[string]bool{}
	for _, p := range generated() {
		types[p.typ] = true
		checkDecode(t, p.typ, p.version, p.data)
		if !aggregates.TakesFastPath(p.typ, p.data) {
			t.Errorf("%s %s fell back to encoding/json", p.typ, p.data)
		}
	}
	if len(types) < 20 {
		t.Fatalf("generated journeys have only %d event types", len(types))
	}
}

func TestDecodeEdgeCases(t *testing.T) {
	const at = `"occurredAt":"2024-06-24T15:06:39Z"`
	cases := []struct {
		name, typ, data string
		fast            bool // the field table reads it (false: encoding/json does, or refuses it)
	}{
		{"plain", "MetAtGate", `{"by":"m",` + at + `}`, true},
		{"whitespace everywhere", "MetAtGate", " \t\r\n{ \"by\" : \"m\" ,\n" + at + " }\n", true},
		{"empty object", "MetAtGate", `{}`, true},
		{"non-ASCII string", "MetAtGate", `{"by":"Zoë 名前"}`, true},
		{"null string", "MetAtGate", `{"by":null}`, true},
		{"null time", "MetAtGate", `{"occurredAt":null}`, true},
		{"fraction", "MetAtGate", `{"occurredAt":"2024-06-24T15:06:39.665736228Z"}`, true},
		{"short fraction", "MetAtGate", `{"occurredAt":"2024-06-24T15:06:39.5Z"}`, true},
		{"ten-digit fraction", "MetAtGate", `{"occurredAt":"2024-06-24T15:06:39.6657362289Z"}`, true},
		{"leap day", "MetAtGate", `{"occurredAt":"2024-02-29T00:00:00Z"}`, true},
		{"year zero", "MetAtGate", `{"occurredAt":"0000-01-01T00:00:00Z"}`, true},
		{"int", "MAPPALevelSet", `{"level":2,"previous":0}`, true},
		{"negative int", "MAPPALevelSet", `{"level":-12}`, true},
		{"minus zero", "MAPPALevelSet", `{"level":-0}`, true},
		{"bools", "PrisonerTransferred", `{"toPrisonCode":"LEI","late":false,"intoResettlementPrison":true}`, true},
		{"null bool", "PrisonerTransferred", `{"late":null}`, true},
		{"dates", "ReleaseDatesChanged", `{"dates":{"conditionalReleaseDate":"2025-03-14"},"previous":{},"reason":"r",` + at + `}`, true},
		{"null nested", "ReleaseDatesChanged", `{"dates":null}`, true},
		{"empty date", "ActionAgreed", `{"due":""}`, true},
		{"null date", "ProvenReoffenceRecorded", `{"offenceDate":null,"convictionDate":"2024-02-29"}`, true},

		{"unknown key", "MetAtGate", `{"by":"m","addedLater":[1,{"x":null}]}`, false},
		{"repeated key", "MetAtGate", `{"by":"m","by":"n"}`, false},
		{"repeated null key", "MetAtGate", `{"by":"m","by":null}`, false},
		{"key in another case", "MetAtGate", `{"By":"m"}`, false},
		{"keys differing in case", "MetAtGate", `{"by":"m","BY":"n"}`, false},
		{"escaped key", "MetAtGate", `{"b\u0079":"m"}`, false},
		{"escape", "MetAtGate", `{"by":"a\u0026b\"c\\"}`, false},
		{"surrogate pair", "MetAtGate", `{"by":"\ud83d\ude00"}`, false},
		{"lone surrogate", "MetAtGate", `{"by":"\ud83d"}`, false},
		{"invalid UTF-8", "MetAtGate", "{\"by\":\"a\xffb\"}", false},
		{"invalid UTF-8 in a key", "MetAtGate", "{\"b\xff\":\"m\"}", false},
		{"control character", "MetAtGate", "{\"by\":\"a\nb\"}", false},
		{"string for int", "MAPPALevelSet", `{"level":"2"}`, false},
		{"fraction for int", "MAPPALevelSet", `{"level":2.0}`, false},
		{"exponent", "MAPPALevelSet", `{"level":2e1}`, false},
		{"leading zero", "MAPPALevelSet", `{"level":02}`, false},
		{"plus sign", "MAPPALevelSet", `{"level":+2}`, false},
		{"bare minus", "MAPPALevelSet", `{"level":-}`, false},
		{"overflow", "MAPPALevelSet", `{"level":99999999999999999999}`, false},
		{"18 digits", "MAPPALevelSet", `{"level":999999999999999999}`, true},
		{"19 digits", "MAPPALevelSet", `{"level":9223372036854775807}`, false},
		{"int for string", "MetAtGate", `{"by":1}`, false},
		{"int for bool", "PrisonerTransferred", `{"late":1}`, false},
		{"string for bool", "PrisonerTransferred", `{"late":"true"}`, false},
		{"truncated literal", "PrisonerTransferred", `{"late":tru}`, false},
		{"literal run on", "PrisonerTransferred", `{"late":truex}`, false},
		{"offset", "MetAtGate", `{"occurredAt":"2024-06-24T15:06:39+01:00"}`, false},
		{"zero offset", "MetAtGate", `{"occurredAt":"2024-06-24T15:06:39+00:00"}`, false},
		{"lowercase z", "MetAtGate", `{"occurredAt":"2024-06-24T15:06:39z"}`, false},
		{"lowercase t", "MetAtGate", `{"occurredAt":"2024-06-24t15:06:39Z"}`, false},
		{"comma fraction", "MetAtGate", `{"occurredAt":"2024-06-24T15:06:39,5Z"}`, false},
		{"empty fraction", "MetAtGate", `{"occurredAt":"2024-06-24T15:06:39.Z"}`, false},
		{"one-digit hour", "MetAtGate", `{"occurredAt":"2024-06-24T5:06:39Z"}`, false},
		{"hour 24", "MetAtGate", `{"occurredAt":"2024-06-24T24:00:00Z"}`, false},
		{"second 60", "MetAtGate", `{"occurredAt":"2016-12-31T23:59:60Z"}`, false},
		{"not a leap day", "MetAtGate", `{"occurredAt":"2023-02-29T00:00:00Z"}`, false},
		{"day 31 of April", "MetAtGate", `{"occurredAt":"2024-04-31T00:00:00Z"}`, false},
		{"empty time", "MetAtGate", `{"occurredAt":""}`, false},
		{"date only as time", "MetAtGate", `{"occurredAt":"2024-06-24"}`, false},
		{"escaped time", "MetAtGate", `{"occurredAt":"2024-06-24T15:06:39\u005a"}`, false},
		{"time as number", "MetAtGate", `{"occurredAt":1719241599}`, false},
		{"bad date", "ActionAgreed", `{"due":"2023-02-29"}`, false},
		{"short date", "ActionAgreed", `{"due":"2024-1-01"}`, false},
		{"date with time", "ActionAgreed", `{"due":"2024-01-01T00:00:00Z"}`, false},
		{"escaped date", "ActionAgreed", `{"due":"2024-01-0\u0031"}`, false},
		{"date as number", "ActionAgreed", `{"due":20240101}`, false},
		{"nested unknown key", "ReleaseDatesSet", `{"dates":{"releaseDate":"2025-03-14"}}`, false},
		{"nested repeated key", "ReleaseDatesSet", `{"dates":{"hdcActualDate":"2025-03-14","hdcActualDate":""}}`, false},
		{"nested array", "ReleaseDatesSet", `{"dates":[]}`, false},
		{"trailing data", "MetAtGate", `{"by":"m"}x`, false},
		{"two objects", "MetAtGate", `{"by":"m"}{}`, false},
		{"trailing comma", "MetAtGate", `{"by":"m",}`, false},
		{"missing colon", "MetAtGate", `{"by" "m"}`, false},
		{"unclosed", "MetAtGate", `{"by":"m"`, false},
		{"unterminated string", "MetAtGate", `{"by":"m`, false},
		{"top-level null", "MetAtGate", `null`, false},
		{"top-level array", "MetAtGate", `[]`, false},
		{"top-level string", "MetAtGate", `"m"`, false},
		{"empty input", "MetAtGate", ``, false},
		{"only whitespace", "MetAtGate", ` `, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			typ, _ := aggregates.SchemaVersionOf(c.typ)
			checkDecode(t, c.typ, typ, []byte(c.data))
			if got := aggregates.TakesFastPath(c.typ, []byte(c.data)); got != c.fast {
				t.Errorf("%s: fast path %v, want %v", c.data, got, c.fast)
			}
		})
	}
}

// TestDecodeUpcastsThenReads: an older version still goes through its upcaster.
func TestDecodeUpcastsThenReads(t *testing.T) {
	for _, data := range []string{
		`{"nomsNumber":"A4092EA","kind":"SENTENCE","prisonCode":"SWI","receivedAt":"2019-03-04T09:00:00Z"}`,
		`{"nomsNumber":"A4092EA","receivedAt":"2019-03-04T09:00:00Z","occurredAt":"2019-03-05T09:00:00Z"}`,
		`null`, `{"receivedAt":1}`, `[`,
	} {
		for _, v := range []int{0, 1, 2, 3, -1} {
			checkDecode(t, "PrisonerReceived", v, []byte(data))
		}
	}
}

func FuzzDecode(f *testing.F) {
	types := aggregates.EventTypes()
	index := map[string]uint8{}
	for i, typ := range types {
		index[typ] = uint8(i)
	}
	seen := map[string]bool{}
	for _, p := range generated() {
		if !seen[p.typ] || strings.Contains(string(p.data), `"late":true`) {
			seen[p.typ] = true
			f.Add(index[p.typ], uint8(p.version), p.data)
		}
	}
	f.Add(index["ReleaseDatesChanged"], uint8(1), []byte(`{"dates":{"conditionalReleaseDate":"2025-03-14"},"previous":{"hdcActualDate":""}}`))
	f.Add(index["MAPPALevelSet"], uint8(1), []byte(`{"level":-0,"previous":12}`))
	f.Add(index["PrisonerReceived"], uint8(1), []byte(`{"nomsNumber":"A4092EA","receivedAt":"2019-03-04T09:00:00Z"}`))
	f.Fuzz(func(t *testing.T, which, version uint8, data []byte) {
		checkDecode(t, types[int(which)%len(types)], int(version%4), data)
	})
}

// BenchmarkDecode compares encoding/json alone (the code before the field
// tables) with Decode, on the payloads of generated journeys in their order.
func BenchmarkDecode(b *testing.B) {
	ps := generated()
	for _, bc := range []struct {
		name   string
		decode func(string, int, []byte) (aggregates.Event, error)
	}{{"encoding-json", aggregates.DecodeJSONOnly}, {"field-table", aggregates.Decode}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := range b.N {
				p := ps[i%len(ps)]
				if _, err := bc.decode(p.typ, p.version, p.data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
