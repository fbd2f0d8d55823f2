package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// Defaults of OIDCConfig.
const (
	DefaultRoleClaim = "gateledger_role"
	DefaultOrgClaim  = "gateledger_org"
	DefaultLeeway    = time.Minute
	// MaxJWTLen bounds the size of a JWT accepted for verification.
	MaxJWTLen = 16 << 10
)

// DefaultAlgorithms are the signature algorithms accepted unless
// OIDCConfig.Algorithms says otherwise.
var defaultAlgorithms = []string{oidc.RS256, oidc.ES256}

// allowedAlgorithms are the asymmetric algorithms a configuration may name.
// "none" and the shared-secret HS* algorithms are never accepted: the JWKS is
// public, so a shared secret in it would let anyone sign.
var allowedAlgorithms = []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512,
	oidc.PS256, oidc.PS384, oidc.PS512, oidc.EdDSA}

// OIDCConfig configures verification of JWTs from an external OAuth2/OIDC
// identity provider.
type OIDCConfig struct {
	// Issuer is the exact "iss" of the tokens (and the discovery base URL).
	Issuer string
	// Audience is the "aud" the tokens must contain: the client id of
	// Gateledger at the identity provider.
	Audience string
	// JWKSURL is where the provider publishes its signing keys; empty means
	// discover it from Issuer + "/.well-known/openid-configuration".
	JWKSURL string
	// RoleClaim and OrgClaim name the claims holding the role and the
	// organisation code; empty means DefaultRoleClaim and DefaultOrgClaim.
	RoleClaim string
	OrgClaim  string
	// Algorithms are the signature algorithms accepted; empty means RS256 and
	// ES256. Only asymmetric algorithms may be named.
	Algorithms []string
	// Leeway is the clock skew allowed on exp, nbf and iat; zero means
	// DefaultLeeway. At most 5 minutes.
	Leeway time.Duration
	// HTTPClient fetches discovery and keys; nil means a client with a
	// 10-second timeout.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// JWKSRefreshInterval is the least time between two fetches of the key
	// set, however many tokens name keys the ledger does not hold; zero
	// means DefaultJWKSRefreshInterval.
	JWKSRefreshInterval time.Duration
}

// OIDCVerifier verifies JWTs from the configured identity provider and turns
// them into principals. It is safe for concurrent use; keys are fetched
// from the JWKS and cached, and fetched again when a token names a key not
// in the cache, at most once per JWKSRefreshInterval (jwksCache).
type OIDCVerifier struct {
	cfg      OIDCConfig
	verifier *oidc.IDTokenVerifier
	keys     *jwksCache
}

// NewOIDCVerifier checks cfg and prepares the verifier. When cfg.JWKSURL is
// empty it fetches the issuer's discovery document now, so a wrong issuer is
// found at start-up. Issuer and JWKS URL must be https, except on loopback.
func NewOIDCVerifier(ctx context.Context, cfg OIDCConfig) (*OIDCVerifier, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("auth: OIDC issuer is required")
	}
	if cfg.Audience == "" {
		return nil, errors.New("auth: OIDC audience (client id) is required")
	}
	if err := checkURL("issuer", cfg.Issuer); err != nil {
		return nil, err
	}
	if cfg.JWKSURL != "" {
		if err := checkURL("JWKS URL", cfg.JWKSURL); err != nil {
			return nil, err
		}
	}
	if cfg.RoleClaim == "" {
		cfg.RoleClaim = DefaultRoleClaim
	}
	if cfg.OrgClaim == "" {
		cfg.OrgClaim = DefaultOrgClaim
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = slices.Clone(defaultAlgorithms)
	}
	for _, a := range cfg.Algorithms {
		if !slices.Contains(allowedAlgorithms, a) {
			return nil, fmt.Errorf("auth: OIDC algorithm %q is not allowed (want one of %s)", a, strings.Join(allowedAlgorithms, ", "))
		}
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.Leeway < 0 || cfg.Leeway > 5*time.Minute {
		return nil, fmt.Errorf("auth: OIDC leeway %v is not between 0 and 5 minutes", cfg.Leeway)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.JWKSRefreshInterval == 0 {
		cfg.JWKSRefreshInterval = DefaultJWKSRefreshInterval
	}
	if cfg.JWKSRefreshInterval < 0 {
		return nil, fmt.Errorf("auth: OIDC key refresh interval %v is negative", cfg.JWKSRefreshInterval)
	}
	jwksURL := cfg.JWKSURL
	if jwksURL == "" {
		p, err := oidc.NewProvider(oidc.ClientContext(ctx, cfg.HTTPClient), cfg.Issuer)
		if err != nil {
			return nil, fmt.Errorf("auth: OIDC discovery for %s: %w", cfg.Issuer, err)
		}
		var meta struct {
			JWKSURI string `json:"jwks_uri"`
		}
		if err := p.Claims(&meta); err != nil || meta.JWKSURI == "" {
			return nil, fmt.Errorf("auth: OIDC discovery for %s: no jwks_uri", cfg.Issuer)
		}
		if err := checkURL("discovered JWKS URL", meta.JWKSURI); err != nil {
			return nil, err
		}
		jwksURL = meta.JWKSURI
	}
	keys := newJWKSCache(jwksURL, cfg.HTTPClient, cfg.JWKSRefreshInterval, cfg.Now, cfg.Algorithms)
	leeway, now := cfg.Leeway, cfg.Now
	v := oidc.NewVerifier(cfg.Issuer, keys, &oidc.Config{
		ClientID:             cfg.Audience,
		SupportedSigningAlgs: cfg.Algorithms,
		// go-oidc compares exp with no leeway: give it a clock running
		// leeway behind. nbf and iat are checked below with the same leeway.
		Now: func() time.Time { return now().Add(-leeway) },
	})
	return &OIDCVerifier{cfg: cfg, verifier: v, keys: keys}, nil
}

// checkURL requires https, or http on a loopback host (tests, a local
// identity provider).
func checkURL(what, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("auth: OIDC %s %q is not an absolute URL", what, raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if host == "localhost" {
			return nil
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			return nil
		}
	}
	return fmt.Errorf("auth: OIDC %s %q must use https (http only on loopback)", what, raw)
}

// oidcClaims are the registered claims checked here, beside go-oidc's checks.
type oidcClaims struct {
	NotBefore         *numericDate `json:"nbf"`
	IssuedAt          *numericDate `json:"iat"`
	Name              string       `json:"name"`
	PreferredUsername string       `json:"preferred_username"`
}

// numericDate is a JWT NumericDate (seconds, possibly fractional).
type numericDate float64

func (n numericDate) time() time.Time {
	sec := float64(n)
	return time.Unix(0, 0).Add(time.Duration(sec * float64(time.Second)))
}

// Verify checks a JWT (signature against the JWKS with an allowed
// algorithm, issuer, audience, exp, nbf and iat with the leeway) and returns
// its principal: ID "oidc:<sub>", the role and organisation from the
// configured claims, validated as Principal.Validate does. Every refusal
// matches ErrInvalidToken.
func (v *OIDCVerifier) Verify(ctx context.Context, raw string) (Principal, error) {
	if raw == "" || len(raw) > MaxJWTLen {
		return Principal{}, invalid(ReasonMalformed, "", nil)
	}
	tok, err := v.verifier.Verify(ctx, raw)
	if err != nil {
		return Principal{}, invalid(oidcReason(err), "", err)
	}
	now := v.cfg.Now()
	var c oidcClaims
	if err := tok.Claims(&c); err != nil {
		return Principal{}, invalid(ReasonMalformed, "", err)
	}
	if c.NotBefore != nil && c.NotBefore.time().After(now.Add(v.cfg.Leeway)) {
		return Principal{}, invalid(ReasonNotYetValid, "", nil)
	}
	if c.IssuedAt != nil && c.IssuedAt.time().After(now.Add(v.cfg.Leeway)) {
		return Principal{}, invalid(ReasonNotYetValid, "", errors.New("issued in the future"))
	}
	if tok.Subject == "" {
		return Principal{}, invalid(ReasonClaims, "", errors.New("no sub claim"))
	}
	var all map[string]json.RawMessage
	if err := tok.Claims(&all); err != nil {
		return Principal{}, invalid(ReasonMalformed, "", err)
	}
	role, err := stringClaim(all, v.cfg.RoleClaim)
	if err != nil {
		return Principal{}, invalid(ReasonClaims, "", err)
	}
	org := ""
	if _, present := all[v.cfg.OrgClaim]; present {
		if org, err = stringClaim(all, v.cfg.OrgClaim); err != nil {
			return Principal{}, invalid(ReasonClaims, "", err)
		}
	}
	name := cmpOr(c.Name, c.PreferredUsername, tok.Subject)
	if len(name) > MaxNameLen || validText("name", name) != nil {
		name = tok.Subject
	}
	p := Principal{ID: "oidc:" + tok.Subject, Name: name, Role: Role(role), Org: org}
	if err := p.Validate(); err != nil {
		return Principal{}, invalid(ReasonClaims, "", err)
	}
	return p, nil
}

func stringClaim(all map[string]json.RawMessage, name string) (string, error) {
	raw, ok := all[name]
	if !ok {
		return "", fmt.Errorf("no %s claim", name)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("claim %s is not a string", name)
	}
	return s, nil
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// oidcReason classifies a go-oidc error for the log. go-oidc has typed
// errors only for expiry; the rest is told apart by the checks' wording.
func oidcReason(err error) string {
	var exp *oidc.TokenExpiredError
	if errors.As(err, &exp) {
		return ReasonExpired
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "different provider"):
		return ReasonIssuer
	case strings.Contains(msg, "expected audience"):
		return ReasonAudience
	case strings.Contains(msg, "nbf"):
		return ReasonNotYetValid
	case strings.Contains(msg, "malformed jwt"):
		return ReasonMalformed
	}
	return ReasonSignature
}
