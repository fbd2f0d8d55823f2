// Package demo fills an empty ledger with realistic generated journeys and demo
// sign-ins, so that a newcomer's `make run` shows a living system. It never touches a
// store that already holds other data.
//
// Of ours it may import aggregates, auth, eventlog, eventstore and the internal journeygen
// and progress.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/internal/journeygen"
	"github.com/gateledger/gateledger/internal/progress"
)

// SignIn is a demo principal's token.
type SignIn struct {
	Role  auth.Role `json:"role"`
	Org   string    `json:"org,omitempty"`
	Name  string    `json:"name"`
	Token string    `json:"token"`
}

// Config says what to load.
type Config struct {
	Store  *eventstore.Conn
	Tokens *auth.Tokens
	Policy aggregates.Policy
	// DataDir keeps the demo sign-ins (0600), so a restart can show them again.
	DataDir string
	// Journeys is how many people to generate; 0 means 3,000.
	Journeys int
	// Now is the end of the generated histories; zero means time.Now.
	Now      time.Time
	Logger   *slog.Logger
	Progress io.Writer
}

// signInsFile names the file that keeps the demo tokens.
const signInsFile = "demo-sign-ins.json"

// ErrNotEmpty says the store holds data the demo did not write: no demo is loaded.
var ErrNotEmpty = errors.New("the event store already holds data; no demo data loaded")

// Ensure loads the demo into an empty store, or finds the demo loaded before, and
// returns its sign-ins.
func Ensure(ctx context.Context, cfg Config) ([]SignIn, error) {
	if cfg.Journeys <= 0 {
		cfg.Journeys = 3000
	}
	if cfg.Now.IsZero() {
		cfg.Now = time.Now()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	path := filepath.Join(cfg.DataDir, signInsFile)
	if b, err := os.ReadFile(path); err == nil {
		var s []SignIn
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, fmt.Errorf("demo sign-ins in %s: %w", path, err)
		}
		return s, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	last, err := eventlog.LastPosition(ctx, cfg.Store.Client)
	if err != nil {
		return nil, err
	}
	if last != 0 {
		return nil, ErrNotEmpty
	}

	cfg.Logger.Info("loading demo data", "journeys", cfg.Journeys)
	gen := journeygen.New(2026, cfg.Now, 3*365*24*time.Hour, cfg.Policy)
	js := make([]journeygen.Journey, cfg.Journeys)
	events := 0
	for i := range js {
		js[i] = gen.Journey(i)
		events += js[i].EventCount()
	}
	bar := progress.New(cfg.Progress, "demo data", float64(events), "events")
	w := &journeygen.Writer{Client: cfg.Store.Client, Progress: func(n int64) { bar.Update(float64(n), float64(n)) }}
	if err := w.Write(ctx, js); err != nil {
		return nil, fmt.Errorf("write demo journeys: %w", err)
	}
	bar.Update(float64(events), float64(events))
	bar.Finish()
	signIns, err := createSignIns(ctx, cfg, js)
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(signIns, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("keep demo sign-ins: %w", err)
	}
	cfg.Logger.Info("demo data loaded", "journeys", len(js), "events", events)
	return signIns, nil
}

// createSignIns issues one token per role, for the prison and the probation
// organisation with the most people, so each demo user sees a full screen.
func createSignIns(ctx context.Context, cfg Config, js []journeygen.Journey) ([]SignIn, error) {
	prisons, providers := map[string]int{}, map[string]int{}
	for _, j := range js {
		f := j.Final
		if f.Custody == aggregates.InCustody && f.Prison != "" {
			prisons[f.Prison]++
		}
		if r := f.Responsible(); r.IsProvider() && !f.Closed {
			providers[string(r)]++
		}
	}
	wanted := []SignIn{
		{Role: auth.RolePrison, Org: busiest(prisons, "MDI"), Name: "Demo prison officer"},
		{Role: auth.RoleProvider, Org: busiest(providers, "C17"), Name: "Demo probation practitioner"},
		{Role: auth.RoleInspector, Name: "Demo inspector"},
		{Role: auth.RoleFeed, Name: "Demo HMPPS feed"},
		{Role: auth.RoleAdmin, Name: "Demo administrator"},
	}
	for i := range wanted {
		tok, _, err := cfg.Tokens.Create(ctx, wanted[i].Role, wanted[i].Org, wanted[i].Name, "demo", cfg.Now.Add(90*24*time.Hour))
		if err != nil {
			return nil, fmt.Errorf("demo token for %s: %w", wanted[i].Role, err)
		}
		wanted[i].Token = tok
	}
	return wanted, nil
}

func busiest(counts map[string]int, fallback string) string {
	if len(counts) == 0 {
		return fallback
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if counts[keys[a]] != counts[keys[b]] {
			return counts[keys[a]] > counts[keys[b]]
		}
		return keys[a] < keys[b]
	})
	return keys[0]
}
