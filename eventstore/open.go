package eventstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/gateledger/gateledger/internal/esdbserver"
)

// Config says where the events live.
type Config struct {
	// ConnectionString, when set, points at an external store (esdb://, esdb+discover://)
	// and DataDir is not used for events.
	ConnectionString string
	// DataDir holds the embedded store and its secrets.
	DataDir string
	// Listen exposes the embedded store to other EventStoreDB clients; empty keeps it on
	// an ephemeral loopback port used only by this process.
	Listen string
	// Insecure serves the embedded store without TLS or authentication (loopback only).
	Insecure bool
	Logger   *slog.Logger
}

// Conn is an open event store: the official client, and the embedded node when there
// is one. It is a Store (the client's methods are its own); Close(ctx) closes both the
// client and the node. The client's other methods (delete, tombstone, stream metadata)
// are there for the operator's tools and the tests that tamper with a store; the
// ledger itself asks only what Store names.
type Conn struct {
	*esdb.Client
	// Node is the embedded node, nil in external mode.
	Node *esdbserver.Node
	log  *slog.Logger
}

// Open starts the embedded node (or parses the external connection string), connects
// the official client and checks the store answers.
func Open(ctx context.Context, cfg Config) (*Conn, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Conn{log: cfg.Logger}
	var conf *esdb.Configuration
	if cfg.ConnectionString != "" {
		var err error
		conf, err = esdb.ParseConnectionString(cfg.ConnectionString)
		if err != nil {
			return nil, fmt.Errorf("event store connection string: %w", err)
		}
		conf.Logger = esdbserver.ClientLogging(cfg.Logger)
	} else {
		if cfg.DataDir == "" {
			return nil, errors.New("a data directory is needed for the embedded event store")
		}
		node, err := esdbserver.StartNode(esdbserver.NodeConfig{DataDir: cfg.DataDir, Listen: cfg.Listen, Insecure: cfg.Insecure, Logger: cfg.Logger,
			KeepHistory: KeepsHistory})
		if err != nil {
			return nil, fmt.Errorf("start embedded event store: %w", err)
		}
		s.Node = node
		if conf, err = node.ClientConfig(); err != nil {
			_ = s.Close(ctx)
			return nil, err
		}
	}
	client, err := esdb.NewClient(conf)
	if err != nil {
		_ = s.Close(ctx)
		return nil, fmt.Errorf("event store client: %w", err)
	}
	s.Client = client
	if err := s.Ping(ctx); err != nil {
		_ = s.Close(ctx)
		return nil, err
	}
	return s, nil
}

// Ping reads the last event of $all: it proves the store answers and the credentials work.
func (s *Conn) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rs, err := s.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
	if err != nil {
		return fmt.Errorf("event store does not answer: %w", err)
	}
	defer rs.Close()
	if _, err := rs.Recv(); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("event store does not answer: %w", err)
	}
	return nil
}

// probeStream is where ProbeWrite appends nothing. Not a system stream ("$..."), so that
// a KurrentDB user without admin rights may write to it.
const probeStream = "gateledger-write-probe"

// ProbeWrite proves the store takes writes: it appends no events, which the embedded
// store commits like any other write (a transaction and an fsync, and no record), so a
// full disk fails it with an error matching ErrStoreFull, and it succeeds again once
// space is freed. Nothing is recorded. (KurrentDB answers an empty append without
// touching its disk, so there it proves only that the node answers writes.)
func (s *Conn) ProbeWrite(ctx context.Context) error {
	_, err := s.AppendToStream(ctx, probeStream, esdb.AppendToStreamOptions{ExpectedRevision: esdb.Any{}})
	if err != nil {
		return fmt.Errorf("eventstore: the store does not take writes: %w", Classify(err))
	}
	return nil
}

// Close closes the client, then the embedded node. It hides the client's own Close,
// which would leave the node running.
func (s *Conn) Close(ctx context.Context) error {
	var errs []error
	if s.Client != nil {
		errs = append(errs, s.Client.Close())
	}
	if s.Node != nil {
		errs = append(errs, s.Node.Close(ctx))
	}
	return errors.Join(errs...)
}
