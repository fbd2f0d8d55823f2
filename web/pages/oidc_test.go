package pages_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/gateledger/gateledger/web/pages"
)

// idp is an OpenID Connect provider on loopback for the tests: discovery,
// JWKS, an authorization endpoint that signs the user in at once, and a
// token endpoint that checks the client and the PKCE verifier.
type idp struct {
	t      *testing.T
	srv    *httptest.Server
	signer jose.Signer
	jwks   jose.JSONWebKeySet
	client string

	mu    sync.Mutex
	codes map[string]idpCode
	// user is who signs in: role and organisation claims.
	role, org string
	// badNonce makes the provider return a different nonce.
	badNonce bool
}

type idpCode struct{ challenge, nonce, redirect string }

func newIdP(t *testing.T, client string) *idp {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	p := &idp{t: t, signer: signer, client: client, codes: map[string]idpCode{}, role: "prison", org: "MDI",
		jwks: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": p.srv.URL, "authorization_endpoint": p.srv.URL + "/authorize",
			"token_endpoint": p.srv.URL + "/token", "jwks_uri": p.srv.URL + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"}})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) { _ = json.NewEncoder(w).Encode(p.jwks) })
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != p.client || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
			q.Get("code_challenge") == "" || q.Get("nonce") == "" || !strings.Contains(q.Get("scope"), "openid") {
			http.Error(w, "bad authorization request: "+r.URL.RawQuery, http.StatusBadRequest)
			return
		}
		code := pages.RandomToken()
		p.mu.Lock()
		p.codes[code] = idpCode{challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), redirect: q.Get("redirect_uri")}
		p.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
		}
		p.mu.Lock()
		c, found := p.codes[r.PostFormValue("code")]
		delete(p.codes, r.PostFormValue("code"))
		p.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
		switch {
		case id != p.client || secret != "test-secret":
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		case !found || c.redirect != r.PostFormValue("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge:
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		nonce := c.nonce
		if p.badNonce {
			nonce = "not-the-nonce"
		}
		now := time.Now()
		claims := map[string]any{"iss": p.srv.URL, "aud": p.client, "sub": "user-1", "name": "Pat Officer", "nonce": nonce,
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "gateledger_role": p.role, "gateledger_org": p.org}
		payload, _ := json.Marshal(claims)
		jws, err := p.signer.Sign(payload)
		if err != nil {
			t.Error(err)
			return
		}
		raw, _ := jws.CompactSerialize()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "opaque", "token_type": "Bearer", "expires_in": 3600, "id_token": raw})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func withOIDC(issuer, client string) func(*ledgerOptions) {
	return func(o *ledgerOptions) { o.oidcIssuer, o.oidcClient = issuer, client }
}

// follow requests a URL outside the ledger (the provider), without
// following its redirect, and returns where it redirects.
func follow(t *testing.T, u string) string {
	t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

// pathOf is the path and query of an absolute ledger URL.
func pathOf(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.RequestURI()
}

func TestOIDCSignIn(t *testing.T) {
	p := newIdP(t, "gateledger-web")
	l := startLedger(t, withOIDC(p.srv.URL, "gateledger-web"))
	l.receive("A1234BC", "MDI")

	c := newClient(t, l)
	if r := c.do("GET", "/sign-in", nil); !strings.Contains(r.body, `id="oidc-sign-in"`) {
		t.Fatal("the sign-in page offers no identity provider sign-in")
	}
	start := c.do("GET", "/sign-in/oidc?next=%2Fprison%2Fpeople", nil)
	if start.status != http.StatusSeeOther || !strings.HasPrefix(start.header.Get("Location"), p.srv.URL+"/authorize?") {
		t.Fatalf("start: %d %q", start.status, start.header.Get("Location"))
	}
	callback := follow(t, start.header.Get("Location"))

	// The callback in another browser (without the state cookie) is refused.
	stranger := newClient(t, l)
	if r := stranger.do("GET", pathOf(t, callback), nil); r.status != http.StatusUnauthorized || stranger.cookies[pages.SessionCookie] != "" {
		t.Fatalf("callback without the state cookie: %d", r.status)
	}

	done := c.do("GET", pathOf(t, callback), nil)
	if done.status != http.StatusSeeOther || done.header.Get("Location") != "/prison/people" || c.cookies[pages.SessionCookie] == "" {
		t.Fatalf("callback: %d %q\n%s", done.status, done.header.Get("Location"), done.body)
	}
	if r := c.do("GET", "/prison/people", nil); r.status != http.StatusOK || !strings.Contains(r.body, "A1234BC") ||
		!strings.Contains(r.body, "Pat Officer") {
		t.Fatalf("people page after the identity provider's sign-in: %d", r.status)
	}
	// The same callback again (a replayed code and state) opens nothing.
	again := newClient(t, l)
	again.cookies[pages.OIDCCookie] = pathQuery(t, callback).Get("state")
	if r := again.do("GET", pathOf(t, callback), nil); r.status != http.StatusUnauthorized || again.cookies[pages.SessionCookie] != "" {
		t.Fatalf("replayed callback: %d", r.status)
	}
}

func pathQuery(t *testing.T, u string) url.Values {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Query()
}

func TestOIDCSignInRefusals(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(*idp)
		says  string
	}{
		{name: "wrong nonce", setup: func(p *idp) { p.badNonce = true }, says: "could not be finished"},
		{name: "feed role", setup: func(p *idp) { p.role, p.org = "feed", "" }, says: "has no web pages"},
		{name: "unknown role", setup: func(p *idp) { p.role = "janitor" }, says: "not set up for Gateledger"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newIdP(t, "gateledger-web")
			tc.setup(p)
			l := startLedger(t, withOIDC(p.srv.URL, "gateledger-web"))
			c := newClient(t, l)
			start := c.do("GET", "/sign-in/oidc", nil)
			callback := follow(t, start.header.Get("Location"))
			r := c.do("GET", pathOf(t, callback), nil)
			if r.status != http.StatusUnauthorized || c.cookies[pages.SessionCookie] != "" {
				t.Fatalf("status %d, session %q", r.status, c.cookies[pages.SessionCookie])
			}
			if !strings.Contains(r.body, tc.says) {
				t.Errorf("page does not say %q", tc.says)
			}
		})
	}
}

// TestBrowserOIDCSignIn: Chromium signs in through the identity provider
// (the state cookie survives the cross-site redirect back).
func TestBrowserOIDCSignIn(t *testing.T) {
	p := newIdP(t, "gateledger-web")
	l := startLedger(t, withOIDC(p.srv.URL, "gateledger-web"))
	b := newBrowser(t, l, "oidc")
	b.visit("/prison/people", "sign-in-with-oidc")
	b.submit("#oidc-sign-in")
	b.page("signed-in")
	if loc := run(b, chromedp.Location()); !strings.HasSuffix(loc, "/prison/people") {
		t.Fatalf("after the identity provider: %s", loc)
	}
	if who := b.text(".gl-identity"); !strings.Contains(who, "Pat Officer") {
		t.Errorf("signed in as %q", who)
	}
}
