package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"

	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/demo"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/seal"
)

type serveConfig struct {
	store        storeConfig
	demo         bool
	demoPeople   int
	esdbListen   string
	esdbInsecure bool
	adminListen  string
	seal         sealConfig
	http         httpConfig
	log          logConfig
}

func (c *serveConfig) register(f *flags) {
	c.store.register(f)
	f.bool(&c.demo, "demo", "DEMO", false, "load generated demo journeys and demo sign-ins into an empty store (make run does)")
	f.int(&c.demoPeople, "demo-people", "DEMO_PEOPLE", 3000, "how many people the demo data has")
	f.string(&c.esdbListen, "esdb-listen", "ESDB_LISTEN", "", "also expose the embedded store to EventStoreDB clients on this address (TLS and generated credentials)")
	f.bool(&c.esdbInsecure, "esdb-insecure", "ESDB_INSECURE", false, "serve the embedded store without TLS or authentication (loopback only; for local experiments)")
	f.string(&c.adminListen, "admin-listen", "ADMIN_LISTEN", "", "address serving profiling (net/http/pprof at /debug/pprof/); empty is off; a bare :port is loopback only")
	c.seal.registerKey(f)
	c.seal.registerInterval(f)
	c.http.register(f)
	c.log.register(f)
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg serveConfig
	f := newFlags("serve", stderr)
	cfg.register(f)
	if err := f.parse(args); err != nil {
		return err
	}
	log, err := cfg.log.logger(stderr)
	if err != nil {
		return err
	}
	switch cfg.http.requestLog {
	case "":
	case "stderr", "-":
		if cfg.http.requestLogger, err = cfg.log.newLogger(stderr); err != nil {
			return err
		}
	default:
		rf, err := os.OpenFile(cfg.http.requestLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("--request-log: %w", err)
		}
		defer rf.Close()
		if cfg.http.requestLogger, err = cfg.log.newLogger(rf); err != nil {
			return err
		}
	}
	if _, err := cfg.http.limit(); err != nil {
		return err
	}
	sealEvery, err := cfg.seal.every()
	if err != nil {
		return err
	}

	if _, err := cfg.http.allowedOrigins(&net.TCPAddr{}); err != nil {
		return err
	}
	if _, _, err := cfg.http.checkThrottle(); err != nil {
		return err
	}
	if cfg.store.eventstore != "" && (cfg.esdbListen != "" || cfg.esdbInsecure) {
		return fmt.Errorf("--esdb-listen and --esdb-insecure apply to the embedded store; they cannot be used with --eventstore")
	}
	if cfg.esdbInsecure {
		listen := cfg.esdbListen
		if listen == "" {
			listen = "127.0.0.1:2113"
			cfg.esdbListen = listen
		}
		fmt.Fprintf(stderr, "\n*** WARNING: the embedded event store on %s has NO TLS and NO AUTHENTICATION. ***\n*** Anyone on this machine can read and write every event. Local experiments only. ***\n\n", listen)
		log.Warn("embedded event store is insecure: no TLS, no authentication", "listen", listen)
	}
	store, err := eventstore.Open(ctx, eventstore.Config{
		ConnectionString: cfg.store.eventstore,
		DataDir:          cfg.store.dataDir,
		Listen:           cfg.esdbListen,
		Insecure:         cfg.esdbInsecure,
		Logger:           log,
	})
	if err != nil {
		return storeDamaged(err, cfg.store.dataDir, "start")
	}
	if store.Node != nil {
		attrs := []any{"data", cfg.store.dataDir, "address", store.Node.Addr()}
		if store.Node.Secrets != nil && cfg.esdbListen != "" {
			attrs = append(attrs, "connection", store.Node.ConnectionString(),
				"user", store.Node.Secrets.Username, "password_file", filepath.Join(store.Node.Secrets.Dir, "admin.password"))
		}
		log.Info("embedded event store ready", attrs...)
	} else {
		log.Info("connected to external event store")
	}
	pol, err := policy()
	if err != nil {
		_ = store.Close(context.WithoutCancel(ctx))
		return err
	}
	// The key is made once the store has opened, so that a command line refused
	// earlier leaves nothing behind.
	sealKey, err := seal.LoadOrCreateKey(cfg.seal.keyPath(cfg.store.dataDir))
	if err != nil {
		_ = store.Close(context.WithoutCancel(ctx))
		return err
	}
	var signIns []demo.SignIn
	if cfg.demo {
		signIns, err = demo.Ensure(ctx, demo.Config{Store: store, Tokens: auth.NewTokens(store.Client, auth.TokensConfig{Logger: log}),
			Policy: pol, DataDir: cfg.store.dataDir, Journeys: cfg.demoPeople, Logger: log, Progress: stderr})
		if errors.Is(err, demo.ErrNotEmpty) {
			log.Warn("--demo: " + err.Error())
		} else if err != nil {
			_ = store.Close(context.WithoutCancel(ctx))
			return fmt.Errorf("demo data: %w", err)
		}
	}
	runner, err := openProjections(&cfg.store, store, pol, log)
	if err != nil {
		_ = store.Close(context.WithoutCancel(ctx))
		return err
	}
	runCtx, stopRunner := context.WithCancel(ctx)
	runnerDone := make(chan struct{})
	go func() { defer close(runnerDone); _ = runner.Run(runCtx) }()
	// The sealer stops with the runner, before the store closes.
	sealer := &seal.Sealer{Client: store.Client, Key: sealKey, Logger: log}
	sealerDone := make(chan struct{})
	if sealEvery > 0 {
		go func() { defer close(sealerDone); sealer.Run(runCtx, sealEvery) }()
		pub, _ := sealKey.Public().(ed25519.PublicKey)
		log.Info("sealing the journeys' history", "every", sealEvery.String(), "key", seal.KeyFingerprint(pub))
	} else {
		close(sealerDone)
	}
	stopBackground := func() { stopRunner(); <-runnerDone; <-sealerDone }

	// The hash chains are verified once in the background; /readyz waits for
	// it (projections.HistoryCheck says why).
	cfg.http.history = &projections.HistoryCheck{}
	go cfg.http.history.Run(runCtx, runner, store.Client, log)
	api, err := startHTTP(ctx, &cfg.http, store, runner, pol, sealer, log)
	if err != nil {
		stopBackground()
		return errors.Join(err, runner.Close(), store.Close(context.WithoutCancel(ctx)))
	}

	var admin *adminServer
	if cfg.adminListen != "" {
		if admin, err = startAdmin(cfg.adminListen, log); err != nil {
			stopBackground()
			return errors.Join(err, api.shutdown(context.WithoutCancel(ctx)), runner.Close(), store.Close(context.WithoutCancel(ctx)))
		}
	}
	log.Info("gateledger ready", "http", api.addr.String())
	if len(signIns) > 0 {
		printDemoBanner(stderr, api.addr.String(), signIns)
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-api.done:
		serveErr = fmt.Errorf("HTTP API stopped: %w", serveErr)
		api.done <- nil
	}
	log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	// Requests in flight finish before the runner and the store they read go.
	httpErr := errors.Join(api.shutdown(shutdown), admin.shutdown(shutdown))
	stopBackground()
	if err := errors.Join(serveErr, httpErr, runner.Close(), store.Close(shutdown)); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// printDemoBanner tells a newcomer where the ledger is and how to sign in as each role.
func printDemoBanner(w io.Writer, addr string, signIns []demo.SignIn) {
	fmt.Fprintf(w, "\nGateledger is running with DEMO data: generated journeys, not real people.\n")
	fmt.Fprintf(w, "  Web:      http://%s/  (sign in with a prison, provider or inspector token below)\n", addr)
	fmt.Fprintf(w, "  API:      http://%s/v1/  (OpenAPI document: http://%s/v1/openapi.json)\n", addr, addr)
	fmt.Fprintf(w, "  Health:   http://%s/readyz\n", addr)
	fmt.Fprintf(w, "  DEMO sign-ins (send as 'Authorization: Bearer <token>'; for the demo only):\n")
	for _, s := range signIns {
		who := string(s.Role)
		if s.Org != "" {
			who += " " + s.Org
		}
		fmt.Fprintf(w, "    %-16s %s\n", who, s.Token)
	}
	fmt.Fprintln(w)
}
