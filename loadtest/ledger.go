package loadtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/ingest"
	"github.com/gateledger/gateledger/journeys"
	appledger "github.com/gateledger/gateledger/ledger"
	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/projections/readmodel"
	"github.com/gateledger/gateledger/web"
	"github.com/gateledger/gateledger/web/live"
)

// ledger is an embedded ledger wired as gateledger serve wires it: the
// embedded event store (TLS, generated credentials, as serve's default), the
// projections runner, the HTTP API and the live feed on a loopback port. The
// only differences from serve: the per-principal rate limit is off (the load
// generator is 21 principals sending 500 commands a second, far over the
// default 20/s each), and it listens on 127.0.0.1:0.
type ledger struct {
	store  *eventstore.Conn
	runner *readmodel.Runner
	tokens *auth.Tokens
	access *auth.AccessLog
	feed   *live.Handler
	srv    *http.Server
	addr   string

	stopRunner context.CancelFunc
	runnerDone chan struct{}
	served     chan error
}

func startLedger(ctx context.Context, dir string, pol aggregates.Policy, log *slog.Logger, checkpoint time.Duration) (*ledger, error) {
	store, err := eventstore.Open(ctx, eventstore.Config{DataDir: filepath.Join(dir, "data"), Logger: log})
	if err != nil {
		return nil, err
	}
	l := &ledger{store: store}
	l.runner, err = readmodel.Open(filepath.Join(dir, "data", "projections.db"), store.Client, log, projections.All(pol)...)
	if err != nil {
		return nil, errors.Join(err, store.Close(context.WithoutCancel(ctx)))
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	l.stopRunner, l.runnerDone = stop, make(chan struct{})
	go func() { defer close(l.runnerDone); _ = l.runner.Run(runCtx) }()

	l.tokens = auth.NewTokens(store.Client, auth.TokensConfig{Logger: log})
	authn := &auth.Authenticator{Tokens: l.tokens, Logger: log}
	svc := &journeys.Service{Store: store, Policy: pol, Logger: log}
	l.access = auth.NewAccessLog(store.Client, auth.AccessLogConfig{Logger: log})
	metrics := web.NewMetrics()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, errors.Join(err, l.close(context.WithoutCancel(ctx)))
	}
	l.addr = ln.Addr().String()
	l.feed = live.New(live.Config{Client: store.Client, Auth: authn, AllowedOrigins: []string{"http://" + l.addr},
		AccessLog: l.access, Logger: log, Metrics: liveMetrics{metrics}, CheckpointInterval: checkpoint})
	app, err := appledger.New(appledger.Config{Journeys: svc, Runner: l.runner, AccessLog: l.access, Logger: log})
	if err != nil {
		return nil, errors.Join(err, ln.Close(), l.close(context.WithoutCancel(ctx)))
	}
	h, err := web.New(web.Config{Store: store, Ledger: app, Feed: &ingest.Feed{Journeys: svc, Logger: log}, Runner: l.runner,
		Policy: pol, Auth: authn, Tokens: l.tokens, AccessLog: l.access, Live: l.feed, Metrics: metrics, Logger: log,
		RateLimit: web.RateLimit{PerSecond: -1}})
	if err != nil {
		return nil, errors.Join(err, ln.Close(), l.close(context.WithoutCancel(ctx)))
	}
	l.srv = web.NewServer(l.addr, h, log)
	l.served = make(chan error, 1)
	go func() { l.served <- l.srv.Serve(ln) }()
	return l, nil
}

// close stops everything startLedger started, the live feed first
// (http.Server.Shutdown does not close hijacked connections).
func (l *ledger) close(ctx context.Context) error {
	var errs []error
	if l.feed != nil {
		errs = append(errs, l.feed.Shutdown(ctx))
	}
	if l.srv != nil {
		errs = append(errs, l.srv.Shutdown(ctx))
		if err := <-l.served; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	if l.access != nil {
		errs = append(errs, l.access.Close(ctx))
	}
	if l.stopRunner != nil {
		l.stopRunner()
		<-l.runnerDone
		errs = append(errs, l.runner.Close())
	}
	errs = append(errs, l.store.Close(ctx))
	return errors.Join(errs...)
}

// token issues a built-in token. Tokens are issued before the API first
// sees them, so that its token cache loads them when it starts.
func (l *ledger) token(ctx context.Context, role auth.Role, org string) (string, error) {
	tok, _, err := l.tokens.Create(ctx, role, org, fmt.Sprintf("loadtest %s %s", role, org), "loadtest", time.Now().Add(24*time.Hour))
	return tok, err
}

// liveMetrics is cmd/gateledger's adapter of the live feed's metrics to the
// web package's Prometheus metrics, repeated here: the load test measures
// the feed with its metrics on, as serve runs it.
type liveMetrics struct{ m *web.Metrics }

func (l liveMetrics) Connected()    { l.m.LiveConnected() }
func (l liveMetrics) Disconnected() { l.m.LiveDisconnected() }
func (l liveMetrics) Dropped(reason string) {
	if reason == live.DropSlowClient {
		l.m.LiveDropped()
	}
}
