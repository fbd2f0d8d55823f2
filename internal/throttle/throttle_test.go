package throttle

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func TestClientAddr(t *testing.T) {
	proxies, err := ParseProxies("10.0.0.0/8, 192.0.2.7 ,::1")
	if err != nil {
		t.Fatal(err)
	}
	th := New(Config{TrustedProxies: proxies})
	cases := []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"no proxy", "203.0.113.5:4000", nil, "203.0.113.5"},
		{"header from an untrusted peer is ignored", "203.0.113.5:4000", []string{"198.51.100.1"}, "203.0.113.5"},
		{"trusted proxy", "10.1.2.3:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"client-sent entries before the proxy's are ignored", "10.1.2.3:4000", []string{"1.1.1.1, 198.51.100.1"}, "198.51.100.1"},
		{"chain of trusted proxies", "10.1.2.3:4000", []string{"198.51.100.1, 192.0.2.7", "10.9.9.9"}, "198.51.100.1"},
		{"malformed hop stops the walk", "10.1.2.3:4000", []string{"198.51.100.1, nonsense"}, "10.1.2.3"},
		{"trusted proxy without header", "192.0.2.7:1", nil, "192.0.2.7"},
		{"IPv6 counted per /64", "[2001:db8:1:2:3::4]:443", nil, "2001:db8:1:2::/64"},
		{"IPv6 proxy", "[::1]:443", []string{"2001:db8::9"}, "2001:db8::/64"},
		{"IPv4-mapped peer", "[::ffff:203.0.113.5]:1", nil, "203.0.113.5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = c.remote
			for _, h := range c.xff {
				r.Header.Add("X-Forwarded-For", h)
			}
			if got := th.ClientAddr(r); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
	if _, err := ParseProxies("10.0.0.0/8,example.org"); err == nil {
		t.Fatal("a host name was accepted as a proxy")
	}
	var none *Throttle
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.1.2.3:1"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	if got := none.ClientAddr(r); got != "10.1.2.3" {
		t.Fatalf("nil throttle trusted a header: %q", got)
	}
}

// TestFailedIsPerAddressAndCredential: failures are counted per address and
// per credential; Principal and Anonymous budgets are separate from them.
func TestFailedIsPerAddressAndCredential(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	th := New(Config{Failed: Limit{PerSecond: 0.1, Burst: 2}, Principal: Limit{PerSecond: 1, Burst: 1},
		Address: Limit{PerSecond: 1, Burst: 1}, Clock: func() time.Time { return now }})
	a, b := req("203.0.113.1:1"), req("203.0.113.2:1")
	steps := []struct {
		name    string
		do      func() Decision
		limited bool
	}{
		{"a fails with x", func() Decision { return th.Failed(a.r, "x") }, false},
		{"a fails with y", func() Decision { return th.Failed(a.r, "y") }, false},
		{"a's third failure", func() Decision { return th.Failed(a.r, "z") }, true},
		{"b fails with x: x has one left", func() Decision { return th.Failed(b.r, "x") }, false},
		{"b fails with x again: x is used up", func() Decision { return th.Failed(b.r, "x") }, true},
		{"b fails with w: both of b's failures counted", func() Decision { return th.Failed(b.r, "w") }, true},
		{"a principal is not touched by failures", func() Decision { return th.Principal("p1") }, false},
		{"its second request in the same instant", func() Decision { return th.Principal("p1") }, true},
		{"another principal", func() Decision { return th.Principal("p2") }, false},
		{"anonymous from a", func() Decision { return th.Anonymous(a.r) }, false},
		{"anonymous from a again", func() Decision { return th.Anonymous(a.r) }, true},
	}
	for _, s := range steps {
		d := s.do()
		if d.Limited != s.limited {
			t.Fatalf("%s: limited %v, want %v", s.name, d.Limited, s.limited)
		}
		if d.Limited && d.RetryAfterSeconds() < 1 {
			t.Fatalf("%s: retry after %v", s.name, d.RetryAfter)
		}
	}
	now = now.Add(time.Minute)
	if d := th.Failed(a.r, "z"); d.Limited {
		t.Fatal("the failure budget did not refill")
	}
	var none *Throttle
	if none.Failed(a.r, "x").Limited || none.Principal("p").Limited || none.Anonymous(a.r).Limited {
		t.Fatal("a nil throttle limited")
	}
	off := New(Config{Failed: Limit{PerSecond: -1}, Principal: Limit{PerSecond: -1}, Address: Limit{PerSecond: -1}})
	for range 100 {
		if off.Failed(a.r, "x").Limited || off.Principal("p").Limited || off.Anonymous(a.r).Limited {
			t.Fatal("a limit turned off limited")
		}
	}
}

type httptestRequest struct{ r *http.Request }

func req(remote string) *httptestRequest {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = remote
	return &httptestRequest{r: r}
}

func TestParseProxiesMasks(t *testing.T) {
	p, err := ParseProxies("10.1.2.3/8")
	if err != nil || len(p) != 1 || p[0] != netip.MustParsePrefix("10.0.0.0/8") {
		t.Fatalf("%v %v", p, err)
	}
}
