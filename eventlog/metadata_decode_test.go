package eventlog_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/calendar"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/internal/journeygen"
)

// generatedEnvelopes is the envelopes of generated journeys, sealed as the ledger stores
// them (hash chain included), in the order of their streams.
var generatedEnvelopes = sync.OnceValue(func() [][]byte {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	g := journeygen.New(5, now, 4*365*24*time.Hour, aggregates.DefaultPolicy(calendar.New(time.UTC)))
	var out [][]byte
	for i := range 200 {
		j := g.Journey(i)
		stream := aggregates.StreamName(j.NOMS)
		var head eventlog.Head
		for k, s := range j.Steps {
			key := fmt.Sprintf("gen:%s:%d", j.NOMS, k)
			var proposed []eventlog.Proposed
			for _, ev := range s.Events {
				typ, data, err := aggregates.Encode(ev)
				if err != nil {
					panic(err)
				}
				proposed = append(proposed, eventlog.Proposed{Type: typ, Data: data, Metadata: eventlog.Metadata{
					Metadata: aggregates.Metadata{
						UserID: s.Actor.UserID, Role: s.Actor.Role, Organisation: s.Actor.Organisation,
						OccurredAt: ev.OccurredAt(), RecordedAt: s.At.Add(90 * time.Second), Source: s.Actor.Source,
						CorrelationID: key, CausationID: fmt.Sprintf("cause-%d", k), IdempotencyKey: key,
						SchemaVersion: ev.SchemaVersion(),
					},
					Command: s.Command.CommandName(), CommandDigest: digest(key),
				}})
			}
			recs, err := eventlog.Seal(stream, head, key, proposed)
			if err != nil {
				panic(err)
			}
			for _, r := range recs {
				out = append(out, r.RawMetadata)
			}
			head = eventlog.HeadOf(recs)
		}
	}
	return out
})

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func sampleEnvelopes(t testing.TB) [][]byte {
	full := eventlog.Metadata{Metadata: aggregates.Metadata{
		UserID: "officer.MDI", Role: "prison", Organisation: "MDI",
		OccurredAt: time.Date(2024, 6, 24, 15, 6, 39, 0, time.UTC), RecordedAt: time.Date(2024, 6, 24, 15, 7, 39, 665736228, time.UTC),
		Source: aggregates.SourceHMPPSFeed, CorrelationID: "c-1", CausationID: "c-0", IdempotencyKey: "sns:e0111f56#0",
		SchemaVersion: 2, PreviousHash: "ab", Hash: "cd",
	}, Command: "ReceivePrisoner", CommandDigest: "ef"}
	b, err := json.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{
		b,
		[]byte(`{"userId":"x","occurredAt":"2024-01-01T00:00:00Z","source":"api","schemaVersion":1}`),
		[]byte(` { "userId" : "a\"b\\c\u00e9\n" , "schemaVersion" : 12 } `),
		[]byte(`{}`),
		[]byte(`{"userId":"x","extra":{"nested":[1,2]},"schemaVersion":1}`),
		[]byte(`{"userId":"x","userId":"y"}`),
		[]byte(`{"schemaVersion":1.5}`),
		[]byte(`{"occurredAt":"2024-01-01T00:00:00+01:00"}`),
		[]byte(`{"userId":"\ud83d\ude00"}`),
		[]byte(`not json`),
	}
}

// TestDecodeMetadataMatchesEncodingJSON: the fast path gives what json.Unmarshal gives.
func TestDecodeMetadataMatchesEncodingJSON(t *testing.T) {
	for i, raw := range sampleEnvelopes(t) {
		checkDecodeMetadata(t, i, raw)
	}
	if !eventlog.TakesFastPath(sampleEnvelopes(t)[0]) {
		t.Fatal("an envelope as the ledger writes it should take the fast path")
	}
}

// TestGeneratedEnvelopesTakeTheFastPath: every envelope the ledger writes is read by the
// scanner, with and without an interner, and read as encoding/json reads it.
func TestGeneratedEnvelopesTakeTheFastPath(t *testing.T) {
	envs := generatedEnvelopes()
	if len(envs) < 1000 {
		t.Fatalf("only %d generated envelopes", len(envs))
	}
	for i, raw := range envs {
		checkDecodeMetadata(t, i, raw)
		if !eventlog.TakesFastPath(raw) {
			t.Fatalf("envelope %d fell back to encoding/json: %s", i, raw)
		}
	}
}

func TestDecodeMetadataEdgeCases(t *testing.T) {
	const hash = `"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"`
	cases := []struct {
		name, raw string
		fast      bool // the scanner reads it (false: encoding/json does, or refuses it)
	}{
		{"every field", `{"userId":"u","role":"r","organisation":"o","occurredAt":"2024-06-24T15:06:39Z","recordedAt":"2024-06-24T15:07:39.665736228Z","source":"ui","correlationId":"c","causationId":"d","idempotencyKey":"k","schemaVersion":2,"previousHash":` + hash + `,"hash":` + hash + `,"command":"C","commandDigest":` + hash + `}`, true},
		{"empty strings", `{"userId":"","hash":"","source":""}`, true},
		{"unknown source", `{"source":"carrier-pigeon"}`, true},
		{"non-ASCII", `{"userId":"zoë","organisation":"名前"}`, true},
		{"escaped value", `{"correlationId":"a\u0026b","hash":"\/"}`, true},
		{"escaped source", `{"source":"\u0061pi"}`, true},
		{"ten-digit fraction", `{"occurredAt":"2024-06-24T15:06:39.1234567891Z"}`, true},
		{"leap day", `{"occurredAt":"2024-02-29T00:00:00Z"}`, true},
		{"zero schema version", `{"schemaVersion":0}`, true},

		{"escaped key", `{"user\u0049d":"x"}`, false},
		{"key in another case", `{"UserId":"x"}`, false},
		{"repeated instant", `{"occurredAt":"2024-01-01T00:00:00Z","occurredAt":"2024-01-02T00:00:00Z"}`, false},
		{"repeated version", `{"schemaVersion":1,"schemaVersion":2}`, false},
		{"null value", `{"userId":null}`, false},
		{"null instant", `{"occurredAt":null}`, false},
		{"invalid UTF-8", "{\"userId\":\"a\xffb\"}", false},
		{"invalid UTF-8 after an escape", "{\"userId\":\"\\n\xff\"}", false},
		{"control character", "{\"hash\":\"a\tb\"}", false},
		{"lone surrogate", `{"userId":"\ud83d"}`, false},
		{"one-digit hour", `{"occurredAt":"2024-06-24T5:06:39Z"}`, false},
		{"zero offset", `{"occurredAt":"2024-06-24T15:06:39+00:00"}`, false},
		{"lowercase z", `{"occurredAt":"2024-06-24T15:06:39z"}`, false},
		{"comma fraction", `{"recordedAt":"2024-06-24T15:06:39,5Z"}`, false},
		{"empty fraction", `{"recordedAt":"2024-06-24T15:06:39.Z"}`, false},
		{"not a leap day", `{"occurredAt":"2023-02-29T00:00:00Z"}`, false},
		{"hour 24", `{"occurredAt":"2024-06-24T24:00:00Z"}`, false},
		{"empty instant", `{"occurredAt":""}`, false},
		{"escaped instant", `{"occurredAt":"2024-06-24T15:06:39\u005a"}`, false},
		{"negative version", `{"schemaVersion":-1}`, false},
		{"exponent version", `{"schemaVersion":1e0}`, false},
		{"leading zero version", `{"schemaVersion":01}`, false},
		{"big version", `{"schemaVersion":12345678901}`, false},
		{"string version", `{"schemaVersion":"1"}`, false},
		{"number for string", `{"userId":1}`, false},
		{"trailing comma", `{"userId":"x",}`, false},
		{"trailing data", `{"userId":"x"} x`, false},
		{"unterminated", `{"userId":"x`, false},
		{"top-level null", `null`, false},
		{"empty", ``, false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkDecodeMetadata(t, i, []byte(c.raw))
			if got := eventlog.TakesFastPath([]byte(c.raw)); got != c.fast {
				t.Errorf("%s: fast path %v, want %v", c.raw, got, c.fast)
			}
		})
	}
}

func checkDecodeMetadata(t *testing.T, i int, raw []byte) {
	t.Helper()
	var want eventlog.Metadata
	wantErr := json.Unmarshal(raw, &want)
	got, err := eventlog.DecodeMetadata(raw)
	interned, ierr := eventlog.NewInterner().DecodeMetadata(raw)
	if (err == nil) != (ierr == nil) || !reflect.DeepEqual(got, interned) {
		t.Fatalf("input %d %q: interning changed the result: %+v (%v) vs %+v (%v)", i, raw, got, err, interned, ierr)
	}
	if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
		t.Fatalf("input %d %q: error %v, encoding/json says %v", i, raw, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("input %d %q:\n got %+v\nwant %+v", i, raw, got, want)
	}
}

func FuzzDecodeMetadata(f *testing.F) {
	for _, s := range sampleEnvelopes(f) {
		f.Add(s)
	}
	for _, s := range generatedEnvelopes()[:20] {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) { checkDecodeMetadata(t, 0, raw) })
}

// BenchmarkDecodeMetadata reads the envelopes of generated journeys in their order:
// encoding/json alone, the scanner, and the scanner with one interner for the run
// (as the projections runner uses it).
func BenchmarkDecodeMetadata(b *testing.B) {
	envs := generatedEnvelopes()
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			var m eventlog.Metadata
			if err := json.Unmarshal(envs[i%len(envs)], &m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("scanner", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			if _, err := eventlog.DecodeMetadata(envs[i%len(envs)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("scanner-interned", func(b *testing.B) {
		b.ReportAllocs()
		in := eventlog.NewInterner()
		for i := range b.N {
			if _, err := in.DecodeMetadata(envs[i%len(envs)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
