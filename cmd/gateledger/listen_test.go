package main

import (
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// TestIPv6ListenAddresses: every listen flag takes an IPv6 literal. The
// process serves its API on [::1] with the embedded store and the
// profiling endpoint on [::1] too.
func TestIPv6ListenAddresses(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback on this machine: %v", err)
	}
	_ = ln.Close()
	dir := filepath.Join(t.TempDir(), "data")
	cmd, sc := startMain(t, nil, "serve", "--log-format", "text", "--data", dir,
		"--http-listen", "[::1]:0", "--esdb-listen", "[::1]:0", "--admin-listen", "[::1]:0")
	seen := waitFor(t, sc, "gateledger ready")
	joined := strings.Join(seen, "\n")
	if !regexp.MustCompile(`embedded event store ready.*address=\[::1\]:\d+`).MatchString(joined) {
		t.Fatalf("the store does not listen on [::1]:\n%s", joined)
	}
	m := regexp.MustCompile(`http=(\[::1\]:\d+)`).FindStringSubmatch(seen[len(seen)-1])
	if m == nil {
		t.Fatalf("the API does not listen on [::1]: %s", seen[len(seen)-1])
	}
	resp, err := http.Get("http://" + m[1] + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz answered %d", resp.StatusCode)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, sc, "stopped")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
}
