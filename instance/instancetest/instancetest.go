// Package instancetest starts a whole ledger instance for tests, wired as
// `gateledger serve` wires it (package instance): the embedded store
// (insecure, loopback only) in the test's temporary directory, the read
// models, the API, the live feed, the inspector's views and the web pages on
// 127.0.0.1, stopped when the test ends. There is no mock anywhere.
//
// It imports instance and what a test needs to talk to one; only tests
// import it.
package instancetest

import (
	"context"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/calendar"
	"github.com/gateledger/gateledger/eventlog/eventlogtest"
	"github.com/gateledger/gateledger/instance"
	"github.com/gateledger/gateledger/internal/throttle"
)

// Off is a throttle with every limit turned off: tests send far more, and
// from one address, than people would.
var Off = throttle.Config{Principal: throttle.Limit{PerSecond: -1}, Address: throttle.Limit{PerSecond: -1},
	Failed: throttle.Limit{PerSecond: -1}}

// Config is what Start starts unless adjusted: the embedded store without
// TLS, HTTP on a free loopback port, the default policy with the England and
// Wales calendar in UTC, the throttle Off, no periodic seals, reads waiting
// up to 10 seconds for the read models, and only errors logged.
func Config(t testing.TB) instance.Config {
	return instance.Config{
		DataDir:      t.TempDir(),
		ESDBInsecure: true,
		Policy:       aggregates.DefaultPolicy(calendar.New(time.UTC)),
		Listen:       "127.0.0.1:0",
		Throttle:     Off,
		Logger:       eventlogtest.Logger(),
		WaitTimeout:  10 * time.Second,
	}
}

// Start starts an instance with Config(t), changed by adjust, and shuts it
// down when the test ends.
func Start(t testing.TB, adjust ...func(*instance.Config)) *instance.Instance {
	t.Helper()
	cfg := Config(t)
	for _, f := range adjust {
		f(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	inst, err := instance.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("start the ledger: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := inst.Shutdown(ctx); err != nil {
			t.Errorf("shut the ledger down: %v", err)
		}
	})
	return inst
}

// Token issues a built-in token named name for role and org, valid until
// revoked, through the instance's own tokens, so that it is accepted at once.
func Token(t testing.TB, inst *instance.Instance, role auth.Role, org, name string) string {
	t.Helper()
	tok, _, err := inst.Tokens().Create(context.Background(), role, org, name, "test", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
