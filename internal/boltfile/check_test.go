package boltfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// smallStore writes a bbolt file with what bbolt's layouts allow: buckets with branch
// pages, a value long enough to overflow, a nested bucket and an inline one. It is
// written as the event store writes its own (no free list on disk), and returned as
// bytes, cut to its high-water mark as a backup is.
func smallStore(t testing.TB, keys int) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "small.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		log, err := tx.CreateBucket([]byte("log"))
		if err != nil {
			return err
		}
		for i := range keys {
			if err := log.Put(fmt.Appendf(nil, "key-%06d", i), bytes.Repeat([]byte{byte(i)}, 40+i%50)); err != nil {
				return err
			}
		}
		if err := log.Put([]byte("zz-big"), bytes.Repeat([]byte("x"), 10000)); err != nil {
			return err
		}
		nested, err := log.CreateBucket([]byte("zz-nested"))
		if err != nil {
			return err
		}
		for i := range keys / 2 {
			if err := nested.Put(fmt.Appendf(nil, "n-%05d", i), []byte("value")); err != nil {
				return err
			}
		}
		inline, err := tx.CreateBucket([]byte("meta"))
		if err != nil {
			return err
		}
		return inline.Put([]byte("format"), []byte{0, 0, 0, 0, 0, 0, 0, 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := db.View(func(tx *bolt.Tx) error { _, err := tx.WriteTo(&buf); return err }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// contents reads every key and value of every bucket, nested ones included.
func contents(db *bolt.DB) (map[string]string, error) {
	out := map[string]string{}
	var walk func(prefix string, b *bolt.Bucket) error
	walk = func(prefix string, b *bolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			if v == nil {
				if c := b.Bucket(k); c != nil {
					return walk(prefix+string(k)+"/", c)
				}
			}
			out[prefix+string(k)] = string(v)
			return nil
		})
	}
	err := db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error { return walk(string(name)+"/", b) })
	})
	return out, err
}

// openAndRead is what a caller does after Check: open with bbolt, run its consistency
// check and read everything. On a file Check passed, none of it may crash.
func openAndRead(t testing.TB, file []byte) (map[string]string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f.db")
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	db, _, err := Open(context.Background(), path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := db.View(func(tx *bolt.Tx) error { return Consistency(path, tx) }); err != nil {
		return nil, err
	}
	return contents(db)
}

func check(file []byte) error {
	_, err := CheckReader(context.Background(), "f.db", bytes.NewReader(file), int64(len(file)))
	return err
}

func TestASoundFilePasses(t *testing.T) {
	file := smallStore(t, 400)
	s, err := CheckReader(context.Background(), "f.db", bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	if s.PageSize == 0 || s.HighWater*uint64(s.PageSize) != uint64(len(file)) || s.Pages < 10 {
		t.Fatalf("summary %+v of a %d-byte file", s, len(file))
	}
	got, err := openAndRead(t, file)
	if err != nil || len(got) < 600 {
		t.Fatalf("%d keys, %v", len(got), err)
	}
}

// damagedOrHarmless: every damaged copy is reported, or opens and reads the same keys
// as the original did: the damage hit a page nothing uses, or a value's bytes (an
// overflow page of a long value), which are the value owner's to check.
func damagedOrHarmless(t *testing.T, name string, want map[string]string, file []byte) {
	t.Helper()
	err := check(file)
	if err != nil {
		if !errors.Is(err, ErrDamaged) {
			t.Fatalf("%s: an error that is not ErrDamaged: %v", name, err)
		}
		return
	}
	got, err := openAndRead(t, file)
	if err != nil {
		t.Fatalf("%s: Check passed but bbolt found: %v", name, err)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: Check passed but the file reads %d keys, not %d", name, len(got), len(want))
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			t.Fatalf("%s: Check passed but %q is gone", name, k)
		}
	}
}

func TestEveryZeroedPageIsReportedOrHarmless(t *testing.T) {
	file := smallStore(t, 400)
	want, err := openAndRead(t, file)
	if err != nil {
		t.Fatal(err)
	}
	const ps = 4096
	reported := 0
	for p := 0; p < len(file)/ps; p++ {
		d := bytes.Clone(file)
		clear(d[p*ps : (p+1)*ps])
		if check(d) != nil {
			reported++
		}
		damagedOrHarmless(t, fmt.Sprintf("page %d zeroed", p), want, d)
	}
	if reported < len(file)/ps/2 {
		t.Fatalf("only %d of %d zeroed pages reported", reported, len(file)/ps)
	}
}

func TestEveryTruncationIsReported(t *testing.T) {
	file := smallStore(t, 400)
	for n := 0; n < len(file); n += 1000 {
		if err := check(file[:n]); !errors.Is(err, ErrDamaged) {
			t.Fatalf("cut to %d of %d bytes: %v", n, len(file), err)
		}
	}
	if err := check(file[:len(file)-1]); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "cut short") {
		t.Fatalf("one byte short: %v", err)
	}
}

func TestMetaPages(t *testing.T) {
	file := smallStore(t, 50)
	for _, tc := range []struct {
		name   string
		damage func(d []byte)
		want   string
	}{
		{"meta 0 zeroed", func(d []byte) { clear(d[:4096]) }, "meta page 0 is damaged"},
		{"meta 1 zeroed", func(d []byte) { clear(d[4096:8192]) }, "meta page 1 is damaged"},
		{"meta 1 checksum", func(d []byte) { d[4096+16+45] ^= 1 }, "checksum"},
		{"both", func(d []byte) { clear(d[:8192]) }, "both meta pages are damaged"},
	} {
		d := bytes.Clone(file)
		tc.damage(d)
		if err := check(d); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestRandomFlipsAreReportedOrReadable(t *testing.T) {
	file := smallStore(t, 400)
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		d := bytes.Clone(file)
		flips := 1 + trial%16
		for range flips {
			d[r.IntN(len(d))] ^= byte(1 + r.IntN(255))
		}
		if err := check(d); err != nil {
			continue
		}
		// Flips inside values are the value owner's to find; the file must still open,
		// pass bbolt's check and read without a crash.
		if _, err := openAndRead(t, d); err != nil {
			t.Fatalf("trial %d (%d flips): Check passed but bbolt found: %v", trial, flips, err)
		}
	}
}

func TestOpenRefusesADamagedFileAndCreatesANewOne(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new.db")
	db, s, err := Open(context.Background(), path, 0o600, nil)
	if err != nil || s.HighWater != 0 {
		t.Fatalf("new file: %+v %v", s, err)
	}
	db.Close()
	if _, err := Check(context.Background(), path); err != nil {
		t.Fatalf("a new file is not whole: %v", err)
	}
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Open(context.Background(), empty, 0o600, nil); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("an existing empty file: %v", err)
	}
}

// FuzzCheck: whatever the bytes, Check does not panic, and a file it passes opens,
// passes bbolt's own check and reads without crashing the process.
func FuzzCheck(f *testing.F) {
	file := smallStore(f, 60)
	f.Add(file)
	for _, p := range []int{0, 1, 2, 3, 4} {
		d := bytes.Clone(file)
		if (p+1)*4096 <= len(d) {
			clear(d[p*4096 : (p+1)*4096])
		}
		f.Add(d)
	}
	f.Add(file[:len(file)/2])
	f.Fuzz(func(t *testing.T, d []byte) {
		if err := check(d); err != nil {
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("not ErrDamaged: %v", err)
			}
			return
		}
		_, _ = openAndRead(t, d)
	})
}
