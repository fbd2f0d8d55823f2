package web

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gateledger/gateledger/internal/throttle"
	"github.com/gateledger/gateledger/web/problem"
)

// TestFailedAuthenticationThrottle: refused credentials from one address
// turn from 401 into 429 with Retry-After once they pass their budget, while
// a valid token from the same address is served throughout.
func TestFailedAuthenticationThrottle(t *testing.T) {
	w := newWorld(t, func(c *Config) {
		c.Throttle = throttle.New(throttle.Config{Principal: throttle.Limit{PerSecond: 1000, Burst: 1000},
			Failed: throttle.Limit{PerSecond: 0.01, Burst: 3}})
	})
	bad := "glt_000000000000_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	steps := []struct {
		as   string
		want int
	}{
		{bad, http.StatusUnauthorized},
		{"c05", http.StatusOK},
		{"not-a-token", http.StatusUnauthorized},
		{bad, http.StatusUnauthorized},
		{bad, http.StatusTooManyRequests},
		{"c05", http.StatusOK},
		{"some.other.jwt", http.StatusTooManyRequests}, // the address is over its budget
		{"inspector", http.StatusOK},
	}
	for i, s := range steps {
		a := w.do(req{method: "GET", path: "/v1/outcomes", as: s.as})
		if a.status != s.want {
			t.Fatalf("step %d (%s): status %d, want %d: %s", i, s.as, a.status, s.want, a.body)
		}
		if s.want == http.StatusTooManyRequests {
			a.problem(t, problem.RateLimited)
			if n, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || n < 1 {
				t.Fatalf("Retry-After %q", a.header.Get("Retry-After"))
			}
		}
	}
	// No credential at all is counted per address, apart from failures.
	w.do(req{method: "GET", path: "/v1/outcomes"}).problem(t, problem.Unauthenticated)
}

// TestFloodDoesNotLockOutValidUser is a bounded load test on loopback: while
// flooders send bad tokens as fast as they can, a valid user's requests are
// all served. The flood comes from another address (127.0.0.2, when the
// machine routes it) and then from the user's own address, as it does for
// every user behind one TLS proxy. No timing is asserted; counts only.
func TestFloodDoesNotLockOutValidUser(t *testing.T) {
	w := newWorld(t, func(c *Config) {
		c.Throttle = throttle.New(throttle.Config{Principal: throttle.Limit{PerSecond: 1000, Burst: 1000},
			Failed: throttle.Limit{PerSecond: 1, Burst: 5}})
	})
	client := func(local string) *http.Client {
		d := &net.Dialer{Timeout: 5 * time.Second}
		if local != "" {
			d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
		}
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 8}}
	}
	get := func(c *http.Client, token string) (int, error) {
		r, err := http.NewRequest("GET", w.srv.URL+"/v1/outcomes", nil)
		if err != nil {
			return 0, err
		}
		r.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.Do(r)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	for _, flood := range []struct{ name, from string }{
		{"from another address", "127.0.0.2"},
		{"from the same address", "127.0.0.1"},
	} {
		t.Run(flood.name, func(t *testing.T) {
			fc := client(flood.from)
			if _, err := get(fc, "x"); err != nil {
				t.Skipf("cannot send from %s: %v", flood.from, err)
			}
			ctx, stop := context.WithTimeout(context.Background(), 30*time.Second)
			defer stop()
			const flooders, maxFlood = 4, 3000
			var sent, limited atomic.Int64
			var wg sync.WaitGroup
			for f := range flooders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for ctx.Err() == nil && sent.Add(1) <= maxFlood {
						code, err := get(fc, "glt_"+strconv.Itoa(100000000000+f)+"_bad")
						if err == nil && code == http.StatusTooManyRequests {
							limited.Add(1)
						}
					}
				}()
			}
			uc := client("127.0.0.1")
			const userRequests = 60
			for i := range userRequests {
				code, err := get(uc, w.tok["c05"])
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				if code != http.StatusOK {
					t.Fatalf("request %d of the valid user answered %d during the flood", i, code)
				}
			}
			stop()
			wg.Wait()
			if limited.Load() == 0 {
				t.Fatalf("the flood of %d bad tokens was never throttled", sent.Load())
			}
			t.Logf("valid user: %d/%d served; flood: %d sent, %d answered 429", userRequests, userRequests, min(sent.Load(), maxFlood), limited.Load())
		})
	}
}
