package live_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/internal/throttle"
	"github.com/gateledger/gateledger/web/live"
)

// TestUpgradeThrottle: refused credentials turn from 401 into 429 past the
// failed budget, a valid token from the same address still connects, and
// one principal's upgrades are limited apart from another's.
func TestUpgradeThrottle(t *testing.T) {
	thr := throttle.New(throttle.Config{Failed: throttle.Limit{PerSecond: 0.01, Burst: 2},
		Principal: throttle.Limit{PerSecond: 0.01, Burst: 2}})
	e := newEnv(t, func(c *live.Config) { c.Throttle = thr }, nil)
	var got []int
	for range 3 {
		_, resp, err := e.dial("glt_000000000000_bad", nil)
		if err == nil || resp == nil {
			t.Fatalf("a bad token connected: %v", err)
		}
		got = append(got, resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests {
			if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || n < 1 {
				t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
			}
		}
	}
	if got[0] != http.StatusUnauthorized || got[1] != http.StatusUnauthorized || got[2] != http.StatusTooManyRequests {
		t.Fatalf("refused upgrades answered %v, want 401, 401, 429", got)
	}
	tok := e.token(auth.RoleInspector, "")
	e.connect(tok)
	e.connect(tok)
	if _, resp, err := e.dial(tok, nil); err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a third upgrade beyond the principal's budget: %v %v", err, status(resp))
	}
	e.connect(e.token(auth.RoleProvider, "C05"))
}
