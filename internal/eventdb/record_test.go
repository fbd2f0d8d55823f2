package eventdb

import (
	"bytes"
	"math"
	"testing"

	"github.com/google/uuid"
)

func TestRecordRoundTrip(t *testing.T) {
	recs := []Record{
		{Stream: "s", Revision: 0, ID: uuid.New(), Type: "T", IsJSON: true, Created: 1, Data: []byte(`{"a":1}`), Metadata: []byte(`{}`)},
		{Stream: "", Revision: 0, Type: "", Created: 0},
		{Stream: "journey-A1234BC", Revision: TombstoneRevision, ID: uuid.New(), Type: TypeStreamDeleted, IsJSON: true, Created: math.MaxInt64},
		{Stream: string(make([]byte, 70000)), Revision: math.MaxUint64, ID: uuid.New(), Type: "bin", Created: math.MinInt64, Data: bytes.Repeat([]byte{0, 255}, 50000), Metadata: []byte{1}},
		{Stream: "ünïcode-ストリーム", Revision: 12345, ID: uuid.New(), Type: "Évènement", Created: -5, Data: []byte{}},
	}
	for i, r := range recs {
		enc := encodeRecord([]byte("prefix"), &r)[len("prefix"):]
		h, err := decodeHeader(enc)
		if err != nil {
			t.Fatalf("record %d: header: %v", i, err)
		}
		if string(h.stream) != r.Stream || string(h.typ) != r.Type || h.revision != r.Revision || h.id != r.ID || h.isJSON != r.IsJSON || h.created != r.Created {
			t.Fatalf("record %d: header %+v does not match", i, h)
		}
		got, err := decodeRecord(999, enc)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		want := r
		want.Position = 999
		if !recordsEqual(got, want) {
			t.Fatalf("record %d: decoded %+v, want %+v", i, got, want)
		}
		// Every strict prefix is refused, not misread: the last field's length says
		// how many bytes must follow.
		for n := range len(enc) {
			if _, err := decodeRecord(1, enc[:n]); err == nil {
				t.Fatalf("record %d: a prefix of %d of %d bytes decodes", i, n, len(enc))
			}
		}
	}
}

func recordsEqual(a, b Record) bool {
	return a.Position == b.Position && a.Stream == b.Stream && a.Revision == b.Revision && a.ID == b.ID &&
		a.Type == b.Type && a.IsJSON == b.IsJSON && a.Created == b.Created &&
		bytes.Equal(a.Data, b.Data) && bytes.Equal(a.Metadata, b.Metadata)
}

// TestDecodedRecordOwnsItsBytes: a decoded record does not alias the buffer it came from
// (bbolt's pages are only valid inside their transaction).
func TestDecodedRecordOwnsItsBytes(t *testing.T) {
	r := Record{Stream: "s", ID: uuid.New(), Type: "T", Data: []byte("data"), Metadata: []byte("meta")}
	enc := encodeRecord(nil, &r)
	got, err := decodeRecord(1, enc)
	if err != nil {
		t.Fatal(err)
	}
	for i := range enc {
		enc[i] = 'X'
	}
	if string(got.Data) != "data" || string(got.Metadata) != "meta" || got.Stream != "s" || got.Type != "T" {
		t.Fatalf("decoded record changed with its buffer: %+v", got)
	}
	got.Data = append(got.Data, '!')
	if string(got.Metadata) != "meta" {
		t.Fatalf("appending to Data overwrote Metadata: %q", got.Metadata)
	}
}

// FuzzDecodeRecord: arbitrary bytes never panic the decoders, and whatever decodes
// survives re-encoding unchanged.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(encodeRecord(nil, &Record{Stream: "s", Revision: 3, ID: uuid.New(), Type: "T", IsJSON: true, Created: 42, Data: []byte(`{}`), Metadata: []byte("m")}))
	f.Add(encodeRecord(nil, &Record{Stream: "$$x", Revision: TombstoneRevision, Type: TypeStreamMetadata}))
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add([]byte{0x01, 's', 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, herr := decodeHeader(b)
		r, err := decodeRecord(7, b)
		if err != nil {
			return
		}
		if herr != nil {
			t.Fatalf("record decodes but its header does not: %v", herr)
		}
		if string(h.stream) != r.Stream || string(h.typ) != r.Type {
			t.Fatalf("header and record disagree")
		}
		re := encodeRecord(nil, &r)
		r2, err := decodeRecord(7, re)
		if err != nil || !recordsEqual(r, r2) {
			t.Fatalf("decoded record does not survive re-encoding: %v", err)
		}
	})
}

func FuzzDecodeStreamMetadata(f *testing.F) {
	f.Add([]byte(`{"$maxCount":3,"$maxAge":60,"$tb":2,"owner":"x"}`))
	f.Add([]byte(`{"$tb":9223372036854775807}`))
	f.Add([]byte(`{"$maxCount":1e300,"$maxAge":-1,"$tb":"x"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m := parseStreamMetadata(b)
		if m.maxAge < 0 || m.maxCount < 0 || m.truncateBefore < 0 {
			t.Fatalf("negative limits from %q: %+v", b, m)
		}
		for _, last := range []int64{-1, 0, 5, math.MaxInt64 - 1} {
			if fv := m.firstVisible(last); fv < 0 {
				t.Fatalf("firstVisible(%d) = %d", last, fv)
			}
		}
		doc := m.withTruncateBefore(4)
		if got := parseStreamMetadata(doc); got.truncateBefore != 4 || got.maxCount != m.maxCount || got.maxAge != m.maxAge {
			t.Fatalf("withTruncateBefore lost properties: %s -> %s", b, doc)
		}
	})
}
