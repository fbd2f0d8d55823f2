package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TestJWKSFetchedAtMostOncePerInterval: tokens naming key ids the provider
// does not have make the ledger fetch its keys at most once per interval,
// and requests at the same time share one fetch; a known key costs no fetch.
func TestJWKSFetchedAtMostOncePerInterval(t *testing.T) {
	p := newIDP(t)
	var offset atomic.Int64
	start := time.Now()
	clock := func() time.Time { return start.Add(time.Duration(offset.Load())) }
	v := p.verifier(t, OIDCConfig{Now: clock, JWKSRefreshInterval: 30 * time.Second})
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	claims := func() map[string]any {
		now := clock()
		return map[string]any{"iss": p.srv.URL, "aud": testAudience, "sub": "u-1", "iat": now.Unix(),
			"exp": now.Add(10 * time.Minute).Unix(), DefaultRoleClaim: "inspector"}
	}
	unknown := func(i int) string { return sign(t, jose.RS256, other, "made-up-"+strconv.Itoa(i), claims()) }
	// Sign first: the flood below is only verification.
	flood := make([]string, 40)
	for i := range flood {
		flood[i] = unknown(i)
	}
	var wg sync.WaitGroup
	for _, tok := range flood {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := v.Verify(context.Background(), tok); !errors.Is(err, ErrInvalidToken) {
				t.Errorf("unknown key: %v", err)
			}
		}()
	}
	wg.Wait()
	steps := []struct {
		name      string
		advance   time.Duration
		token     string
		valid     bool
		wantTotal int
	}{
		{"after the concurrent flood", 0, "", false, 1},
		{"another unknown key within the interval", 10 * time.Second, unknown(100), false, 1},
		{"a known key", 0, sign(t, jose.RS256, p.rsaKey, "rsa-1", claims()), true, 1},
		{"an unknown key once the interval has passed", 25 * time.Second, unknown(101), false, 2},
		{"and again straight after", time.Second, unknown(102), false, 2},
	}
	for _, s := range steps {
		offset.Add(int64(s.advance))
		if s.token != "" {
			_, err := v.Verify(context.Background(), s.token)
			if s.valid != (err == nil) {
				t.Fatalf("%s: %v", s.name, err)
			}
		}
		if got := v.keys.fetchCount(); got != s.wantTotal {
			t.Fatalf("%s: %d fetches, want %d", s.name, got, s.wantTotal)
		}
	}
}
