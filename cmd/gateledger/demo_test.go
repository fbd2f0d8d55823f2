package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeDemo: what a newcomer meets after `make run` — demo data, a banner with one
// sign-in per role, and a provider who sees a caseload straight away.
func TestServeDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cmd, sc := startMain(t, []string{"GATELEDGER_HTTP_LISTEN=127.0.0.1:0"}, "serve", "--log-format", "text", "--data", dir, "--demo", "--demo-people", "200")
	lines := waitFor(t, sc, "DEMO sign-ins")
	signIn := regexp.MustCompile(`^\s+(prison|provider|inspector|feed|admin)\s*(\S*)\s+(glt_\S+)$`)
	tokens := map[string][2]string{}
	for sc.Scan() && len(tokens) < 5 {
		if m := signIn.FindStringSubmatch(sc.Text()); m != nil {
			tokens[m[1]] = [2]string{m[2], m[3]}
		}
	}
	for _, role := range []string{"prison", "provider", "inspector", "feed", "admin"} {
		if tokens[role][1] == "" {
			t.Fatalf("no demo sign-in for %s; got %v", role, tokens)
		}
	}
	addr := regexp.MustCompile(`http=(\S+)`).FindStringSubmatch(strings.Join(lines, "\n"))
	if addr == nil {
		t.Fatalf("no address in:\n%s", strings.Join(lines, "\n"))
	}
	// The provider's caseload fills as the projections catch up with the demo data.
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr[1]+"/v1/organisations/"+tokens["provider"][0]+"/caseload", nil)
		req.Header.Set("Authorization", "Bearer "+tokens["provider"][1])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Cases []json.RawMessage `json:"cases"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("caseload of %s: %d %v", tokens["provider"][0], resp.StatusCode, err)
		}
		if len(body.Cases) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo provider %s has an empty caseload", tokens["provider"][0])
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, sc, "stopped")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
}
