package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/internal/journeygen"
	"github.com/gateledger/gateledger/internal/progress"
	"github.com/gateledger/gateledger/journeys"
	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/projections/readmodel"
)

// ProjectionResults are the read-model figures; the JSON keys are the ones
// `gateledger bench --json` promises.
type ProjectionResults struct {
	RebuildEvPerS      float64 `json:"rebuild_ev_per_s"`
	RebuildEvents      uint64  `json:"rebuild_events"`
	RebuildSeconds     float64 `json:"rebuild_seconds"`
	RebuildPeakRSSMB   float64 `json:"rebuild_peak_rss_mb"`
	RebuildPeakAnonMB  float64 `json:"rebuild_peak_anon_mb"`
	AuditQueryP99Ms    float64 `json:"audit_query_p99_ms"`
	AuditEvents        int     `json:"audit_events"`
	CaseloadQueryP99Ms float64 `json:"caseload_query_p99_ms"`
	CaseloadRows       int     `json:"caseload_rows"`
	CaseloadOrg        string  `json:"caseload_org"`
	// CaseloadPage*: one page (50 rows) of an organisation holding NationalCases.
	CaseloadPageP99Ms float64 `json:"caseload_page_p99_ms"`
	CaseloadPageRows  int     `json:"caseload_page_org_rows"`
	CaseloadPageOrg   string  `json:"caseload_page_org"`
	Journeys          int     `json:"journeys"`
}

// ReplayOutcome is what a rebuild reports: it runs in a process of its own, so that its
// peak memory is its own.
type ReplayOutcome struct {
	Events   uint64
	Seconds  float64
	MaxRSSMB float64
	// PeakAnonMB leaves out the store files the process maps.
	PeakAnonMB float64
}

// ProjectionConfig sets the size of a read-model run.
type ProjectionConfig struct {
	Dir string
	// Events is how many journey events to generate; 0 means 1,000,000.
	Events int
	// Replay rebuilds every projection of the store in dataDir from zero.
	Replay   func(ctx context.Context, dataDir string) (ReplayOutcome, error)
	Policy   aggregates.Policy
	Progress io.Writer
	Logger   *slog.Logger
}

// RunProjections fills a store with generated journeys, rebuilds every read model from
// position zero (through cfg.Replay), then measures the queries people wait for.
func RunProjections(ctx context.Context, cfg ProjectionConfig) (ProjectionResults, error) {
	var res ProjectionResults
	if cfg.Events <= 0 {
		cfg.Events = 1_000_000
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	dataDir := filepath.Join(cfg.Dir, "ledger")
	now := time.Now().UTC()
	longNOMS := "Z9999ZZ"
	journeysWritten, err := fill(ctx, cfg, dataDir, now, longNOMS)
	if err != nil {
		return res, err
	}
	res.Journeys = journeysWritten

	fmt.Fprintln(cfg.Progress, "bench: rebuild every read model from position zero")
	out, err := cfg.Replay(ctx, dataDir)
	if err != nil {
		return res, fmt.Errorf("replay: %w", err)
	}
	res.RebuildEvents, res.RebuildSeconds, res.RebuildPeakRSSMB, res.RebuildPeakAnonMB = out.Events, out.Seconds, out.MaxRSSMB, out.PeakAnonMB
	if out.Seconds > 0 {
		res.RebuildEvPerS = float64(out.Events) / out.Seconds
	}

	fmt.Fprintln(cfg.Progress, "bench: query latency")
	store, err := eventstore.Open(ctx, eventstore.Config{DataDir: dataDir, Logger: cfg.Logger})
	if err != nil {
		return res, err
	}
	defer store.Close(context.WithoutCancel(ctx))
	r, err := readmodel.Open(filepath.Join(dataDir, "projections.db"), store.Client, cfg.Logger, projections.All(cfg.Policy)...)
	if err != nil {
		return res, err
	}
	defer r.Close()

	org, rows := "", 0
	for _, candidate := range candidateOrgs() {
		cs, err := projections.Caseload(r, candidate, now)
		if err != nil {
			return res, err
		}
		if len(cs) > rows {
			org, rows = candidate, len(cs)
		}
	}
	res.CaseloadOrg, res.CaseloadRows = org, rows
	res.CaseloadQueryP99Ms, err = p99(300, func() error { _, err := projections.Caseload(r, org, now); return err })
	if err != nil {
		return res, err
	}
	trail, err := projections.Trail(r, longNOMS)
	if err != nil {
		return res, err
	}
	res.AuditEvents = len(trail)
	res.AuditQueryP99Ms, err = p99(300, func() error { _, err := projections.Trail(r, longNOMS); return err })
	if err != nil {
		return res, err
	}
	res.CaseloadPageOrg, res.CaseloadPageRows, res.CaseloadPageP99Ms, err = nationalCaseload(ctx, cfg, now)
	return res, err
}

// fill writes generated journeys until cfg.Events events are stored, plus one person
// with a 500-event history for the audit trail query.
func fill(ctx context.Context, cfg ProjectionConfig, dataDir string, now time.Time, longNOMS string) (int, error) {
	store, err := eventstore.Open(ctx, eventstore.Config{DataDir: dataDir, Logger: cfg.Logger})
	if err != nil {
		return 0, err
	}
	defer store.Close(context.WithoutCancel(ctx))
	fmt.Fprintf(cfg.Progress, "bench: write %d generated journey events\n", cfg.Events)
	bar := progress.New(cfg.Progress, "generate", float64(cfg.Events), "events")
	gen := journeygen.New(42, now, 4*365*24*time.Hour, cfg.Policy)
	var total int64
	n := 0
	for total < int64(cfg.Events) {
		// Chunks bound memory; within a chunk, histories interleave in $all.
		chunk := generate(gen, n, 2000)
		size := total
		for i, j := range chunk {
			if size >= int64(cfg.Events) {
				chunk = chunk[:i]
				break
			}
			size += int64(j.EventCount())
		}
		n += len(chunk)
		base := total
		w := &journeygen.Writer{Client: store.Client, Concurrency: 32, StepsPerAppend: 6,
			Progress: func(written int64) { bar.Update(float64(base+written), float64(base+written)) }}
		if err := w.Write(ctx, chunk); err != nil {
			return n, err
		}
		for _, j := range chunk {
			total += int64(j.EventCount())
		}
	}
	bar.Update(float64(total), float64(total))
	bar.Finish()
	return n, longJourney(ctx, store, cfg.Policy, longNOMS, now)
}

// longJourney records a person whose plan was revised hundreds of times: a 500-event
// audit trail, through the command service.
func longJourney(ctx context.Context, store *eventstore.Conn, pol aggregates.Policy, noms string, now time.Time) error {
	svc := &journeys.Service{Store: store, Policy: pol}
	at := now.Add(-30 * 24 * time.Hour)
	meta := func(i int) journeys.CommandMeta {
		return journeys.CommandMeta{UserID: "bench", Role: "prison", Organisation: "MDI", Source: aggregates.SourceAPI, IdempotencyKey: fmt.Sprintf("bench-long-%d", i)}
	}
	cmds := []aggregates.Command{
		aggregates.ReceivePrisoner{NOMS: noms, Kind: aggregates.ReceptionSentence, Prison: "MDI", At: at},
		aggregates.CompleteScreening{At: at.Add(time.Hour)},
		aggregates.DraftPlan{Summary: "Plan", At: at.Add(2 * time.Hour)},
	}
	for i := 0; i < 497; i++ {
		cmds = append(cmds, aggregates.RevisePlan{Summary: fmt.Sprintf("Plan revision %d", i+1), Reason: "Reviewed with the person", At: at.Add(3*time.Hour + time.Duration(i)*time.Minute)})
	}
	for i, c := range cmds {
		if _, err := svc.Handle(ctx, noms, c, meta(i)); err != nil {
			return fmt.Errorf("long journey step %d: %w", i, err)
		}
	}
	return nil
}

func candidateOrgs() []string {
	orgs := journeygen.Areas()
	for i := 1; i <= 7; i++ {
		orgs = append(orgs, fmt.Sprintf("N%02d", i))
	}
	for c := 'A'; c <= 'L'; c++ {
		orgs = append(orgs, string(aggregates.NPSRegionOrg(string(c))))
	}
	return orgs
}

// p99 runs fn n times and returns the 99th percentile duration in milliseconds.
func p99(n int, fn func() error) (float64, error) {
	d := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		start := time.Now()
		if err := fn(); err != nil {
			return 0, err
		}
		d = append(d, time.Since(start))
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return ms(d[len(d)*99/100]), nil
}

// generate makes journeys first..first+n-1 on every core; each is deterministic on its
// own, so the order of work does not matter.
func generate(gen *journeygen.Generator, first, n int) []journeygen.Journey {
	out := make([]journeygen.Journey, n)
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += workers {
				out[i] = gen.Journey(first + i)
			}
		}(w)
	}
	wg.Wait()
	return out
}
