package main

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/internal/throttle"
	"github.com/gateledger/gateledger/web"
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
	requestLog  string
	jwksRefresh string
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

// allowedOrigins is --allowed-origins as a list; empty (nil) leaves the
// instance to allow the http origin of the address it listens on.
func (c *httpConfig) allowedOrigins() ([]string, error) {
	if strings.TrimSpace(c.origins) == "" {
		return nil, nil
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
