// Package eventlogtest starts a real embedded event store for tests: one node
// on loopback per call, in the test's temporary directory, closed when the
// test ends. There is no mock: tests run against the same gRPC server and
// official client as production. It may import eventstore.
package eventlogtest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/gateledger/gateledger/eventstore"
)

// Store opens an embedded store (insecure, loopback only) for the test.
func Store(t testing.TB) *eventstore.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := eventstore.Open(ctx, eventstore.Config{DataDir: t.TempDir(), Insecure: true, Logger: Logger()})
	if err != nil {
		t.Fatalf("open embedded store: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

// Logger discards everything below error level.
func Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
}
