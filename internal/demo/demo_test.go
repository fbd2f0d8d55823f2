package demo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventlog/eventlogtest"
)

func TestDemoLoadsOnceIntoAnEmptyStoreOnly(t *testing.T) {
	store := eventlogtest.Store(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	tokens := auth.NewTokens(store.Client, auth.TokensConfig{})
	cfg := Config{Store: store, Tokens: tokens, Policy: aggregates.DefaultPolicy(nil), DataDir: dir, Journeys: 60}
	signIns, err := Ensure(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	roles := map[auth.Role]bool{}
	for _, s := range signIns {
		p, err := tokens.Verify(ctx, s.Token)
		if err != nil {
			t.Fatalf("demo token for %s does not verify: %v", s.Role, err)
		}
		if p.Role != s.Role || p.Org != s.Org {
			t.Fatalf("demo token for %s/%s verifies as %s/%s", s.Role, s.Org, p.Role, p.Org)
		}
		roles[s.Role] = true
	}
	for _, r := range []auth.Role{auth.RolePrison, auth.RoleProvider, auth.RoleInspector, auth.RoleFeed, auth.RoleAdmin} {
		if !roles[r] {
			t.Errorf("no demo sign-in for %s", r)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, signInsFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("demo sign-ins file: %v, mode %v", err, fi.Mode())
	}
	last, err := eventlog.LastPosition(ctx, store.Client)
	if err != nil || last == 0 {
		t.Fatalf("no demo events written: %v", err)
	}

	// A restart finds the same sign-ins and writes nothing more.
	again, err := Ensure(ctx, cfg)
	if err != nil || len(again) != len(signIns) || again[0].Token != signIns[0].Token {
		t.Fatalf("second Ensure: %v, %d sign-ins", err, len(again))
	}
	if after, _ := eventlog.LastPosition(ctx, store.Client); after != last {
		t.Fatalf("second Ensure wrote events: %d -> %d", last, after)
	}

	// A store with other data and no demo file is left alone.
	cfg.DataDir = t.TempDir()
	if _, err := Ensure(ctx, cfg); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("Ensure on a store with data: %v, want ErrNotEmpty", err)
	}
}
