package seal

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// fuzzSeed is a real seal of three journeys, its root and one proof, as the ledger
// writes them: the seed corpus of the decoder fuzzers.
func fuzzSeed(t testing.TB) (record, root, proof []byte) {
	seedKey := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	set := map[string]Entry{}
	for i, noms := range []string{"A1234BC", "B2345CD", "C3456DE"} {
		h := LeafHash([]byte(noms))
		set["journey-"+noms] = Entry{Stream: "journey-" + noms, Revision: uint64(i * 3), Hash: hex.EncodeToString(h[:])}
	}
	tree := newTree(set)
	r := tree.Root()
	changed := append([]Entry(nil), tree.Entries()...)
	h := Head{Version: Version, SealedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), Position: 42, Size: 3,
		Root: hex.EncodeToString(r[:]), Changed: 3, Changes: changesDigest(changed)}
	s := sign(h, seedKey)
	rec, err := json.Marshal(Record{Signed: s, Streams: changed})
	if err != nil {
		t.Fatal(err)
	}
	rt, _ := json.Marshal(s)
	p, _ := tree.proof(s.Head, "journey-B2345CD")
	pf, _ := json.Marshal(p)
	return rec, rt, pf
}

func FuzzDecodeProof(f *testing.F) {
	rec, root, proof := fuzzSeed(f)
	f.Add(proof)
	f.Add(root)
	f.Add(rec)
	f.Add([]byte(`{"version":1,"path":null}`))
	f.Add([]byte(`{"version":1,"sequence":0,"root":"","size":18446744073709551615,"stream":"journey-A1234BC","revision":0,"hash":"","index":18446744073709551614,"path":[]}`))
	sealed, err := DecodeSigned(root)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodeProof(b)
		if err != nil {
			return
		}
		// Whatever decodes round-trips, and checking it never panics.
		again, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		p2, err := DecodeProof(again)
		if err != nil || !reflect.DeepEqual(p, p2) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, p, p2)
		}
		_ = Check(sealed, p)
	})
}

func FuzzDecodeSigned(f *testing.F) {
	rec, root, proof := fuzzSeed(f)
	f.Add(root)
	f.Add(rec)
	f.Add(proof)
	f.Add([]byte(`{"version":1,"sealedAt":"2026-12-01T09:00:00Z","publicKey":"","signature":""}`))
	p, err := DecodeProof(proof)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeSigned(b)
		if err != nil {
			return
		}
		again, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := DecodeSigned(again)
		if err != nil || s2.Hash() != s.Hash() || s2.Signature != s.Signature {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, s, s2)
		}
		if s.VerifySignature() == nil && s.Hash() != mustDecodeSigned(t, root).Hash() {
			t.Fatalf("a root other than the seed verifies with the seed's key:\n%s", b)
		}
		_ = Check(s, p)
	})
}

func FuzzDecodeRecord(f *testing.F) {
	rec, root, _ := fuzzSeed(f)
	f.Add(rec)
	f.Add(root)
	f.Add([]byte(`{"version":1,"streams":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRecord(b)
		if err != nil {
			return
		}
		again, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := DecodeRecord(again)
		if err != nil || r2.Hash() != r.Hash() || len(r2.Streams) != len(r.Streams) {
			t.Fatalf("round trip: %v", err)
		}
		if changesDigest(r.Streams) != r.Changes {
			t.Fatal("a record decoded whose listing does not match its digest")
		}
	})
}

func mustDecodeSigned(t *testing.T, b []byte) Signed {
	s, err := DecodeSigned(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
