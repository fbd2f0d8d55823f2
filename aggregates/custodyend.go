package aggregates

import (
	"slices"
	"time"
)

// Custody can end in ways that are not a release into the community. HMPPS
// reports them all as prison-offender-events.prisoner.released with reason
// RELEASED (or RELEASED_TO_HOSPITAL); the NOMIS movement reason code says
// which (see package hmpps). The ledger records each as what it is, because
// each has different consequences:
//
//   - unlawfully at large (absconded, escaped, failed to return): custody ends
//     without a release; no supervision starts and no handover to the
//     community is asked for; a recall or return to custody is expected, and
//     the case needs attention until it comes.
//   - died in custody: the journey ends. No supervision, no handover, no
//     reoffending cohort; nothing but late history may follow.
//   - moved to a secure hospital, or to an immigration removal centre:
//     detention continues elsewhere. Not a release: no supervision clock, no
//     community handover; the prison the person left stays accountable until
//     the person returns to prison or is released.

// CustodyEndKind is a way custody ends, or moves out of the prison estate,
// that is not a release into the community.
type CustodyEndKind string

// Custody end kinds.
const (
	EndUnlawfullyAtLarge CustodyEndKind = "UNLAWFULLY_AT_LARGE"
	EndDied              CustodyEndKind = "DIED"
	EndSecureHospital    CustodyEndKind = "SECURE_HOSPITAL"
	EndRemovalCentre     CustodyEndKind = "IMMIGRATION_REMOVAL_CENTRE"
)

// Valid reports whether k is a known custody end kind.
func (k CustodyEndKind) Valid() bool {
	return slices.Contains([]CustodyEndKind{EndUnlawfullyAtLarge, EndDied, EndSecureHospital, EndRemovalCentre}, k)
}

// eventType is the event type recording k.
func (k CustodyEndKind) eventType() string {
	switch k {
	case EndUnlawfullyAtLarge:
		return TypePrisonerUnlawfullyAtLarge
	case EndDied:
		return TypePrisonerDiedInCustody
	case EndSecureHospital:
		return TypePrisonerMovedToSecureHospital
	case EndRemovalCentre:
		return TypePrisonerMovedToRemovalCentre
	}
	return ""
}

// EndCustody records that custody ended, or moved out of the prison estate,
// without a release into the community. Prison is the prison the person
// left; empty means the prison holding the person (HMPPS sends hospital and
// removal-centre moves with prisonId null).
type EndCustody struct {
	Kind               CustodyEndKind
	Prison             string
	MovementReasonCode string
	At                 time.Time
}

// CommandName implements Command.
func (EndCustody) CommandName() string { return "EndCustody" }

// PrisonerUnlawfullyAtLarge: the person absconded, escaped or failed to
// return. Custody ends without a release; a recall is expected.
type PrisonerUnlawfullyAtLarge struct {
	Prison             string    `json:"prisonCode"`
	MovementReasonCode string    `json:"movementReasonCode,omitempty"`
	Late               bool      `json:"late,omitempty"`
	At                 time.Time `json:"occurredAt"`
}

// PrisonerDiedInCustody: the person died in custody. A JourneyClosed with
// reason DIED follows it in the same append.
type PrisonerDiedInCustody struct {
	Prison             string    `json:"prisonCode"`
	MovementReasonCode string    `json:"movementReasonCode,omitempty"`
	Late               bool      `json:"late,omitempty"`
	At                 time.Time `json:"occurredAt"`
}

// PrisonerMovedToSecureHospital: the person was moved from prison to a
// secure hospital under mental health law. Detention continues; not a
// release.
type PrisonerMovedToSecureHospital struct {
	Prison             string    `json:"prisonCode"`
	MovementReasonCode string    `json:"movementReasonCode,omitempty"`
	Late               bool      `json:"late,omitempty"`
	At                 time.Time `json:"occurredAt"`
}

// PrisonerMovedToRemovalCentre: the person was moved from prison to an
// immigration removal centre. Detention continues; not a release.
type PrisonerMovedToRemovalCentre struct {
	Prison             string    `json:"prisonCode"`
	MovementReasonCode string    `json:"movementReasonCode,omitempty"`
	Late               bool      `json:"late,omitempty"`
	At                 time.Time `json:"occurredAt"`
}

// EventType implements Event.
func (PrisonerUnlawfullyAtLarge) EventType() string { return TypePrisonerUnlawfullyAtLarge }

// SchemaVersion implements Event.
func (PrisonerUnlawfullyAtLarge) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e PrisonerUnlawfullyAtLarge) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (PrisonerDiedInCustody) EventType() string { return TypePrisonerDiedInCustody }

// SchemaVersion implements Event.
func (PrisonerDiedInCustody) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e PrisonerDiedInCustody) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (PrisonerMovedToSecureHospital) EventType() string { return TypePrisonerMovedToSecureHospital }

// SchemaVersion implements Event.
func (PrisonerMovedToSecureHospital) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e PrisonerMovedToSecureHospital) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (PrisonerMovedToRemovalCentre) EventType() string { return TypePrisonerMovedToRemovalCentre }

// SchemaVersion implements Event.
func (PrisonerMovedToRemovalCentre) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e PrisonerMovedToRemovalCentre) OccurredAt() time.Time { return e.At }

func decideEndCustody(j Journey, c EndCustody, now time.Time, p Policy) ([]Event, error) {
	if !c.Kind.Valid() {
		return nil, errorf(c, invalid("Kind", "unknown way custody ended %q", c.Kind))
	}
	if err := checkOptionalID("prison", c.Prison); err != nil {
		return nil, errorf(c, err)
	}
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	prison, historic, err := j.placeMovement(at, c.Prison, true)
	if err != nil {
		return nil, errorf(c, err)
	}
	if _, ok := j.recorded(c.Kind.eventType(), at, prison); ok {
		return nil, nil
	}
	ev := custodyEndEvent(c.Kind, prison, c.MovementReasonCode, historic, at)
	if historic {
		return one(ev)
	}
	// From a secure hospital or removal centre, too: a person can die,
	// abscond or be moved on from there.
	if err := j.requireDetained(true); err != nil {
		return nil, errorf(c, err)
	}
	if c.Kind == EndDied {
		return []Event{ev, JourneyClosed{Reason: CloseDied, At: at}}, nil
	}
	return one(ev)
}

func custodyEndEvent(k CustodyEndKind, prison, code string, late bool, at time.Time) Event {
	switch k {
	case EndUnlawfullyAtLarge:
		return PrisonerUnlawfullyAtLarge{Prison: prison, MovementReasonCode: code, Late: late, At: at}
	case EndDied:
		return PrisonerDiedInCustody{Prison: prison, MovementReasonCode: code, Late: late, At: at}
	case EndSecureHospital:
		return PrisonerMovedToSecureHospital{Prison: prison, MovementReasonCode: code, Late: late, At: at}
	}
	return PrisonerMovedToRemovalCentre{Prison: prison, MovementReasonCode: code, Late: late, At: at}
}

// requireDetained: the person is detained now, in a prison or, when
// elsewhereToo, in a secure hospital or removal centre.
func (j Journey) requireDetained(elsewhereToo bool) error {
	switch j.Custody {
	case InCustody:
		return nil
	case DetainedElsewhere:
		if elsewhereToo {
			return nil
		}
		return rule("not-in-prison", ErrNotInCustody, "", "detained in %s since %s; a return to prison must be recorded first",
			j.DetainedIn.place(), ukTime(j.CustodyEndedAt))
	case UnlawfullyAtLarge:
		return rule("not-in-custody", ErrNotInCustody, "", "unlawfully at large since %s; a reception (recall or return) must be recorded first", ukTime(j.CustodyEndedAt))
	case Released:
		return rule("no-custody-events-after-release", ErrReleased, "", "released on %s; a new reception or recall must come first", ukTime(j.ReleasedAt))
	}
	return rule("requires-reception", ErrNotReceived, "", "no reception recorded for this journey")
}

// place names where a detention elsewhere is, for messages.
func (k CustodyEndKind) place() string {
	switch k {
	case EndSecureHospital:
		return "a secure hospital"
	case EndRemovalCentre:
		return "an immigration removal centre"
	}
	return "another place of detention"
}

// placeMovement is the one rule for where and when a custody movement out of
// (or within) custody can be recorded (see the package documentation, "Late,
// historic and closed"). It returns the prison the movement is from (prison,
// or the prison holding the person when prison is empty), and whether the
// movement is history that leaves the current state alone. It refuses:
//   - any movement before the journey's first reception: the ledger holds no
//     custody for the person then, so the fact belongs to no journey it knows
//     (a release from 2010 is not filed into a journey that began in 2026);
//   - anything after a death but late history;
//   - on a closed journey, a movement dated after the closure (only a new
//     reception reopens a journey);
//   - a current movement out of a prison the person is not in (checkPrison).
func (j Journey) placeMovement(at time.Time, prison string, checkPrison bool) (string, bool, error) {
	if j.Custody == NotReceived {
		return "", false, rule("requires-reception", ErrNotReceived, "", "no reception recorded for this journey")
	}
	if at.Before(j.FirstReceivedAt) {
		return "", false, rule("before-first-reception", ErrDateOrder, "At",
			"%s is before this journey's first reception on %s; it belongs to a custody period the ledger did not record", ukTime(at), ukTime(j.FirstReceivedAt))
	}
	historic := j.historic(at)
	if prison == "" {
		prison = j.prisonForHistory(at, historic)
	}
	if historic {
		return prison, true, nil
	}
	if j.Custody == Died {
		return "", false, rule("journey-ended-by-death", ErrClosed, "", "died in custody %s; only history dated before the death can be recorded", ukTime(j.ClosedAt))
	}
	if j.Closed {
		return "", false, rule("journey-closed", ErrClosed, "", "closed %s (%s); a new reception must come first", ukTime(j.ClosedAt), j.CloseReason)
	}
	if checkPrison && j.Prison != "" && prison != j.Prison && j.Custody != UnlawfullyAtLarge && j.Custody != Released {
		return "", false, rule("not-in-that-prison", ErrWrongPrison, "Prison", "the person is held by %s, not %s", j.Prison, prison)
	}
	return prison, false, nil
}

// historic reports whether a movement at at describes the past: it is older
// than the latest in-order movement, or dated before the journey closed.
func (j Journey) historic(at time.Time) bool {
	return at.Before(j.LastMovementAt) || (j.Closed && at.Before(j.ClosedAt))
}

// prisonForHistory is the prison a movement without one is from: the prison
// holding the person then (history) or now.
func (j Journey) prisonForHistory(at time.Time, historic bool) string {
	if historic {
		if p := j.prisonAt(at); p != "" {
			return p
		}
	}
	return j.Prison
}
