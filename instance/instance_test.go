package instance_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/instance"
	"github.com/gateledger/gateledger/instance/instancetest"
)

// TestOneInstanceServesEverything: one listener serves the API, the pages
// and readiness, the start-up history check included.
func TestOneInstanceServesEverything(t *testing.T) {
	inst := instancetest.Start(t)
	tok := instancetest.Token(t, inst, auth.RolePrison, "MDI", "Test prison MDI")
	get := func(path, token string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, inst.URL()+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body := get("/readyz", "")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %d %s", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, body := get("/v1/organisations/MDI/caseload", tok); code != http.StatusOK {
		t.Errorf("API: %d %s", code, body)
	}
	if code, body := get("/sign-in", ""); code != http.StatusOK || !strings.Contains(body, "<form") {
		t.Errorf("pages: %d %.200s", code, body)
	}
}

// TestFailedStartStopsWhatItStarted: a start that fails halfway (here, on
// an address already taken) closes the store again, so that the data
// directory opens at once.
func TestFailedStartStopsWhatItStarted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := instancetest.Config(t)
	taken := cfg
	taken.Listen = ln.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if inst, err := instance.Start(ctx, taken); err == nil {
		_ = inst.Shutdown(ctx)
		t.Fatal("started on an address already taken")
	}
	inst, err := instance.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("start after a failed start: %v", err)
	}
	if err := inst.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}
