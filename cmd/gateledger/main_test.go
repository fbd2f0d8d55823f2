package main

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the tests run this binary's main() in a child process, so that real
// signals can be sent to it.
func TestMain(m *testing.M) {
	if os.Getenv("GATELEDGER_RUN_MAIN") == "1" {
		os.Args = append([]string{"gateledger"}, strings.Fields(os.Getenv("GATELEDGER_MAIN_ARGS"))...)
		main()
		return
	}
	os.Exit(m.Run())
}

func startMain(t *testing.T, env []string, args ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), append(env, "GATELEDGER_RUN_MAIN=1", "GATELEDGER_MAIN_ARGS="+strings.Join(args, " "))...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, bufio.NewScanner(stderr)
}

// waitFor reads log lines until one contains want.
func waitFor(t *testing.T, sc *bufio.Scanner, want string) []string {
	t.Helper()
	var seen []string
	done := make(chan bool, 1)
	go func() {
		for sc.Scan() {
			seen = append(seen, sc.Text())
			if strings.Contains(sc.Text(), want) {
				done <- true
				return
			}
		}
		done <- false
	}()
	select {
	case ok := <-done:
		if !ok {
			t.Fatalf("output ended before %q; saw:\n%s", want, strings.Join(seen, "\n"))
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("no %q within 60 s", want)
	}
	return seen
}

func TestServeShutsDownCleanlyOnSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			cmd, sc := startMain(t, []string{"GATELEDGER_DATA_DIR=" + dir, "GATELEDGER_HTTP_LISTEN=127.0.0.1:0"}, "serve", "--log-format", "text")
			seen := waitFor(t, sc, "gateledger ready")
			m := regexp.MustCompile(`http=(\S+)`).FindStringSubmatch(seen[len(seen)-1])
			if m == nil {
				t.Fatalf("the ready line does not say where the HTTP API listens: %s", seen[len(seen)-1])
			}
			resp, err := http.Get("http://" + m[1] + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("healthz answered %d", resp.StatusCode)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			waitFor(t, sc, "stopped")
			if err := cmd.Wait(); err != nil {
				t.Fatalf("exit after %v: %v", sig, err)
			}
			if _, err := os.Stat(filepath.Join(dir, "events.db")); err != nil {
				t.Fatalf("the data directory from GATELEDGER_DATA_DIR was not used: %v", err)
			}
			for _, secret := range []string{"esdb/admin.password", "esdb/server.key", "esdb/ca.key"} {
				fi, err := os.Stat(filepath.Join(dir, secret))
				if err != nil {
					t.Fatalf("%s: %v", secret, err)
				}
				if fi.Mode().Perm() != 0o600 {
					t.Errorf("%s has mode %v, want 0600", secret, fi.Mode().Perm())
				}
			}
		})
	}
}

func TestCommandLineErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
		wantErr  string
	}{
		{"no command", nil, nil, 2, "Usage"},
		{"unknown command", []string{"frobnicate"}, nil, 2, "unknown command"},
		{"unknown flag", []string{"serve", "--nope"}, nil, 2, "flag provided but not defined"},
		{"stray argument", []string{"serve", "extra"}, nil, 2, "unexpected arguments"},
		{"bad boolean env", []string{"serve"}, map[string]string{"GATELEDGER_ESDB_INSECURE": "maybe"}, 1, "not a boolean"},
		{"bad log level", []string{"serve", "--log-level", "loud"}, nil, 1, "log level"},
		{"bad rate limit", []string{"serve", "--data", "DIR", "--rate-limit", "fast"}, nil, 1, "--rate-limit"},
		{"insecure off loopback", []string{"serve", "--data", "DIR", "--esdb-insecure", "--esdb-listen", "0.0.0.0:0"}, nil, 1, "loopback"},
		{"listen with external store", []string{"serve", "--eventstore", "esdb://localhost:2113", "--esdb-listen", "127.0.0.1:0"}, nil, 1, "cannot be used with --eventstore"},
		{"help", []string{"help"}, nil, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				args[i] = strings.ReplaceAll(a, "DIR", t.TempDir())
			}
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			code := run(ctx, args, &stdout, &stderr)
			if code != tc.wantCode {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, tc.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.wantErr) {
				t.Fatalf("stderr does not mention %q:\n%s", tc.wantErr, stderr.String())
			}
		})
	}
}
