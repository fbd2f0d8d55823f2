package esdbserver

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc/peer"
)

// Defaults of SignInDelay.
const (
	DefaultSignInDelayBase = 50 * time.Millisecond
	DefaultSignInDelayMax  = 5 * time.Second
)

// SignInDelay is how a wrong user name or password on the store port is
// answered: after Base for an address's first failure, doubling with each
// further failure up to Max. An address's count is forgotten after
// signInForget without failures. A zero field means its default; a negative
// Base answers at once.
type SignInDelay struct {
	Base, Max time.Duration
}

const (
	// signInForget is how long an address's failures are remembered.
	signInForget = 10 * time.Minute
	// signInLogEvery bounds the log to one line per address this often; the
	// line counts the failures since the last.
	signInLogEvery = 10 * time.Second
	// signInMaxAddrs bounds the addresses remembered; past it the ones idle
	// longest are forgotten first (sweep), then any.
	signInMaxAddrs = 10000
)

// signInGuard delays and logs failed sign-ins per client address. Only
// failures are delayed: the ledger's own client signs in over the same port
// from loopback, and a flood of wrong passwords from the same machine must
// not slow it. The password is 32 random bytes, so the delay is not what
// stops guessing; it slows misconfigured tools and makes a flood cost the
// sender time, and the log makes it visible.
type signInGuard struct {
	cfg SignInDelay
	log *slog.Logger
	now func() time.Time

	mu    sync.Mutex
	addrs map[string]*signInFailures
}

type signInFailures struct {
	count      int       // failures since the count was last forgotten
	last       time.Time // of the last failure
	logged     time.Time // when a line was last logged
	unreported int       // failures since that line
}

func newSignInGuard(cfg SignInDelay, log *slog.Logger) *signInGuard {
	if cfg.Base == 0 {
		cfg.Base = DefaultSignInDelayBase
	}
	if cfg.Max <= 0 {
		cfg.Max = DefaultSignInDelayMax
	}
	return &signInGuard{cfg: cfg, log: log, now: time.Now, addrs: map[string]*signInFailures{}}
}

// delayFor is the wait before answering an address's n-th failure (n >= 1).
func (g *signInGuard) delayFor(n int) time.Duration {
	if g.cfg.Base < 0 {
		return 0
	}
	d := g.cfg.Base
	for i := 1; i < n && d < g.cfg.Max; i++ {
		d *= 2
	}
	return min(d, g.cfg.Max)
}

// failed records a refused sign-in from ctx's peer, logs it (at most one
// line per address per signInLogEvery), and waits before returning, until
// the delay is over or ctx is done.
func (g *signInGuard) failed(ctx context.Context, user, method string) {
	addr := "unknown"
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		addr = p.Addr.String()
		if host, _, err := net.SplitHostPort(addr); err == nil {
			addr = host
		}
	}
	now := g.now()
	g.mu.Lock()
	f := g.addrs[addr]
	if f != nil && now.Sub(f.last) > signInForget {
		f.count = 0
	}
	if f == nil {
		if len(g.addrs) >= signInMaxAddrs {
			g.sweepLocked(now)
		}
		f = &signInFailures{}
		g.addrs[addr] = f
	}
	f.count++
	f.last = now
	f.unreported++
	n, report := f.count, f.unreported
	logIt := now.Sub(f.logged) >= signInLogEvery
	if logIt {
		f.logged, f.unreported = now, 0
	}
	g.mu.Unlock()

	d := g.delayFor(n)
	if logIt {
		g.log.WarnContext(ctx, "event store sign-in refused: wrong user name or password; check the client's credentials (the admin password file is in the data directory's esdb folder)",
			"address", addr, "user", user, "method", method, "failures", n, "refused_since_last_line", report, "delay", d)
	}
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// sweepLocked forgets addresses idle past signInForget, and if that frees
// nothing, every address: a flood from many addresses must not grow the map
// without bound.
func (g *signInGuard) sweepLocked(now time.Time) {
	for a, f := range g.addrs {
		if now.Sub(f.last) > signInForget {
			delete(g.addrs, a)
		}
	}
	if len(g.addrs) >= signInMaxAddrs {
		clear(g.addrs)
	}
}
