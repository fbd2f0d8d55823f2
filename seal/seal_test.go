package seal_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog/eventlogtest"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/internal/eventdb"
	"github.com/gateledger/gateledger/internal/journeygen"
	"github.com/gateledger/gateledger/seal"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newKey(t *testing.T) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// writeJourneys writes generated journeys numbered from..to-1 and returns them.
func writeJourneys(t *testing.T, store *eventstore.Conn, from, to int) []journeygen.Journey {
	t.Helper()
	g := journeygen.New(7, time.Now(), 365*24*time.Hour, aggregates.DefaultPolicy(nil))
	var js []journeygen.Journey
	for i := from; i < to; i++ {
		js = append(js, g.Journey(i))
	}
	if err := (&journeygen.Writer{Client: store.Client}).Write(ctxT(t), js); err != nil {
		t.Fatal(err)
	}
	return js
}

// A seal covers every journey; the next seal lists only what changed and chains to
// the first; every journey's exported proof checks against the latest root.
func TestSealsChainAndProve(t *testing.T) {
	store := eventlogtest.Store(t)
	key := newKey(t)
	s := &seal.Sealer{Client: store.Client, Key: key, Logger: eventlogtest.Logger()}
	js := writeJourneys(t, store, 0, 12)

	first, err := s.Seal(ctxT(t), seal.Options{SkipUnchanged: true})
	if err != nil || !first.Written {
		t.Fatalf("first seal: %+v, %v", first, err)
	}
	if first.Seal.Sequence != 0 || first.Seal.Size != uint64(len(js)) || first.Seal.Changed != uint64(len(js)) || first.Seal.Previous != "" {
		t.Fatalf("first seal: %+v", first.Seal.Head)
	}
	again, err := s.Seal(ctxT(t), seal.Options{SkipUnchanged: true})
	if err != nil || again.Written || again.Skipped != seal.SkippedUnchanged {
		t.Fatalf("seal with nothing changed: %+v, %v", again, err)
	}
	recent, err := s.Seal(ctxT(t), seal.Options{MinAge: time.Hour})
	if err != nil || recent.Written || recent.Skipped != seal.SkippedRecent {
		t.Fatalf("seal within the interval: %+v, %v", recent, err)
	}

	more := writeJourneys(t, store, 12, 15)
	second, err := s.Seal(ctxT(t), seal.Options{SkipUnchanged: true})
	if err != nil || !second.Written {
		t.Fatalf("second seal: %+v, %v", second, err)
	}
	if second.Seal.Sequence != 1 || second.Seal.Changed != uint64(len(more)) || second.Seal.Size != uint64(len(js)+len(more)) ||
		second.Seal.Previous != first.Seal.Hash() {
		t.Fatalf("second seal: %+v", second.Seal.Head)
	}

	rep, err := seal.Verify(ctxT(t), store.Client, key.Public().(ed25519.PublicKey))
	if err != nil || !rep.OK() || rep.Seals != 2 || rep.Streams != 15 || rep.RootsChecked != 2 {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
	for _, j := range append(js, more...) {
		root, proof, err := seal.Export(ctxT(t), store.Client, nil, j.NOMS)
		if err != nil {
			t.Fatal(err)
		}
		// Through the files an inspector keeps, as the check command reads them.
		rb, _ := json.Marshal(root)
		pb, _ := json.Marshal(proof)
		root2, err := seal.DecodeSigned(rb)
		if err != nil {
			t.Fatal(err)
		}
		proof2, err := seal.DecodeProof(pb)
		if err != nil {
			t.Fatal(err)
		}
		if err := seal.Check(root2, proof2); err != nil {
			t.Fatalf("%s: %v", j.NOMS, err)
		}
		proof2.Revision++
		if err := seal.Check(root2, proof2); err == nil {
			t.Fatalf("%s: a proof of another revision checks", j.NOMS)
		}
	}
	if _, _, err := seal.Export(ctxT(t), store.Client, nil, "Z9999ZZ"); err == nil || !strings.Contains(err.Error(), "no seal covers") {
		t.Fatalf("export of an unsealed person: %v", err)
	}
}

// Instances sharing a store that seal at the same moment write one seal between them:
// the others find the seal stream moved (expected revision) or the seal recent.
func TestInstancesWriteOneSealPerInterval(t *testing.T) {
	store := eventlogtest.Store(t)
	key := newKey(t)
	writeJourneys(t, store, 0, 4)
	var wg sync.WaitGroup
	results := make([]seal.Result, 6)
	errs := make([]error, len(results))
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &seal.Sealer{Client: store.Client, Key: key, Logger: eventlogtest.Logger()}
			results[i], errs[i] = s.Seal(ctxT(t), seal.Options{MinAge: time.Hour})
		}()
	}
	wg.Wait()
	written := 0
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("instance %d: %v", i, errs[i])
		}
		if r.Written {
			written++
		} else if r.Skipped != seal.SkippedConflict && r.Skipped != seal.SkippedRecent {
			t.Fatalf("instance %d skipped: %q", i, r.Skipped)
		}
	}
	rep, err := seal.Verify(ctxT(t), store.Client, key.Public().(ed25519.PublicKey))
	if err != nil || written != 1 || rep.Seals != 1 || !rep.OK() {
		t.Fatalf("%d seals written, verify %+v, %v", written, rep, err)
	}
}

// A seal appended by someone without the ledger's key is a break of the chain, and
// the ledger refuses to seal on top of it.
func TestForgedSealBreaksTheChain(t *testing.T) {
	store := eventlogtest.Store(t)
	key := newKey(t)
	writeJourneys(t, store, 0, 3)
	if _, err := (&seal.Sealer{Client: store.Client, Key: key}).Seal(ctxT(t), seal.Options{}); err != nil {
		t.Fatal(err)
	}
	writeJourneys(t, store, 3, 4)
	forger := newKey(t)
	// The forger's sealer does not trust the ledger's key, so it reads the chain with
	// its own; it then extends the chain as if it were the ledger.
	res, err := (&seal.Sealer{Client: store.Client, Key: forger}).Seal(ctxT(t), seal.Options{})
	if err == nil || res.Written {
		// A sealer checks the chain against its own key: the forger's refuses too.
		t.Fatalf("a sealer with another key extended the chain: %+v", res)
	}
	var doc map[string]any
	r, _ := seal.ReadChain(ctxT(t), store.Client, nil)
	b, _ := json.Marshal(r.Latest)
	_ = json.Unmarshal(b, &doc)
	doc["sequence"], doc["previous"] = 1, r.Latest.Hash()
	data, _ := json.Marshal(doc)
	if _, err := store.Client.AppendToStream(ctxT(t), seal.Stream, esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(0)},
		esdb.EventData{ContentType: esdb.ContentTypeJson, EventType: seal.EventType, Data: data}); err != nil {
		t.Fatal(err)
	}
	rep, err := seal.Verify(ctxT(t), store.Client, key.Public().(ed25519.PublicKey))
	if err != nil || rep.OK() || !strings.Contains(rep.Breaks[0].String(), "ledger-seals seal 1") || !strings.Contains(rep.Breaks[0].Reason, "signature") {
		t.Fatalf("verify of a forged seal: %+v, %v", rep, err)
	}
	if _, err := (&seal.Sealer{Client: store.Client, Key: key}).Seal(ctxT(t), seal.Options{}); err == nil {
		t.Fatal("the ledger sealed on top of a broken chain")
	}
}

// Run seals at the start and then every interval while journeys change, and writes
// nothing while they do not.
func TestRunSealsPeriodically(t *testing.T) {
	store := eventlogtest.Store(t)
	key := newKey(t)
	writeJourneys(t, store, 0, 2)
	ctx, cancel := context.WithCancel(ctxT(t))
	done := make(chan struct{})
	go func() {
		defer close(done)
		(&seal.Sealer{Client: store.Client, Key: key, Logger: eventlogtest.Logger()}).Run(ctx, time.Second)
	}()
	defer func() { cancel(); <-done }()
	waitSeals := func(n int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			c, err := seal.ReadChain(ctxT(t), store.Client, key.Public().(ed25519.PublicKey))
			if err != nil {
				t.Fatal(err)
			}
			if c.Seals >= n {
				if c.Seals > n {
					t.Fatalf("%d seals, want %d", c.Seals, n)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d seals after 20s, want %d", c.Seals, n)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitSeals(1)
	time.Sleep(2500 * time.Millisecond) // two ticks with nothing changed
	waitSeals(1)
	writeJourneys(t, store, 2, 3)
	waitSeals(2)
}

// Periodic sealing of a store with no journeys writes nothing, so the store stays
// empty; a seal on demand is written all the same.
func TestEmptyStoreIsNotSealedPeriodically(t *testing.T) {
	store := eventlogtest.Store(t)
	s := &seal.Sealer{Client: store.Client, Key: newKey(t), Logger: eventlogtest.Logger()}
	res, err := s.Seal(ctxT(t), seal.Options{SkipUnchanged: true, MinAge: time.Hour})
	if err != nil || res.Written || res.Skipped != seal.SkippedUnchanged {
		t.Fatalf("periodic seal of an empty store: %+v, %v", res, err)
	}
	res, err = s.Seal(ctxT(t), seal.Options{})
	if err != nil || !res.Written || res.Seal.Size != 0 {
		t.Fatalf("seal on demand of an empty store: %+v, %v", res, err)
	}
}

// Deleting or tombstoning the seal stream itself is reported (the embedded server
// refuses both, so they are written to its storage directly).
func TestLostSealStreamIsReported(t *testing.T) {
	for _, how := range []string{"deleted", "tombstoned"} {
		t.Run(how, func(t *testing.T) {
			store := eventlogtest.Store(t)
			key := newKey(t)
			writeJourneys(t, store, 0, 2)
			if _, err := (&seal.Sealer{Client: store.Client, Key: key}).Seal(ctxT(t), seal.Options{}); err != nil {
				t.Fatal(err)
			}
			if _, err := store.Client.DeleteStream(ctxT(t), seal.Stream, esdb.DeleteStreamOptions{}); err == nil {
				t.Fatal("the embedded server deleted the seal stream")
			}
			var err error
			if how == "deleted" {
				_, err = store.Node.DB.Delete(ctxT(t), seal.Stream, eventdb.Any)
			} else {
				_, err = store.Node.DB.Tombstone(ctxT(t), seal.Stream, eventdb.Any)
			}
			if err != nil {
				t.Fatal(err)
			}
			rep, err := seal.Verify(ctxT(t), store.Client, key.Public().(ed25519.PublicKey))
			if err != nil || rep.OK() || rep.Breaks[0].Stream != seal.Stream || !strings.Contains(rep.Breaks[0].Reason, how) {
				t.Fatalf("verify: %+v, %v", rep, err)
			}
		})
	}
}
