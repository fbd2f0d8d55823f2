package eventstore_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/eventstore/storetest"
	"github.com/gateledger/gateledger/internal/esdbserver"
)

// ConformanceStoreVariable names an external EventStoreDB-compatible store (a KurrentDB
// node or cluster) for TestConformanceExternal.
const ConformanceStoreVariable = "GATELEDGER_CONFORMANCE_STORE"

func quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
}

func open(t *testing.T, cfg eventstore.Config) *eventstore.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg.Logger = quiet()
	conn, err := eventstore.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open the event store: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := conn.Close(ctx); err != nil {
			t.Errorf("close the event store: %v", err)
		}
	})
	return conn
}

// TestConformanceEmbedded runs the suite against the embedded node as the ledger runs
// it by default: on loopback, over TLS, with its generated credentials.
func TestConformanceEmbedded(t *testing.T) {
	storetest.Run(t, open(t, eventstore.Config{DataDir: t.TempDir()}))
}

// TestConformanceExternalMode runs the suite through a connection string, the path a
// KurrentDB takes, against an embedded node serving on loopback: it proves the external
// run below works, on a machine with no KurrentDB.
func TestConformanceExternalMode(t *testing.T) {
	node, err := esdbserver.StartNode(esdbserver.NodeConfig{DataDir: t.TempDir(), Insecure: true, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = node.Close(ctx)
	})
	storetest.Run(t, open(t, eventstore.Config{ConnectionString: "esdb://" + node.Addr() + "?tls=false"}))
}

// TestConformanceExternal runs the suite against the store GATELEDGER_CONFORMANCE_STORE
// names, such as a KurrentDB node or cluster. It writes only streams of its own.
func TestConformanceExternal(t *testing.T) {
	cs := os.Getenv(ConformanceStoreVariable)
	if cs == "" {
		t.Skip("no external store: to run the conformance suite against a KurrentDB node or cluster, set " +
			ConformanceStoreVariable + " to its connection string, e.g. " + ConformanceStoreVariable +
			"='esdb://localhost:2113?tls=false' go test -run Conformance ./eventstore/ (see docs/event-store.md)")
	}
	storetest.Run(t, open(t, eventstore.Config{ConnectionString: cs}))
}
