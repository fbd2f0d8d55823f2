package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventlog/eventlogtest"
	"github.com/gateledger/gateledger/eventstore"
)

// runToken runs gateledger in-process and returns its exit code and output.
func runToken(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

var tokenLine = regexp.MustCompile(`^glt_([0-9a-f]{12})_[A-Za-z0-9_-]{43}\n$`)

func TestTokenCreateListRevoke(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	code, out, errOut := runToken(t, "token", "create", "--data", dir, "--role", "provider", "--org", "C17", "--name", "London desk", "--expires", "30d")
	if code != 0 {
		t.Fatalf("create: exit %d\n%s", code, errOut)
	}
	m := tokenLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("create printed %q, want the token alone on a line", out)
	}
	tok, id := strings.TrimSpace(out), m[1]
	if !strings.Contains(errOut, "cannot be shown again") {
		t.Fatalf("no warning that the token cannot be shown again:\n%s", errOut)
	}
	code, out2, errOut := runToken(t, "token", "create", "--data", dir, "--role", "inspector", "--name", "HMIP", "--expires", "never")
	if code != 0 {
		t.Fatalf("create inspector: exit %d\n%s", code, errOut)
	}
	if out2 == out {
		t.Fatal("two tokens are the same")
	}

	code, list, errOut := runToken(t, "token", "list", "--data", dir)
	if code != 0 {
		t.Fatalf("list: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(list, id) || !strings.Contains(list, "London desk") || !strings.Contains(list, "active") || !strings.Contains(list, "never") {
		t.Fatalf("list:\n%s", list)
	}
	if strings.Contains(list, tok[len("glt_")+13:]) {
		t.Fatal("list shows the secret")
	}

	code, out, errOut = runToken(t, "token", "revoke", id, "--data", dir, "--reason", "desk closed")
	if code != 0 {
		t.Fatalf("revoke: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(out, "revoked") {
		t.Fatalf("revoke printed %q", out)
	}
	_, list, _ = runToken(t, "token", "list", "--data", dir)
	if !strings.Contains(list, "desk closed") {
		t.Fatalf("list after revoke:\n%s", list)
	}

	// The ledger refuses the revoked token and accepts the other one.
	ctx := context.Background()
	store, err := eventstore.Open(ctx, eventstore.Config{DataDir: dir, Logger: eventlogtest.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(ctx)
	toks := auth.NewTokens(store.Client, auth.TokensConfig{Logger: eventlogtest.Logger()})
	if _, err := toks.Verify(ctx, tok); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("revoked token: %v", err)
	}
	if p, err := toks.Verify(ctx, strings.TrimSpace(out2)); err != nil || p.Role != auth.RoleInspector {
		t.Fatalf("inspector token: %+v %v", p, err)
	}

	// While the store is open (a running ledger), token commands say so.
	code, _, errOut = runToken(t, "token", "list", "--data", dir)
	if code != 1 || !strings.Contains(errOut, "open in another process") {
		t.Fatalf("list against a store in use: exit %d\n%s", code, errOut)
	}
}

func TestTokenCommandLineErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no subcommand", []string{"token"}, 2, "Usage"},
		{"unknown subcommand", []string{"token", "mint"}, 2, "unknown subcommand"},
		{"unknown role", []string{"token", "create", "--data", "DIR", "--role", "root", "--name", "x"}, 1, "unknown role"},
		{"provider with prison code", []string{"token", "create", "--data", "DIR", "--role", "provider", "--org", "MDI", "--name", "x"}, 1, "provider principal"},
		{"prison without org", []string{"token", "create", "--data", "DIR", "--role", "prison", "--name", "x"}, 1, "prison code"},
		{"inspector with org", []string{"token", "create", "--data", "DIR", "--role", "inspector", "--org", "C17", "--name", "x"}, 1, "no organisation"},
		{"no name", []string{"token", "create", "--data", "DIR", "--role", "admin"}, 1, "--name is required"},
		{"bad expiry", []string{"token", "create", "--data", "DIR", "--role", "admin", "--name", "x", "--expires", "soon"}, 1, "--expires"},
		{"zero days", []string{"token", "create", "--data", "DIR", "--role", "admin", "--name", "x", "--expires", "0d"}, 1, "--expires"},
		{"stray argument", []string{"token", "list", "--data", "DIR", "extra"}, 2, "unexpected arguments"},
		{"revoke without id", []string{"token", "revoke", "--data", "DIR"}, 2, "say which token"},
		{"revoke a malformed id", []string{"token", "revoke", "XYZ", "--data", "DIR"}, 1, "not a token ID"},
		{"revoke an unknown id", []string{"token", "revoke", "0123456789ab", "--data", "DIR"}, 1, "no such token"},
		{"help", []string{"token", "help"}, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				args[i] = strings.ReplaceAll(a, "DIR", dir)
			}
			code, _, errOut := runToken(t, args...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\n%s", code, tc.wantCode, errOut)
			}
			if !strings.Contains(errOut, tc.wantErr) {
				t.Fatalf("stderr does not mention %q:\n%s", tc.wantErr, errOut)
			}
		})
	}
}

func TestParseExpiry(t *testing.T) {
	for in, want := range map[string]time.Duration{"never": 0, "90d": 90 * 24 * time.Hour, "1d": 24 * time.Hour, "12h": 12 * time.Hour} {
		if got, err := parseExpiry(in); err != nil || got != want {
			t.Errorf("parseExpiry(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "d", "-1d", "3651d", "1.5d", "-1h", "0s", "forever"} {
		if _, err := parseExpiry(in); err == nil {
			t.Errorf("parseExpiry(%q) accepted", in)
		}
	}
}

// TestMissingDataDirRefused: a command pointed at a data directory that does
// not exist says so and fails, instead of creating an empty store and
// reporting on it; token create makes it, saying so.
func TestMissingDataDirRefused(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	for _, args := range [][]string{
		{"token", "list", "--data", missing},
		{"token", "revoke", "1a2b3c4d5e6f", "--data", missing},
		{"verify", "--data", missing},
		{"replay", "--data", missing},
		{"backup", "--data", missing, "--out", filepath.Join(t.TempDir(), "b.db")},
	} {
		code, _, errOut := runToken(t, args...)
		if code == 0 || !strings.Contains(errOut, "does not exist") || !strings.Contains(errOut, "--data") {
			t.Errorf("%v: exit %d\n%s", args, code, errOut)
		}
		if _, err := os.Stat(missing); !os.IsNotExist(err) {
			t.Fatalf("%v created %s", args, missing)
		}
	}
	code, _, errOut := runToken(t, "token", "create", "--data", missing, "--role", "admin", "--name", "first")
	if code != 0 || !strings.Contains(errOut, "Creating the data directory") {
		t.Errorf("token create on a new directory: exit %d\n%s", code, errOut)
	}
}
