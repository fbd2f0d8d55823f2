package aggregates

import "time"

// Event is a fact recorded on a journey stream. Event types are past-tense
// PascalCase names; each has an explicit schema version that Encode writes
// and Decode upcasts from.
type Event interface {
	// EventType is the stored type name, e.g. "PrisonerReceived".
	EventType() string
	// SchemaVersion is the version of the payload this code writes.
	SchemaVersion() int
	// OccurredAt is when the fact happened (not when it was recorded).
	OccurredAt() time.Time
}

// Event type names.
const (
	TypePrisonerReceived           = "PrisonerReceived"
	TypeCustodyScreeningCompleted  = "CustodyScreeningCompleted"
	TypeResettlementPlanDrafted    = "ResettlementPlanDrafted"
	TypeResettlementPlanRevised    = "ResettlementPlanRevised"
	TypePathwayNeedIdentified      = "PathwayNeedIdentified"
	TypePathwayStatusChanged       = "PathwayStatusChanged"
	TypeActionAgreed               = "ActionAgreed"
	TypeActionAssigned             = "ActionAssigned"
	TypeActionCompleted            = "ActionCompleted"
	TypeTemporaryAbsenceStarted    = "TemporaryAbsenceStarted"
	TypeTemporaryAbsenceEnded      = "TemporaryAbsenceEnded"
	TypeSentToCourt                = "SentToCourt"
	TypeReturnedFromCourt          = "ReturnedFromCourt"
	TypeTransferDeparted           = "TransferDeparted"
	TypePrisonerTransferred        = "PrisonerTransferred"
	TypeReleaseDatesSet            = "ReleaseDatesSet"
	TypeReleaseDatesChanged        = "ReleaseDatesChanged"
	TypeSentenceRecalculated       = "SentenceRecalculated"
	TypePrisonerReleased           = "PrisonerReleased"
	TypeMetAtGate                  = "MetAtGate"
	TypeSupervisionContactRecorded = "SupervisionContactRecorded"
	TypeRiskAssessed               = "RiskAssessed"
	TypeMAPPALevelSet              = "MAPPALevelSet"
	TypeBreachRecorded             = "BreachRecorded"
	TypeLicenceRevoked             = "LicenceRevoked"
	TypeProvenReoffenceRecorded    = "ProvenReoffenceRecorded"
	TypeCRNLinked                  = "CRNLinked"
	TypeFactCorrected              = "FactCorrected"
	TypeJourneyClosed              = "JourneyClosed"
	TypeHandoverRequested          = "HandoverRequested"
	TypeHandoverAccepted           = "HandoverAccepted"
	TypeHandoverRejected           = "HandoverRejected"
	TypeReleaseAreaChanged         = "ReleaseAreaChanged"

	TypePrisonerUnlawfullyAtLarge     = "PrisonerUnlawfullyAtLarge"
	TypePrisonerDiedInCustody         = "PrisonerDiedInCustody"
	TypePrisonerMovedToSecureHospital = "PrisonerMovedToSecureHospital"
	TypePrisonerMovedToRemovalCentre  = "PrisonerMovedToRemovalCentre"
	TypePrisonNumberMerged            = "PrisonNumberMerged"
	TypePrisonNumberAbsorbed          = "PrisonNumberAbsorbed"
)

// PrisonerReceived: the person was received into custody (remand, sentence,
// recall or an unclassified admission). Schema v2 renamed receivedAt to
// occurredAt and added movementReasonCode and late.
type PrisonerReceived struct {
	NOMS               string        `json:"nomsNumber"`
	Kind               ReceptionKind `json:"kind"`
	Prison             string        `json:"prisonCode"`
	BookingID          string        `json:"bookingId,omitempty"`
	MovementReasonCode string        `json:"movementReasonCode,omitempty"`
	Late               bool          `json:"late,omitempty"`
	At                 time.Time     `json:"occurredAt"`
}

// CustodyScreeningCompleted: Basic Custody Screening part 1 was done.
type CustodyScreeningCompleted struct {
	Prison string    `json:"prisonCode"`
	At     time.Time `json:"occurredAt"`
}

// ResettlementPlanDrafted: the resettlement plan (screening part 2) was
// written.
type ResettlementPlanDrafted struct {
	Summary string    `json:"summary"`
	At      time.Time `json:"occurredAt"`
}

// ResettlementPlanRevised: the plan was revised; Revision counts from 2.
type ResettlementPlanRevised struct {
	Revision int       `json:"revision"`
	Summary  string    `json:"summary"`
	Reason   string    `json:"reason"`
	At       time.Time `json:"occurredAt"`
}

// PathwayNeedIdentified: a need was found on a pathway, which becomes
// SUPPORT_REQUIRED.
type PathwayNeedIdentified struct {
	Pathway     Pathway   `json:"pathway"`
	Description string    `json:"description"`
	At          time.Time `json:"occurredAt"`
}

// PathwayStatusChanged: a pathway moved from one status to another.
type PathwayStatusChanged struct {
	Pathway Pathway       `json:"pathway"`
	From    PathwayStatus `json:"from"`
	To      PathwayStatus `json:"to"`
	Reason  string        `json:"reason,omitempty"`
	At      time.Time     `json:"occurredAt"`
}

// ActionAgreed: an action was agreed on a pathway need.
type ActionAgreed struct {
	ActionID    string    `json:"actionId"`
	Pathway     Pathway   `json:"pathway"`
	Description string    `json:"description"`
	Due         Date      `json:"due,omitzero"`
	At          time.Time `json:"occurredAt"`
}

// ActionAssigned: an action was given to a prison or a provider.
type ActionAssigned struct {
	ActionID string    `json:"actionId"`
	Owner    Org       `json:"owner"`
	At       time.Time `json:"occurredAt"`
}

// ActionCompleted: an action ended with an outcome.
type ActionCompleted struct {
	ActionID string    `json:"actionId"`
	Outcome  string    `json:"outcome"`
	At       time.Time `json:"occurredAt"`
}

// TemporaryAbsenceStarted: the person left on temporary absence (not a
// release).
type TemporaryAbsenceStarted struct {
	Prison string    `json:"prisonCode"`
	Late   bool      `json:"late,omitempty"`
	At     time.Time `json:"occurredAt"`
}

// TemporaryAbsenceEnded: the person came back from temporary absence.
type TemporaryAbsenceEnded struct {
	Prison string    `json:"prisonCode"`
	Late   bool      `json:"late,omitempty"`
	At     time.Time `json:"occurredAt"`
}

// SentToCourt: the person left for court (not a release).
type SentToCourt struct {
	Prison string    `json:"prisonCode"`
	Late   bool      `json:"late,omitempty"`
	At     time.Time `json:"occurredAt"`
}

// ReturnedFromCourt: the person came back from court.
type ReturnedFromCourt struct {
	Prison string    `json:"prisonCode"`
	Late   bool      `json:"late,omitempty"`
	At     time.Time `json:"occurredAt"`
}

// TransferDeparted: the person left a prison to be transferred (not a
// release).
type TransferDeparted struct {
	Prison string    `json:"prisonCode"`
	Late   bool      `json:"late,omitempty"`
	At     time.Time `json:"occurredAt"`
}

// PrisonerTransferred: the person arrived at another prison, perhaps the
// resettlement prison near home.
type PrisonerTransferred struct {
	FromPrison             string    `json:"fromPrisonCode,omitempty"`
	ToPrison               string    `json:"toPrisonCode"`
	IntoResettlementPrison bool      `json:"intoResettlementPrison,omitempty"`
	Late                   bool      `json:"late,omitempty"`
	At                     time.Time `json:"occurredAt"`
}

// ReleaseDatesSet: the first release dates of a custody period.
type ReleaseDatesSet struct {
	Dates ReleaseDates `json:"dates"`
	// CalculatedAt is when the sentence calculation was made (absent in
	// history recorded before it was kept: then At).
	CalculatedAt time.Time `json:"calculatedAt,omitzero"`
	At           time.Time `json:"occurredAt"`
}

// ReleaseDatesChanged: the release dates were recalculated; Dates replaces
// the previous set entirely.
type ReleaseDatesChanged struct {
	Dates    ReleaseDates `json:"dates"`
	Previous ReleaseDates `json:"previous"`
	Reason   string       `json:"reason,omitempty"`
	// CalculatedAt: as in ReleaseDatesSet.
	CalculatedAt time.Time `json:"calculatedAt,omitzero"`
	At           time.Time `json:"occurredAt"`
}

// SentenceRecalculated: NOMIS announced a new sentence calculation (the feed
// carries no dates; they follow as ReleaseDatesChanged once fetched).
type SentenceRecalculated struct {
	BookingID     string    `json:"bookingId"`
	CalculationID string    `json:"sentenceCalculationId"`
	At            time.Time `json:"occurredAt"`
}

// PrisonerReleased: the person was released into the community (on licence,
// HDC, ECSL, at sentence end, or discharged). History written before custody
// ends were told apart may hold kind TO_HOSPITAL, which folds as a move to a
// secure hospital.
type PrisonerReleased struct {
	Kind               ReleaseKind `json:"kind"`
	Prison             string      `json:"prisonCode"`
	MovementReasonCode string      `json:"movementReasonCode,omitempty"`
	Late               bool        `json:"late,omitempty"`
	At                 time.Time   `json:"occurredAt"`
}

// MetAtGate: a mentor met the person at the gate on release.
type MetAtGate struct {
	By string    `json:"by"`
	At time.Time `json:"occurredAt"`
}

// SupervisionContactRecorded: a contact with the supervising officer.
type SupervisionContactRecorded struct {
	By   Org       `json:"by"`
	Kind string    `json:"kind"`
	Note string    `json:"note,omitempty"`
	At   time.Time `json:"occurredAt"`
}

// RiskAssessed: the RoSH level was assessed.
type RiskAssessed struct {
	Level    RoSH      `json:"level"`
	Previous RoSH      `json:"previous,omitempty"`
	At       time.Time `json:"occurredAt"`
}

// MAPPALevelSet: the MAPPA level was set (0 = no longer a MAPPA case).
type MAPPALevelSet struct {
	Level    int       `json:"level"`
	Previous int       `json:"previous"`
	At       time.Time `json:"occurredAt"`
}

// BreachRecorded: a breach of licence or supervision.
type BreachRecorded struct {
	Description string    `json:"description"`
	At          time.Time `json:"occurredAt"`
}

// LicenceRevoked: the person was recalled; the reception follows as
// PrisonerReceived of kind RECALL and continues the same stream.
type LicenceRevoked struct {
	Reason string    `json:"reason"`
	At     time.Time `json:"occurredAt"`
}

// ProvenReoffenceRecorded: a conviction for an offence after release.
type ProvenReoffenceRecorded struct {
	Offence        string    `json:"offence"`
	OffenceDate    Date      `json:"offenceDate"`
	ConvictionDate Date      `json:"convictionDate"`
	ReleasedAt     time.Time `json:"releasedAt"`
	At             time.Time `json:"occurredAt"`
}

// CRNLinked: a probation case reference (and perhaps a PNC id) was linked to
// the prison number.
type CRNLinked struct {
	CRN string    `json:"crn"`
	PNC string    `json:"pnc,omitempty"`
	At  time.Time `json:"occurredAt"`
}

// FactCorrected: an earlier event was wrong. The event stays; this one says
// what was wrong and why.
type FactCorrected struct {
	CorrectsEventID string    `json:"correctsEventId"`
	Field           string    `json:"field"`
	Value           string    `json:"value,omitempty"`
	Reason          string    `json:"reason"`
	At              time.Time `json:"occurredAt"`
}

// JourneyClosed: the journey ended.
type JourneyClosed struct {
	Reason CloseReason `json:"reason"`
	At     time.Time   `json:"occurredAt"`
}

// HandoverRequested: responsibility was asked to move from From to To.
type HandoverRequested struct {
	Seq    int       `json:"seq"`
	From   Org       `json:"from"`
	To     Org       `json:"to"`
	Reason string    `json:"reason"`
	Due    time.Time `json:"due"`
	At     time.Time `json:"occurredAt"`
}

// HandoverAccepted: the receiving side took responsibility.
type HandoverAccepted struct {
	Seq int       `json:"seq"`
	To  Org       `json:"to"`
	At  time.Time `json:"occurredAt"`
}

// HandoverRejected: the receiving side refused, with a reason.
type HandoverRejected struct {
	Seq    int       `json:"seq"`
	Reason string    `json:"reason"`
	At     time.Time `json:"occurredAt"`
}

// ReleaseAreaChanged: the release address is in a different contract
// package area.
type ReleaseAreaChanged struct {
	From string    `json:"from,omitempty"`
	To   string    `json:"to"`
	At   time.Time `json:"occurredAt"`
}
