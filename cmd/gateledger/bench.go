package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/pprof"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/gateledger/gateledger/internal/bench"
	"github.com/gateledger/gateledger/internal/loadtest"
)

// benchReport is `gateledger bench --json`: every figure in one object.
type benchReport struct {
	*bench.Results
	*bench.ProjectionResults
	*wsResults
}

// wsResults names the load test's figures in benchReport (bench.Results is
// already the field Results).
type wsResults = loadtest.Results

func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("bench", stderr)
	var dir, only string
	var asJSON bool
	var phase time.Duration
	var events int
	f.string(&dir, "dir", "BENCH_DIR", "", "scratch directory for the run (default: a new temporary directory, removed afterwards)")
	f.bool(&asJSON, "json", "BENCH_JSON", false, "print the figures as one JSON object")
	f.string(&only, "only", "BENCH_ONLY", "", "run only the `store`, the `projections` or the `ws` (live feed load test) part")
	f.DurationVar(&phase, "phase", 3*time.Second, "length of each timed phase of the store part")
	f.IntVar(&events, "events", 1_000_000, "generated events the projections part rebuilds from")
	var ws loadtest.Config
	f.IntVar(&ws.Subscribers, "ws-subscribers", loadtest.DefaultSubscribers, "WebSocket subscribers of the ws part")
	f.IntVar(&ws.Rate, "ws-rate", loadtest.DefaultRate, "commands per second of the ws part")
	f.DurationVar(&ws.Duration, "ws-duration", loadtest.DefaultDuration, "length of the ws part's command phase")
	var cpuProfile string
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	if err := f.parse(args); err != nil {
		return err
	}
	if only != "" && only != "store" && only != "projections" && only != "ws" {
		return fmt.Errorf("--only %q: want store, projections or ws", only)
	}
	if dir == "" {
		tmp, err := os.MkdirTemp("", "gateledger-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	if cpuProfile != "" {
		pf, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var rep benchReport
	if only == "" || only == "store" {
		res, err := bench.Run(ctx, bench.Config{Dir: dir + "/store", Phase: phase, Progress: stderr})
		if err != nil {
			return err
		}
		rep.Results = &res
	}
	if only == "" || only == "projections" {
		pol, err := policy()
		if err != nil {
			return err
		}
		res, err := bench.RunProjections(ctx, bench.ProjectionConfig{Dir: dir + "/projections", Events: events, Policy: pol, Progress: stderr, Replay: replayInChild})
		if err != nil {
			return err
		}
		rep.ProjectionResults = &res
	}
	if only == "" || only == "ws" {
		res, err := runLoadtest(ctx, dir+"/ws", ws, stderr)
		if err != nil {
			return err
		}
		rep.wsResults = &res
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(name string, v float64, unit, target string) {
		fmt.Fprintf(tw, "%s\t%.1f\t%s\t%s\t\n", name, v, unit, target)
	}
	fmt.Fprintf(tw, "measure\tvalue\tunit\ttarget\t\n")
	if r := rep.Results; r != nil {
		row("disk fdatasync", r.DiskFdatasyncPerS, "/s", "")
		row("disk sequential write", r.DiskSeqWriteMBPerS, "MB/s", "")
		row("append, 1 writer", r.Append1WEvPerS, "events/s", "")
		row("append, 64 writers", r.Append64WEvPerS, "events/s", ">= 15000")
		row("append, 64 writers x 50-event batches", r.Append64WBatch50EvPerS, "events/s", ">= 100000")
		row("catch-up read of $all", r.CatchupReadEvPerS, "events/s", ">= 250000")
		row("live subscription p50", r.LiveP50Ms, "ms", "")
		row("live subscription p99", r.LiveP99Ms, "ms", "<= 10")
	}
	if p := rep.ProjectionResults; p != nil {
		row(fmt.Sprintf("rebuild of all projections (%d events)", p.RebuildEvents), p.RebuildEvPerS, "events/s", ">= 100000")
		row("rebuild peak RSS (with mapped store files)", p.RebuildPeakRSSMB, "MB", "")
		row("rebuild peak anonymous memory", p.RebuildPeakAnonMB, "MB", "")
		row(fmt.Sprintf("audit trail query (%d events), p99", p.AuditEvents), p.AuditQueryP99Ms, "ms", "<= 5")
		row(fmt.Sprintf("caseload query (%d people, %s), p99", p.CaseloadRows, p.CaseloadOrg), p.CaseloadQueryP99Ms, "ms", "<= 5")
		row(fmt.Sprintf("caseload page of 50 (%d people, %s), p99", p.CaseloadPageRows, p.CaseloadPageOrg), p.CaseloadPageP99Ms, "ms", "<= 5")
	}
	return tw.Flush()
}

// replayInChild runs `gateledger replay` on dataDir in a child process, so that the
// rebuild's peak memory is measured on its own.
func replayInChild(ctx context.Context, dataDir string) (bench.ReplayOutcome, error) {
	self, err := os.Executable()
	if err != nil {
		return bench.ReplayOutcome{}, err
	}
	cmd := exec.CommandContext(ctx, self, "replay", "--data", dataDir, "--json", "--log-level", "warn")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return bench.ReplayOutcome{}, fmt.Errorf("replay child: %w", err)
	}
	var rep replayReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		return bench.ReplayOutcome{}, fmt.Errorf("replay child printed %q: %w", out.String(), err)
	}
	res := bench.ReplayOutcome{Events: rep.Events, Seconds: rep.Seconds, PeakAnonMB: rep.PeakAnonMB}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.MaxRSSMB = float64(ru.Maxrss) / 1024 // kilobytes on Linux
	}
	return res, nil
}
