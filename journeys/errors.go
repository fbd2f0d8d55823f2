package journeys

import (
	"errors"
	"fmt"
)

// Sentinel errors of the command service. Errors from the aggregate
// (aggregates.ErrNotReceived, ...) pass through unchanged.
var (
	// ErrConflict: the journey kept changing under the command; it was
	// retried MaxAttempts times. Matches *ConflictError. Safe to retry later.
	ErrConflict = errors.New("journey changed concurrently")
	// ErrRevisionMismatch: the caller's expected revision (CommandMeta.IfRevision,
	// an HTTP If-Match) is not the journey's revision. Matches *RevisionMismatchError.
	ErrRevisionMismatch = errors.New("journey is not at the expected revision")
	// ErrIdempotencyKeyReused: the key was already used by a different command.
	// Matches *KeyReusedError.
	ErrIdempotencyKeyReused = errors.New("idempotency key already used by a different command")
	// ErrCorrectedEventNotFound: a CorrectFact names an event that is not in
	// the journey's stream. Matches *CorrectionTargetError.
	ErrCorrectedEventNotFound = errors.New("corrected event not found in the journey")
)

// ConflictError says a command gave up after repeated concurrency conflicts.
type ConflictError struct {
	NOMS     string
	Attempts int
	// Err is the last conflict.
	Err error
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("journey %s changed concurrently %d times: %v", e.NOMS, e.Attempts, e.Err)
}

// Unwrap exposes the last conflict.
func (e *ConflictError) Unwrap() error { return e.Err }

// Is matches ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// RevisionMismatchError is a command sent against a revision the journey is no
// longer (or not yet) at. Current is -1 for a journey with no events.
type RevisionMismatchError struct {
	NOMS              string
	Expected, Current int64
}

func (e *RevisionMismatchError) Error() string {
	return fmt.Sprintf("journey %s is at revision %d, not %d", e.NOMS, e.Current, e.Expected)
}

// Is matches ErrRevisionMismatch.
func (e *RevisionMismatchError) Is(target error) bool { return target == ErrRevisionMismatch }

// KeyReusedError is an idempotency key sent with a command other than the one
// it first recorded.
type KeyReusedError struct {
	Key string
	// First is the name of the command the key recorded; Command the new one.
	First, Command string
}

func (e *KeyReusedError) Error() string {
	return fmt.Sprintf("idempotency key %q already recorded %s; it cannot be reused for a different %s", e.Key, e.First, e.Command)
}

// Is matches ErrIdempotencyKeyReused.
func (e *KeyReusedError) Is(target error) bool { return target == ErrIdempotencyKeyReused }

// CorrectionTargetError is a correction of an event the journey does not have.
type CorrectionTargetError struct {
	NOMS    string
	EventID string
}

func (e *CorrectionTargetError) Error() string {
	return fmt.Sprintf("journey %s has no event %s to correct", e.NOMS, e.EventID)
}

// Is matches ErrCorrectedEventNotFound.
func (e *CorrectionTargetError) Is(target error) bool { return target == ErrCorrectedEventNotFound }
