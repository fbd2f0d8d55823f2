package pages

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gateledger/gateledger/auth"
)

// SessionCookie is the name of the session cookie. It holds only a random
// session id; the principal and the credential stay on the server.
const SessionCookie = "gateledger_session"

// Defaults of SessionsConfig.
const (
	DefaultSessionLifetime = 8 * time.Hour
	DefaultSessionIdle     = 30 * time.Minute
	DefaultMaxSessions     = 10000
)

// errNoSession: the request has no session, or one that ended.
var errNoSession = errors.New("pages: no session")

// SessionsConfig configures Sessions.
type SessionsConfig struct {
	// Verify checks the credential a session was opened with, on every use,
	// so that a revoked token or an expired identity-provider token ends the
	// session: auth.Authenticator.VerifyBearer. Required.
	Verify func(ctx context.Context, token string) (auth.Principal, error)
	// Lifetime bounds a session from sign-in (DefaultSessionLifetime).
	Lifetime time.Duration
	// Idle ends a session unused for this long (DefaultSessionIdle).
	Idle time.Duration
	// Max bounds the sessions held at once (DefaultMaxSessions); at the
	// bound, signing in ends the session used least recently.
	Max int
	// Clock; nil means time.Now.
	Clock func() time.Time
}

// Sessions are the signed-in browser sessions, held in memory: a restart
// signs everyone out. Safe for concurrent use.
type Sessions struct {
	cfg SessionsConfig
	mu  sync.Mutex
	// byHash is keyed by the SHA-256 of the session id, so that the id
	// itself is never compared byte by byte.
	byHash map[[32]byte]*session
}

// session is one signed-in browser.
type session struct {
	key       [32]byte
	principal auth.Principal
	// credential is the bearer token the user signed in with; it is
	// verified again on every use and never leaves the server.
	credential string
	// csrf is the form token of this session (hidden field "csrf").
	csrf     string
	created  time.Time
	lastUsed time.Time
}

// CSRF is the session's form token, for templates.
func (s *session) CSRF() string { return s.csrf }

// NewSessions returns an empty session store.
func NewSessions(cfg SessionsConfig) *Sessions {
	if cfg.Lifetime <= 0 {
		cfg.Lifetime = DefaultSessionLifetime
	}
	if cfg.Idle <= 0 {
		cfg.Idle = DefaultSessionIdle
	}
	if cfg.Max <= 0 {
		cfg.Max = DefaultMaxSessions
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &Sessions{cfg: cfg, byHash: map[[32]byte]*session{}}
}

// randomToken is 32 random bytes, base64url.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// create opens a session for p, who signed in with credential, and returns
// its id (the cookie's value).
func (ss *Sessions) create(p auth.Principal, credential string) (string, *session) {
	id := randomToken()
	now := ss.cfg.Clock()
	s := &session{key: sha256.Sum256([]byte(id)), principal: p, credential: credential, csrf: randomToken(), created: now, lastUsed: now}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.sweepLocked(now)
	if len(ss.byHash) >= ss.cfg.Max {
		var oldest *session
		for _, o := range ss.byHash {
			if oldest == nil || o.lastUsed.Before(oldest.lastUsed) {
				oldest = o
			}
		}
		delete(ss.byHash, oldest.key)
	}
	ss.byHash[s.key] = s
	return id, s
}

// sweepLocked forgets ended sessions.
func (ss *Sessions) sweepLocked(now time.Time) {
	for k, s := range ss.byHash {
		if ss.endedLocked(s, now) {
			delete(ss.byHash, k)
		}
	}
}

func (ss *Sessions) endedLocked(s *session, now time.Time) bool {
	return now.Sub(s.created) >= ss.cfg.Lifetime || now.Sub(s.lastUsed) >= ss.cfg.Idle
}

// lookup finds the request's session and verifies its credential again.
// The errors are errNoSession (none, ended, or the credential no longer
// verifies: the session is ended) and the credential check's
// auth.ErrUnavailable or auth.ErrChainBroken (the session is kept).
func (ss *Sessions) lookup(ctx context.Context, r *http.Request) (*session, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil, errNoSession
	}
	key := sha256.Sum256([]byte(c.Value))
	now := ss.cfg.Clock()
	ss.mu.Lock()
	s, ok := ss.byHash[key]
	if ok && ss.endedLocked(s, now) {
		delete(ss.byHash, key)
		ok = false
	}
	ss.mu.Unlock()
	if !ok {
		return nil, errNoSession
	}
	p, err := ss.cfg.Verify(ctx, s.credential)
	if err != nil {
		if errors.Is(err, auth.ErrUnavailable) || errors.Is(err, auth.ErrChainBroken) {
			return nil, err
		}
		ss.end(key)
		return nil, fmt.Errorf("%w: %w", errNoSession, err)
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.byHash[key] != s {
		// Signed out meanwhile.
		return nil, errNoSession
	}
	s.lastUsed = now
	// The credential's current principal wins (a token's name may change;
	// its role and organisation cannot).
	s.principal = p
	cp := *s
	return &cp, nil
}

// Principal is the auth.Authenticator.Session hook: the principal of the
// request's session, for the live feed's upgrade.
func (ss *Sessions) Principal(r *http.Request) (auth.Principal, bool) {
	s, err := ss.lookup(r.Context(), r)
	if err != nil {
		return auth.Principal{}, false
	}
	return s.principal, true
}

func (ss *Sessions) end(key [32]byte) {
	ss.mu.Lock()
	delete(ss.byHash, key)
	ss.mu.Unlock()
}

// Len is how many sessions are held (ended ones not yet swept included).
func (ss *Sessions) Len() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.byHash)
}

// sessionCookie is the cookie carrying id: Secure (browsers treat
// http://localhost and 127.0.0.1 as secure, so local use works), HttpOnly
// (no script reads it), SameSite=Lax (not sent on cross-site posts, nor on
// cross-site subresource requests).
func sessionCookie(id string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: SessionCookie, Value: id, Path: "/", MaxAge: maxAge, Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode}
}

// equalTokens compares form tokens in constant time.
func equalTokens(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
