package instance

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/projections/readmodel"
)

// openStore opens the instance's event store, embedded or external, and says
// where it is. It is the one place an instance opens its store.
func openStore(ctx context.Context, cfg Config, log *slog.Logger) (*eventstore.Conn, error) {
	store, err := eventstore.Open(ctx, eventstore.Config{
		ConnectionString: cfg.EventStore,
		DataDir:          cfg.DataDir,
		Listen:           cfg.ESDBListen,
		Insecure:         cfg.ESDBInsecure,
		Logger:           log,
	})
	if err != nil {
		return nil, err
	}
	if store.Node != nil {
		attrs := []any{"data", cfg.DataDir, "address", store.Node.Addr()}
		if store.Node.Secrets != nil && cfg.ESDBListen != "" {
			attrs = append(attrs, "connection", store.Node.ConnectionString(),
				"user", store.Node.Secrets.Username, "password_file", filepath.Join(store.Node.Secrets.Dir, "admin.password"))
		}
		log.Info("embedded event store ready", attrs...)
	} else {
		log.Info("connected to external event store")
	}
	return store, nil
}

// ProjectionsFile is where the read models keep their state: beside the
// embedded store, or on the local disk of this instance in external mode.
func ProjectionsFile(dataDir string) string { return filepath.Join(dataDir, "projections.db") }

// OpenProjections opens every read model's state in dataDir over an open
// store: an instance's, or that of an operator command working on a stopped
// ledger (replay, verify, backup).
func OpenProjections(store *eventstore.Conn, dataDir string, pol aggregates.Policy, log *slog.Logger) (*readmodel.Runner, error) {
	// In external mode nothing else creates the data directory.
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	return readmodel.Open(ProjectionsFile(dataDir), store.Client, log, projections.All(pol)...)
}
