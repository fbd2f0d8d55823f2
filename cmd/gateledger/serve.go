package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/instance"
	"github.com/gateledger/gateledger/internal/demo"
	"github.com/gateledger/gateledger/internal/throttle"
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
	// requestLog takes a line per HTTP request at info; nil keeps them on
	// the main log at debug.
	var requestLog *slog.Logger
	switch cfg.http.requestLog {
	case "":
	case "stderr", "-":
		if requestLog, err = cfg.log.newLogger(stderr); err != nil {
			return err
		}
	default:
		rf, err := os.OpenFile(cfg.http.requestLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("--request-log: %w", err)
		}
		defer rf.Close()
		if requestLog, err = cfg.log.newLogger(rf); err != nil {
			return err
		}
	}
	limit, err := cfg.http.limit()
	if err != nil {
		return err
	}
	sealEvery, err := cfg.seal.every()
	if err != nil {
		return err
	}
	origins, err := cfg.http.allowedOrigins()
	if err != nil {
		return err
	}
	proxies, refresh, err := cfg.http.checkThrottle()
	if err != nil {
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
	pol, err := policy()
	if err != nil {
		return err
	}
	inst, err := instance.Start(ctx, instance.Config{
		DataDir:      cfg.store.dataDir,
		EventStore:   cfg.store.eventstore,
		ESDBListen:   cfg.esdbListen,
		ESDBInsecure: cfg.esdbInsecure,
		Policy:       pol,
		Demo:         cfg.demo,
		DemoPeople:   cfg.demoPeople,
		Progress:     stderr,
		SealKeyFile:  cfg.seal.keyPath(cfg.store.dataDir),
		SealEvery:    sealEvery,
		Listen:       cfg.http.listen,
		// The principal limit is --rate-limit; the per-address and
		// failed-credential limits are throttle's defaults.
		Throttle:       throttle.Config{Principal: limit, TrustedProxies: proxies},
		AllowedOrigins: origins,
		OIDC: auth.OIDCConfig{Issuer: cfg.http.oidcIssuer, Audience: cfg.http.oidcAudience, JWKSURL: cfg.http.oidcJWKS,
			RoleClaim: cfg.http.oidcRole, OrgClaim: cfg.http.oidcOrg, JWKSRefreshInterval: refresh},
		OIDCClientSecret: cfg.http.oidcSecret,
		OIDCRedirectURL:  cfg.http.oidcRedirect,
		Logger:           log,
		RequestLog:       requestLog,
	})
	if err != nil {
		return storeDamaged(err, cfg.store.dataDir, "start")
	}

	var admin *adminServer
	if cfg.adminListen != "" {
		if admin, err = startAdmin(cfg.adminListen, log); err != nil {
			return errors.Join(err, inst.Shutdown(context.WithoutCancel(ctx)))
		}
	}
	log.Info("gateledger ready", "http", inst.Addr().String())
	if signIns := inst.DemoSignIns(); len(signIns) > 0 {
		printDemoBanner(stderr, inst.Addr().String(), signIns)
	}
	serveErr := inst.Wait(ctx)
	log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	// Requests in flight finish before the runner and the store they read go.
	if err := errors.Join(serveErr, admin.shutdown(shutdown), inst.Shutdown(shutdown)); err != nil {
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

// shutdownTimeout bounds the wait for requests in flight at shutdown.
const shutdownTimeout = 15 * time.Second
