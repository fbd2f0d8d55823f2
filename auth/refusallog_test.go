package auth

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/time/rate"
)

// TestRefusalLogIsBounded: a flood of refused credentials logs a bounded
// number of lines, and the next line logged counts those left out.
func TestRefusalLogIsBounded(t *testing.T) {
	var buf bytes.Buffer
	rl := NewRefusalLog(1e-9, 3)
	a := &Authenticator{Logger: slog.New(slog.NewTextHandler(&buf, nil)), Refusals: rl}
	for range 50 {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer glt_nonsense")
		if _, err := a.Authenticate(context.Background(), r); err == nil {
			t.Fatal("accepted")
		}
	}
	if n := strings.Count(buf.String(), "credential refused"); n != 3 {
		t.Fatalf("%d lines logged, want 3:\n%s", n, buf.String())
	}
	rl.lim.SetLimit(rate.Inf) // the next line may be logged: it counts the rest
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer x")
	_, _ = a.Authenticate(context.Background(), r)
	if !strings.Contains(buf.String(), "refusals_not_logged=47") {
		t.Fatalf("the count of refusals left out is missing:\n%s", buf.String())
	}
}
