package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/gateledger/gateledger/projections"
)

// errBroken is the verify command's answer when something does not verify: it exits 1
// after printing the report.
var errBroken = errors.New("the store does not verify")

func verifyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var sc storeConfig
	var lc logConfig
	var asJSON bool
	f := newFlags("verify", stderr)
	sc.register(f)
	lc.register(f)
	f.bool(&asJSON, "json", "VERIFY_JSON", false, "print the report as JSON")
	if err := f.parse(args); err != nil {
		return err
	}
	log, err := lc.logger(stderr)
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
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
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
		if rep.OK() {
			fmt.Fprintln(stdout, "OK: every chain verifies and the audit trail agrees with the store")
		}
	}
	if !rep.OK() {
		return errBroken
	}
	return nil
}
