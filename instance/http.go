package instance

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/closure"
	"github.com/gateledger/gateledger/ingest"
	"github.com/gateledger/gateledger/internal/throttle"
	"github.com/gateledger/gateledger/journeys"
	"github.com/gateledger/gateledger/ledger"
	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/web"
	"github.com/gateledger/gateledger/web/inspect"
	"github.com/gateledger/gateledger/web/live"
	"github.com/gateledger/gateledger/web/pages"
)

// serve wires the API, the live feed, the inspector's views and the web
// pages over the running read models, starts the closer and the redriver,
// and serves on cfg.Listen.
func (i *Instance) serve(ctx context.Context, history *projections.HistoryCheck) error {
	cfg, log, store := i.cfg, i.log, i.store
	// One throttle for the API, the pages and the live feed: a principal
	// has one budget whichever way it comes.
	thr := throttle.New(cfg.Throttle)
	i.tokens = auth.NewTokens(store.Client, auth.TokensConfig{Logger: log})
	// Names says who acted in histories: token names, and identity provider
	// users' names as they sign in.
	names := &auth.Names{Tokens: i.tokens}
	authn := &auth.Authenticator{Tokens: i.tokens, Logger: log, Refusals: auth.NewRefusalLog(5, 20), Names: names}
	oidc := cfg.OIDC.Issuer != "" || cfg.OIDC.Audience != "" || cfg.OIDC.JWKSURL != ""
	if oidc {
		v, err := auth.NewOIDCVerifier(ctx, cfg.OIDC)
		if err != nil {
			return err
		}
		authn.OIDC = v
	}
	// The web pages' sessions. The live feed accepts their cookie (behind
	// its Origin check); the rest of the API takes bearer tokens only, so a
	// form on another page of the same site cannot ride a session into it.
	i.sessions = pages.NewSessions(pages.SessionsConfig{Verify: authn.VerifyBearer})
	liveAuthn := *authn
	liveAuthn.Session = i.sessions.Principal

	// The application: the command service and the access log, shared by
	// every transport below through the application layer (package ledger:
	// the command and read pipelines).
	i.svc = &journeys.Service{Store: store, Policy: cfg.Policy, Logger: log}
	i.access = auth.NewAccessLog(store.Client, auth.AccessLogConfig{Logger: log})
	app, err := ledger.New(ledger.Config{Journeys: i.svc, Runner: i.runner, AccessLog: i.access, WaitTimeout: cfg.WaitTimeout, Logger: log})
	if err != nil {
		return err
	}
	ingestFeed := &ingest.Feed{Journeys: i.svc, Logger: log}
	metrics := web.NewMetrics()

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("HTTP API: %w", err)
	}
	origins := cfg.AllowedOrigins
	if len(origins) == 0 {
		origins = []string{"http://" + ln.Addr().String()}
	}
	// The WebSocket live feed, mounted by web at GET /v1/live; it
	// authenticates its own upgrade and reports its connections to the same
	// Prometheus metrics.
	i.live = live.New(live.Config{Client: store.Client, Auth: &liveAuthn, AllowedOrigins: origins, AccessLog: i.access,
		Logger: log, Metrics: liveMetrics{metrics}, Throttle: thr, CheckpointInterval: cfg.LiveCheckpointInterval})
	h, err := web.New(web.Config{Store: store, Ledger: app, Feed: ingestFeed, Runner: i.runner,
		Policy: cfg.Policy, Auth: authn, Tokens: i.tokens, AccessLog: i.access, Live: i.live, Metrics: metrics, Logger: log,
		Throttle: thr, Seals: i.sealer, History: history, Names: names.Name, RequestLog: cfg.RequestLog, WaitTimeout: cfg.WaitTimeout})
	if err != nil {
		return errors.Join(err, ln.Close())
	}
	// The web pages at /, handing the API's paths to the API. With an
	// identity provider they offer its sign-in (authorization code + PKCE).
	var oidcLogin *pages.OIDCLogin
	if oidc {
		redirect := cfg.OIDCRedirectURL
		if redirect == "" {
			redirect = "http://" + ln.Addr().String() + "/sign-in/oidc/callback"
		}
		oidcLogin, err = pages.NewOIDCLogin(ctx, pages.OIDCLoginConfig{Issuer: cfg.OIDC.Issuer, ClientID: cfg.OIDC.Audience,
			ClientSecret: cfg.OIDCClientSecret, RedirectURL: redirect})
		if err != nil {
			log.Warn("the web pages offer no identity provider sign-in", "err", err)
			oidcLogin = nil
		}
	}
	// The inspector's views, shown in UK time.
	insp, err := inspect.New(inspect.Config{Store: store, Ledger: app, Journeys: i.svc, Runner: i.runner, Policy: cfg.Policy,
		Location: aggregates.UK, Names: names.Name})
	if err != nil {
		return errors.Join(err, ln.Close())
	}
	h, err = pages.New(pages.Config{API: h, Ledger: app, Runner: i.runner, Policy: cfg.Policy, Auth: authn,
		Sessions: i.sessions, AllowedOrigins: origins, OIDC: oidcLogin, Logger: log, Inspector: insp, Feed: ingestFeed,
		Throttle: thr})
	if err != nil {
		return errors.Join(err, ln.Close())
	}

	// The ledger's own work. The dead-letter redriver: a person's waiting
	// dead letters are offered again whenever their journey gains an event
	// (a reception, above all). The closer: journeys whose supervision ended
	// are closed by the ledger itself, once, whatever the number of
	// instances (package closure).
	if !cfg.NoAutomaticWork {
		work, stop := context.WithCancel(context.WithoutCancel(ctx))
		i.stopWork = stop
		i.work.Add(2)
		go func() { defer i.work.Done(); _ = (&ingest.Redriver{Feed: ingestFeed, Logger: log}).Run(work) }()
		go func() {
			defer i.work.Done()
			_ = (&closure.Closer{Journeys: i.svc, Runner: i.runner, Logger: log}).Run(work)
		}()
	}

	i.addr = ln.Addr()
	i.srv = web.NewServer(cfg.Listen, h, log)
	go func() {
		err := i.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		i.serveErr = err
		close(i.served)
	}()
	return nil
}

// liveMetrics reports the live feed's connections through the web package's
// Prometheus metrics. gateledger_live_drops_total counts the connections
// closed because the client fell behind (slow-client); the feed logs every
// other reason for closing a connection.
type liveMetrics struct{ m *web.Metrics }

func (l liveMetrics) Connected()    { l.m.LiveConnected() }
func (l liveMetrics) Disconnected() { l.m.LiveDisconnected() }
func (l liveMetrics) Dropped(reason string) {
	if reason == live.DropSlowClient {
		l.m.LiveDropped()
	}
}
