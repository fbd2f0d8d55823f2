// Package instance holds a ledger instance: everything one `gateledger serve`
// process runs, wired once. Start opens the event store (embedded or
// external), loads demo data when asked, opens the read models and runs their
// runner, the sealer, the start-up check of the hash chains, the closer and the
// dead-letter redriver, and serves the HTTP API, the live feed, the inspector's
// views and the web pages on one listener; Shutdown stops them in the order
// that loses nothing. serve, the load test (and so bench) and the test
// harnesses that need the whole ledger all start it through Start, so the
// process is wired in this package alone.
//
// Config says what differs between them, not how to wire: serve turns its
// flags into a Config; instancetest starts one on loopback for tests.
//
// It may import every package of the ledger; nothing of ours imports it but
// cmd/gateledger, loadtest and tests.
package instance

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/internal/demo"
	"github.com/gateledger/gateledger/internal/throttle"
	"github.com/gateledger/gateledger/journeys"
	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/projections/readmodel"
	"github.com/gateledger/gateledger/seal"
	"github.com/gateledger/gateledger/web/live"
	"github.com/gateledger/gateledger/web/pages"
)

// Config is what one instance is started with. The zero value of every field
// but DataDir and Policy is what serve runs with by default.
type Config struct {
	// DataDir holds the embedded store and its secrets, the read models'
	// state (projections.db) and, unless SealKeyFile says otherwise, the seal
	// key. In external mode it holds only the last two.
	DataDir string
	// EventStore is the connection string of an external KurrentDB or
	// EventStoreDB (esdb://...); empty runs the embedded store in DataDir.
	EventStore string
	// ESDBListen also exposes the embedded store to EventStoreDB clients on
	// this address; ESDBInsecure serves it without TLS or authentication.
	// Both apply to the embedded store only.
	ESDBListen   string
	ESDBInsecure bool
	// Policy is the ledger's policy (durations, calendar, allocation models).
	Policy aggregates.Policy
	// Demo loads DemoPeople generated journeys and demo sign-ins into an
	// empty store (demo.Ensure), reporting on Progress; a store that is not
	// empty is left as it is, with a warning.
	Demo       bool
	DemoPeople int
	Progress   io.Writer

	// SealKeyFile is the seal signing key (generated when missing); empty
	// means seal.KeyFile(DataDir).
	SealKeyFile string
	// SealEvery is how often the journeys' history is sealed; zero seals only
	// on demand (POST /v1/seals).
	SealEvery time.Duration

	// Listen is the HTTP address (host:port; port 0 picks a free one).
	Listen string
	// AllowedOrigins are the origins whose pages may open the live feed and
	// post the web pages' forms; empty allows http://<the address listened on>.
	AllowedOrigins []string
	// Throttle is the one budget of the API, the pages and the live feed
	// (package throttle); zero limits are throttle's defaults.
	Throttle throttle.Config
	// OIDC, when it names an issuer, an audience or a key set, accepts that
	// identity provider's JWTs, and the web pages offer its sign-in as a
	// client with OIDCClientSecret (empty: a public client with PKCE alone)
	// returning to OIDCRedirectURL (empty: the callback on the address
	// listened on).
	OIDC             auth.OIDCConfig
	OIDCClientSecret string
	OIDCRedirectURL  string

	// Logger; nil means slog.Default(). RequestLog, when set, takes one line
	// per HTTP request at info (web.Config.RequestLog).
	Logger     *slog.Logger
	RequestLog *slog.Logger
	// WaitTimeout bounds a read's wait for the read models in the API, the
	// pages and the inspector's views; zero means their defaults.
	WaitTimeout time.Duration
	// LiveCheckpointInterval is how often a live connection is told its
	// position; zero means live.DefaultCheckpointInterval.
	LiveCheckpointInterval time.Duration
	// NoAutomaticWork leaves out the work the ledger does of its own accord
	// and that writes to the store (the closer and the dead-letter redriver),
	// for tests that assert on exactly what they recorded. serve never sets it.
	NoAutomaticWork bool
}

// Instance is a running ledger. Its accessors give tests and operator code
// the parts they need; everything is stopped by Shutdown.
type Instance struct {
	cfg     Config
	log     *slog.Logger
	store   *eventstore.Conn
	runner  *readmodel.Runner
	signIns []demo.SignIn
	sealer  *seal.Sealer

	svc      *journeys.Service
	tokens   *auth.Tokens
	access   *auth.AccessLog
	sessions *pages.Sessions
	live     *live.Handler
	srv      *http.Server
	addr     net.Addr

	// served is closed when the HTTP server has stopped, with serveErr;
	// reported says Wait has returned serveErr already.
	served   chan struct{}
	serveErr error
	reported atomic.Bool

	// stopBackground stops the runner, the sealer and the history check;
	// background waits for them.
	stopBackground context.CancelFunc
	background     sync.WaitGroup
	// stopWork stops the closer and the redriver, which append to the store;
	// work waits for them.
	stopWork context.CancelFunc
	work     sync.WaitGroup
}

// Start starts an instance and returns once it is serving. ctx bounds the
// start (opening the store, demo data, the identity provider's discovery);
// the instance runs until Shutdown. On an error, whatever was started is
// stopped again.
func Start(ctx context.Context, cfg Config) (*Instance, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	i := &Instance{cfg: cfg, log: log, store: store, served: make(chan struct{})}
	if err := i.start(ctx); err != nil {
		return nil, errors.Join(err, i.close(context.WithoutCancel(ctx)))
	}
	return i, nil
}

// start runs everything over the open store.
func (i *Instance) start(ctx context.Context) error {
	cfg, log := i.cfg, i.log
	// The key is made once the store has opened, so that a start refused
	// earlier leaves nothing behind.
	keyFile := cfg.SealKeyFile
	if keyFile == "" {
		keyFile = seal.KeyFile(cfg.DataDir)
	}
	sealKey, err := seal.LoadOrCreateKey(keyFile)
	if err != nil {
		return err
	}
	if cfg.Demo {
		i.signIns, err = demo.Ensure(ctx, demo.Config{Store: i.store, Tokens: auth.NewTokens(i.store.Client, auth.TokensConfig{Logger: log}),
			Policy: cfg.Policy, DataDir: cfg.DataDir, Journeys: cfg.DemoPeople, Logger: log, Progress: cfg.Progress})
		if errors.Is(err, demo.ErrNotEmpty) {
			log.Warn("--demo: " + err.Error())
		} else if err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}
	if i.runner, err = OpenProjections(i.store, cfg.DataDir, cfg.Policy, log); err != nil {
		return err
	}
	// The runner, the sealer and the history check live until Shutdown, not
	// until ctx ends: requests in flight at shutdown still read the models.
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	i.stopBackground = stop
	i.background.Add(1)
	go func() { defer i.background.Done(); _ = i.runner.Run(bg) }()
	i.sealer = &seal.Sealer{Client: i.store.Client, Key: sealKey, Logger: log}
	if cfg.SealEvery > 0 {
		i.background.Add(1)
		go func() { defer i.background.Done(); i.sealer.Run(bg, cfg.SealEvery) }()
		pub, _ := sealKey.Public().(ed25519.PublicKey)
		log.Info("sealing the journeys' history", "every", cfg.SealEvery.String(), "key", seal.KeyFingerprint(pub))
	}
	// The hash chains are verified once in the background; /readyz waits for
	// it (projections.HistoryCheck says why).
	history := &projections.HistoryCheck{}
	i.background.Add(1)
	go func() { defer i.background.Done(); history.Run(bg, i.runner, i.store.Client, log) }()

	return i.serve(ctx, history)
}

// Addr is the address the HTTP server listens on.
func (i *Instance) Addr() net.Addr { return i.addr }

// URL is the HTTP server's base URL, http://<Addr>.
func (i *Instance) URL() string { return "http://" + i.addr.String() }

// Store is the open event store.
func (i *Instance) Store() *eventstore.Conn { return i.store }

// Runner is the read models' runner.
func (i *Instance) Runner() *readmodel.Runner { return i.runner }

// Journeys is the command service.
func (i *Instance) Journeys() *journeys.Service { return i.svc }

// Tokens is the built-in tokens the API authenticates with.
func (i *Instance) Tokens() *auth.Tokens { return i.tokens }

// AccessLog is the log of reads of people's histories.
func (i *Instance) AccessLog() *auth.AccessLog { return i.access }

// Sessions is the web pages' sessions.
func (i *Instance) Sessions() *pages.Sessions { return i.sessions }

// Live is the WebSocket live feed.
func (i *Instance) Live() *live.Handler { return i.live }

// Sealer writes the seals.
func (i *Instance) Sealer() *seal.Sealer { return i.sealer }

// DemoSignIns is the demo's sign-ins when Config.Demo loaded demo data, else
// nil.
func (i *Instance) DemoSignIns() []demo.SignIn { return i.signIns }

// Wait blocks until ctx ends (nil) or the HTTP server stops of itself (its
// error). Either way the instance still needs Shutdown.
func (i *Instance) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-i.served:
		i.reported.Store(true)
		return fmt.Errorf("HTTP API stopped: %w", i.serveErr)
	}
}

// Shutdown stops the instance within ctx: the live feed's connections first
// (http.Server.Shutdown neither closes nor waits for hijacked WebSocket
// connections), then the HTTP server, letting requests in flight finish; then
// the closer and the redriver, which append to the store; then the access
// log's pending entries are stored; then the runner, the sealer and the
// history check stop, and the read models and the store close.
func (i *Instance) Shutdown(ctx context.Context) error {
	return i.close(ctx)
}

// close stops whatever has been started, so that it also undoes a start that
// failed halfway.
func (i *Instance) close(ctx context.Context) error {
	var errs []error
	if i.live != nil {
		errs = append(errs, i.live.Shutdown(ctx))
	}
	if i.srv != nil {
		err := i.srv.Shutdown(ctx)
		if err == nil {
			<-i.served
			if !i.reported.Load() {
				err = i.serveErr
			}
		}
		errs = append(errs, err)
	}
	if i.stopWork != nil {
		i.stopWork()
		if err := waitFor(ctx, &i.work); err != nil {
			errs = append(errs, fmt.Errorf("the closer and the dead-letter redriver have not stopped: %w", err))
		}
	}
	if i.access != nil {
		errs = append(errs, i.access.Close(ctx))
	}
	if i.stopBackground != nil {
		i.stopBackground()
		i.background.Wait()
	}
	if i.runner != nil {
		errs = append(errs, i.runner.Close())
	}
	errs = append(errs, i.store.Close(ctx))
	return errors.Join(errs...)
}

// waitFor waits for wg, or until ctx ends.
func waitFor(ctx context.Context, wg *sync.WaitGroup) error {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
