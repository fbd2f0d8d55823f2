package pages_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/web/pages"
)

// client is a browser-like HTTP client without a browser: it keeps the
// cookies itself (net/http/cookiejar sends no Secure cookie over http) and
// does not follow redirects.
type client struct {
	t       *testing.T
	l       *stack
	cookies map[string]string
	hdr     http.Header
}

func newClient(t *testing.T, l *stack) *client {
	return &client{t: t, l: l, cookies: map[string]string{}, hdr: http.Header{}}
}

type reply struct {
	status int
	header http.Header
	body   string
}

func (c *client) do(method, path string, form url.Values) reply {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.l.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range c.hdr {
		req.Header[k] = v
	}
	for k, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, ck := range resp.Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the form token of a page.
func csrf(t *testing.T, page reply) string {
	t.Helper()
	m := csrfInput.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no csrf field in the page:\n%s", page.body)
	}
	return m[1]
}

// signIn signs the client in with token and returns the CSRF token of the
// first page it sees.
func (c *client) signIn(token string) string {
	c.t.Helper()
	form := c.do("GET", "/sign-in", nil)
	r := c.do("POST", "/sign-in", url.Values{"csrf": {csrf(c.t, form)}, "token": {token}, "next": {"/"}})
	if r.status != http.StatusSeeOther {
		c.t.Fatalf("sign in: %d\n%s", r.status, r.body)
	}
	if c.cookies[pages.SessionCookie] == "" {
		c.t.Fatal("no session cookie after signing in")
	}
	home := c.do("GET", "/", nil)
	if home.status == http.StatusSeeOther {
		home = c.do("GET", home.header.Get("Location"), nil)
	}
	return csrf(c.t, home)
}

func TestSignInCookieAndHeaders(t *testing.T) {
	l := startLedger(t)
	c := newClient(t, l)
	form := c.do("GET", "/sign-in", nil)
	if form.status != http.StatusOK {
		t.Fatalf("GET /sign-in: %d", form.status)
	}
	for k, want := range map[string]string{
		"X-Frame-Options":        "DENY",
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          "no-store",
		"Referrer-Policy":        "same-origin",
	} {
		if got := form.header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	csp := form.header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(form.body, "<script>") {
		t.Error("inline script allowed or present")
	}

	r := c.do("POST", "/sign-in", url.Values{"csrf": {csrf(t, form)}, "token": {l.token(auth.RolePrison, "MDI")}, "next": {"//evil.example/x"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		t.Fatalf("sign in: %d to %q; want 303 to / (never off-site)", r.status, r.header.Get("Location"))
	}
	var sc *http.Cookie
	for _, raw := range r.header.Values("Set-Cookie") {
		ck, err := http.ParseSetCookie(raw)
		if err == nil && ck.Name == pages.SessionCookie {
			sc = ck
		}
	}
	if sc == nil || !sc.Secure || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" {
		t.Fatalf("session cookie %+v: want Secure, HttpOnly, SameSite=Lax, Path=/", sc)
	}
	if got := c.do("GET", "/", nil); got.status != http.StatusSeeOther || got.header.Get("Location") != "/prison/people" {
		t.Errorf("GET / signed in as a prison: %d %q", got.status, got.header.Get("Location"))
	}
}

func TestSignInRefusals(t *testing.T) {
	l := startLedger(t)
	tok := l.token(auth.RolePrison, "MDI")
	for _, tc := range []struct {
		name   string
		token  string
		csrf   func(string) string
		header map[string]string
		want   int
		says   string
	}{
		{name: "empty token", token: "", want: http.StatusUnprocessableEntity, says: "Enter your Gateledger token"},
		{name: "not a glt token", token: "eyJhbGciOi", want: http.StatusUnprocessableEntity, says: "starts with glt_"},
		{name: "unknown token", token: "glt_nope", want: http.StatusUnprocessableEntity, says: "not valid"},
		{name: "feed role", token: l.token(auth.RoleFeed, ""), want: http.StatusUnprocessableEntity, says: "has no web pages"},
		{name: "no form token", token: tok, csrf: func(string) string { return "" }, want: http.StatusForbidden},
		{name: "wrong form token", token: tok, csrf: func(s string) string { return s + "x" }, want: http.StatusForbidden},
		{name: "cross-site fetch", token: tok, header: map[string]string{"Sec-Fetch-Site": "cross-site"}, want: http.StatusForbidden},
		{name: "same-site fetch", token: tok, header: map[string]string{"Sec-Fetch-Site": "same-site"}, want: http.StatusForbidden},
		{name: "other origin", token: tok, header: map[string]string{"Origin": "http://evil.example"}, want: http.StatusForbidden},
		{name: "null origin", token: tok, header: map[string]string{"Origin": "null"}, want: http.StatusForbidden},
		{name: "own origin", token: tok, header: map[string]string{"Origin": l.URL, "Sec-Fetch-Site": "same-origin"}, want: http.StatusSeeOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, l)
			form := c.do("GET", "/sign-in", nil)
			tokField := csrf(t, form)
			if tc.csrf != nil {
				tokField = tc.csrf(tokField)
			}
			for k, v := range tc.header {
				c.hdr.Set(k, v)
			}
			r := c.do("POST", "/sign-in", url.Values{"csrf": {tokField}, "token": {tc.token}})
			if r.status != tc.want {
				t.Fatalf("status %d, want %d\n%s", r.status, tc.want, r.body)
			}
			if tc.says != "" && !strings.Contains(r.body, tc.says) {
				t.Errorf("page does not say %q", tc.says)
			}
			if tc.want != http.StatusSeeOther && c.cookies[pages.SessionCookie] != "" {
				t.Error("a session was opened")
			}
		})
	}
}

func TestSessionForms(t *testing.T) {
	l := startLedger(t)
	c := newClient(t, l)
	tok := c.signIn(l.token(auth.RolePrison, "MDI"))

	// Sign-out is a form: without the session's token, or from another
	// site, it is refused and the session lives on.
	for name, tc := range map[string]struct {
		form   url.Values
		header string
	}{
		"no token":    {form: url.Values{}},
		"wrong token": {form: url.Values{"csrf": {tok + "x"}}},
		"cross-site":  {form: url.Values{"csrf": {tok}}, header: "cross-site"},
	} {
		c.hdr.Del("Sec-Fetch-Site")
		if tc.header != "" {
			c.hdr.Set("Sec-Fetch-Site", tc.header)
		}
		if r := c.do("POST", "/sign-out", tc.form); r.status != http.StatusForbidden {
			t.Errorf("%s: sign-out answered %d, want 403", name, r.status)
		}
	}
	c.hdr.Del("Sec-Fetch-Site")
	if r := c.do("GET", "/prison/people", nil); r.status != http.StatusOK {
		t.Fatalf("session ended by a refused form: %d", r.status)
	}
	if r := c.do("POST", "/sign-out", url.Values{"csrf": {tok}}); r.status != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", r.status)
	}
	if r := c.do("GET", "/prison/people", nil); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/sign-in") {
		t.Fatalf("after sign-out: %d %q, want a redirect to sign in", r.status, r.header.Get("Location"))
	}
}

func TestRevokedTokenEndsSession(t *testing.T) {
	l := startLedger(t)
	c := newClient(t, l)
	tok := l.token(auth.RolePrison, "MDI")
	c.signIn(tok)
	if r := c.do("GET", "/prison/people", nil); r.status != http.StatusOK {
		t.Fatalf("people: %d", r.status)
	}
	infos, err := l.tokens.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range infos {
		if i.Role == auth.RolePrison {
			if _, err := l.tokens.Revoke(context.Background(), i.ID, "test", "left"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if r := c.do("GET", "/prison/people", nil); r.status != http.StatusSeeOther {
		t.Fatalf("revoked token's session still served: %d", r.status)
	}
	if n := l.sessions.Len(); n != 0 {
		t.Errorf("%d sessions held after the token was revoked, want 0", n)
	}
}

func TestRolesAndAccessLog(t *testing.T) {
	l := startLedger(t)
	l.receive("A1234BC", "MDI")
	provider := newClient(t, l)
	provider.signIn(l.token(auth.RoleProvider, "NPS-C"))
	if r := provider.do("GET", "/prison/people", nil); r.status != http.StatusForbidden {
		t.Errorf("provider on the prison page: %d, want 403", r.status)
	}
	prison := newClient(t, l)
	prison.signIn(l.token(auth.RolePrison, "MDI"))
	if r := prison.do("GET", "/prison/people", nil); r.status != http.StatusOK || !strings.Contains(r.body, "A1234BC") {
		t.Fatalf("prison people: %d", r.status)
	}
	if r := prison.do("GET", "/no/such/page", nil); r.status != http.StatusNotFound || !strings.Contains(r.body, "Page not found") {
		t.Errorf("unknown page: %d", r.status)
	}
	entries, err := l.access.Read(context.Background(), time.Now().Add(-time.Hour), time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, e := range entries {
		if e.What == auth.AccessReadCaseload && e.Subject == "MDI" && e.Org == "MDI" {
			found = true
		}
	}
	if !found {
		t.Errorf("the caseload read is not in the access log: %+v", entries)
	}
}

func TestAPIBesidePages(t *testing.T) {
	l := startLedger(t)
	c := newClient(t, l)
	if r := c.do("GET", "/healthz", nil); r.status != http.StatusOK || !strings.Contains(r.body, "ok") {
		t.Errorf("/healthz: %d %s", r.status, r.body)
	}
	if r := c.do("GET", "/v1/openapi.json", nil); r.status != http.StatusOK || !strings.Contains(r.body, "openapi") {
		t.Errorf("/v1/openapi.json: %d", r.status)
	}
	if r := c.do("GET", "/v1/nothing", nil); r.status != http.StatusNotFound || r.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("/v1/nothing: %d %s, want the API's problem", r.status, r.header.Get("Content-Type"))
	}
	if r := c.do("GET", "/assets/govuk-frontend.min.css", nil); r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %s", r.status, r.header.Get("Content-Type"))
	}
	if r := c.do("GET", "/assets/app/init.js", nil); r.status != http.StatusOK {
		t.Errorf("init.js: %d", r.status)
	}
	// A session is for the pages and the live feed: the rest of the API
	// does not take it.
	c.signIn(l.token(auth.RoleInspector, ""))
	if r := c.do("GET", "/v1/outcomes", nil); r.status != http.StatusUnauthorized {
		t.Errorf("/v1/outcomes with only a session cookie: %d, want 401", r.status)
	}
}

func TestLiveFeedTakesSessionCookie(t *testing.T) {
	l := startLedger(t)
	c := newClient(t, l)
	c.signIn(l.token(auth.RoleProvider, "NPS-C"))
	wsURL := "ws" + strings.TrimPrefix(l.URL, "http") + "/v1/live"
	dial := func(hdr http.Header) (int, error) {
		d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
		ws, resp, err := d.Dial(wsURL, hdr)
		if ws != nil {
			_ = ws.Close()
		}
		if resp != nil {
			return resp.StatusCode, err
		}
		return 0, err
	}
	cookie := pages.SessionCookie + "=" + c.cookies[pages.SessionCookie]
	if st, err := dial(http.Header{"Cookie": {cookie}, "Origin": {l.URL}}); st != http.StatusSwitchingProtocols {
		t.Fatalf("session cookie from the own origin: %d %v, want 101", st, err)
	}
	if st, _ := dial(http.Header{"Cookie": {cookie}, "Origin": {"http://evil.example"}}); st != http.StatusForbidden {
		t.Errorf("session cookie from another origin: %d, want 403", st)
	}
	if st, _ := dial(http.Header{"Cookie": {cookie}}); st != http.StatusForbidden {
		t.Errorf("session cookie without an Origin: %d, want 403", st)
	}
	if st, _ := dial(http.Header{"Cookie": {pages.SessionCookie + "=made-up"}, "Origin": {l.URL}}); st != http.StatusUnauthorized {
		t.Errorf("made-up session: %d, want 401", st)
	}
}
