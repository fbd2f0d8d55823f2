package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/ingest"
	"github.com/gateledger/gateledger/journeys"
	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/web"
)

// httpConfig is the flags of the HTTP API: where it listens, the external
// identity provider, and the per-principal rate limit.
type httpConfig struct {
	listen       string
	oidcIssuer   string
	oidcAudience string
	oidcJWKS     string
	oidcRole     string
	oidcOrg      string
	rateLimit    string
	rateBurst    string
}

func (c *httpConfig) register(f *flags) {
	f.string(&c.listen, "http-listen", "HTTP_LISTEN", "127.0.0.1:8080", "address of the HTTP API (host:port; port 0 picks a free one)")
	f.string(&c.oidcIssuer, "oidc-issuer", "OIDC_ISSUER", "", "issuer URL of an OAuth2/OIDC identity provider whose JWTs are accepted; empty accepts only the ledger's own tokens")
	f.string(&c.oidcAudience, "oidc-audience", "OIDC_AUDIENCE", "", "audience (client id) the JWTs must carry")
	f.string(&c.oidcJWKS, "oidc-jwks-url", "OIDC_JWKS_URL", "", "JWKS URL of the identity provider; empty discovers it from the issuer")
	f.string(&c.oidcRole, "oidc-role-claim", "OIDC_ROLE_CLAIM", auth.DefaultRoleClaim, "JWT claim holding the role (prison, provider, inspector, feed, admin)")
	f.string(&c.oidcOrg, "oidc-org-claim", "OIDC_ORG_CLAIM", auth.DefaultOrgClaim, "JWT claim holding the organisation code")
	f.string(&c.rateLimit, "rate-limit", "RATE_LIMIT", strconv.FormatFloat(web.DefaultRateLimit.PerSecond, 'f', -1, 64), "requests per second allowed to each principal on average; 0 turns the limit off")
	f.string(&c.rateBurst, "rate-burst", "RATE_BURST", strconv.Itoa(web.DefaultRateLimit.Burst), "requests each principal may make at once")
}

func (c *httpConfig) limit() (web.RateLimit, error) {
	per, err := strconv.ParseFloat(c.rateLimit, 64)
	if err != nil || per < 0 {
		return web.RateLimit{}, fmt.Errorf("--rate-limit %q: want a non-negative number of requests per second", c.rateLimit)
	}
	burst, err := strconv.Atoi(c.rateBurst)
	if err != nil || burst < 1 {
		return web.RateLimit{}, fmt.Errorf("--rate-burst %q: want a positive whole number", c.rateBurst)
	}
	if per == 0 {
		return web.RateLimit{PerSecond: -1}, nil
	}
	return web.RateLimit{PerSecond: per, Burst: burst}, nil
}

// httpService is the running HTTP API and what it owns.
type httpService struct {
	srv    *http.Server
	addr   net.Addr
	access *auth.AccessLog
	done   chan error
}

// startHTTP wires the API over the open store and runner and starts serving.
func startHTTP(ctx context.Context, c *httpConfig, store *eventlog.Store, runner *projections.Runner, pol aggregates.Policy, log *slog.Logger) (*httpService, error) {
	limit, err := c.limit()
	if err != nil {
		return nil, err
	}
	tokens := auth.NewTokens(store.Client, auth.TokensConfig{Logger: log})
	authn := &auth.Authenticator{Tokens: tokens, Logger: log}
	if c.oidcIssuer != "" || c.oidcAudience != "" || c.oidcJWKS != "" {
		v, err := auth.NewOIDCVerifier(ctx, auth.OIDCConfig{Issuer: c.oidcIssuer, Audience: c.oidcAudience, JWKSURL: c.oidcJWKS,
			RoleClaim: c.oidcRole, OrgClaim: c.oidcOrg})
		if err != nil {
			return nil, err
		}
		authn.OIDC = v
	}
	svc := &journeys.Service{Store: store, Policy: pol, Logger: log}
	access := auth.NewAccessLog(store.Client, auth.AccessLogConfig{Logger: log})
	metrics := web.NewMetrics()

	// The WebSocket live feed (package web/live) is mounted here: build its
	// http.Handler with authn, runner and metrics (it reports connections
	// through metrics.LiveConnected/LiveDisconnected/LiveDropped) and pass it
	// as Live. Until then GET /v1/live answers 404.
	var live http.Handler

	h, err := web.New(web.Config{Store: store, Journeys: svc, Feed: &ingest.Feed{Journeys: svc, Logger: log}, Runner: runner,
		Policy: pol, Auth: authn, Tokens: tokens, AccessLog: access, Live: live, Metrics: metrics, Logger: log, RateLimit: limit})
	if err != nil {
		return nil, errors.Join(err, access.Close(context.WithoutCancel(ctx)))
	}
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("HTTP API: %w", err), access.Close(context.WithoutCancel(ctx)))
	}
	srv := web.NewServer(c.listen, h, log)
	hs := &httpService{srv: srv, addr: ln.Addr(), access: access, done: make(chan error, 1)}
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		hs.done <- err
	}()
	return hs, nil
}

// shutdown stops accepting requests, lets those in flight finish (within
// ctx), then stores the access log entries still pending.
func (h *httpService) shutdown(ctx context.Context) error {
	err := h.srv.Shutdown(ctx)
	if err == nil {
		err = <-h.done
	}
	return errors.Join(err, h.access.Close(ctx))
}

// shutdownTimeout bounds the wait for requests in flight at shutdown.
const shutdownTimeout = 15 * time.Second
