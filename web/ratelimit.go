package web

import "github.com/gateledger/gateledger/internal/throttle"

// RateLimit is the per-principal token bucket of Config.RateLimit: each
// principal may make Burst requests at once and PerSecond on average.
type RateLimit = throttle.Limit

// DefaultRateLimit suits people and their browsers; machine principals with
// more traffic (the feed) are configured higher where needed.
var DefaultRateLimit = throttle.DefaultPrincipal
