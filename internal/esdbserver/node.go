package esdbserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/gateledger/gateledger/internal/eventdb"
)

// NodeConfig describes an embedded node: a store in a data directory served on one
// listener.
type NodeConfig struct {
	// DataDir holds the store file and the generated secrets.
	DataDir string
	// Listen is the address to serve on; empty means an ephemeral port on 127.0.0.1.
	Listen string
	// Insecure serves without TLS or authentication. Only loopback addresses are allowed.
	Insecure bool
	Store    eventdb.Options
	Logger   *slog.Logger
	// FellBehindAfter is passed to Options.
	FellBehindAfter int
	// SignInDelay is passed to Options.
	SignInDelay SignInDelay
	// KeepHistory is passed to Options.
	KeepHistory func(stream string) bool
}

// Node is a running embedded event store node.
type Node struct {
	DB      *eventdb.DB
	Secrets *Secrets // nil when insecure
	lis     net.Listener
	grpc    *grpc.Server
	server  *Server
	serveWG sync.WaitGroup
	serve   error
	closeMu sync.Once
	log     *slog.Logger
}

// ErrInsecureNotLoopback refuses to serve without TLS and authentication on a
// non-loopback address.
var ErrInsecureNotLoopback = errors.New("an insecure event store listener must be on a loopback address")

// StartNode opens the store and serves it.
func StartNode(cfg NodeConfig) (*Node, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("event store listen address %q: %w", cfg.Listen, err)
	}
	if cfg.Insecure && !isLoopback(host) {
		return nil, fmt.Errorf("%w: %q", ErrInsecureNotLoopback, cfg.Listen)
	}
	if cfg.Store.Logger == nil {
		cfg.Store.Logger = cfg.Logger
	}
	db, err := eventdb.Open(cfg.DataDir, cfg.Store)
	if err != nil {
		return nil, err
	}
	n := &Node{DB: db, log: cfg.Logger}
	opts := Options{Logger: cfg.Logger, FellBehindAfter: cfg.FellBehindAfter, SignInDelay: cfg.SignInDelay, KeepHistory: cfg.KeepHistory}
	if !cfg.Insecure {
		var hosts []string
		if host != "" && !isUnspecified(host) {
			hosts = append(hosts, host)
		}
		sec, err := EnsureSecrets(cfg.DataDir, hosts)
		if err != nil {
			_ = db.Close()
			return nil, err
		}
		n.Secrets = sec
		opts.Users = map[string]string{sec.Username: sec.Password}
		opts.TLS = credentials.NewServerTLSFromCert(&sec.Cert)
	}
	lis, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("event store listen on %s: %w", cfg.Listen, err)
	}
	n.lis = lis
	addr := lis.Addr().(*net.TCPAddr)
	opts.AdvertiseHost, opts.AdvertisePort = advertiseHost(host), addr.Port
	n.server = New(db, opts)
	n.grpc = n.server.GRPCServer()
	n.serveWG.Add(1)
	go func() {
		defer n.serveWG.Done()
		if err := n.grpc.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			n.serve = err
			cfg.Logger.Error("event store server stopped", "err", err)
		}
	}()
	return n, nil
}

// Addr is the address the node listens on.
func (n *Node) Addr() string { return n.lis.Addr().String() }

// ConnectionString is an esdb:// URL for this node (credentials not included).
func (n *Node) ConnectionString() string {
	if n.Secrets == nil {
		return "esdb://" + n.Addr() + "?tls=false"
	}
	return "esdb://" + n.Addr() + "?tls=true&tlsCAFile=" + n.Secrets.CAFile
}

// ClientConfig returns a configuration for the official client that reaches this node.
func (n *Node) ClientConfig() (*esdb.Configuration, error) {
	// The client's connection-string parser splits host from port at every
	// colon, so it cannot read an IPv6 literal ("[::1]:2113"): parse a
	// stand-in host and set the address to dial afterwards.
	addr := n.lis.Addr().(*net.TCPAddr)
	cfg, err := esdb.ParseConnectionString("esdb://localhost:" + strconv.Itoa(addr.Port) + "?tls=" + strconv.FormatBool(n.Secrets != nil))
	if err != nil {
		return nil, fmt.Errorf("event store client configuration: %w", err)
	}
	cfg.Address = dialAddr(addr)
	if n.Secrets != nil {
		cfg.Username, cfg.Password = n.Secrets.Username, n.Secrets.Password
		cfg.RootCAs = n.Secrets.CertPool
	}
	cfg.Logger = ClientLogging(n.log)
	return cfg, nil
}

// ClientLogging routes the official client's log lines to slog. The client reports
// routine discovery steps at info level, so those become debug lines.
func ClientLogging(l *slog.Logger) esdb.LoggingFunc {
	return func(level esdb.LogLevel, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		lv := slog.LevelDebug
		switch {
		case strings.Contains(msg, "context canceled"):
			// The client reports a subscription the ledger closed itself as an error.
		case level == esdb.LogWarn, level == esdb.LogError:
			lv = slog.LevelWarn
		}
		l.Log(context.Background(), lv, "eventstore client: "+msg)
	}
}

// Client opens an official client connected to this node.
func (n *Node) Client() (*esdb.Client, error) {
	cfg, err := n.ClientConfig()
	if err != nil {
		return nil, err
	}
	return esdb.NewClient(cfg)
}

// Close stops serving (ending open subscriptions) and closes the store.
func (n *Node) Close(ctx context.Context) error {
	var err error
	n.closeMu.Do(func() {
		n.server.Shutdown()
		done := make(chan struct{})
		go func() { n.grpc.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			n.grpc.Stop()
			<-done
		}
		n.serveWG.Wait()
		err = n.DB.Close()
	})
	return err
}

// dialAddr is where this process reaches a listener on addr: the address
// itself, or loopback when it listens on every interface (the certificate
// covers loopback, not the unspecified address).
func dialAddr(addr *net.TCPAddr) string {
	ip := addr.IP
	switch {
	case ip == nil || (ip.IsUnspecified() && ip.To4() != nil):
		ip = net.IPv4(127, 0, 0, 1)
	case ip.IsUnspecified():
		ip = net.IPv6loopback
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(addr.Port))
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isUnspecified(host string) bool {
	ip := net.ParseIP(host)
	return host == "" || (ip != nil && ip.IsUnspecified())
}

func advertiseHost(host string) string {
	if isUnspecified(host) {
		return "127.0.0.1"
	}
	return host
}
