package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/seal"
)

// printSealReport says what the seals cover and names every break.
func printSealReport(w io.Writer, r seal.Report) {
	switch {
	case r.Latest == nil && r.Seals == 0:
		fmt.Fprintln(w, "no seals yet: deletions and truncations cannot be detected until the ledger writes one (gateledger seal write, or serve with --seal-interval)")
	case r.Latest != nil:
		fmt.Fprintf(w, "checked %d seals (%d roots recomputed) and %d sealed journeys against the latest, seal %d of %s\n",
			r.Seals, r.RootsChecked, r.Streams, r.Latest.Sequence, ukTime(r.Latest.SealedAt))
	}
	if r.Key == "" && r.Seals > 0 {
		fmt.Fprintln(w, "note: no seal key in this data directory (--seal-key): each seal was checked with the key it names, which proves the chain but not whose key it is")
	}
	for _, b := range r.Breaks {
		fmt.Fprintf(w, "SEAL BREAK %s\n", b)
	}
}

// errBroken is the verify command's answer when something does not verify: it exits 1
// after printing the report.
var errBroken = errors.New("the store does not verify")

func verifyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var sc storeConfig
	var lc logConfig
	var kc sealConfig
	var asJSON bool
	f := newFlags("verify", stderr)
	sc.register(f)
	kc.registerKey(f)
	lc.register(f)
	f.bool(&asJSON, "json", "VERIFY_JSON", false, "print the report as JSON")
	if err := f.parse(args); err != nil {
		return err
	}
	log, err := lc.logger(stderr)
	if err != nil {
		return err
	}
	trusted, err := kc.trustedKey(sc.dataDir)
	if err != nil {
		return err
	}
	store, r, closeLedger, err := openLedger(ctx, &sc, log)
	if err != nil {
		return storeDamaged(err, sc.dataDir, "verify")
	}
	defer closeLedger()
	// The whole store's chains, read from $all in the store itself; the audit read
	// model is compared with it as far as it has got.
	rep, err := projections.VerifyAll(ctx, r, store.Client)
	if err != nil {
		return err
	}
	// The seals catch what the chains cannot: a stream deleted, tombstoned or cut
	// short, which leaves no broken link behind.
	sealed, err := seal.Verify(ctx, store.Client, trusted)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			projections.StoreVerification
			Seals seal.Report `json:"seals"`
		}{rep, sealed}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "checked %d events in %d hash-chained streams (%d streams without a chain skipped)\n", rep.Events, rep.Streams, rep.Unchained)
		for _, b := range rep.Breaks {
			fmt.Fprintf(stdout, "BREAK %s at $all position %d: %s\n", b.Stream, b.BreakPosition, b.Break)
		}
		for _, m := range rep.Mismatches {
			fmt.Fprintf(stdout, "AUDIT %s revision %d at position %d: %s: store %q, audit %q\n", m.Stream, m.Revision, m.Position, m.Reason, m.Expected, m.Found)
		}
		printSealReport(stdout, sealed)
		if rep.OK() && sealed.OK() {
			fmt.Fprintln(stdout, "OK: every chain verifies, every sealed journey is whole, and the audit trail agrees with the store")
		}
	}
	if !rep.OK() || !sealed.OK() {
		return errBroken
	}
	return nil
}
