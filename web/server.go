package web

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/ingest"
	"github.com/gateledger/gateledger/internal/throttle"
	"github.com/gateledger/gateledger/ledger"
	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/projections/readmodel"
	"github.com/gateledger/gateledger/seal"
	"github.com/gateledger/gateledger/web/problem"
	"github.com/gateledger/gateledger/web/request"
)

//go:embed openapi.json
var openAPIDocument []byte

// Defaults of Config.
const (
	DefaultMaxBodyBytes = 1 << 20
	DefaultWaitTimeout  = 5 * time.Second
)

// Config is what the HTTP API needs. Store, Ledger, Runner, Auth and
// AccessLog are required.
type Config struct {
	// Store is the open event store (readiness, as-at reads, verification).
	Store *eventstore.Conn
	// Ledger carries out every command and every read of a person or of
	// an organisation's lists (package ledger).
	Ledger *ledger.Ledger
	// Feed ingests HMPPS messages; nil answers the feed route with 503.
	Feed *ingest.Feed
	// Runner serves the read models and read-your-writes waits.
	Runner *readmodel.Runner
	// History, when set, is the start-up check of the hash chains; /readyz is
	// not ready until it has passed.
	History *projections.HistoryCheck
	// Policy derives deadlines in plan views (aggregates.DefaultPolicy).
	Policy aggregates.Policy
	// Auth authenticates every /v1 request except the OpenAPI document.
	Auth *auth.Authenticator
	// Tokens, when set, serves token administration to admins
	// (/v1/tokens); nil answers those routes with 404.
	Tokens *auth.Tokens
	// AccessLog is read by inspectors (/v1/access-log); the reads it
	// records are recorded by the Ledger.
	AccessLog *auth.AccessLog
	// Live is the WebSocket live feed (package web/live), mounted at
	// GET /v1/live. It authenticates its own upgrade. Nil answers 404.
	Live http.Handler
	// Seals writes seals on demand (POST /v1/seals, admins) and its key checks
	// the seals inspectors fetch (GET /v1/seals/latest and
	// /v1/journeys/{noms}/seal-proof); nil answers those routes with 404.
	Seals *seal.Sealer
	// RequestLog, when set, takes one line per request at info (serve's
	// --request-log). When nil, request lines go to Logger at debug, so that
	// at the default level the start banner and its sign-ins stay on the
	// screen; answers of 500 and more are logged on Logger at error either way.
	RequestLog *slog.Logger
	// Names, when set, names the principal ids in histories (auth.Names).
	Names func(userID string) string
	// Metrics; nil creates a registry of its own (NewMetrics).
	Metrics *Metrics
	// Logger for request logs; nil means slog.Default().
	Logger *slog.Logger
	// Clock; nil means time.Now.
	Clock func() time.Time
	// Throttle limits requests per principal, per address and failed
	// authentications (package throttle). Share one with the pages and the
	// live feed so that a principal has one budget whichever way it comes.
	// Nil builds one from RateLimit with the other limits at their defaults.
	Throttle *throttle.Throttle
	// RateLimit per principal, used only when Throttle is nil; the zero
	// value means DefaultRateLimit, a negative PerSecond turns it off.
	RateLimit RateLimit
	// MaxBodyBytes bounds request bodies (413 beyond); zero means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// WaitTimeout bounds a command's wait for every read model when it is
	// sent with ?wait=true (a read's wait is the Ledger's); zero means
	// DefaultWaitTimeout.
	WaitTimeout time.Duration
}

// server is the HTTP API. Its state is set by New and never changed, apart
// from the throttle's buckets.
type server struct {
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	metrics  *Metrics
	throttle *throttle.Throttle
	mux      *http.ServeMux
	routes   []route
}

// New builds the HTTP API handler: every route of Routes on a ServeMux, behind
// request logging, metrics and panic recovery. It fails only on a Config
// missing a required part.
func New(cfg Config) (http.Handler, error) {
	s, err := newServer(cfg)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func newServer(cfg Config) (*server, error) {
	var missing []string
	if cfg.Store == nil || cfg.Store.Client == nil {
		missing = append(missing, "Store")
	}
	if cfg.Ledger == nil {
		missing = append(missing, "Ledger")
	}
	if cfg.Runner == nil {
		missing = append(missing, "Runner")
	}
	if cfg.Auth == nil {
		missing = append(missing, "Auth")
	}
	if cfg.AccessLog == nil {
		missing = append(missing, "AccessLog")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("web: config lacks %s", strings.Join(missing, ", "))
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.RateLimit == (RateLimit{}) {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.WaitTimeout <= 0 {
		cfg.WaitTimeout = DefaultWaitTimeout
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	if err := cfg.Metrics.reg.Register(newLedgerCollector(cfg.Store, cfg.Runner)); err != nil {
		return nil, fmt.Errorf("web: metrics: %w (use one Metrics per server)", err)
	}
	if cfg.Throttle == nil {
		cfg.Throttle = throttle.New(throttle.Config{Principal: cfg.RateLimit, Clock: cfg.Clock})
	}
	s := &server{cfg: cfg, log: cfg.Logger, now: cfg.Clock, metrics: cfg.Metrics,
		throttle: cfg.Throttle, mux: http.NewServeMux()}
	s.routes = s.routeTable()
	for _, rt := range s.routes {
		s.mux.Handle(rt.Method+" "+rt.Path, rt.handler)
	}
	return s, nil
}

// NewServer returns an http.Server for handler with timeouts that suit the
// API: headers within 5 s, a whole request within 30 s, answers written
// within 2 minutes (the store-wide verification extends its own deadline),
// idle keep-alive connections closed after 2 minutes. The WebSocket live feed
// clears these deadlines when it takes over its connection.
func NewServer(addr string, handler http.Handler, log *slog.Logger) *http.Server {
	if log == nil {
		log = slog.Default()
	}
	return &http.Server{
		Addr:              addr,
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// route is one entry of the route table: the single list the mux, the
// OpenAPI test and the documentation are checked against.
type route struct {
	Method string
	// Path is the ServeMux path pattern, which is also the OpenAPI path.
	Path string
	// Name is the OpenAPI operationId.
	Name string
	// Public routes are served without authentication.
	Public  bool
	handler http.Handler
}

// authedFunc is a handler of an authenticated route.
type authedFunc func(w http.ResponseWriter, r *http.Request, p auth.Principal) error

// routeTable lists every route. Command routes come from request.CommandRoutes.
func (s *server) routeTable() []route {
	a := func(method, path, name string, h authedFunc) route {
		return route{Method: method, Path: path, Name: name, handler: s.authed(h)}
	}
	pub := func(method, path, name string, h http.HandlerFunc) route {
		return route{Method: method, Path: path, Name: name, Public: true, handler: h}
	}
	rs := []route{
		pub("GET", "/healthz", "healthz", s.healthz),
		pub("GET", "/readyz", "readyz", s.readyz),
		pub("GET", "/metrics", "metrics", s.metrics.handler().ServeHTTP),
		pub("GET", "/v1/openapi.json", "openapi", s.openapi),
		pub("GET", "/v1/live", "live", s.live),
		a("GET", "/v1/journeys/{noms}", "getJourney", s.getJourney),
		a("GET", "/v1/journeys/{noms}/plan", "getPlan", s.getPlan),
		a("GET", "/v1/journeys/{noms}/trail", "getTrail", s.getTrail),
		a("GET", "/v1/journeys/{noms}/trail.csv", "getTrailCSV", s.getTrailCSV),
		a("GET", "/v1/journeys/{noms}/verification", "verifyJourney", s.verifyJourney),
		a("GET", "/v1/trail.csv", "getTrailSetCSV", s.getTrailSetCSV),
		a("GET", "/v1/verification", "verifyAll", s.verifyAll),
		a("GET", "/v1/organisations/{org}/caseload", "getCaseload", s.getCaseload),
		a("GET", "/v1/organisations/{org}/handovers", "getHandovers", s.getHandovers),
		a("GET", "/v1/outcomes", "getOutcomes", s.getOutcomes),
		a("GET", "/v1/outcomes.csv", "getOutcomesCSV", s.getOutcomesCSV),
		a("GET", "/v1/access-log", "getAccessLog", s.getAccessLog),
		a("POST", "/v1/feeds/hmpps", "ingestHMPPS", s.ingestHMPPS),
		a("GET", "/v1/dead-letters", "listDeadLetters", s.listDeadLetters),
		a("POST", "/v1/dead-letters/redrive", "redriveDeadLetters", s.redriveDeadLetters),
		a("GET", "/v1/dead-letters/{id}", "getDeadLetter", s.getDeadLetter),
		a("POST", "/v1/dead-letters/{id}/redrive", "redriveDeadLetter", s.redriveDeadLetter),
		a("POST", "/v1/dead-letters/{id}/discard", "discardDeadLetter", s.discardDeadLetter),
		a("GET", "/v1/tokens", "listTokens", s.listTokens),
		a("POST", "/v1/tokens", "createToken", s.createToken),
		a("DELETE", "/v1/tokens/{id}", "revokeToken", s.revokeToken),
		a("GET", "/v1/backup", "backup", s.backup),
		a("POST", "/v1/seals", "writeSeal", s.writeSeal),
		a("GET", "/v1/seals/latest", "latestSeal", s.latestSeal),
		a("GET", "/v1/journeys/{noms}/seal-proof", "sealProof", s.sealProof),
	}
	for _, c := range request.CommandRoutes() {
		rs = append(rs, a("POST", "/v1/journeys/{noms}"+c.Path, c.Name, s.command(c)))
	}
	return rs
}

// reqInfo is filled in as a request passes through the layers, for its log
// line: the outer layer cannot see contexts derived further in.
type reqInfo struct {
	principal string
	id        string
}

type infoKey struct{}

func infoOf(ctx context.Context) *reqInfo {
	if i, ok := ctx.Value(infoKey{}).(*reqInfo); ok {
		return i
	}
	return &reqInfo{}
}

// routeOf is the matched pattern, the label of metrics and logs.
func routeOf(r *http.Request) string {
	if r.Pattern == "" {
		return "unmatched"
	}
	return r.Pattern
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// ServeHTTP logs, measures and recovers every request, and answers unknown
// routes and methods with problems.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	info := &reqInfo{id: r.Header.Get("X-Request-Id")}
	if !requestIDPattern.MatchString(info.id) {
		info.id = uuid.NewString()
	}
	r = r.WithContext(context.WithValue(r.Context(), infoKey{}, info))
	rw := &recorder{ResponseWriter: w}
	h := rw.Header()
	h.Set("X-Request-Id", info.id)
	h.Set("X-Content-Type-Options", "nosniff")
	// Answers hold personal data: no shared cache may keep them.
	h.Set("Cache-Control", "no-store")
	s.metrics.inFlight.Inc()
	defer func() {
		s.metrics.inFlight.Dec()
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "panic serving request", "route", routeOf(r), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !rw.wrote {
				s.writeProblem(rw, r, errors.New("panic"))
			}
		}
		d := time.Since(start)
		status := rw.statusCode()
		route := routeOf(r)
		s.metrics.observe(route, status, d)
		attrs := []slog.Attr{slog.String("method", r.Method), slog.String("route", route), slog.Int("status", status),
			slog.Duration("duration", d), slog.Int64("bytes", rw.bytes), slog.String("request_id", info.id)}
		if info.principal != "" {
			attrs = append(attrs, slog.String("principal", info.principal))
		}
		if noms := r.PathValue("noms"); noms != "" && aggregates.ValidNOMS(noms) {
			attrs = append(attrs, slog.String("noms", noms))
		}
		switch {
		case status >= 500:
			s.log.LogAttrs(r.Context(), slog.LevelError, "http request", attrs...)
		case s.cfg.RequestLog != nil:
			s.cfg.RequestLog.LogAttrs(r.Context(), slog.LevelInfo, "http request", attrs...)
		default:
			s.log.LogAttrs(r.Context(), slog.LevelDebug, "http request", attrs...)
		}
	}()
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.unmatched(rw, r)
		return
	}
	s.mux.ServeHTTP(rw, r)
}

// unmatched answers a request no route takes: 405 with Allow when the path
// exists with other methods, a redirect where the mux would give one (a path
// to clean), else 404 — as problems.
func (s *server) unmatched(w http.ResponseWriter, r *http.Request) {
	h, _ := s.mux.Handler(r)
	probe := &headerProbe{h: http.Header{}}
	h.ServeHTTP(probe, r)
	switch probe.code {
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", probe.h.Get("Allow"))
		s.writeProblem(w, r, problem.New(problem.MethodNotAllowed, "%s is not allowed here; allowed: %s", r.Method, probe.h.Get("Allow")))
	case http.StatusMovedPermanently, http.StatusPermanentRedirect, http.StatusFound, http.StatusTemporaryRedirect:
		w.Header().Set("Location", probe.h.Get("Location"))
		w.WriteHeader(probe.code)
	default:
		s.writeProblem(w, r, problem.New(problem.NotFound, "no such route"))
	}
}

// headerProbe records what the mux's own 404/405/redirect handler would say.
type headerProbe struct {
	h    http.Header
	code int
}

func (p *headerProbe) Header() http.Header { return p.h }
func (p *headerProbe) WriteHeader(c int) {
	if p.code == 0 {
		p.code = c
	}
}
func (p *headerProbe) Write(b []byte) (int, error) {
	if p.code == 0 {
		p.code = http.StatusOK
	}
	return len(b), nil
}

// recorder notes the status and size of an answer. It passes Flush and
// Hijack through (the live feed upgrades to WebSocket behind it).
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.status, r.wrote = http.StatusOK, true
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) statusCode() int {
	if !r.wrote {
		return http.StatusOK
	}
	return r.status
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Flush implements http.Flusher.
func (r *recorder) Flush() { _ = http.NewResponseController(r.ResponseWriter).Flush() }

// Hijack implements http.Hijacker for the WebSocket upgrade; the status is
// recorded as 101.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(r.ResponseWriter).Hijack()
	if err == nil && !r.wrote {
		r.status, r.wrote = http.StatusSwitchingProtocols, true
	}
	return c, rw, err
}

// authed authenticates the request, applies the throttle, and runs h with
// the principal; an error h returns is answered as a problem.
//
// The credential is always checked first: a valid one is limited only by
// its principal's budget, never by the failures of others at the same
// address. A refused one counts against its address and itself, and past
// their budget is answered 429 instead of 401 (package throttle).
func (s *server) authed(h authedFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.cfg.Auth.Authenticate(r.Context(), r)
		if err != nil {
			var d throttle.Decision
			switch {
			case errors.Is(err, auth.ErrInvalidToken):
				d = s.throttle.Failed(r, auth.CredentialKey(r))
			case errors.Is(err, auth.ErrNoCredentials):
				d = s.throttle.Anonymous(r)
			}
			if d.Limited {
				s.rateLimited(w, r, d, "too many refused credentials from this address or with this credential; check the token, then retry after the time in Retry-After")
				return
			}
			s.writeProblem(w, r, err)
			return
		}
		info := infoOf(r.Context())
		info.principal = p.ID
		if d := s.throttle.Principal(p.ID); d.Limited {
			s.rateLimited(w, r, d, "slow down; retry after the time in Retry-After")
			return
		}
		r = r.WithContext(auth.WithPrincipal(r.Context(), p))
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		}
		if err := h(w, r, p); err != nil {
			s.writeProblem(w, r, err)
		}
	})
}

func (s *server) rateLimited(w http.ResponseWriter, r *http.Request, d throttle.Decision, detail string) {
	s.metrics.limited.Inc()
	s.writeProblem(w, r, problem.New(problem.RateLimited, "%s", detail).
		With("Retry-After", strconv.Itoa(d.RetryAfterSeconds())))
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("web: encode answer: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
	return nil
}

func (s *server) openapi(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	// The document is public and changes only with the binary.
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(openAPIDocument)
}

// live hands the request to the WebSocket live feed (package web/live).
func (s *server) live(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Live == nil {
		s.writeProblem(w, r, problem.New(problem.NotFound, "the live feed is not enabled on this server"))
		return
	}
	s.cfg.Live.ServeHTTP(w, r)
}
