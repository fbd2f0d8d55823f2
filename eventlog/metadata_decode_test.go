package eventlog

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
)

func sampleEnvelopes(t testing.TB) [][]byte {
	full := Metadata{Metadata: aggregates.Metadata{
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
	if !scanMetadata(sampleEnvelopes(t)[0], &Metadata{}, nil) {
		t.Fatal("an envelope as the ledger writes it should take the fast path")
	}
}

func checkDecodeMetadata(t *testing.T, i int, raw []byte) {
	t.Helper()
	var want Metadata
	wantErr := json.Unmarshal(raw, &want)
	got, err := DecodeMetadata(raw)
	interned, ierr := NewInterner().DecodeMetadata(raw)
	if (err == nil) != (ierr == nil) || !reflect.DeepEqual(got, interned) {
		t.Fatalf("input %d %q: interning changed the result: %+v (%v) vs %+v (%v)", i, raw, got, err, interned, ierr)
	}
	if (err == nil) != (wantErr == nil) {
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
	f.Fuzz(func(t *testing.T, raw []byte) { checkDecodeMetadata(t, 0, raw) })
}

func BenchmarkDecodeMetadata(b *testing.B) {
	raw := sampleEnvelopes(b)[0]
	b.Run("scanner", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := DecodeMetadata(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			var m Metadata
			if err := json.Unmarshal(raw, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
}
