package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const testAudience = "gateledger-test"

// idp is a test identity provider on loopback: a discovery document and a
// JWKS with one RSA and one ECDSA key.
type idp struct {
	srv    *httptest.Server
	rsaKey *rsa.PrivateKey
	ecKey  *ecdsa.PrivateKey
}

func newIDP(t *testing.T) *idp {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := &idp{rsaKey: rk, ecKey: ek}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: rk.Public(), KeyID: "rsa-1", Algorithm: "RS256", Use: "sig"},
			{Key: ek.Public(), KeyID: "ec-1", Algorithm: "ES256", Use: "sig"},
		}}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	})
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": p.srv.URL, "jwks_uri": p.srv.URL + "/jwks",
			"authorization_endpoint": p.srv.URL + "/authorize", "token_endpoint": p.srv.URL + "/token",
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
		})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) verifier(t *testing.T, cfg OIDCConfig) *OIDCVerifier {
	t.Helper()
	if cfg.Issuer == "" {
		cfg.Issuer = p.srv.URL
	}
	if cfg.Audience == "" {
		cfg.Audience = testAudience
	}
	if cfg.JWKSURL == "" {
		cfg.JWKSURL = p.srv.URL + "/jwks"
	}
	v, err := NewOIDCVerifier(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func sign(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// unsigned builds a token by hand with the given header, as an attacker
// would: alg "none", or HS256 keyed with the RSA public key.
func unsigned(t *testing.T, header map[string]any, claims map[string]any, key []byte) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	in := enc(header) + "." + enc(claims)
	if key == nil {
		return in + "."
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(in))
	return in + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func TestOIDCVerify(t *testing.T) {
	p := newIDP(t)
	now := time.Now()
	v := p.verifier(t, OIDCConfig{Now: func() time.Time { return now }})
	otherRSA, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	claims := func(edit func(map[string]any)) map[string]any {
		c := map[string]any{
			"iss": p.srv.URL, "aud": testAudience, "sub": "u-123", "name": "Ada Officer",
			"iat": now.Add(-time.Minute).Unix(), "exp": now.Add(10 * time.Minute).Unix(),
			DefaultRoleClaim: "provider", DefaultOrgClaim: "C17",
		}
		if edit != nil {
			edit(c)
		}
		return c
	}
	set := func(k string, val any) func(map[string]any) { return func(c map[string]any) { c[k] = val } }
	del := func(k string) func(map[string]any) { return func(c map[string]any) { delete(c, k) } }
	rs := func(c map[string]any) string { return sign(t, jose.RS256, p.rsaKey, "rsa-1", c) }
	pubDER, err := x509.MarshalPKIXPublicKey(p.rsaKey.Public())
	if err != nil {
		t.Fatal(err)
	}

	accepted := []struct {
		name  string
		token string
		want  Principal
	}{
		{"RS256 provider", rs(claims(nil)), Principal{ID: "oidc:u-123", Name: "Ada Officer", Role: RoleProvider, Org: "C17"}},
		{"ES256 prison", sign(t, jose.ES256, p.ecKey, "ec-1", claims(func(c map[string]any) {
			c[DefaultRoleClaim], c[DefaultOrgClaim] = "prison", "MDI"
		})), Principal{ID: "oidc:u-123", Name: "Ada Officer", Role: RolePrison, Org: "MDI"}},
		{"inspector without org", rs(claims(func(c map[string]any) {
			c[DefaultRoleClaim] = "inspector"
			delete(c, DefaultOrgClaim)
		})), Principal{ID: "oidc:u-123", Name: "Ada Officer", Role: RoleInspector}},
		{"audience list", rs(claims(set("aud", []string{"other", testAudience}))), Principal{ID: "oidc:u-123", Name: "Ada Officer", Role: RoleProvider, Org: "C17"}},
		{"expired within leeway", rs(claims(set("exp", now.Add(-30*time.Second).Unix()))), Principal{ID: "oidc:u-123", Name: "Ada Officer", Role: RoleProvider, Org: "C17"}},
		{"nbf within leeway", rs(claims(set("nbf", now.Add(30*time.Second).Unix()))), Principal{ID: "oidc:u-123", Name: "Ada Officer", Role: RoleProvider, Org: "C17"}},
		{"NPS region", rs(claims(set(DefaultOrgClaim, "NPS-J"))), Principal{ID: "oidc:u-123", Name: "Ada Officer", Role: RoleProvider, Org: "NPS-J"}},
	}
	for _, tc := range accepted {
		t.Run("accept/"+tc.name, func(t *testing.T) {
			got, err := v.Verify(context.Background(), tc.token)
			if err != nil {
				t.Fatalf("Verify: %v (%s)", err, reason(err))
			}
			if got != tc.want {
				t.Fatalf("principal %+v, want %+v", got, tc.want)
			}
		})
	}

	rejected := []struct {
		name   string
		token  string
		reason string
	}{
		{"expired", rs(claims(set("exp", now.Add(-2*time.Minute).Unix()))), ReasonExpired},
		{"no exp", rs(claims(del("exp"))), ReasonExpired},
		{"not yet valid", rs(claims(set("nbf", now.Add(2*time.Minute).Unix()))), ReasonNotYetValid},
		{"issued in the future", rs(claims(set("iat", now.Add(2*time.Minute).Unix()))), ReasonNotYetValid},
		{"wrong issuer", rs(claims(set("iss", "https://evil.example"))), ReasonIssuer},
		{"wrong audience", rs(claims(set("aud", "someone-else"))), ReasonAudience},
		{"no audience", rs(claims(del("aud"))), ReasonAudience},
		{"wrong key, known kid", sign(t, jose.RS256, otherRSA, "rsa-1", claims(nil)), ReasonSignature},
		{"wrong key, unknown kid", sign(t, jose.RS256, otherRSA, "rsa-9", claims(nil)), ReasonSignature},
		{"alg none", unsigned(t, map[string]any{"alg": "none", "typ": "JWT"}, claims(nil), nil), ReasonMalformed},
		{"HS256 keyed with the public key", unsigned(t, map[string]any{"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}, claims(nil), pubDER), ReasonMalformed},
		{"RS384 not allowed", sign(t, jose.RS384, p.rsaKey, "rsa-1", claims(nil)), ReasonMalformed},
		{"signature stripped", func() string { s := rs(claims(nil)); return s[:strings.LastIndex(s, ".")+1] }(), ReasonSignature},
		{"payload swapped", func() string {
			a, b := strings.Split(rs(claims(nil)), "."), strings.Split(rs(claims(set(DefaultRoleClaim, "inspector"))), ".")
			return a[0] + "." + b[1] + "." + a[2]
		}(), ReasonSignature},
		{"garbage", "not.a.jwt", ReasonMalformed},
		{"empty", "", ReasonMalformed},
		{"huge", strings.Repeat("a", MaxJWTLen+1), ReasonMalformed},
		{"no role claim", rs(claims(del(DefaultRoleClaim))), ReasonClaims},
		{"unknown role", rs(claims(set(DefaultRoleClaim, "superuser"))), ReasonClaims},
		{"role not a string", rs(claims(set(DefaultRoleClaim, []string{"provider"}))), ReasonClaims},
		{"provider without org", rs(claims(del(DefaultOrgClaim))), ReasonClaims},
		{"provider with prison code", rs(claims(set(DefaultOrgClaim, "MDI"))), ReasonClaims},
		{"provider with unknown code", rs(claims(set(DefaultOrgClaim, "C99"))), ReasonClaims},
		{"prison with provider code", rs(claims(func(c map[string]any) { c[DefaultRoleClaim] = "prison" })), ReasonClaims},
		{"inspector with org", rs(claims(set(DefaultRoleClaim, "inspector"))), ReasonClaims},
		{"org not a string", rs(claims(set(DefaultOrgClaim, 17))), ReasonClaims},
		{"no subject", rs(claims(del("sub"))), ReasonClaims},
	}
	for _, tc := range rejected {
		t.Run("reject/"+tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tc.token)
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("err = %v, want ErrInvalidToken", err)
			}
			if err.Error() != ErrInvalidToken.Error() {
				t.Fatalf("error text %q says more than %q", err.Error(), ErrInvalidToken.Error())
			}
			if got := reason(err); got != tc.reason {
				var e *InvalidTokenError
				errors.As(err, &e)
				t.Fatalf("reason %q, want %q (%v)", got, tc.reason, e.Err)
			}
		})
	}
}

func TestOIDCConfigurableClaimsAndDiscovery(t *testing.T) {
	p := newIDP(t)
	// No JWKS URL: discovered from the issuer.
	v, err := NewOIDCVerifier(context.Background(), OIDCConfig{Issuer: p.srv.URL, Audience: testAudience,
		RoleClaim: "https://gateledger.example/role", OrgClaim: "https://gateledger.example/org"})
	if err != nil {
		t.Fatal(err)
	}
	tok := sign(t, jose.ES256, p.ecKey, "ec-1", map[string]any{
		"iss": p.srv.URL, "aud": testAudience, "sub": "s", "preferred_username": "pat",
		"exp":                             time.Now().Add(time.Minute).Unix(),
		"https://gateledger.example/role": "prison", "https://gateledger.example/org": "LEI",
		DefaultRoleClaim: "inspector", // the default names mean nothing here
	})
	got, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Principal{ID: "oidc:s", Name: "pat", Role: RolePrison, Org: "LEI"}); got != want {
		t.Fatalf("principal %+v, want %+v", got, want)
	}
}

func TestOIDCConfigRefused(t *testing.T) {
	p := newIDP(t)
	tests := []struct {
		name string
		cfg  OIDCConfig
	}{
		{"no issuer", OIDCConfig{Audience: "a", JWKSURL: p.srv.URL + "/jwks"}},
		{"no audience", OIDCConfig{Issuer: p.srv.URL, JWKSURL: p.srv.URL + "/jwks"}},
		{"alg none", OIDCConfig{Issuer: p.srv.URL, Audience: "a", JWKSURL: p.srv.URL + "/jwks", Algorithms: []string{"none"}}},
		{"HS256", OIDCConfig{Issuer: p.srv.URL, Audience: "a", JWKSURL: p.srv.URL + "/jwks", Algorithms: []string{"RS256", "HS256"}}},
		{"plain http off loopback", OIDCConfig{Issuer: "http://idp.example", Audience: "a", JWKSURL: "http://idp.example/jwks"}},
		{"relative JWKS URL", OIDCConfig{Issuer: p.srv.URL, Audience: "a", JWKSURL: "/jwks"}},
		{"leeway too long", OIDCConfig{Issuer: p.srv.URL, Audience: "a", JWKSURL: p.srv.URL + "/jwks", Leeway: time.Hour}},
		{"discovery of a wrong issuer", OIDCConfig{Issuer: p.srv.URL + "/other", Audience: "a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewOIDCVerifier(context.Background(), tc.cfg); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
