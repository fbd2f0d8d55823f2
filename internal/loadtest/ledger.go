package loadtest

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/instance"
	"github.com/gateledger/gateledger/internal/throttle"
)

// ledger is an embedded ledger started as gateledger serve starts it (package
// instance): the embedded event store (TLS, generated credentials, as serve's
// default), the read models, the HTTP API, the live feed and the rest of
// serve, on a loopback port. The only differences from serve: the
// per-principal rate limit is off (the load generator is 21 principals
// sending 500 commands a second, far over the default 20/s each), it listens
// on 127.0.0.1:0, and the live feed's checkpoint interval is the run's.
type ledger struct {
	*instance.Instance
	addr string
}

func startLedger(ctx context.Context, dir string, pol aggregates.Policy, log *slog.Logger, checkpoint time.Duration) (*ledger, error) {
	inst, err := instance.Start(ctx, instance.Config{
		DataDir:                filepath.Join(dir, "data"),
		Policy:                 pol,
		Listen:                 "127.0.0.1:0",
		Throttle:               throttle.Config{Principal: throttle.Limit{PerSecond: -1}},
		Logger:                 log,
		LiveCheckpointInterval: checkpoint,
	})
	if err != nil {
		return nil, err
	}
	return &ledger{Instance: inst, addr: inst.Addr().String()}, nil
}

// close stops the ledger (instance.Instance.Shutdown).
func (l *ledger) close(ctx context.Context) error { return l.Shutdown(ctx) }

// token issues a built-in token. Tokens are issued before the API first
// sees them, so that its token cache loads them when it starts.
func (l *ledger) token(ctx context.Context, role auth.Role, org string) (string, error) {
	tok, _, err := l.Tokens().Create(ctx, role, org, fmt.Sprintf("loadtest %s %s", role, org), "loadtest", time.Now().Add(24*time.Hour))
	return tok, err
}
