package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/internal/throttle"
)

// Metrics is told about connections; the HTTP layer implements it with its
// Prometheus counters. Methods are called from many goroutines at once.
type Metrics interface {
	// Connected: a WebSocket connection was upgraded and authenticated.
	Connected()
	// Disconnected: a connection Connected reported has ended, however.
	Disconnected()
	// Dropped: the server closed a connection because of reason (one of the
	// Drop* constants), before Disconnected.
	Dropped(reason string)
}

// Reasons passed to Metrics.Dropped and logged.
const (
	// DropSlowClient: the client's send queue stayed full for
	// Config.SlowClientWait (close 4429).
	DropSlowClient = "slow-client"
	// DropMessageTooBig: a client message exceeded the read limit (close 1009).
	DropMessageTooBig = "message-too-big"
	// DropBadRequest: a client message was not a valid subscribe (close 4400).
	DropBadRequest = "bad-request"
	// DropTimeout: no pong or message within the read deadline, or a write
	// that did not finish within the write deadline.
	DropTimeout = "timeout"
	// DropUnauthenticated: the credential stopped verifying (close 4401).
	DropUnauthenticated = "unauthenticated"
	// DropUnavailable: the event store or access log failed (close 4503).
	DropUnavailable = "unavailable"
)

// Close codes the server sends. The close reason is "<word> position=<N>",
// where N is the position of the last event, caught-up or checkpoint
// message written to the connection (0 if none): resuming from it (or from
// any later position the client received) loses nothing.
const (
	// CloseGoingAway (1001): the server is shutting down.
	CloseGoingAway = websocket.CloseGoingAway
	// CloseMessageTooBig (1009): a client message exceeded the read limit.
	CloseMessageTooBig = websocket.CloseMessageTooBig
	// CloseInternal (1011): an unexpected server failure.
	CloseInternal = websocket.CloseInternalServerErr
	// CloseBadRequest (4400): follows an error message bad-request or
	// already-subscribed.
	CloseBadRequest = 4400
	// CloseUnauthenticated (4401): follows an error message unauthenticated.
	CloseUnauthenticated = 4401
	// CloseSlowClient (4429): the client did not read fast enough and its
	// bounded send queue filled; events queued for it were discarded.
	CloseSlowClient = 4429
	// CloseUnavailable (4503): follows an error message unavailable.
	CloseUnavailable = 4503
)

// Subprotocol is the WebSocket subprotocol the server selects when a client
// offers it. Offering it is optional; it never carries a credential.
const Subprotocol = "gateledger.live.v1"

// Defaults of Config.
const (
	DefaultMaxMessageSize     = 4 << 10
	DefaultSendBuffer         = 256
	DefaultSlowClientWait     = 2 * time.Second
	DefaultPingInterval       = 30 * time.Second
	DefaultWriteWait          = 10 * time.Second
	DefaultCheckpointInterval = 15 * time.Second
	DefaultReauthInterval     = 5 * time.Minute
	DefaultMaxJourneys        = 2048
	// closeGrace is how long the server waits for the client's close frame
	// after sending its own before it drops the TCP connection.
	closeGrace = 2 * time.Second
)

// Config configures the live feed. Client and Auth are required.
type Config struct {
	// Client is the event store client the feed subscribes through.
	Client eventstore.Store
	// Auth authenticates the upgrade request (bearer token or session).
	Auth *auth.Authenticator
	// AllowedOrigins are the exact origins ("https://ledger.example.org",
	// scheme, host and port) whose pages may open the feed. See ServeHTTP
	// for the rule.
	AllowedOrigins []string
	// AccessLog, when set, records every subscription (who, from where,
	// about whom) before it is served; a subscription that cannot be
	// recorded is refused.
	AccessLog *auth.AccessLog
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Metrics; nil counts nothing.
	Metrics Metrics
	// Throttle limits upgrades per principal (sharing the API's budget),
	// upgrades without a credential per address, and refused credentials
	// per address and per credential (package throttle). Nil limits
	// nothing.
	Throttle *throttle.Throttle

	// MaxMessageSize is the read limit on client messages in bytes
	// (DefaultMaxMessageSize).
	MaxMessageSize int64
	// SendBuffer is how many messages may wait for a client
	// (DefaultSendBuffer).
	SendBuffer int
	// SlowClientWait is how long a full send queue may stay full before the
	// client is dropped as too slow (DefaultSlowClientWait).
	SlowClientWait time.Duration
	// PingInterval is how often the server pings (DefaultPingInterval). The
	// read deadline is twice it: a client that answers no ping and sends
	// nothing for that long is dropped.
	PingInterval time.Duration
	// WriteWait bounds every write to the socket (DefaultWriteWait).
	WriteWait time.Duration
	// CheckpointInterval is how often a live connection whose position moved
	// without an event for it gets a checkpoint message
	// (DefaultCheckpointInterval).
	CheckpointInterval time.Duration
	// ReauthInterval is how often a connection's credential is checked again
	// (DefaultReauthInterval), so that a revoked token or ended session stops
	// the feed; negative never checks again.
	ReauthInterval time.Duration
	// MaxJourneys bounds the journeys one connection keeps folded while it
	// reads history (DefaultMaxJourneys).
	MaxJourneys int
	// HubJourneys bounds the journeys the shared live subscription keeps
	// folded for every connection (DefaultHubJourneys); one it forgot is
	// folded again from its stream when it is next seen.
	HubJourneys int

	// backlog, when set (tests), bounds every connection's backlog instead
	// of max(4×SendBuffer, 1024).
	backlog int
}

// Handler serves the live feed at the path it is mounted on (/v1/live).
// Create it with New; call Shutdown when the server stops, because
// http.Server.Shutdown neither closes nor waits for upgraded connections.
type Handler struct {
	cfg      Config
	log      *slog.Logger
	metrics  Metrics
	origins  map[string]bool
	upgrader websocket.Upgrader

	mu       sync.Mutex
	conns    map[*conn]struct{}
	shutdown bool
	wg       sync.WaitGroup

	// hub is the shared live subscription, started by the first subscribe
	// (and again after one fails), stopped by Shutdown.
	hubMu       sync.Mutex
	hub         *hub
	hubsStarted atomic.Int64
	counters    hubCounters
}

// New returns the live feed handler.
func New(cfg Config) *Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = DefaultMaxMessageSize
	}
	if cfg.SendBuffer <= 0 {
		cfg.SendBuffer = DefaultSendBuffer
	}
	if cfg.SlowClientWait <= 0 {
		cfg.SlowClientWait = DefaultSlowClientWait
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	if cfg.WriteWait <= 0 {
		cfg.WriteWait = DefaultWriteWait
	}
	if cfg.CheckpointInterval <= 0 {
		cfg.CheckpointInterval = DefaultCheckpointInterval
	}
	if cfg.ReauthInterval == 0 {
		cfg.ReauthInterval = DefaultReauthInterval
	}
	if cfg.MaxJourneys <= 0 {
		cfg.MaxJourneys = DefaultMaxJourneys
	}
	if cfg.HubJourneys <= 0 {
		cfg.HubJourneys = DefaultHubJourneys
	}
	h := &Handler{cfg: cfg, log: cfg.Logger, metrics: cfg.Metrics, origins: map[string]bool{}, conns: map[*conn]struct{}{}}
	if h.metrics == nil {
		h.metrics = noMetrics{}
	}
	for _, o := range cfg.AllowedOrigins {
		if n, ok := normaliseOrigin(o); ok {
			h.origins[n] = true
		} else {
			h.log.Warn("live: allowed origin ignored: not scheme://host[:port]", "origin", o)
		}
	}
	h.upgrader = websocket.Upgrader{
		HandshakeTimeout: cfg.WriteWait,
		ReadBufferSize:   1024,
		WriteBufferSize:  4096,
		// A shared pool: an idle connection holds no write buffer.
		WriteBufferPool: &sync.Pool{},
		Subprotocols:    []string{Subprotocol},
		// ServeHTTP has checked the origin before the upgrade; checking it
		// again here keeps gorilla's own same-origin default from applying
		// a different rule.
		CheckOrigin: func(r *http.Request) bool { _, ok := h.originAllowed(r); return ok },
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			problem(w, status, "not a WebSocket handshake", reason.Error())
		},
	}
	return h
}

type noMetrics struct{}

func (noMetrics) Connected()     {}
func (noMetrics) Disconnected()  {}
func (noMetrics) Dropped(string) {}

// normaliseOrigin reduces an origin to lower-case scheme://host[:port]; it
// refuses anything with a path, query, user or opaque part, and "null".
func normaliseOrigin(o string) (string, bool) {
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", false
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), true
}

// originAllowed says whether the request's Origin is acceptable, and
// whether it had one. A request without Origin is acceptable here; whether
// it may go on depends on its credential (see ServeHTTP).
func (h *Handler) originAllowed(r *http.Request) (present, ok bool) {
	o := r.Header.Values("Origin")
	if len(o) == 0 {
		return false, true
	}
	if len(o) > 1 {
		return true, false
	}
	n, valid := normaliseOrigin(o[0])
	return true, valid && h.origins[n]
}

// ServeHTTP authenticates and upgrades the request, then serves the
// connection until it ends.
//
// Before the upgrade, in this order:
//
//   - Origin. Browsers always send Origin on a WebSocket handshake and attach
//     cookies whatever page opened it, so a cross-site page could otherwise
//     ride a user's session (cross-site WebSocket hijacking). A request with
//     an Origin not in Config.AllowedOrigins gets 403.
//   - Throttle. Config.Throttle, after the credential is checked: a valid
//     one is limited by its principal's budget, a refused one by its
//     address's and its own failures, none by the address; past them 429
//     with Retry-After.
//   - Credential. auth.Authenticator.Authenticate: an Authorization: Bearer
//     header, or else the session hook (the web pages' cookie: browsers
//     cannot set headers on a WebSocket). None, or a refused one, gets 401;
//     a credential that could not be checked gets 503.
//   - A request with no Origin is a non-browser client: it must have used a
//     bearer token, never the session cookie (403), because only a browser
//     holds the cookie and a browser that sends none is not one we know.
//   - The principal's role must read journeys (prison, provider, inspector);
//     feed and admin principals may see no event and get 403.
//
// Tokens are not accepted in Sec-WebSocket-Protocol or the query string:
// both end up in proxy and server logs, which must never hold credentials,
// and the session cookie already serves browsers.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	h.mu.Lock()
	closing := h.shutdown
	h.mu.Unlock()
	if closing {
		problem(w, http.StatusServiceUnavailable, "shutting down", "the server is shutting down; reconnect shortly")
		return
	}
	hasOrigin, ok := h.originAllowed(r)
	if !ok {
		h.log.WarnContext(ctx, "live: origin refused", "origin", r.Header.Get("Origin"), "remote", r.RemoteAddr)
		problem(w, http.StatusForbidden, "origin not allowed", "this origin may not open the live feed")
		return
	}
	p, err := h.cfg.Auth.Authenticate(ctx, r)
	var d throttle.Decision
	switch {
	case errors.Is(err, auth.ErrInvalidToken):
		d = h.cfg.Throttle.Failed(r, auth.CredentialKey(r))
	case errors.Is(err, auth.ErrNoCredentials):
		d = h.cfg.Throttle.Anonymous(r)
	case err == nil:
		d = h.cfg.Throttle.Principal(p.ID)
	}
	if d.Limited {
		w.Header().Set("Retry-After", strconv.Itoa(d.RetryAfterSeconds()))
		problem(w, http.StatusTooManyRequests, "too many requests", "wait for the time in Retry-After, then connect again")
		return
	}
	switch {
	case errors.Is(err, auth.ErrUnavailable) || errors.Is(err, auth.ErrChainBroken):
		problem(w, http.StatusServiceUnavailable, "credentials cannot be checked", "try again later")
		return
	case err != nil:
		w.Header().Set("WWW-Authenticate", `Bearer realm="gateledger"`)
		problem(w, http.StatusUnauthorized, "unauthenticated", "a bearer token or a session is required")
		return
	}
	if !hasOrigin && len(r.Header.Values("Authorization")) == 0 {
		h.log.WarnContext(ctx, "live: session credential without an Origin refused", "principal", p.String(), "remote", r.RemoteAddr)
		problem(w, http.StatusForbidden, "origin required", "a session may open the feed only from an allowed origin")
		return
	}
	if !readsAnyJourney(p) {
		problem(w, http.StatusForbidden, "forbidden", "this role has no live feed")
		return
	}
	hj := &batchHijacker{ResponseWriter: w}
	ws, err := h.upgrader.Upgrade(hj, r, nil)
	if err != nil {
		// The upgrader has answered the request.
		h.log.InfoContext(ctx, "live: upgrade failed", "principal", p.String(), "err", err)
		return
	}
	c := newConn(h, ws, hj.conn, r, p)
	if !h.track(c) {
		// Shutdown began during the handshake.
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(CloseGoingAway, "shutdown position=0"), time.Now().Add(h.cfg.WriteWait))
		_ = ws.Close()
		return
	}
	h.metrics.Connected()
	defer h.metrics.Disconnected()
	c.serve()
	h.untrack(c)
}

func (h *Handler) track(c *conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.shutdown {
		return false
	}
	// Add happens under the lock that Shutdown takes before it waits, so no
	// Add can race with the Wait.
	h.wg.Add(1)
	h.conns[c] = struct{}{}
	return true
}

func (h *Handler) untrack(c *conn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
	h.wg.Done()
}

// Shutdown refuses new connections, closes every open one with 1001 (going
// away) and the last position it received, and waits until they have ended
// or ctx is done; then it stops the shared subscription. Register it with
// http.Server.RegisterOnShutdown or call it beside http.Server.Shutdown.
func (h *Handler) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.shutdown = true
	for c := range h.conns {
		c.stop(CloseGoingAway, "shutdown")
	}
	h.mu.Unlock()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		return h.stopHub(ctx)
	case <-ctx.Done():
		return errors.Join(fmt.Errorf("live: shutdown: connections still open: %w", ctx.Err()), h.stopHub(ctx))
	}
}

// Connections is how many connections are open now.
func (h *Handler) Connections() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// problem answers an RFC 9457 problem before the upgrade.
func problem(w http.ResponseWriter, status int, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": title, "status": status, "detail": detail})
}
