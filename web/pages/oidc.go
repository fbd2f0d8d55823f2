package pages

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gateledger/gateledger/auth"
)

// OIDCLoginConfig configures sign-in through an external OpenID Connect
// identity provider: the authorization code flow with PKCE (S256), state
// and nonce. The ID token it returns is verified by the ledger's own
// auth.OIDCVerifier (Config.Auth.OIDC), which must accept it: its audience
// is the client id.
type OIDCLoginConfig struct {
	// Issuer is the provider's issuer URL (discovery base).
	Issuer string
	// ClientID and ClientSecret are Gateledger's client at the provider;
	// an empty secret is a public client (PKCE alone).
	ClientID, ClientSecret string
	// RedirectURL is the absolute URL of /sign-in/oidc/callback as the
	// browser reaches it; it must be registered at the provider.
	RedirectURL string
	// Scopes requested besides "openid"; empty means profile and email.
	Scopes []string
	// HTTPClient talks to the provider; nil means a 10-second timeout.
	HTTPClient *http.Client
}

// OIDCLogin is a configured identity-provider sign-in (NewOIDCLogin).
type OIDCLogin struct {
	oauth  oauth2.Config
	client *http.Client

	mu      sync.Mutex
	pending map[string]pendingLogin
}

// pendingLogin is a sign-in sent to the provider and not yet back.
type pendingLogin struct {
	verifier, nonce, next string
	started               time.Time
}

// Bounds of pending sign-ins.
const (
	oidcPendingTTL = 10 * time.Minute
	oidcMaxPending = 10000
	oidcCookie     = "gateledger_oidc"
	oidcCallback   = "/sign-in/oidc/callback"
)

// NewOIDCLogin discovers the provider's endpoints.
func NewOIDCLogin(ctx context.Context, cfg OIDCLoginConfig) (*OIDCLogin, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" {
		return nil, errors.New("pages: OIDC sign-in needs the issuer, the client id and the redirect URL")
	}
	u, err := url.Parse(cfg.RedirectURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != oidcCallback {
		return nil, fmt.Errorf("pages: OIDC redirect URL %q: want an absolute http(s) URL ending in %s", cfg.RedirectURL, oidcCallback)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, cfg.HTTPClient), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("pages: OIDC discovery for %s: %w", cfg.Issuer, err)
	}
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{"profile", "email"}
	}
	return &OIDCLogin{
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Endpoint: p.Endpoint(),
			RedirectURL: cfg.RedirectURL, Scopes: append([]string{oidc.ScopeOpenID}, scopes...)},
		client:  cfg.HTTPClient,
		pending: map[string]pendingLogin{},
	}, nil
}

// start records a pending sign-in and returns its state and the provider's
// authorization URL.
func (o *OIDCLogin) start(next string, now time.Time) (state, authURL string) {
	state, nonce, verifier := randomToken(), randomToken(), oauth2.GenerateVerifier()
	o.mu.Lock()
	for k, p := range o.pending {
		if now.Sub(p.started) > oidcPendingTTL {
			delete(o.pending, k)
		}
	}
	if len(o.pending) >= oidcMaxPending {
		// A flood of abandoned sign-ins: forget the oldest.
		var oldest string
		var at time.Time
		for k, p := range o.pending {
			if oldest == "" || p.started.Before(at) {
				oldest, at = k, p.started
			}
		}
		delete(o.pending, oldest)
	}
	o.pending[state] = pendingLogin{verifier: verifier, nonce: nonce, next: next, started: now}
	o.mu.Unlock()
	return state, o.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))
}

// take removes and returns the pending sign-in of state.
func (o *OIDCLogin) take(state string, now time.Time) (pendingLogin, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p, ok := o.pending[state]
	delete(o.pending, state)
	if !ok || now.Sub(p.started) > oidcPendingTTL {
		return pendingLogin{}, false
	}
	return p, true
}

// oidcRoutes are the identity provider's sign-in, when one is configured.
func (s *server) oidcRoutes() []route {
	if s.cfg.OIDC == nil {
		return nil
	}
	return []route{
		{Method: "GET", Path: "/sign-in/oidc", Public: true, pub: s.oidcStart},
		{Method: "GET", Path: oidcCallback, Public: true, pub: s.oidcCallback},
	}
}

// oidcStart sends the browser to the identity provider. The state is also
// in a cookie, so that only the browser that started a sign-in can finish
// it (no login CSRF).
func (s *server) oidcStart(w http.ResponseWriter, r *http.Request) {
	state, authURL := s.cfg.OIDC.start(localPath(r.URL.Query().Get("next")), s.now())
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: state, Path: oidcCallback, MaxAge: int(oidcPendingTTL.Seconds()),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, authURL, http.StatusSeeOther)
}

// oidcCallback finishes a sign-in: it checks the state against the cookie,
// exchanges the code with the PKCE verifier, verifies the ID token as the
// API verifies bearer JWTs, checks the nonce, and opens a session whose
// credential is the ID token (so the session ends when the token expires).
func (s *server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: "", Path: oidcCallback, MaxAge: -1, Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode})
	fail := func(msg string, err error) {
		s.log.WarnContext(r.Context(), "pages: identity provider sign-in failed", "reason", msg, "err", err)
		s.renderSignIn(w, r, http.StatusUnauthorized, page{Title: "Sign in to Gateledger", Body: signInBody{Next: "/", OIDC: true},
			Errors: []fieldError{{Message: msg}}})
	}
	c, err := r.Cookie(oidcCookie)
	state := q.Get("state")
	if err != nil || !equalTokens(c.Value, state) {
		fail("The sign-in could not be finished. Start again.", errors.New("state does not match the cookie"))
		return
	}
	pending, ok := s.cfg.OIDC.take(state, s.now())
	if !ok {
		fail("The sign-in took too long. Start again.", errors.New("no pending sign-in for the state"))
		return
	}
	if e := q.Get("error"); e != "" {
		fail("Your organisation's sign-in did not let you in.", fmt.Errorf("provider error %q: %s", e, q.Get("error_description")))
		return
	}
	ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), oauth2.HTTPClient, s.cfg.OIDC.client), 15*time.Second)
	defer cancel()
	tok, err := s.cfg.OIDC.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(pending.verifier))
	if err != nil {
		fail("The sign-in could not be finished. Start again.", err)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		fail("The sign-in could not be finished. Start again.", errors.New("no id_token in the token answer"))
		return
	}
	p, err := s.cfg.Auth.VerifyBearer(ctx, raw)
	switch {
	case errors.Is(err, auth.ErrUnavailable) || errors.Is(err, auth.ErrChainBroken):
		s.errorPage(w, r, nil, http.StatusServiceUnavailable)
		return
	case err != nil:
		fail("Your account is not set up for Gateledger: ask your administrator.", err)
		return
	}
	if nonce, err := tokenNonce(raw); err != nil || !equalTokens(nonce, pending.nonce) {
		fail("The sign-in could not be finished. Start again.", fmt.Errorf("nonce does not match: %v", err))
		return
	}
	if !s.hasPages(p.Role) {
		fail("Your account is for the "+string(p.Role)+" role, which has no web pages.", nil)
		return
	}
	id, _ := s.cfg.Sessions.create(p, raw)
	http.SetCookie(w, sessionCookie(id, int(s.cfg.Sessions.cfg.Lifetime.Seconds())))
	s.log.InfoContext(r.Context(), "pages: signed in through the identity provider", "principal", p.String())
	http.Redirect(w, r, pending.next, http.StatusSeeOther)
}

// tokenNonce reads the nonce claim of a JWT whose signature has been
// verified.
func tokenNonce(raw string) (string, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", errors.New("not a JWS compact serialisation")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var claims struct {
		Nonce string `json:"nonce"`
	}
	if err := json.Unmarshal(b, &claims); err != nil {
		return "", err
	}
	return claims.Nonce, nil
}
