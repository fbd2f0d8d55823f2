package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/internal/esdbserver"
	"github.com/gateledger/gateledger/internal/migrate"
	"github.com/gateledger/gateledger/internal/progress"
)

func migrateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		sc     storeConfig
		lc     logConfig
		to     string
		asJSON bool
	)
	f := newFlags("migrate", stderr)
	sc.register(f)
	f.string(&to, "to", "MIGRATE_TO", "", "connection string of the target KurrentDB/EventStoreDB (esdb://...), required")
	f.bool(&asJSON, "json", "MIGRATE_JSON", false, "print the report as JSON")
	lc.register(f)
	f.Usage = func() {
		fmt.Fprintln(f.Output(), "Usage: gateledger migrate --to esdb://... [--data DIR | --eventstore esdb://...]\n\nCopies every stream of the source store, in $all order, with the same event ids, types,\ndata and metadata, into the target. Run it again to resume after an interruption or to\ncopy what was added since: it starts after the last event the target holds. Stop the\nledger first when the source is the embedded store.\n\nFlags:")
		f.PrintDefaults()
	}
	if err := f.parse(args); err != nil {
		return err
	}
	if to == "" {
		fmt.Fprintln(stderr, "--to is required")
		return errUsage
	}
	log, err := lc.logger(stderr)
	if err != nil {
		return err
	}
	conf, err := esdb.ParseConnectionString(to)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	conf.Logger = esdbserver.ClientLogging(log)
	target, err := esdb.NewClient(conf)
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	defer target.Close()
	if err := requireDataDir(sc.dataDir, sc.eventstore); err != nil {
		return fmt.Errorf("source: %w", err)
	}
	source, err := eventstore.Open(ctx, eventstore.Config{ConnectionString: sc.eventstore, DataDir: sc.dataDir, Logger: log})
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	defer source.Close(context.WithoutCancel(ctx))

	start := time.Now()
	var bar *progress.Reporter
	rep, err := migrate.Run(ctx, migrate.Config{Source: source.Client, Target: target, Progress: func(pos, head uint64, copied int64) {
		if bar == nil {
			bar = progress.New(stderr, "migrate", float64(head), "events")
		}
		bar.Update(float64(pos), float64(copied))
	}})
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return fmt.Errorf("%w (run the command again to resume; %d events were copied in this run)", err, rep.Events)
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	if rep.ResumedAfter > 0 {
		fmt.Fprintf(stdout, "resumed after source position %d (already on the target)\n", rep.ResumedAfter)
	}
	fmt.Fprintf(stdout, "copied %d events in %d appends and %d tombstones in %s; the target holds the source up to position %d of %d\n",
		rep.Events, rep.Appends, rep.Tombstones, time.Since(start).Round(time.Millisecond), rep.Position, rep.Head)
	return nil
}
