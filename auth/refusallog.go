package auth

import (
	"sync/atomic"

	"golang.org/x/time/rate"
)

// RefusalLog bounds how many refused credentials Authenticator logs, so that
// a flood of bad tokens cannot flood the log: PerSecond lines on average
// (Burst at once); the refusals beyond are counted, and the next line logged
// says how many were left out. Create it with NewRefusalLog; safe for
// concurrent use.
type RefusalLog struct {
	lim     *rate.Limiter
	skipped atomic.Int64
}

// NewRefusalLog returns a RefusalLog allowing perSecond lines on average
// and burst at once.
func NewRefusalLog(perSecond float64, burst int) *RefusalLog {
	return &RefusalLog{lim: rate.NewLimiter(rate.Limit(perSecond), max(burst, 1))}
}

// take says whether this refusal may be logged and, if so, how many were
// left out since the last one logged. A nil RefusalLog logs everything.
func (l *RefusalLog) take() (bool, int64) {
	if l == nil {
		return true, 0
	}
	if !l.lim.Allow() {
		l.skipped.Add(1)
		return false, 0
	}
	return true, l.skipped.Swap(0)
}
