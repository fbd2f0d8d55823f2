package hmpps

import (
	"errors"
	"fmt"
)

// Sentinel errors for what the caller must do with a message.
var (
	// ErrMalformed: the message cannot be read (bad JSON, missing or
	// malformed required fields). Dead-letter it.
	ErrMalformed = errors.New("malformed HMPPS message")
	// ErrUnknownEventType: an event type the ledger does not consume.
	// Acknowledge and ignore it.
	ErrUnknownEventType = errors.New("unknown HMPPS event type")
	// ErrUnmappable: a well-formed event that cannot be translated without
	// guessing (for example a release with reason UNKNOWN). Dead-letter it.
	ErrUnmappable = errors.New("HMPPS event cannot be mapped")
	// ErrNothingToRecord: a consumed event that says nothing happened to the
	// person (an administrative merge of NOMIS records reported as a
	// release). Acknowledge it; record nothing.
	ErrNothingToRecord = errors.New("HMPPS event records nothing")
)

// NothingToRecordError says why a consumed event records nothing.
type NothingToRecordError struct {
	EventType string
	Reason    string
}

func (e *NothingToRecordError) Error() string {
	return fmt.Sprintf("nothing to record for %s: %s", e.EventType, e.Reason)
}

// Is matches ErrNothingToRecord.
func (e *NothingToRecordError) Is(target error) bool { return target == ErrNothingToRecord }

// MalformedError says which field could not be read.
type MalformedError struct {
	Field string
	Err   error
}

func (e *MalformedError) Error() string {
	return fmt.Sprintf("malformed HMPPS message: %s: %v", e.Field, e.Err)
}

// Unwrap exposes the cause.
func (e *MalformedError) Unwrap() error { return e.Err }

// Is matches ErrMalformed.
func (e *MalformedError) Is(target error) bool { return target == ErrMalformed }

// UnknownEventTypeError names the event type that is not consumed.
type UnknownEventTypeError struct{ EventType string }

func (e *UnknownEventTypeError) Error() string {
	return fmt.Sprintf("unknown HMPPS event type %q", e.EventType)
}

// Is matches ErrUnknownEventType.
func (e *UnknownEventTypeError) Is(target error) bool { return target == ErrUnknownEventType }

// UnmappableError gives the reason a well-formed event was not translated,
// and the NOMIS movement reason code that was not understood, if that was it.
type UnmappableError struct {
	EventType string
	Code      string
	Reason    string
}

func (e *UnmappableError) Error() string {
	return fmt.Sprintf("cannot map %s: %s", e.EventType, e.Reason)
}

// Is matches ErrUnmappable.
func (e *UnmappableError) Is(target error) bool { return target == ErrUnmappable }

func malformed(field string, err error) error { return &MalformedError{Field: field, Err: err} }

func malformedf(field, format string, args ...any) error {
	return &MalformedError{Field: field, Err: fmt.Errorf(format, args...)}
}

// Disposition is what to do with a message after Parse.
type Disposition int

// Dispositions.
const (
	// Apply: run the commands.
	Apply Disposition = iota
	// Ignore: acknowledge, record nothing.
	Ignore
	// DeadLetter: keep the message with its reason.
	DeadLetter
)

func (d Disposition) String() string {
	switch d {
	case Apply:
		return "apply"
	case Ignore:
		return "ignore"
	}
	return "dead-letter"
}

// DispositionOf maps Parse's error to what the caller does: nil → Apply,
// ErrUnknownEventType and ErrNothingToRecord → Ignore, anything else →
// DeadLetter (never drop a message silently).
func DispositionOf(err error) Disposition {
	switch {
	case err == nil:
		return Apply
	case errors.Is(err, ErrUnknownEventType), errors.Is(err, ErrNothingToRecord):
		return Ignore
	}
	return DeadLetter
}
