// Package folds holds people's journeys folded from the event log: it decodes each
// recorded event once (eventlog's decoders), folds it into the person's
// aggregates.Journey in place, and keeps the folds in one bounded cache, least recently
// used first out. Every reader that needs a journey's state at an event folds it here:
// the projection runner, the live feed's hub and its catch-up reads, the command
// service, and the as-at reads of inspectors.
//
// A fold the cache does not hold, or holds at another revision, is folded again from
// the person's stream in the store: the cache changes the cost, never the answer. An
// event that cannot be decoded marks the fold Broken (its Journey holds the events that
// could be read); each reader decides what that means for it.
//
// Each reader keeps its own Cache: the runner, the hub and the command service stand at
// different places in the log (the runner may be rebuilding from position zero while
// the hub follows the head), and a fold is changed in place by the one goroutine that
// feeds it, which is what makes folding cheap; sharing one would mean copying a journey
// per event or folding it back and forth.
//
// It may import aggregates and eventlog (and the event store's client), nothing else of
// this module.
package folds
