package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gateledger/gateledger/internal/journeygen"
)

// TestSimulateAgainstARunningLedger: simulate, against a real ledger on loopback,
// gets every request accepted (retrying only the answers it expects), and what it
// recorded shows in the read models.
func TestSimulateAgainstARunningLedger(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a ledger process")
	}
	dir := filepath.Join(t.TempDir(), "data")
	admin := adminToken(t, dir)
	code, out, errOut := runCmd(t, "token", "create", "--data", dir, "--role", "inspector", "--name", "check")
	if code != 0 {
		t.Fatalf("token create: %s", errOut)
	}
	inspector := strings.TrimSpace(out)
	stop, httpAddr, _ := startLedgerProcess(t, dir)
	defer stop()

	code, out, errOut = runCmd(t, "simulate", "--url", "http://"+httpAddr, "--token", admin, "--seed", "7",
		"--rate", "100", "--count", "150", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("simulate: exit %d\n%s%s", code, out, errOut)
	}
	m := regexp.MustCompile(`(\d+) requests accepted \((\d+) commands, (\d+) HMPPS feed messages\) recording (\d+) events; (\d+) retried, (\d+) refused`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no summary:\n%s%s", out, errOut)
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	if n(1) != 150 || n(2) == 0 || n(3) == 0 || n(4) < 150 || n(6) != 0 {
		t.Fatalf("simulate: %s\n%s", m[0], errOut)
	}
	if !strings.Contains(errOut, "simulate 100.0%") {
		t.Fatalf("no progress:\n%s", errOut)
	}

	// The first simulated person's history is in the audit read model.
	noms := journeygen.NOMS(1_000_000 + 7*10_000)
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, "http://"+httpAddr+"/v1/journeys/"+noms+"/trail", nil)
		req.Header.Set("Authorization", "Bearer "+inspector)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var trail struct {
			Entries []json.RawMessage `json:"entries"`
		}
		err = json.NewDecoder(resp.Body).Decode(&trail)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && err == nil && len(trail.Entries) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("trail of %s: %d %v %d entries", noms, resp.StatusCode, err, len(trail.Entries))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
