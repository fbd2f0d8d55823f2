package aggregates

import (
	"fmt"
	"time"
)

// Decide answers a command with the events that record it, or with the rule
// it breaks. It is deterministic: now is the caller's clock, and policy
// holds every tunable rule. No events and no error means the command is
// already reflected by state (for example, a duplicate feed message).
// Commands are passed by value (ReceivePrisoner{...}, not a pointer).
func Decide(j Journey, cmd Command, now time.Time, p Policy) ([]Event, error) {
	if p.Calendar == nil {
		p.Calendar = WeekendsOnly{}
	}
	now = now.UTC()
	if j.MergedInto != "" && cmd != nil {
		if _, ok := cmd.(MergePrisonNumber); !ok {
			return nil, errorf(cmd, &RuleError{Rule: "prison-number-merged", Err: &MergedError{NOMS: j.NOMS, Into: j.MergedInto}})
		}
	}
	switch c := cmd.(type) {
	case ReceivePrisoner:
		return decideReceive(j, c, now, p)
	case RecordMovement:
		return decideMovement(j, c, now, p)
	case ReleasePrisoner:
		return decideRelease(j, c, now, p)
	case CompleteScreening:
		return decideScreening(j, c, now, p)
	case DraftPlan:
		return decideDraftPlan(j, c, now, p)
	case RevisePlan:
		return decideRevisePlan(j, c, now, p)
	case IdentifyNeed:
		return decideIdentifyNeed(j, c, now, p)
	case ChangePathwayStatus:
		return decidePathwayStatus(j, c, now, p)
	case AgreeAction:
		return decideAgreeAction(j, c, now, p)
	case AssignAction:
		return decideAssignAction(j, c, now, p)
	case CompleteAction:
		return decideCompleteAction(j, c, now, p)
	case SetReleaseDates:
		return decideReleaseDates(j, c, now, p)
	case NoteSentenceRecalculation:
		return decideRecalculation(j, c, now, p)
	case RecordMetAtGate:
		return decideMetAtGate(j, c, now, p)
	case RecordSupervisionContact:
		return decideContact(j, c, now, p)
	case AssessRisk:
		return decideRisk(j, c, now, p)
	case SetMAPPALevel:
		return decideMAPPA(j, c, now, p)
	case RecordBreach:
		return decideBreach(j, c, now, p)
	case RecallPrisoner:
		return decideRecall(j, c, now, p)
	case RecordProvenReoffence:
		return decideReoffence(j, c, now, p)
	case LinkCRN:
		return decideLinkCRN(j, c, now, p)
	case CorrectFact:
		return decideCorrection(j, c, now, p)
	case CloseJourney:
		return decideClose(j, c, now, p)
	case RequestHandover:
		return decideRequestHandover(j, c, now, p)
	case AcceptHandover:
		return decideAcceptHandover(j, c, now, p)
	case RejectHandover:
		return decideRejectHandover(j, c, now, p)
	case ChangeReleaseArea:
		return decideReleaseArea(j, c, now, p)
	case EndCustody:
		return decideEndCustody(j, c, now, p)
	case SentencePrisoner:
		return decideSentence(j, c, now, p)
	case MergePrisonNumber:
		return decideMerge(j, c, now, p)
	case AbsorbPrisonNumber:
		return decideAbsorb(j, c, now, p)
	case nil:
		return nil, rule("unknown-command", ErrUnknownCommand, "", "nil command")
	}
	return nil, rule("unknown-command", ErrUnknownCommand, "", "%T", cmd)
}

// occurred normalises a command's occurredAt to UTC and checks it is given
// and plausible: not in the future (beyond the policy's clock skew) and not
// before the policy's EarliestFact (by UK date). Every dated command passes
// through it, so the range is checked in this one place.
func occurred(at, now time.Time, p Policy) (time.Time, error) {
	if at.IsZero() {
		return time.Time{}, invalid("at", "occurredAt is required")
	}
	at = at.UTC()
	if d := DateOf(at); !p.EarliestFact.IsZero() && d.Before(p.EarliestFact) {
		return time.Time{}, rule("plausible-dates", ErrImplausibleDate, "at", "%s is before %s, the earliest date the ledger records", ukDate(d), ukDate(p.EarliestFact))
	}
	if at.After(now.Add(p.ClockSkew)) {
		return time.Time{}, rule("no-future-facts", ErrFutureDate, "at", "%s is after now (%s)", ukTime(at), ukTime(now))
	}
	return at, nil
}

// requireOpen: received and not closed.
func requireOpen(j Journey) error {
	if j.Custody == NotReceived {
		return rule("requires-reception", ErrNotReceived, "", "no reception recorded for this journey")
	}
	if j.Closed {
		return rule("journey-closed", ErrClosed, "", "closed %s (%s)", ukTime(j.ClosedAt), j.CloseReason)
	}
	return nil
}

// requireInCustody: open and detained now (in a prison, or in a secure
// hospital or removal centre), not released or at large.
func requireInCustody(j Journey) error {
	if err := requireOpen(j); err != nil {
		return err
	}
	return j.requireDetained(true)
}

// requireReleased: open and released.
func requireReleased(j Journey) error {
	if err := requireOpen(j); err != nil {
		return err
	}
	if j.Custody != Released {
		return rule("requires-release", ErrNotReleased, "", "the person is in custody")
	}
	return nil
}

func notBefore(field string, at, earliest time.Time, what string) error {
	if !earliest.IsZero() && at.Before(earliest) {
		return rule("dates-in-order", ErrDateOrder, field, "%s is before %s %s", ukTime(at), what, ukTime(earliest))
	}
	return nil
}

func required(field, value string) error {
	if value == "" {
		return invalid(field, "%s is required", field)
	}
	return nil
}

func validOrg(field string, o Org) error {
	if !o.Valid() {
		return wrapID(&IdentifierError{Field: field, Value: string(o), Pattern: "prison code, C01-C21, N01-N07 or NPS-A..NPS-L"})
	}
	return nil
}

func one(ev Event) ([]Event, error) { return []Event{ev}, nil }

// errorf wraps err with the command name so logs say what was refused.
func errorf(cmd Command, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", cmd.CommandName(), err)
}
