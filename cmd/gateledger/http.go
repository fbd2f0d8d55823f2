package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/closure"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/ingest"
	"github.com/gateledger/gateledger/journeys"
	appledger "github.com/gateledger/gateledger/ledger"
	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/projections/readmodel"
	"github.com/gateledger/gateledger/seal"
	"github.com/gateledger/gateledger/throttle"
	"github.com/gateledger/gateledger/web"
	"github.com/gateledger/gateledger/web/inspect"
	"github.com/gateledger/gateledger/web/live"
	"github.com/gateledger/gateledger/web/pages"
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
	oidcSecret   string
	oidcRedirect string
	rateLimit    string
	rateBurst    string
	origins      string
	proxies      string
	// requestLog is where per-request lines go at info: "" keeps them on
	// the main log at debug, "stderr" sends them there, else a file.
	requestLog string
	// requestLogger is requestLog opened (by serve), nil for "".
	requestLogger *slog.Logger
	jwksRefresh   string
	// history is the start-up check of the hash chains serve runs (not a
	// flag); nil leaves it out of readiness.
	history *projections.HistoryCheck
}

func (c *httpConfig) register(f *flags) {
	f.string(&c.listen, "http-listen", "HTTP_LISTEN", "127.0.0.1:8080", "address of the HTTP API (host:port; port 0 picks a free one)")
	f.string(&c.requestLog, "request-log", "REQUEST_LOG", "", "where a line per HTTP request goes, at info: a file (appended to) or stderr; empty logs them at debug only, so the start banner stays readable")
	f.string(&c.oidcIssuer, "oidc-issuer", "OIDC_ISSUER", "", "issuer URL of an OAuth2/OIDC identity provider whose JWTs are accepted; empty accepts only the ledger's own tokens")
	f.string(&c.oidcAudience, "oidc-audience", "OIDC_AUDIENCE", "", "audience (client id) the JWTs must carry")
	f.string(&c.oidcJWKS, "oidc-jwks-url", "OIDC_JWKS_URL", "", "JWKS URL of the identity provider; empty discovers it from the issuer")
	f.string(&c.oidcRole, "oidc-role-claim", "OIDC_ROLE_CLAIM", auth.DefaultRoleClaim, "JWT claim holding the role (prison, provider, inspector, feed, admin)")
	f.string(&c.oidcOrg, "oidc-org-claim", "OIDC_ORG_CLAIM", auth.DefaultOrgClaim, "JWT claim holding the organisation code")
	f.string(&c.oidcSecret, "oidc-client-secret", "OIDC_CLIENT_SECRET", "", "client secret of the web pages' sign-in at the identity provider (prefer the variable: command lines are visible to other users); empty signs in as a public client with PKCE alone")
	f.string(&c.oidcRedirect, "oidc-redirect-url", "OIDC_REDIRECT_URL", "", "URL of /sign-in/oidc/callback as browsers reach it, registered at the identity provider; empty means http://<the --http-listen address>/sign-in/oidc/callback")
	f.string(&c.rateLimit, "rate-limit", "RATE_LIMIT", strconv.FormatFloat(web.DefaultRateLimit.PerSecond, 'f', -1, 64), "requests per second allowed to each principal on average; 0 turns the limit off")
	f.string(&c.rateBurst, "rate-burst", "RATE_BURST", strconv.Itoa(web.DefaultRateLimit.Burst), "requests each principal may make at once")
	f.string(&c.proxies, "trusted-proxies", "TRUSTED_PROXIES", "", "comma-separated addresses or CIDR prefixes of proxies in front of the ledger whose X-Forwarded-For names the client, for the per-address limits; empty trusts no header")
	f.string(&c.jwksRefresh, "oidc-jwks-refresh", "OIDC_JWKS_REFRESH", auth.DefaultJWKSRefreshInterval.String(), "least time between two fetches of the identity provider's keys when a token names a key the ledger does not have")
	f.string(&c.origins, "allowed-origins", "ALLOWED_ORIGINS", "", "comma-separated origins (scheme://host[:port]) whose web pages may open the WebSocket live feed; empty allows http://<the --http-listen address>")
}

// allowedOrigins is --allowed-origins as a list, or the http origin of the
// address the API listens on (port 0 resolved) when it is empty.
func (c *httpConfig) allowedOrigins(addr net.Addr) ([]string, error) {
	if strings.TrimSpace(c.origins) == "" {
		return []string{"http://" + addr.String()}, nil
	}
	var out []string
	for _, o := range strings.Split(c.origins, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
			u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("--allowed-origins: %q is not an origin (scheme://host[:port], http or https)", o)
		}
		out = append(out, o)
	}
	return out, nil
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

// checkThrottle reads --trusted-proxies and --oidc-jwks-refresh.
func (c *httpConfig) checkThrottle() ([]netip.Prefix, time.Duration, error) {
	proxies, err := throttle.ParseProxies(c.proxies)
	if err != nil {
		return nil, 0, fmt.Errorf("--trusted-proxies: %w", err)
	}
	if c.jwksRefresh == "" {
		return proxies, auth.DefaultJWKSRefreshInterval, nil
	}
	refresh, err := time.ParseDuration(c.jwksRefresh)
	if err != nil || refresh < time.Second || refresh > time.Hour {
		return nil, 0, fmt.Errorf("--oidc-jwks-refresh %q: want a duration from 1s to 1h, such as 30s", c.jwksRefresh)
	}
	return proxies, refresh, nil
}

// httpService is the running HTTP API and what it owns.
type httpService struct {
	srv    *http.Server
	live   *live.Handler
	addr   net.Addr
	access *auth.AccessLog
	done   chan error
	// stopRedrive stops the dead-letter redriver; redriveDone is closed
	// when it has.
	stopRedrive context.CancelFunc
	redriveDone chan struct{}
	// closerDone is closed when the closer (package closure) has stopped; it
	// stops with the redriver (stopRedrive).
	closerDone chan struct{}
}

// startHTTP wires the API over the open store and runner and starts serving.
func startHTTP(ctx context.Context, c *httpConfig, store *eventstore.Conn, runner *readmodel.Runner, pol aggregates.Policy, sealer *seal.Sealer, log *slog.Logger) (*httpService, error) {
	limit, err := c.limit()
	if err != nil {
		return nil, err
	}
	proxies, refresh, err := c.checkThrottle()
	if err != nil {
		return nil, err
	}
	// One throttle for the API, the pages and the live feed: a principal
	// has one budget whichever way it comes.
	thr := throttle.New(throttle.Config{Principal: limit, TrustedProxies: proxies})
	tokens := auth.NewTokens(store.Client, auth.TokensConfig{Logger: log})
	// Names says who acted in histories: token names, and identity provider
	// users' names as they sign in.
	names := &auth.Names{Tokens: tokens}
	authn := &auth.Authenticator{Tokens: tokens, Logger: log, Refusals: auth.NewRefusalLog(5, 20), Names: names}
	if c.oidcIssuer != "" || c.oidcAudience != "" || c.oidcJWKS != "" {
		v, err := auth.NewOIDCVerifier(ctx, auth.OIDCConfig{Issuer: c.oidcIssuer, Audience: c.oidcAudience, JWKSURL: c.oidcJWKS,
			RoleClaim: c.oidcRole, OrgClaim: c.oidcOrg, JWKSRefreshInterval: refresh})
		if err != nil {
			return nil, err
		}
		authn.OIDC = v
	}
	// The web pages' sessions. The live feed accepts their cookie (behind
	// its Origin check); the rest of the API takes bearer tokens only, so a
	// form on another page of the same site cannot ride a session into it.
	sessions := pages.NewSessions(pages.SessionsConfig{Verify: authn.VerifyBearer})
	liveAuthn := *authn
	liveAuthn.Session = sessions.Principal
	svc := &journeys.Service{Store: store, Policy: pol, Logger: log}
	access := auth.NewAccessLog(store.Client, auth.AccessLogConfig{Logger: log})
	metrics := web.NewMetrics()

	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("HTTP API: %w", err), access.Close(context.WithoutCancel(ctx)))
	}
	origins, err := c.allowedOrigins(ln.Addr())
	if err != nil {
		return nil, errors.Join(err, ln.Close(), access.Close(context.WithoutCancel(ctx)))
	}
	// The WebSocket live feed, mounted by web at GET /v1/live; it
	// authenticates its own upgrade and reports its connections to the same
	// Prometheus metrics.
	feed := live.New(live.Config{Client: store.Client, Auth: &liveAuthn, AllowedOrigins: origins, AccessLog: access,
		Logger: log, Metrics: liveMetrics{metrics}, Throttle: thr})

	ingestFeed := &ingest.Feed{Journeys: svc, Logger: log}
	app, err := appledger.New(appledger.Config{Journeys: svc, Runner: runner, AccessLog: access, Logger: log})
	if err != nil {
		return nil, errors.Join(err, ln.Close(), access.Close(context.WithoutCancel(ctx)))
	}
	h, err := web.New(web.Config{Store: store, Ledger: app, Feed: ingestFeed, Runner: runner,
		Policy: pol, Auth: authn, Tokens: tokens, AccessLog: access, Live: feed, Metrics: metrics, Logger: log, Throttle: thr, Seals: sealer,
		History: c.history, Names: names.Name, RequestLog: c.requestLogger})
	if err != nil {
		return nil, errors.Join(err, ln.Close(), access.Close(context.WithoutCancel(ctx)))
	}
	// The web pages at /, handing the API's paths to the API. With an
	// identity provider they offer its sign-in (authorization code + PKCE).
	var oidcLogin *pages.OIDCLogin
	if authn.OIDC != nil {
		redirect := c.oidcRedirect
		if redirect == "" {
			redirect = "http://" + ln.Addr().String() + "/sign-in/oidc/callback"
		}
		oidcLogin, err = pages.NewOIDCLogin(ctx, pages.OIDCLoginConfig{Issuer: c.oidcIssuer, ClientID: c.oidcAudience,
			ClientSecret: c.oidcSecret, RedirectURL: redirect})
		if err != nil {
			log.Warn("the web pages offer no identity provider sign-in", "err", err)
			oidcLogin = nil
		}
	}
	// The inspector's views, shown in UK time.
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		return nil, errors.Join(fmt.Errorf("load Europe/London: %w", err), ln.Close(), access.Close(context.WithoutCancel(ctx)))
	}
	insp, err := inspect.New(inspect.Config{Store: store, Ledger: app, Journeys: svc, Runner: runner, Policy: pol, Location: london, Names: names.Name})
	if err != nil {
		return nil, errors.Join(err, ln.Close(), access.Close(context.WithoutCancel(ctx)))
	}
	h, err = pages.New(pages.Config{API: h, Ledger: app, Runner: runner, Policy: pol, Auth: authn,
		Sessions: sessions, AllowedOrigins: origins, OIDC: oidcLogin, Logger: log, Inspector: insp, Feed: ingestFeed, Throttle: thr})
	if err != nil {
		return nil, errors.Join(err, ln.Close(), access.Close(context.WithoutCancel(ctx)))
	}
	srv := web.NewServer(c.listen, h, log)
	// The dead-letter redriver: a person's waiting dead letters are offered
	// again whenever their journey gains an event (a reception, above all).
	redriveCtx, stopRedrive := context.WithCancel(context.WithoutCancel(ctx))
	hs := &httpService{srv: srv, live: feed, addr: ln.Addr(), access: access, done: make(chan error, 1),
		stopRedrive: stopRedrive, redriveDone: make(chan struct{}), closerDone: make(chan struct{})}
	go func() {
		defer close(hs.redriveDone)
		_ = (&ingest.Redriver{Feed: ingestFeed, Logger: log}).Run(redriveCtx)
	}()
	// The closer: journeys whose supervision ended are closed by the ledger
	// itself, once, whatever the number of instances (package closure).
	go func() {
		defer close(hs.closerDone)
		_ = (&closure.Closer{Journeys: svc, Runner: runner, Logger: log}).Run(redriveCtx)
	}()
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		hs.done <- err
	}()
	return hs, nil
}

// shutdown closes the live feed's connections (http.Server.Shutdown neither
// closes nor waits for hijacked WebSocket connections), stops accepting
// requests, lets those in flight finish (within ctx), then stores the access
// log entries still pending.
func (h *httpService) shutdown(ctx context.Context) error {
	liveErr := h.live.Shutdown(ctx)
	err := h.srv.Shutdown(ctx)
	if err == nil {
		err = <-h.done
	}
	// The redriver appends to the store: it stops before the store closes.
	h.stopRedrive()
	select {
	case <-h.redriveDone:
	case <-ctx.Done():
		err = errors.Join(err, fmt.Errorf("the dead-letter redriver has not stopped: %w", ctx.Err()))
	}
	select {
	case <-h.closerDone:
	case <-ctx.Done():
		err = errors.Join(err, fmt.Errorf("the closer has not stopped: %w", ctx.Err()))
	}
	return errors.Join(liveErr, err, h.access.Close(ctx))
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

// shutdownTimeout bounds the wait for requests in flight at shutdown.
const shutdownTimeout = 15 * time.Second
