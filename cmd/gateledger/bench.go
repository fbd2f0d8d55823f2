package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"text/tabwriter"
	"time"

	"github.com/gateledger/gateledger/bench"
)

func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("bench", stderr)
	var dir string
	var asJSON bool
	var phase time.Duration
	f.string(&dir, "dir", "BENCH_DIR", "", "scratch directory for the run (default: a new temporary directory, removed afterwards)")
	f.bool(&asJSON, "json", "BENCH_JSON", false, "print the figures as one JSON object")
	f.DurationVar(&phase, "phase", 3*time.Second, "length of each timed phase")
	var cpuProfile string
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	if err := f.parse(args); err != nil {
		return err
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
	res, err := bench.Run(ctx, bench.Config{Dir: dir, Phase: phase, Progress: stderr})
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(name string, v float64, unit, target string) {
		fmt.Fprintf(tw, "%s\t%.1f\t%s\t%s\t\n", name, v, unit, target)
	}
	fmt.Fprintf(tw, "measure\tvalue\tunit\ttarget\t\n")
	row("disk fdatasync", res.DiskFdatasyncPerS, "/s", "")
	row("disk sequential write", res.DiskSeqWriteMBPerS, "MB/s", "")
	row("append, 1 writer", res.Append1WEvPerS, "events/s", "")
	row("append, 64 writers", res.Append64WEvPerS, "events/s", ">= 15000")
	row("append, 64 writers x 50-event batches", res.Append64WBatch50EvPerS, "events/s", ">= 100000")
	row("catch-up read of $all", res.CatchupReadEvPerS, "events/s", ">= 250000")
	row("live subscription p50", res.LiveP50Ms, "ms", "")
	row("live subscription p99", res.LiveP99Ms, "ms", "<= 10")
	return tw.Flush()
}
