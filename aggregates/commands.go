package aggregates

import "time"

// Command asks the journey to record something. Commands carry the facts,
// including when they happened (At); who asked is metadata decided outside.
type Command interface {
	// CommandName is the command's name, for logs and dead letters.
	CommandName() string
}

// ReceivePrisoner records a reception into custody. It starts a custody
// period (a new one after release, reopening a closed journey).
type ReceivePrisoner struct {
	NOMS               string
	Kind               ReceptionKind
	Prison             string
	BookingID          string // optional
	MovementReasonCode string // optional NOMIS MOVE_RSN code
	At                 time.Time
}

// RecordMovement records a custody movement that is not a reception or a
// release: temporary absence, court, or transfer (out of the current prison,
// or in to Prison).
type RecordMovement struct {
	Kind   MovementKind
	Prison string // the prison left, or for *_RETURN/TRANSFER_IN the prison arrived at
	// FromPrison is the prison left on TRANSFER_IN, if known.
	FromPrison string
	// IntoResettlementPrison flags a TRANSFER_IN to the resettlement prison.
	IntoResettlementPrison bool
	At                     time.Time
}

// ReleasePrisoner records a release into the community. Prison is the prison
// released from; empty means the one holding the person. Kind TO_HOSPITAL is
// decided as EndCustody SECURE_HOSPITAL, because it is not a release.
type ReleasePrisoner struct {
	Kind               ReleaseKind
	Prison             string
	MovementReasonCode string // optional NOMIS MOVE_RSN code
	At                 time.Time
}

// CompleteScreening records Basic Custody Screening part 1.
type CompleteScreening struct{ At time.Time }

// DraftPlan records the resettlement plan (screening part 2).
type DraftPlan struct {
	Summary string
	At      time.Time
}

// RevisePlan records a revision of the resettlement plan.
type RevisePlan struct {
	Summary string
	Reason  string
	At      time.Time
}

// IdentifyNeed records a need on a pathway.
type IdentifyNeed struct {
	Pathway     Pathway
	Description string
	At          time.Time
}

// ChangePathwayStatus moves a pathway to Status; SUPPORT_DECLINED and
// SUPPORT_NOT_REQUIRED need a Reason.
type ChangePathwayStatus struct {
	Pathway Pathway
	Status  PathwayStatus
	Reason  string
	At      time.Time
}

// AgreeAction records an action on a pathway with an identified need.
type AgreeAction struct {
	ActionID    string
	Pathway     Pathway
	Description string
	Due         Date
	At          time.Time
}

// AssignAction gives an action to a prison or a provider.
type AssignAction struct {
	ActionID string
	Owner    Org
	At       time.Time
}

// CompleteAction records the outcome of an action.
type CompleteAction struct {
	ActionID string
	Outcome  string
	At       time.Time
}

// SetReleaseDates records the competing release dates of the current
// sentence calculation; Dates replaces any earlier set made by an older
// calculation. CalculatedAt is when the calculation was made (optional: At
// when absent); a calculation older than the one recorded is refused.
type SetReleaseDates struct {
	Dates        ReleaseDates
	Reason       string
	CalculatedAt time.Time
	At           time.Time
}

// NoteSentenceRecalculation records that NOMIS recalculated the sentence
// (from the sentence-dates-changed feed, which carries no dates).
type NoteSentenceRecalculation struct {
	BookingID     string
	CalculationID string
	At            time.Time
}

// RecordMetAtGate records a mentor meeting the person at the gate.
type RecordMetAtGate struct {
	By string
	At time.Time
}

// RecordSupervisionContact records a contact in the community.
type RecordSupervisionContact struct {
	By   Org
	Kind string
	Note string
	At   time.Time
}

// AssessRisk records a RoSH assessment.
type AssessRisk struct {
	Level RoSH
	At    time.Time
}

// SetMAPPALevel records the MAPPA level, 1-3, or 0 when no longer MAPPA.
type SetMAPPALevel struct {
	Level int
	At    time.Time
}

// RecordBreach records a breach in the community.
type RecordBreach struct {
	Description string
	At          time.Time
}

// RecallPrisoner records the revocation of the licence. The person's return
// to custody is a ReceivePrisoner of kind RECALL on the same journey.
type RecallPrisoner struct {
	Reason string
	At     time.Time
}

// RecordProvenReoffence records a conviction for an offence committed after
// release. It is accepted after the journey has closed, because convictions
// take up to six months to come through.
type RecordProvenReoffence struct {
	Offence        string
	OffenceDate    Date
	ConvictionDate Date
	At             time.Time
}

// LinkCRN links a probation case reference (and optionally a PNC id).
type LinkCRN struct {
	CRN string
	PNC string
	At  time.Time
}

// CorrectFact records that an earlier event was wrong. Field is one of the
// Field* constants; Value the corrected value (not for FieldNote).
type CorrectFact struct {
	CorrectsEventID string
	Field           string
	Value           string
	Reason          string
	At              time.Time
}

// CloseJourney ends the journey.
type CloseJourney struct {
	Reason CloseReason
	At     time.Time
}

// RequestHandover asks to move responsibility to To, due by Due.
type RequestHandover struct {
	To     Org
	Reason string
	Due    time.Time
	At     time.Time
}

// AcceptHandover accepts the open handover.
type AcceptHandover struct{ At time.Time }

// RejectHandover rejects the open handover with a reason.
type RejectHandover struct {
	Reason string
	At     time.Time
}

// ChangeReleaseArea records the CPA of the release address; a change of
// responsibility it implies requests a handover.
type ChangeReleaseArea struct {
	Area string
	At   time.Time
}

// CommandName implements Command.
func (ReceivePrisoner) CommandName() string { return "ReceivePrisoner" }

// CommandName implements Command.
func (RecordMovement) CommandName() string { return "RecordMovement" }

// CommandName implements Command.
func (ReleasePrisoner) CommandName() string { return "ReleasePrisoner" }

// CommandName implements Command.
func (CompleteScreening) CommandName() string { return "CompleteScreening" }

// CommandName implements Command.
func (DraftPlan) CommandName() string { return "DraftPlan" }

// CommandName implements Command.
func (RevisePlan) CommandName() string { return "RevisePlan" }

// CommandName implements Command.
func (IdentifyNeed) CommandName() string { return "IdentifyNeed" }

// CommandName implements Command.
func (ChangePathwayStatus) CommandName() string { return "ChangePathwayStatus" }

// CommandName implements Command.
func (AgreeAction) CommandName() string { return "AgreeAction" }

// CommandName implements Command.
func (AssignAction) CommandName() string { return "AssignAction" }

// CommandName implements Command.
func (CompleteAction) CommandName() string { return "CompleteAction" }

// CommandName implements Command.
func (SetReleaseDates) CommandName() string { return "SetReleaseDates" }

// CommandName implements Command.
func (NoteSentenceRecalculation) CommandName() string { return "NoteSentenceRecalculation" }

// CommandName implements Command.
func (RecordMetAtGate) CommandName() string { return "RecordMetAtGate" }

// CommandName implements Command.
func (RecordSupervisionContact) CommandName() string { return "RecordSupervisionContact" }

// CommandName implements Command.
func (AssessRisk) CommandName() string { return "AssessRisk" }

// CommandName implements Command.
func (SetMAPPALevel) CommandName() string { return "SetMAPPALevel" }

// CommandName implements Command.
func (RecordBreach) CommandName() string { return "RecordBreach" }

// CommandName implements Command.
func (RecallPrisoner) CommandName() string { return "RecallPrisoner" }

// CommandName implements Command.
func (RecordProvenReoffence) CommandName() string { return "RecordProvenReoffence" }

// CommandName implements Command.
func (LinkCRN) CommandName() string { return "LinkCRN" }

// CommandName implements Command.
func (CorrectFact) CommandName() string { return "CorrectFact" }

// CommandName implements Command.
func (CloseJourney) CommandName() string { return "CloseJourney" }

// CommandName implements Command.
func (RequestHandover) CommandName() string { return "RequestHandover" }

// CommandName implements Command.
func (AcceptHandover) CommandName() string { return "AcceptHandover" }

// CommandName implements Command.
func (RejectHandover) CommandName() string { return "RejectHandover" }

// CommandName implements Command.
func (ChangeReleaseArea) CommandName() string { return "ChangeReleaseArea" }
