package eventlog

import (
	"errors"
	"fmt"
	"io"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/gateledger/gateledger/esdbserver"
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

// IsStoreFull reports whether err says the event store's disk is full: an error of
// this package matching ErrStoreFull, or the store's answer to a write made with the
// client directly (the access log and the token store write so).
func IsStoreFull(err error) bool {
	return errors.Is(err, ErrStoreFull) || esdbserver.IsDiskFull(err)
}

// classifyStoreError wraps err, from the client, with ErrStoreFull or
// ErrStreamDeleted when it is one of those.
func classifyStoreError(err error) error {
	var e *esdb.Error
	switch {
	case errors.As(err, &e) && e.Code() == esdb.ErrorCodeStreamDeleted:
		return fmt.Errorf("%w: %w", ErrStreamDeleted, err)
	case esdbserver.IsDiskFull(err):
		return fmt.Errorf("%w: %w", ErrStoreFull, err)
	}
	return err
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) }
