package pages

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/ingest"
	"github.com/gateledger/gateledger/internal/throttle"
	"github.com/gateledger/gateledger/ledger"
	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/projections/readmodel"
	"github.com/gateledger/gateledger/web/inspect"
)

// Config is what the pages need. API, Ledger, Runner, Auth and Sessions are
// required.
type Config struct {
	// API serves every path the pages do not own: /v1/..., /healthz,
	// /readyz and /metrics (package web).
	API http.Handler
	// Ledger carries out the forms' commands and every read of a person, a
	// caseload or a queue (package ledger), recorded in the access log as
	// the API's are, before the page is sent.
	Ledger *ledger.Ledger
	// Runner serves the read models.
	Runner *readmodel.Runner
	// Policy derives deadlines (aggregates.DefaultPolicy).
	Policy aggregates.Policy
	// Auth verifies the token given at sign-in.
	Auth *auth.Authenticator
	// Sessions holds the signed-in sessions (NewSessions). Set
	// Auth.Session to Sessions.Principal so that the live feed accepts the
	// session cookie too.
	Sessions *Sessions
	// AllowedOrigins are origins besides the request's own (scheme://host)
	// whose pages may post forms, as for the live feed (a TLS proxy in front
	// makes the browser's origin https while the server sees http).
	AllowedOrigins []string
	// OIDC, when set, offers sign-in through the external identity
	// provider besides the token form (NewOIDCLogin).
	OIDC *OIDCLogin
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Clock; nil means time.Now.
	Clock func() time.Time
	// Inspector builds the inspector's pages (package inspect); nil leaves
	// them out.
	Inspector *inspect.Inspector
	// Feed holds the dead-letter queue (package ingest) that admins and
	// inspectors read and admins work; nil leaves its pages out.
	Feed *ingest.Feed
	// Throttle limits page loads per principal (each read of a person
	// writes an access-log event), pages without a session per address,
	// and refused sign-ins per address and per token. Share the API's so
	// that a principal has one budget. Nil limits nothing.
	Throttle *throttle.Throttle
}

// server serves the pages. Its state is set by New and never changed.
type server struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	mux     *http.ServeMux
	routes  []route
	tmpl    *templates
	origins map[string]bool
}

// route is one page route.
type route struct {
	// Method and Path form the ServeMux pattern.
	Method, Path string
	// Roles may use the route; none means anyone signed in, and Public
	// routes need no session.
	Roles  []auth.Role
	Public bool
	// Nav, when set, lists the route in the navigation of its roles under
	// this label; Home makes it the page "/" sends those roles to.
	Nav  string
	Home bool
	h    pageFunc
	pub  http.HandlerFunc
}

// pageFunc serves a page to a signed-in principal; an error it returns is
// answered with an error page (see writeError).
type pageFunc func(w http.ResponseWriter, r *http.Request, s *session) error

// New builds the handler serving the pages at / and handing the API's paths
// to Config.API. It fails on a Config missing a required part or on a
// template that does not parse.
func New(cfg Config) (http.Handler, error) {
	var missing []string
	for name, ok := range map[string]bool{"API": cfg.API != nil, "Ledger": cfg.Ledger != nil, "Runner": cfg.Runner != nil,
		"Auth": cfg.Auth != nil, "Sessions": cfg.Sessions != nil} {
		if !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("pages: config lacks %s", strings.Join(missing, ", "))
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	t, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	s := &server{cfg: cfg, log: cfg.Logger, now: cfg.Clock, mux: http.NewServeMux(), tmpl: t, origins: map[string]bool{}}
	for _, o := range cfg.AllowedOrigins {
		s.origins[strings.ToLower(strings.TrimSuffix(strings.TrimSpace(o), "/"))] = true
	}
	if !assetsBuilt() {
		s.log.Warn("pages: the front-end assets are not built, so pages render unstyled; run `make assets`")
	}
	s.routes = slices.Concat(s.baseRoutes(), s.oidcRoutes(), s.prisonRoutes(), s.providerRoutes(), s.inspectorRoutes(), s.deadLetterRoutes())
	s.mux.Handle("GET /assets/", assetHandler())
	for _, rt := range s.routes {
		var h http.Handler
		if rt.Public {
			h = rt.pub
		} else {
			h = s.signedIn(rt)
		}
		s.mux.Handle(rt.Method+" "+rt.Path, h)
	}
	return s, nil
}

// apiPath reports whether path belongs to the API rather than the pages.
func apiPath(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/metrics", "/v1":
		return true
	}
	return strings.HasPrefix(path, "/v1/")
}

// ServeHTTP hands API paths to the API and serves the rest as pages, with
// the security headers every page carries.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if apiPath(r.URL.Path) {
		s.cfg.API.ServeHTTP(w, r)
		return
	}
	start := time.Now()
	rw := &statusWriter{ResponseWriter: w}
	setSecurityHeaders(rw.Header())
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "pages: panic serving request", "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !rw.wrote {
				s.errorPage(rw, r, nil, http.StatusInternalServerError)
			}
		}
		if !strings.HasPrefix(r.URL.Path, "/assets/") {
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "page request", slog.String("method", r.Method),
				slog.String("route", r.Pattern), slog.Int("status", rw.code()), slog.Duration("duration", time.Since(start)))
		}
	}()
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.errorPage(rw, r, nil, http.StatusNotFound)
		return
	}
	s.mux.ServeHTTP(rw, r)
}

// setSecurityHeaders: no inline script or style anywhere, no framing, no
// referrer leaving the service (URLs hold NOMS numbers; "no-referrer" would
// also make browsers send Origin: null on our own forms), and no shared cache
// keeping a page (they hold personal data).
func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	h.Set("Cache-Control", "no-store")
}

// signedIn wraps a page route: it finds the session (or sends the browser
// to sign in), checks the role, checks unsafe requests for forgery, and
// answers an error the page returns with an error page.
func (s *server) signedIn(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.cfg.Sessions.lookup(r.Context(), r)
		switch {
		case errors.Is(err, auth.ErrUnavailable) || errors.Is(err, auth.ErrChainBroken):
			s.errorPage(w, r, nil, http.StatusServiceUnavailable)
			return
		case err != nil:
			if d := s.cfg.Throttle.Anonymous(r); d.Limited {
				s.tooMany(w, r, nil, d)
				return
			}
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/sign-in?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.errorPage(w, r, nil, http.StatusForbidden)
			return
		}
		if d := s.cfg.Throttle.Principal(sess.principal.ID); d.Limited {
			s.tooMany(w, r, sess, d)
			return
		}
		r = r.WithContext(auth.WithPrincipal(r.Context(), sess.principal))
		if len(rt.Roles) > 0 && !slices.Contains(rt.Roles, sess.principal.Role) {
			s.errorPage(w, r, sess, http.StatusForbidden)
			return
		}
		if !safeMethod(r.Method) {
			if err := s.checkForgery(r, sess.csrf); err != nil {
				s.log.WarnContext(r.Context(), "pages: form refused", "err", err, "principal", sess.principal.String())
				s.errorPage(w, r, sess, http.StatusForbidden)
				return
			}
		}
		if err := rt.h(w, r, sess); err != nil {
			s.writeError(w, r, sess, err)
		}
	})
}

// writeError answers err with an error page: a person the principal may not
// see is "not found" exactly like one that does not exist.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, sess *session, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, auth.ErrNotFound) || errors.Is(err, projections.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, auth.ErrForbidden):
		status = http.StatusForbidden
	case errors.Is(err, auth.ErrUnavailable) || errors.Is(err, ledger.ErrNotRecorded) || errors.Is(err, readmodel.ErrNotCaughtUp) ||
		errors.Is(err, context.DeadlineExceeded):
		status = http.StatusServiceUnavailable
	}
	if status >= 500 {
		s.log.ErrorContext(r.Context(), "pages: request failed", "path", r.URL.Path, "err", err)
	}
	s.errorPage(w, r, sess, status)
}

// errorPage renders the page for an HTTP error status.
func (s *server) errorPage(w http.ResponseWriter, r *http.Request, sess *session, status int) {
	var title, body string
	switch status {
	case http.StatusNotFound:
		title, body = "Page not found", "If you typed the web address, check it is correct. If you followed a link to a person, they may not be in your caseload."
	case http.StatusForbidden:
		title, body = "You cannot do this", "Your role or organisation does not allow it, or the form had expired. Go back, reload the page and try again."
	case http.StatusServiceUnavailable:
		title, body = "Sorry, the service is unavailable", "The ledger could not answer in time. Try again in a few moments."
	case http.StatusTooManyRequests:
		title, body = "Too many requests", "There have been too many requests in a short time. Wait a minute, then try again."
	default:
		title, body = "Sorry, there is a problem with the service", "Try again later."
	}
	s.render(w, r, sess, status, "error", page{Title: title, Body: errorBody{Status: status, Message: body}})
}

// tooMany answers a throttled request with 429, Retry-After and an error
// page.
func (s *server) tooMany(w http.ResponseWriter, r *http.Request, sess *session, d throttle.Decision) {
	w.Header().Set("Retry-After", strconv.Itoa(d.RetryAfterSeconds()))
	s.errorPage(w, r, sess, http.StatusTooManyRequests)
}

type errorBody struct {
	Status  int
	Message string
}

// statusWriter notes the status of an answer for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) code() int {
	if !w.wrote {
		return http.StatusOK
	}
	return w.status
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}
