package web

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimit is the per-principal token bucket: each principal (by id) may make
// Burst requests at once and PerSecond on average. Failed authentications are
// limited the same way per client address, so that guessing tokens is slow.
// A zero PerSecond turns the limit off.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

// DefaultRateLimit suits people and their browsers; machine principals with
// more traffic (the feed) are configured higher where needed.
var DefaultRateLimit = RateLimit{PerSecond: 20, Burst: 40}

// limiterIdle is how long a bucket is kept after its last use. A bucket idle
// that long is full again, so forgetting it changes nothing.
const limiterIdle = 10 * time.Minute

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// limiter holds one bucket per key. Memory is bounded by the keys active in
// the last limiterIdle: idle buckets are swept on use, at most once a minute.
type limiter struct {
	cfg   RateLimit
	now   func() time.Time
	mu    sync.Mutex
	b     map[string]*bucket
	swept time.Time
}

func newLimiter(cfg RateLimit, now func() time.Time) *limiter {
	if cfg.PerSecond <= 0 {
		return nil
	}
	if cfg.Burst < 1 {
		cfg.Burst = 1
	}
	return &limiter{cfg: cfg, now: now, b: make(map[string]*bucket)}
}

func (l *limiter) get(key string, now time.Time) *bucket {
	if now.Sub(l.swept) > time.Minute {
		for k, b := range l.b {
			if now.Sub(b.seen) > limiterIdle {
				delete(l.b, k)
			}
		}
		l.swept = now
	}
	b, ok := l.b[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(l.cfg.PerSecond), l.cfg.Burst)}
		l.b[key] = b
	}
	b.seen = now
	return b
}

// allow takes a token for key; when there is none it returns false and how
// long until there will be one.
func (l *limiter) allow(key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	r := l.get(key, now).lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		// Give the token back: a refused request must not push the
		// caller's next allowed request further out.
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// exhausted reports whether key has no token left, without taking one, and
// how long until it has.
func (l *limiter) exhausted(key string) (bool, time.Duration) {
	if l == nil {
		return false, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.get(key, now)
	if b.lim.TokensAt(now) >= 1 {
		return false, 0
	}
	r := b.lim.ReserveN(now, 1)
	d := r.DelayFrom(now)
	r.CancelAt(now)
	return true, d
}
