package eventdb

import (
	"errors"
	"fmt"
)

// Errors returned by the store. Callers check them with errors.Is or errors.As.
var (
	// ErrStreamNotFound: the stream has no readable events (never written or soft-deleted).
	ErrStreamNotFound = errors.New("stream not found")
	// ErrStreamDeleted: the stream was tombstoned; it can never be read or written again.
	ErrStreamDeleted = errors.New("stream deleted")
	// ErrWrongExpectedVersion: the stream was not at the revision the writer expected.
	ErrWrongExpectedVersion = errors.New("wrong expected version")
	// ErrInvalidArgument: the request itself is malformed; nothing was written.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrEventTooLarge: one event exceeds the configured maximum event size.
	ErrEventTooLarge = errors.New("event too large")
	// ErrClosed: the store has been closed.
	ErrClosed = errors.New("event store closed")
	// ErrLocked: another process has the store open.
	ErrLocked = errors.New("event store locked")
	// ErrDiskFull: a commit failed because the file system has no space (ENOSPC) or the
	// user's quota is spent (EDQUOT). Nothing of that commit was written or acknowledged,
	// and the store stays open: the next commit is tried afresh, so writes resume by
	// themselves once space is freed.
	ErrDiskFull = errors.New("no space left for the event store")
)

// StreamDeletedError names the tombstoned stream.
type StreamDeletedError struct{ Stream string }

func (e *StreamDeletedError) Error() string { return fmt.Sprintf("stream %q is deleted", e.Stream) }

// Is makes errors.Is(err, ErrStreamDeleted) true.
func (e *StreamDeletedError) Is(target error) bool { return target == ErrStreamDeleted }

// WrongExpectedVersionError reports what the writer expected and what the stream held.
type WrongExpectedVersionError struct {
	Stream   string
	Expected ExpectedRevision
	// Current is the stream's last revision, or -1 when the stream has no events.
	Current int64
}

func (e *WrongExpectedVersionError) Error() string {
	return fmt.Sprintf("append to %q failed: expected %s, current %s", e.Stream, e.Expected, revisionString(e.Current))
}

// Is makes errors.Is(err, ErrWrongExpectedVersion) true.
func (e *WrongExpectedVersionError) Is(target error) bool { return target == ErrWrongExpectedVersion }

// EventTooLargeError names the event that is over the limit.
type EventTooLargeError struct {
	EventID string
	Size    int
	Limit   int
}

func (e *EventTooLargeError) Error() string {
	return fmt.Sprintf("event %s is %d bytes, over the maximum event size of %d", e.EventID, e.Size, e.Limit)
}

// Is makes errors.Is(err, ErrEventTooLarge) true.
func (e *EventTooLargeError) Is(target error) bool { return target == ErrEventTooLarge }

func revisionString(r int64) string {
	if r < 0 {
		return "no stream"
	}
	return fmt.Sprintf("revision %d", r)
}
