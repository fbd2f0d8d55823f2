package throttle

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Defaults of Config, used for a zero Limit.
var (
	// DefaultPrincipal suits people and their browsers.
	DefaultPrincipal = Limit{PerSecond: 20, Burst: 40}
	// DefaultAddress is for requests without a credential: a sign-in form
	// and its assets, a redirect to sign in.
	DefaultAddress = Limit{PerSecond: 10, Burst: 40}
	// DefaultFailed allows a person a few mistyped tokens, then one try
	// every two seconds.
	DefaultFailed = Limit{PerSecond: 0.5, Burst: 10}
)

// Config configures a Throttle. A zero Limit means its default; a negative
// PerSecond turns that limit off.
type Config struct {
	// Principal limits every authenticated request of one principal.
	Principal Limit
	// Address limits requests without a credential, per client address.
	Address Limit
	// Failed limits refused credentials, per client address and per
	// credential.
	Failed Limit
	// TrustedProxies are the peers whose X-Forwarded-For is believed (a TLS
	// proxy in front of the ledger). Empty trusts no header.
	TrustedProxies []netip.Prefix
	// Clock; nil means time.Now.
	Clock func() time.Time
}

// Throttle decides whether a request may go on. Safe for concurrent use; a
// nil *Throttle allows everything.
type Throttle struct {
	principal, address, failedAddr, failedCred *keyed
	proxies                                    []netip.Prefix
}

// New returns a Throttle for cfg.
func New(cfg Config) *Throttle {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	or := func(l, def Limit) Limit {
		if l == (Limit{}) {
			return def
		}
		return l
	}
	failed := or(cfg.Failed, DefaultFailed)
	return &Throttle{
		principal:  newKeyed(or(cfg.Principal, DefaultPrincipal), cfg.Clock),
		address:    newKeyed(or(cfg.Address, DefaultAddress), cfg.Clock),
		failedAddr: newKeyed(failed, cfg.Clock),
		failedCred: newKeyed(failed, cfg.Clock),
		proxies:    cfg.TrustedProxies,
	}
}

// Decision is the answer for one request: go on, or refuse it with 429 and
// a Retry-After of RetryAfter.
type Decision struct {
	Limited    bool
	RetryAfter time.Duration
}

// RetryAfterSeconds is RetryAfter rounded up to whole seconds, at least 1,
// for the Retry-After header.
func (d Decision) RetryAfterSeconds() int {
	s := int((d.RetryAfter + time.Second - 1) / time.Second)
	return max(s, 1)
}

func decision(ok bool, wait time.Duration) Decision { return Decision{Limited: !ok, RetryAfter: wait} }

// Principal takes a token from the principal's bucket: call it for every
// request whose credential was accepted.
func (t *Throttle) Principal(id string) Decision {
	if t == nil {
		return Decision{}
	}
	return decision(t.principal.allow(id))
}

// Anonymous takes a token from the client address's bucket: call it for
// requests that carry no credential at all.
func (t *Throttle) Anonymous(r *http.Request) Decision {
	if t == nil {
		return Decision{}
	}
	return decision(t.address.allow(t.ClientAddr(r)))
}

// Failed records that credential, presented by r's client, was refused,
// and says whether that client or that credential has now failed too often:
// then the refusal is answered 429 rather than 401. credential is a key
// from auth.CredentialKey (never the secret itself, though it is hashed
// here too so that no key is kept in memory as sent). Call it only after
// the credential was checked and refused: a valid credential never comes
// here.
func (t *Throttle) Failed(r *http.Request, credential string) Decision {
	if t == nil {
		return Decision{}
	}
	h := sha256.Sum256([]byte(credential))
	okAddr, waitAddr := t.failedAddr.allow(t.ClientAddr(r))
	okCred, waitCred := t.failedCred.allow(hex.EncodeToString(h[:16]))
	return decision(okAddr && okCred, max(waitAddr, waitCred))
}

// ClientAddr is the address the per-address limits count: the TCP peer's
// IP, or, when the peer is a trusted proxy, the right-most address of
// X-Forwarded-For that is not itself a trusted proxy. IPv6 addresses are
// counted per /64, which one subscriber usually holds whole.
func (t *Throttle) ClientAddr(r *http.Request) string {
	peer := peerAddr(r.RemoteAddr)
	if t != nil && peer.IsValid() && t.trusted(peer) {
		// The proxy appends the address it saw; earlier entries were sent
		// by the client and prove nothing.
		hops := r.Header.Values("X-Forwarded-For")
		var all []string
		for _, h := range hops {
			all = append(all, strings.Split(h, ",")...)
		}
		for i := len(all) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(all[i]))
			if err != nil {
				break // a malformed hop: stop at the last address we can trust
			}
			peer = a.Unmap()
			if !t.trusted(peer) {
				break
			}
		}
	}
	if !peer.IsValid() {
		return r.RemoteAddr
	}
	if peer.Is6() {
		p, _ := peer.Prefix(64)
		return p.String()
	}
	return peer.String()
}

func (t *Throttle) trusted(a netip.Addr) bool {
	for _, p := range t.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// ParseProxies reads a comma-separated list of addresses and CIDR prefixes
// (a --trusted-proxies flag).
func ParseProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, &ProxyError{Value: f}
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// ProxyError is a trusted-proxy entry that is neither an address nor a
// CIDR prefix.
type ProxyError struct{ Value string }

func (e *ProxyError) Error() string {
	return "trusted proxy " + e.Value + " is not an IP address or CIDR prefix such as 10.0.0.0/8"
}
