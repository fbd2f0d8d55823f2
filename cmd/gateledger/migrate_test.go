package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gateledger/gateledger/eventlog/eventlogtest"
)

// TestMigrateCommand copies a stopped ledger's embedded store into another store over
// gRPC; a second run copies nothing.
func TestMigrateCommand(t *testing.T) {
	dir := t.TempDir()
	adminToken(t, dir) // events to copy
	target := eventlogtest.Store(t)
	to := "esdb://" + target.Node.Addr() + "?tls=false"
	code, out, errOut := runCmd(t, "migrate", "--data", dir, "--to", to, "--log-level", "warn")
	if code != 0 || !regexp.MustCompile(`copied [1-9]\d* events`).MatchString(out) {
		t.Fatalf("migrate: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "migrate 100.0%") {
		t.Fatalf("no progress:\n%s", errOut)
	}
	code, out, errOut = runCmd(t, "migrate", "--data", dir, "--to", to, "--log-level", "warn")
	if code != 0 || !strings.Contains(out, "copied 0 events") || !strings.Contains(out, "resumed after") {
		t.Fatalf("second migrate: exit %d\n%s%s", code, out, errOut)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := target.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCmd(t, "migrate", "--data", dir); code != 2 || !strings.Contains(errOut, "--to") {
		t.Fatalf("migrate without --to: exit %d\n%s", code, errOut)
	}
}
