package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestNewcomer does what a newcomer does: clone the repository, `make run`, wait for
// the ledger, and use the demo sign-ins it prints against the API, where the demo
// data must be visible. It runs the real Makefile in a clean clone of HEAD, so it
// needs git, make and what make run installs (Go modules, the npm packages), and it
// is bounded in time.
func TestNewcomer(t *testing.T) {
	if testing.Short() {
		t.Skip("clones the repository and builds it (minutes)")
	}
	for _, tool := range []string{"git", "make"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("a newcomer needs %s: %v", tool, err)
		}
	}
	root, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatalf("not in a git checkout: %v", err)
	}
	clone := filepath.Join(t.TempDir(), "gateledger")
	if out, err := exec.Command("git", "clone", "--quiet", "--no-hardlinks", strings.TrimSpace(string(root)), clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	data := filepath.Join(t.TempDir(), "data")

	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	cmd := exec.Command("make", "run", "DATA="+data, "HTTP=127.0.0.1:0")
	cmd.Dir = clone
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = newcomerEnv()
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); pw.Close() }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		// The whole process group make started: make and the ledger it runs.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}
	t.Cleanup(stop)

	var mu sync.Mutex
	var output []string
	banner := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		closed := false
		for sc.Scan() {
			mu.Lock()
			output = append(output, sc.Text())
			n := len(output)
			mu.Unlock()
			// The banner ends with the last sign-in, then a blank line.
			if !closed && n > 1 && sc.Text() == "" && strings.Contains(output[n-2], "glt_") {
				closed = true
				close(banner)
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	dump := func() string { mu.Lock(); defer mu.Unlock(); return strings.Join(output, "\n") }
	select {
	case <-banner:
	case err := <-exited:
		t.Fatalf("make run exited before the banner: %v\n%s", err, dump())
	case <-ctx.Done():
		t.Fatalf("no banner within the time limit:\n%s", dump())
	}
	out := dump()
	m := regexp.MustCompile(`API:\s+http://(\S+)/v1/`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the banner gives no API address:\n%s", out)
	}
	base := "http://" + m[1]
	signIn := regexp.MustCompile(`(?m)^\s+(prison|provider|inspector|feed|admin)\s*(\S*)\s+(glt_\S+)$`)
	tokens := map[string][2]string{}
	for _, s := range signIn.FindAllStringSubmatch(out, -1) {
		tokens[s[1]] = [2]string{s[2], s[3]}
	}
	// The sign-ins file says the same.
	b, err := os.ReadFile(filepath.Join(data, "demo-sign-ins.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file []struct{ Role, Org, Token string }
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	if len(file) != 5 || len(tokens) != 5 {
		t.Fatalf("%d sign-ins in the file, %d in the banner:\n%s", len(file), len(tokens), out)
	}
	for _, s := range file {
		if tokens[s.Role] != [2]string{s.Org, s.Token} {
			t.Fatalf("sign-in of %s: banner %v, file %s %s", s.Role, tokens[s.Role], s.Org, s.Token)
		}
	}

	call := func(token, path string, into any) int {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		if into != nil && resp.StatusCode == http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
		}
		return resp.StatusCode
	}
	// Ready: the read models have caught up with the demo data.
	for call("", "/healthz", nil) != http.StatusOK || call("", "/readyz", nil) != http.StatusOK {
		if ctx.Err() != nil {
			t.Fatalf("not ready in time:\n%s", dump())
		}
		time.Sleep(200 * time.Millisecond)
	}
	var caseload struct {
		Cases []struct {
			NOMS string `json:"noms"`
		} `json:"cases"`
	}
	for _, role := range []string{"provider", "prison"} {
		tok := tokens[role]
		if code := call(tok[1], "/v1/organisations/"+tok[0]+"/caseload", &caseload); code != http.StatusOK || len(caseload.Cases) == 0 {
			t.Fatalf("the demo %s %s: caseload answers %d with %d cases", role, tok[0], code, len(caseload.Cases))
		}
	}
	noms := caseload.Cases[0].NOMS
	var trail struct {
		Entries []json.RawMessage `json:"entries"`
	}
	if code := call(tokens["inspector"][1], "/v1/journeys/"+noms+"/trail", &trail); code != http.StatusOK || len(trail.Entries) == 0 {
		t.Fatalf("the demo inspector reading %s's trail: %d, %d entries", noms, code, len(trail.Entries))
	}
	if code := call(tokens["admin"][1], "/v1/tokens", nil); code != http.StatusOK {
		t.Fatalf("the demo admin listing tokens: %d", code)
	}
	// The feed principal is known (not 401) and may only ingest.
	if code := call(tokens["feed"][1], "/v1/tokens", nil); code != http.StatusForbidden {
		t.Fatalf("the demo feed sign-in on an admin route: %d, want 403", code)
	}
	stop()
	if !strings.Contains(dump(), "stopped") {
		t.Fatalf("the ledger did not stop cleanly on Ctrl-C:\n%s", dump())
	}
}

// newcomerEnv is this environment without the ledger's own variables, which a
// newcomer has not set.
func newcomerEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envPrefix) {
			env = append(env, kv)
		}
	}
	return env
}
