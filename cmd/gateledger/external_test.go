package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/gateledger/gateledger/internal/esdbserver"
)

// TestServeOnAnExternalStore runs the ledger against another EventStoreDB-compatible
// node through --eventstore, as it would run against a KurrentDB cluster: nothing of the
// store lives in the ledger's data directory, and the projections come from the external
// node's $all.
func TestServeOnAnExternalStore(t *testing.T) {
	node, err := esdbserver.StartNode(esdbserver.NodeConfig{DataDir: t.TempDir(), Insecure: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = node.Close(ctx)
	})
	// Something already in the external store: the projections must read it.
	client, err := node.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if _, err := client.AppendToStream(context.Background(), "unrelated", esdb.AppendToStreamOptions{}, esdb.EventData{EventType: "Other", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}

	dir := filepath.Join(t.TempDir(), "data")
	cmd, sc := startMain(t, []string{"GATELEDGER_HTTP_LISTEN=127.0.0.1:0"}, "serve", "--log-format", "text", "--data", dir,
		"--eventstore", "esdb://"+node.Addr()+"?tls=false")
	waitFor(t, sc, "connected to external event store")
	waitFor(t, sc, "projections caught up")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, sc, "stopped")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "events.db")); !os.IsNotExist(err) {
		t.Fatalf("an embedded store was created in external mode: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "projections.db")); err != nil {
		t.Fatalf("the projections' state should live in the data directory: %v", err)
	}
}
