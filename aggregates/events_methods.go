package aggregates

import "time"

// The Event methods of every event type, one block each.

// EventType implements Event.
func (PrisonerReceived) EventType() string { return TypePrisonerReceived }

// SchemaVersion implements Event.
func (PrisonerReceived) SchemaVersion() int { return 2 }

// OccurredAt implements Event.
func (e PrisonerReceived) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (CustodyScreeningCompleted) EventType() string { return TypeCustodyScreeningCompleted }

// SchemaVersion implements Event.
func (CustodyScreeningCompleted) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e CustodyScreeningCompleted) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (ResettlementPlanDrafted) EventType() string { return TypeResettlementPlanDrafted }

// SchemaVersion implements Event.
func (ResettlementPlanDrafted) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e ResettlementPlanDrafted) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (ResettlementPlanRevised) EventType() string { return TypeResettlementPlanRevised }

// SchemaVersion implements Event.
func (ResettlementPlanRevised) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e ResettlementPlanRevised) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (PathwayNeedIdentified) EventType() string { return TypePathwayNeedIdentified }

// SchemaVersion implements Event.
func (PathwayNeedIdentified) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e PathwayNeedIdentified) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (PathwayStatusChanged) EventType() string { return TypePathwayStatusChanged }

// SchemaVersion implements Event.
func (PathwayStatusChanged) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e PathwayStatusChanged) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (ActionAgreed) EventType() string { return TypeActionAgreed }

// SchemaVersion implements Event.
func (ActionAgreed) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e ActionAgreed) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (ActionAssigned) EventType() string { return TypeActionAssigned }

// SchemaVersion implements Event.
func (ActionAssigned) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e ActionAssigned) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (ActionCompleted) EventType() string { return TypeActionCompleted }

// SchemaVersion implements Event.
func (ActionCompleted) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e ActionCompleted) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (TemporaryAbsenceStarted) EventType() string { return TypeTemporaryAbsenceStarted }

// SchemaVersion implements Event.
func (TemporaryAbsenceStarted) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e TemporaryAbsenceStarted) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (TemporaryAbsenceEnded) EventType() string { return TypeTemporaryAbsenceEnded }

// SchemaVersion implements Event.
func (TemporaryAbsenceEnded) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e TemporaryAbsenceEnded) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (SentToCourt) EventType() string { return TypeSentToCourt }

// SchemaVersion implements Event.
func (SentToCourt) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e SentToCourt) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (ReturnedFromCourt) EventType() string { return TypeReturnedFromCourt }

// SchemaVersion implements Event.
func (ReturnedFromCourt) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e ReturnedFromCourt) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (TransferDeparted) EventType() string { return TypeTransferDeparted }

// SchemaVersion implements Event.
func (TransferDeparted) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e TransferDeparted) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (PrisonerTransferred) EventType() string { return TypePrisonerTransferred }

// SchemaVersion implements Event.
func (PrisonerTransferred) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e PrisonerTransferred) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (ReleaseDatesSet) EventType() string { return TypeReleaseDatesSet }

// SchemaVersion implements Event.
func (ReleaseDatesSet) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e ReleaseDatesSet) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (ReleaseDatesChanged) EventType() string { return TypeReleaseDatesChanged }

// SchemaVersion implements Event.
func (ReleaseDatesChanged) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e ReleaseDatesChanged) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (SentenceRecalculated) EventType() string { return TypeSentenceRecalculated }

// SchemaVersion implements Event.
func (SentenceRecalculated) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e SentenceRecalculated) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (PrisonerReleased) EventType() string { return TypePrisonerReleased }

// SchemaVersion implements Event.
func (PrisonerReleased) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e PrisonerReleased) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (MetAtGate) EventType() string { return TypeMetAtGate }

// SchemaVersion implements Event.
func (MetAtGate) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e MetAtGate) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (SupervisionContactRecorded) EventType() string { return TypeSupervisionContactRecorded }

// SchemaVersion implements Event.
func (SupervisionContactRecorded) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e SupervisionContactRecorded) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (RiskAssessed) EventType() string { return TypeRiskAssessed }

// SchemaVersion implements Event.
func (RiskAssessed) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e RiskAssessed) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (MAPPALevelSet) EventType() string { return TypeMAPPALevelSet }

// SchemaVersion implements Event.
func (MAPPALevelSet) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e MAPPALevelSet) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (BreachRecorded) EventType() string { return TypeBreachRecorded }

// SchemaVersion implements Event.
func (BreachRecorded) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e BreachRecorded) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (LicenceRevoked) EventType() string { return TypeLicenceRevoked }

// SchemaVersion implements Event.
func (LicenceRevoked) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e LicenceRevoked) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (ProvenReoffenceRecorded) EventType() string { return TypeProvenReoffenceRecorded }

// SchemaVersion implements Event.
func (ProvenReoffenceRecorded) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e ProvenReoffenceRecorded) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (CRNLinked) EventType() string { return TypeCRNLinked }

// SchemaVersion implements Event.
func (CRNLinked) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e CRNLinked) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (FactCorrected) EventType() string { return TypeFactCorrected }

// SchemaVersion implements Event.
func (FactCorrected) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e FactCorrected) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (JourneyClosed) EventType() string { return TypeJourneyClosed }

// SchemaVersion implements Event.
func (JourneyClosed) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e JourneyClosed) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (HandoverRequested) EventType() string { return TypeHandoverRequested }

// SchemaVersion implements Event.
func (HandoverRequested) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e HandoverRequested) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (HandoverAccepted) EventType() string { return TypeHandoverAccepted }

// SchemaVersion implements Event.
func (HandoverAccepted) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e HandoverAccepted) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (HandoverRejected) EventType() string { return TypeHandoverRejected }

// SchemaVersion implements Event.
func (HandoverRejected) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e HandoverRejected) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (ReleaseAreaChanged) EventType() string { return TypeReleaseAreaChanged }

// SchemaVersion implements Event.
func (ReleaseAreaChanged) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e ReleaseAreaChanged) OccurredAt() time.Time { return e.At }
