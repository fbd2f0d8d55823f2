package aggregates

import (
	"errors"
	"fmt"
)

// Sentinel errors name the rule a command broke. Every error Decide returns
// matches exactly one of them under errors.Is, so callers map them to HTTP
// statuses or dead-letter reasons without parsing text.
var (
	// ErrInvalidIdentifier: a NOMS, CRN, PNC, prison, booking or organisation
	// code does not have its published format.
	ErrInvalidIdentifier = errors.New("invalid identifier")
	// ErrInvalidValue: a required field is missing or an enum value unknown.
	ErrInvalidValue = errors.New("invalid value")
	// ErrNotReceived: the person has not been received into custody.
	ErrNotReceived = errors.New("not received into custody")
	// ErrReleased: a custody event for someone released and not received back.
	ErrReleased = errors.New("released from custody")
	// ErrNotReleased: a community event for someone who has not been released.
	ErrNotReleased = errors.New("not released")
	// ErrNotInCustody: a custody movement for someone who is not in a prison
	// now (unlawfully at large, or detained in a hospital or removal centre).
	ErrNotInCustody = errors.New("not in custody")
	// ErrWrongPrison: a movement out of a prison that does not hold the person.
	ErrWrongPrison = errors.New("not held by that prison")
	// ErrMerged: a command for a prison number that was merged into another.
	ErrMerged = errors.New("prison number merged into another")
	// ErrInCustody: a new reception of someone already in custody.
	ErrInCustody = errors.New("already in custody")
	// ErrClosed: the journey has been closed.
	ErrClosed = errors.New("journey closed")
	// ErrNoScreening: a plan before custody screening part 1.
	ErrNoScreening = errors.New("custody screening not completed")
	// ErrAlreadyScreened: screening part 1 recorded twice in one custody period.
	ErrAlreadyScreened = errors.New("custody screening already completed")
	// ErrNoPlan: a revision of a plan that was never drafted.
	ErrNoPlan = errors.New("no resettlement plan")
	// ErrPlanExists: a second draft in one custody period (revise it instead).
	ErrPlanExists = errors.New("resettlement plan already drafted")
	// ErrNoNeed: an action on a pathway with no identified need.
	ErrNoNeed = errors.New("no need identified on pathway")
	// ErrNeedExists: a need identified twice on one pathway.
	ErrNeedExists = errors.New("need already identified on pathway")
	// ErrUnknownAction: an action id that was never agreed.
	ErrUnknownAction = errors.New("unknown action")
	// ErrActionExists: an action id agreed twice.
	ErrActionExists = errors.New("action already agreed")
	// ErrActionCompleted: a change to a completed action.
	ErrActionCompleted = errors.New("action already completed")
	// ErrReasonRequired: a declined or not-required status, a rejection or a
	// correction without its reason.
	ErrReasonRequired = errors.New("reason required")
	// ErrDateOrder: dates out of their sensible order.
	ErrDateOrder = errors.New("dates out of order")
	// ErrFutureDate: a fact said to have happened after now.
	ErrFutureDate = errors.New("occurred in the future")
	// ErrHandoverOpen: a handover requested while another is open.
	ErrHandoverOpen = errors.New("a handover is already open")
	// ErrNoOpenHandover: accept or reject with no handover open.
	ErrNoOpenHandover = errors.New("no open handover")
	// ErrConflictingDuplicate: a movement at the same time and place as a
	// recorded one but saying something different.
	ErrConflictingDuplicate = errors.New("conflicts with a recorded movement")
	// ErrAlreadyRecorded: a one-off fact (met at the gate, CRN) recorded again
	// with different content.
	ErrAlreadyRecorded = errors.New("already recorded")
	// ErrSupervisionActive: closing for end of supervision before it ends.
	ErrSupervisionActive = errors.New("supervision period has not ended")
	// ErrUnknownOrganisation: an organisation or release area that does not
	// exist on the (UK) date of the command.
	ErrUnknownOrganisation = errors.New("organisation does not exist on that date")
	// ErrWrongOrganisation: an organisation of a kind that cannot take the
	// case at this stage (a prison that does not hold the person, a prison
	// after release).
	ErrWrongOrganisation = errors.New("organisation cannot take the case")
	// ErrImplausibleDate: a fact dated before the earliest date the ledger
	// records (Policy.EarliestFact).
	ErrImplausibleDate = errors.New("date outside the plausible range")
	// ErrNoSentence: a command that needs a sentence fact (release dates, a
	// licence to revoke, supervision to end) for someone with none: on
	// remand, or discharged from remand. Record the sentence first.
	ErrNoSentence = errors.New("no sentence recorded")
	// ErrSuperseded: a release-date calculation older than the one recorded.
	ErrSuperseded = errors.New("superseded by a newer calculation")
	// ErrUnknownCommand: a command type Decide does not know.
	ErrUnknownCommand = errors.New("unknown command")
)

// RuleError is the error Decide returns when a command breaks a rule. Rule is
// a short stable slug (e.g. "plan-requires-screening"), Err the sentinel it
// matches, Field the command field at fault if any.
type RuleError struct {
	Rule   string
	Err    error
	Field  string
	Detail string
}

func (e *RuleError) Error() string {
	msg := e.Rule + ": " + e.Err.Error()
	if e.Field != "" {
		msg += " (" + e.Field + ")"
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Unwrap exposes the sentinel to errors.Is.
func (e *RuleError) Unwrap() error { return e.Err }

// IdentifierError reports a malformed identifier. It matches
// ErrInvalidIdentifier under errors.Is.
type IdentifierError struct {
	Field   string
	Value   string
	Pattern string
}

func (e *IdentifierError) Error() string {
	return fmt.Sprintf("invalid identifier: %s %q does not match %s", e.Field, e.Value, e.Pattern)
}

// Is makes errors.Is(err, ErrInvalidIdentifier) true.
func (e *IdentifierError) Is(target error) bool { return target == ErrInvalidIdentifier }

// UnknownEventTypeError is returned by Decode for an event type this version
// of the code does not know. It matches ErrUnknownEventType.
type UnknownEventTypeError struct{ EventType string }

// ErrUnknownEventType matches *UnknownEventTypeError.
var ErrUnknownEventType = errors.New("unknown event type")

// ErrUnsupportedSchemaVersion: a stored event written by a newer version of
// the code than this one.
var ErrUnsupportedSchemaVersion = errors.New("unsupported schema version")

func (e *UnknownEventTypeError) Error() string {
	return fmt.Sprintf("unknown event type %q", e.EventType)
}

// Is makes errors.Is(err, ErrUnknownEventType) true.
func (e *UnknownEventTypeError) Is(target error) bool { return target == ErrUnknownEventType }

func rule(r string, sentinel error, field, format string, args ...any) *RuleError {
	return &RuleError{Rule: r, Err: sentinel, Field: field, Detail: fmt.Sprintf(format, args...)}
}

func invalid(field, format string, args ...any) *RuleError {
	return rule("invalid-value", ErrInvalidValue, field, format, args...)
}

// wrapID turns an *IdentifierError from checkID into a RuleError-free error
// chain the caller can inspect with errors.As for either type.
func wrapID(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("aggregates: %w", err)
}
