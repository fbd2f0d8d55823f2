package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gateledger/gateledger/internal/demo"
	"github.com/gateledger/gateledger/internal/progress"
	"github.com/gateledger/gateledger/internal/simulate"
)

func simulateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		serverURL, token, signIns, dataDir string
		rate, seed, count                  string
		duration                           string
		lc                                 logConfig
	)
	f := newFlags("simulate", stderr)
	f.string(&serverURL, "url", "URL", "http://127.0.0.1:8080", "base URL of the running ledger")
	f.string(&token, "token", "TOKEN", "", "an admin's bearer token (it creates one token per organisation the simulated people need); empty reads the admin demo sign-in")
	f.string(&dataDir, "data", "DATA_DIR", "./data", "data directory whose demo-sign-ins.json holds the demo sign-ins (make run writes it)")
	f.string(&signIns, "sign-ins", "SIGN_INS", "", "demo sign-ins file to read the admin and feed tokens from; empty means <--data>/demo-sign-ins.json")
	f.string(&rate, "rate", "SIMULATE_RATE", "5", "requests per second")
	f.string(&count, "count", "SIMULATE_COUNT", "0", "stop after this many accepted requests (0: no limit)")
	f.string(&duration, "duration", "SIMULATE_DURATION", "0", "stop after this long, e.g. 10m (0: no limit)")
	f.string(&seed, "seed", "SIMULATE_SEED", "", "seed choosing the people and their histories; the same seed sends the same requests (empty: a new seed, printed)")
	lc.register(f)
	if err := f.parse(args); err != nil {
		return err
	}
	log, err := lc.logger(stderr)
	if err != nil {
		return err
	}
	cfg := simulate.Config{BaseURL: serverURL, AdminToken: token, Logger: log}
	if cfg.Rate, err = strconv.ParseFloat(rate, 64); err != nil || cfg.Rate <= 0 {
		return fmt.Errorf("--rate %q: want a positive number of requests per second", rate)
	}
	if cfg.Count, err = strconv.Atoi(count); err != nil || cfg.Count < 0 {
		return fmt.Errorf("--count %q: want a whole number", count)
	}
	if cfg.Duration, err = time.ParseDuration(duration); err != nil || cfg.Duration < 0 {
		return fmt.Errorf("--duration %q: want a duration such as 90s or 10m", duration)
	}
	if seed == "" {
		cfg.Seed = uint64(time.Now().UnixNano() % 10_000)
		fmt.Fprintf(stderr, "simulate: seed %d (pass --seed %d to repeat this run)\n", cfg.Seed, cfg.Seed)
	} else if cfg.Seed, err = strconv.ParseUint(seed, 10, 64); err != nil {
		return fmt.Errorf("--seed %q: want a whole number", seed)
	}
	if cfg.Policy, err = policy(); err != nil {
		return err
	}
	if cfg.AdminToken == "" || signIns != "" {
		if signIns == "" {
			signIns = filepath.Join(dataDir, "demo-sign-ins.json")
		}
		b, err := os.ReadFile(signIns)
		if err != nil {
			return fmt.Errorf("no --token, and the demo sign-ins cannot be read (start the ledger with make run first): %w", err)
		}
		var list []demo.SignIn
		if err := json.Unmarshal(b, &list); err != nil {
			return fmt.Errorf("%s: %w", signIns, err)
		}
		for _, s := range list {
			switch {
			case s.Role == "admin" && cfg.AdminToken == "":
				cfg.AdminToken = s.Token
			case s.Role == "feed":
				cfg.FeedToken = s.Token
			}
		}
		if cfg.AdminToken == "" {
			return errors.New(signIns + " holds no admin sign-in; pass --token")
		}
	}
	var bar *progress.Reporter
	switch {
	case cfg.Count > 0:
		bar = progress.New(stderr, "simulate", float64(cfg.Count), "requests")
		cfg.Progress = func(n int, _ time.Duration) { bar.Update(float64(n), float64(n)) }
	case cfg.Duration > 0:
		bar = progress.New(stderr, "simulate", cfg.Duration.Seconds(), "requests")
		cfg.Progress = func(n int, d time.Duration) { bar.Update(d.Seconds(), float64(n)) }
	default:
		last := time.Now()
		cfg.Progress = func(n int, _ time.Duration) {
			if time.Since(last) >= 30*time.Second {
				last = time.Now()
				log.Info("simulate", "accepted", n)
			}
		}
	}
	rep, err := simulate.Run(ctx, cfg)
	if bar != nil {
		bar.Finish()
	}
	fmt.Fprintf(stdout, "simulated %d people: %d requests accepted (%d commands, %d HMPPS feed messages) recording %d events; %d retried, %d refused\n",
		rep.People, rep.Accepted, rep.Commands, rep.FeedMessages, rep.Events, rep.Retried, rep.Refused)
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil // Ctrl-C: the summary is the answer
	}
	return err
}
