package pages_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/internal/throttle"
)

// TestSignInThrottle: refused sign-ins from one address turn into 429 with
// Retry-After past their budget, and a valid token from the same address
// still signs in; a signed-in person's page loads are limited per
// principal, apart from anyone else's.
func TestSignInThrottle(t *testing.T) {
	thr := throttle.Config{Failed: throttle.Limit{PerSecond: 0.01, Burst: 2},
		Principal: throttle.Limit{PerSecond: 0.01, Burst: 6}, Address: throttle.Limit{PerSecond: 1000, Burst: 1000}}
	l := startLedger(t, func(o *ledgerOptions) { o.throttle = &thr })
	attacker := newClient(t, l)
	bad := "glt_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	var statuses []int
	for range 4 {
		form := attacker.do("GET", "/sign-in", nil)
		r := attacker.do("POST", "/sign-in", url.Values{"csrf": {csrf(t, form)}, "token": {bad}, "next": {"/"}})
		statuses = append(statuses, r.status)
		if r.status == http.StatusTooManyRequests {
			if n, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || n < 1 {
				t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
			}
		}
	}
	want := []int{http.StatusUnprocessableEntity, http.StatusUnprocessableEntity, http.StatusTooManyRequests, http.StatusTooManyRequests}
	for i := range want {
		if statuses[i] != want[i] {
			t.Fatalf("refused sign-ins answered %v, want %v", statuses, want)
		}
	}
	// Same address (both clients are on 127.0.0.1), valid token: served.
	user := newClient(t, l)
	user.signIn(l.token(auth.RoleInspector, "")) // sign-in and two page loads
	var last int
	for range 6 {
		if last = user.do("GET", "/", nil).status; last == http.StatusTooManyRequests {
			break
		}
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("page loads beyond the principal's budget answered %d, want 429", last)
	}
	other := newClient(t, l)
	other.signIn(l.token(auth.RolePrison, "MDI"))
}
