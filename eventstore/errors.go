package eventstore

import (
	"errors"
	"fmt"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/gateledger/gateledger/internal/esdbserver"
)

// Errors of the store that callers answer in their own terms (errors.Is).
var (
	// ErrStoreFull: the event store refused a write because its disk is full. Nothing
	// of the write was recorded; it may be retried once space is freed, and the store
	// takes writes again by itself.
	ErrStoreFull = errors.New("the event store's disk is full")
	// ErrStreamDeleted: the stream was tombstoned (hard-deleted) in the store; it can
	// never be read or written again.
	ErrStreamDeleted = errors.New("the stream is deleted in the event store")
)

// IsStoreFull reports whether err says the event store's disk is full: an error
// matching ErrStoreFull, or the store's answer to a write made through a Store
// directly (the access log and the token store write so).
func IsStoreFull(err error) bool {
	return errors.Is(err, ErrStoreFull) || esdbserver.IsDiskFull(err)
}

// Classify wraps err, from a Store, with ErrStoreFull or ErrStreamDeleted when it
// is one of those, and returns it unchanged otherwise.
func Classify(err error) error {
	switch {
	case hasCode(err, esdb.ErrorCodeStreamDeleted):
		return fmt.Errorf("%w: %w", ErrStreamDeleted, err)
	case esdbserver.IsDiskFull(err):
		return fmt.Errorf("%w: %w", ErrStoreFull, err)
	}
	return err
}

// IsWrongExpectedVersion reports whether err is the store refusing an append
// because the stream is not at the expected revision: a conflict.
func IsWrongExpectedVersion(err error) bool { return hasCode(err, esdb.ErrorCodeWrongExpectedVersion) }

// IsNotFound reports whether err is the store answering that a stream does not
// exist: never written, or soft-deleted.
func IsNotFound(err error) bool { return hasCode(err, esdb.ErrorCodeResourceNotFound) }

// IsStreamDeleted reports whether err is the store answering that a stream was
// tombstoned (hard-deleted).
func IsStreamDeleted(err error) bool {
	return errors.Is(err, ErrStreamDeleted) || hasCode(err, esdb.ErrorCodeStreamDeleted)
}

func hasCode(err error, code esdb.ErrorCode) bool {
	var e *esdb.Error
	return errors.As(err, &e) && e.Code() == code
}
