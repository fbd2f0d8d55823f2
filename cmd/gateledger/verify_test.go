package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/internal/eventdb"
	"github.com/gateledger/gateledger/internal/journeygen"
)

// TestVerifyCatchesACorruptedStore: verify passes on a store as written, and reports
// the break, with its position, in a copy where one byte of one event was changed on
// disk.
func TestVerifyCatchesACorruptedStore(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	store, err := eventstore.Open(ctx, eventstore.Config{DataDir: dir, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	g := journeygen.New(5, time.Now(), 365*24*time.Hour, aggregates.DefaultPolicy(nil))
	var js []journeygen.Journey
	var crn string
	for i := 0; i < 20; i++ {
		j := g.Journey(i)
		js = append(js, j)
		for _, s := range j.Steps {
			if c, ok := s.Command.(aggregates.LinkCRN); ok && crn == "" {
				crn = c.CRN
			}
		}
	}
	if crn == "" {
		t.Fatal("no generated CRN to corrupt")
	}
	if err := (&journeygen.Writer{Client: store.Client}).Write(ctx, js); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(ctx); err != nil {
		t.Fatal(err)
	}

	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"verify", "--data", dir, "--log-level", "warn"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "OK:") {
		t.Fatalf("verify of a sound store: exit %d\n%s%s", code, out.String(), errOut.String())
	}

	// Change one character of the CRN inside the stored event, in place.
	file := filepath.Join(dir, eventdb.FileName)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte(`"`+crn+`"`))
	if i < 0 {
		t.Fatalf("CRN %s not found in the store file", crn)
	}
	b[i+2] ^= 0x01 // a digit becomes another digit
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errOut.Reset()
	code := run(ctx, []string{"verify", "--data", dir, "--log-level", "warn"}, &out, &errOut)
	if code != 1 || !strings.Contains(out.String(), "BREAK journey-") || !strings.Contains(out.String(), "hash mismatch") {
		t.Fatalf("verify of a corrupted store: exit %d\n%s%s", code, out.String(), errOut.String())
	}
}
