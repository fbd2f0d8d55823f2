package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"text/tabwriter"
	"time"

	"github.com/gateledger/gateledger/internal/loadtest"
)

func loadtestCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("loadtest", stderr)
	var dir string
	var asJSON bool
	var cfg loadtest.Config
	f.string(&dir, "dir", "LOADTEST_DIR", "", "scratch directory for the embedded ledger (default: a new temporary directory, removed afterwards)")
	f.bool(&asJSON, "json", "LOADTEST_JSON", false, "print the figures as one JSON object")
	f.IntVar(&cfg.Subscribers, "subscribers", loadtest.DefaultSubscribers, fmt.Sprintf("WebSocket subscribers, spread over the 12 NPS regions (at most %d)", loadtest.MaxSubscribers))
	f.IntVar(&cfg.Rate, "rate", loadtest.DefaultRate, fmt.Sprintf("commands per second sent through the HTTP API (at most %d)", loadtest.MaxRate))
	f.DurationVar(&cfg.Duration, "duration", loadtest.DefaultDuration, fmt.Sprintf("length of the command phase (at most %v)", loadtest.MaxDuration))
	f.IntVar(&cfg.JourneysPerProvider, "cases", loadtest.DefaultJourneysPerProvider, "cases each NPS region holds at the start")
	var cpuProfile, traceFile string
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	f.StringVar(&traceFile, "trace", "", "write an execution trace of the run to this file (go tool trace)")
	if err := f.parse(args); err != nil {
		return err
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
	if traceFile != "" {
		tf, err := os.Create(traceFile)
		if err != nil {
			return err
		}
		defer tf.Close()
		if err := trace.Start(tf); err != nil {
			return err
		}
		defer trace.Stop()
	}
	res, err := runLoadtest(ctx, dir, cfg, stderr)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "measure\tvalue\tunit\ttarget\t\n")
	wsRows(tw, res)
	return tw.Flush()
}

// runLoadtest runs the load test in dir, or in a temporary directory removed
// afterwards.
func runLoadtest(ctx context.Context, dir string, cfg loadtest.Config, progress io.Writer) (loadtest.Results, error) {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "gateledger-loadtest-")
		if err != nil {
			return loadtest.Results{}, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	pol, err := policy()
	if err != nil {
		return loadtest.Results{}, err
	}
	cfg.Dir, cfg.Policy, cfg.Progress = dir, pol, progress
	return loadtest.Run(ctx, cfg)
}

// wsRows prints the load test's figures as rows of the bench table.
func wsRows(tw io.Writer, r loadtest.Results) {
	row := func(name string, v float64, unit, target string) {
		fmt.Fprintf(tw, "%s\t%.1f\t%s\t%s\t\n", name, v, unit, target)
	}
	row("WebSocket subscribers", float64(r.Subscribers), "", "")
	row(fmt.Sprintf("commands sent (target %d/s for %gs)", r.TargetRate, time.Duration(r.DurationSeconds*float64(time.Second)).Seconds()), r.AchievedRate, "/s", "")
	row("commands refused or failed", float64(r.CommandErrors), "", "0")
	row("command answer p99", r.CommandP99Ms, "ms", "")
	row("events recorded during the run", float64(r.Events), "events", "")
	row("deliveries (expected)", float64(r.Expected), "", "")
	row("deliveries (received)", float64(r.Deliveries), "", "")
	row("append-to-delivery p50", r.P50Ms, "ms", "")
	row("append-to-delivery p99", r.P99Ms, "ms", "<= 50")
	row("append-to-delivery max", r.MaxMs, "ms", "")
	row("events lost", float64(r.Lost), "", "0")
	row("duplicates", float64(r.Duplicates), "", "0")
	row("events received that may not be seen", float64(r.Unexpected), "", "0")
	row("connections closed by the server", float64(r.ClosedByServer), "", "0")
	row("heap per idle connection", r.BytesPerConn, "bytes", "<= 65536")
	row("goroutine stacks per idle connection", r.StackPerConn, "bytes", "")
	row("goroutines per idle connection", r.GoroutinesPer, "", "")
}
