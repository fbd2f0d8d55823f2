package throttle

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limit is a token bucket: Burst requests at once and PerSecond on average.
// A zero or negative PerSecond turns the limit off.
type Limit struct {
	PerSecond float64
	Burst     int
}

// limiterIdle is how long a bucket is kept after its last use. A bucket idle
// that long is full again, so forgetting it changes nothing.
const limiterIdle = 10 * time.Minute

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// keyed holds one bucket per key. Memory is bounded by the keys active in
// the last limiterIdle: idle buckets are swept on use, at most once a minute.
type keyed struct {
	cfg   Limit
	now   func() time.Time
	mu    sync.Mutex
	b     map[string]*bucket
	swept time.Time
}

func newKeyed(cfg Limit, now func() time.Time) *keyed {
	if cfg.PerSecond <= 0 {
		return nil
	}
	if cfg.Burst < 1 {
		cfg.Burst = 1
	}
	return &keyed{cfg: cfg, now: now, b: make(map[string]*bucket)}
}

func (l *keyed) get(key string, now time.Time) *bucket {
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
func (l *keyed) allow(key string) (bool, time.Duration) {
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
