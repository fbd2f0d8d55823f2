package aggregates

import "time"

// Evolve folds one event into the state and returns the new state; j is not
// changed. It never fails: an event it does not know only bumps Version,
// because history that was once recorded cannot be refused.
func Evolve(j Journey, ev Event) Journey {
	j = j.clone()
	apply(&j, ev)
	return j
}

// Fold applies ev to *j in place. Unlike Evolve it does not copy j's maps and slices
// first, so the caller must own them: read models that keep one Journey per person use
// it to fold long histories without a copy per event.
func Fold(j *Journey, ev Event) { apply(j, ev) }

// Rebuild folds events into a new Journey.
func Rebuild(events []Event) Journey {
	var j Journey
	for _, ev := range events {
		apply(&j, ev)
	}
	return j
}

// apply folds ev into *j in place; the caller owns *j's maps and slices.
func apply(j *Journey, ev Event) {
	j.Version++
	switch e := ev.(type) {
	case PrisonerReceived:
		if j.NOMS == "" {
			j.NOMS = e.NOMS
		}
		if j.FirstReceivedAt.IsZero() || e.At.Before(j.FirstReceivedAt) {
			j.FirstReceivedAt = e.At
		}
		if !j.move(TypePrisonerReceived, string(e.Kind), e.Prison, e.At, e.Late) {
			return
		}
		j.Custody, j.Away, j.Prison, j.InResettlementPrison = InCustody, AwayNone, e.Prison, false
		j.DetainedIn, j.ReleaseDatesToConfirm = "", false
		if e.BookingID != "" {
			j.BookingID = e.BookingID
		}
		j.ReceptionKind, j.ReceivedAt = e.Kind, e.At
		if e.Kind != ReceptionRecall {
			// A recall continues the sentence whose licence was revoked;
			// any other reception starts a custody period with none known.
			j.Sentence = Sentence{}
		}
		j.Receptions++
		if e.Kind == ReceptionRecall {
			j.Recalls++
		}
		// A reception starts a custody period: its screening, plan, dates
		// and release are new; needs, actions, risk and responsibility
		// carry over because they belong to the person.
		j.RecallPending = false
		j.ScreenedAt, j.Plan, j.ReleaseDates, j.ReleaseDatesCalculatedAt = time.Time{}, Plan{}, ReleaseDates{}, time.Time{}
		j.ReleasedAt, j.ReleaseKind, j.MetAtGateAt, j.MetAtGateBy = time.Time{}, "", time.Time{}, ""
		j.Closed, j.ClosedAt, j.CloseReason = false, time.Time{}, ""
	case TemporaryAbsenceStarted:
		if j.move(TypeTemporaryAbsenceStarted, string(MovementTemporaryAbsenceOut), e.Prison, e.At, e.Late) {
			j.Away = AwayTemporaryAbsence
		}
	case TemporaryAbsenceEnded:
		if j.move(TypeTemporaryAbsenceEnded, string(MovementTemporaryAbsenceReturn), e.Prison, e.At, e.Late) {
			j.Away, j.Prison = AwayNone, e.Prison
		}
	case SentToCourt:
		if j.move(TypeSentToCourt, string(MovementCourtOut), e.Prison, e.At, e.Late) {
			j.Away = AwayCourt
		}
	case ReturnedFromCourt:
		if j.move(TypeReturnedFromCourt, string(MovementCourtReturn), e.Prison, e.At, e.Late) {
			j.Away, j.Prison = AwayNone, e.Prison
		}
	case TransferDeparted:
		if j.move(TypeTransferDeparted, string(MovementTransferOut), e.Prison, e.At, e.Late) {
			j.Away = AwayTransfer
		}
	case PrisonerTransferred:
		if j.move(TypePrisonerTransferred, string(MovementTransferIn), e.ToPrison, e.At, e.Late) {
			j.Away, j.Prison, j.InResettlementPrison = AwayNone, e.ToPrison, e.IntoResettlementPrison
		}
	case PrisonerReleased:
		if !j.move(TypePrisonerReleased, string(e.Kind), e.Prison, e.At, e.Late) {
			return
		}
		if e.Kind == ReleaseToHospital {
			// Written before the ledger told hospital moves from releases:
			// read as what it was (custodyend.go).
			j.endCustody(DetainedElsewhere, EndSecureHospital, e.At)
			return
		}
		j.Custody, j.Away, j.DetainedIn = Released, AwayNone, ""
		j.ReleasedAt, j.LastReleasedAt, j.ReleaseKind = e.At, e.At, e.Kind
	case PrisonerUnlawfullyAtLarge:
		if j.move(TypePrisonerUnlawfullyAtLarge, string(EndUnlawfullyAtLarge), e.Prison, e.At, e.Late) {
			j.endCustody(UnlawfullyAtLarge, "", e.At)
		}
	case PrisonerDiedInCustody:
		if j.move(TypePrisonerDiedInCustody, string(EndDied), e.Prison, e.At, e.Late) {
			j.endCustody(Died, "", e.At)
		}
	case PrisonerMovedToSecureHospital:
		if j.move(TypePrisonerMovedToSecureHospital, string(EndSecureHospital), e.Prison, e.At, e.Late) {
			j.endCustody(DetainedElsewhere, EndSecureHospital, e.At)
		}
	case PrisonerMovedToRemovalCentre:
		if j.move(TypePrisonerMovedToRemovalCentre, string(EndRemovalCentre), e.Prison, e.At, e.Late) {
			j.endCustody(DetainedElsewhere, EndRemovalCentre, e.At)
		}
	case PrisonNumberMerged:
		j.MergedInto = e.Into
	case PrisonNumberAbsorbed:
		j.absorb(e)
	case CustodyScreeningCompleted:
		j.ScreenedAt = e.At
	case ResettlementPlanDrafted:
		j.Plan = Plan{Revision: 1, Summary: e.Summary, DraftedAt: e.At}
	case ResettlementPlanRevised:
		j.Plan.Revision, j.Plan.Summary, j.Plan.RevisedAt = e.Revision, e.Summary, e.At
	case PathwayNeedIdentified:
		j.setPathway(e.Pathway, PathwayState{Status: StatusSupportRequired, Need: e.Description, IdentifiedAt: e.At, ChangedAt: e.At})
	case PathwayStatusChanged:
		s := j.Pathway(e.Pathway)
		s.Status, s.Reason, s.ChangedAt = e.To, e.Reason, e.At
		j.setPathway(e.Pathway, s)
	case ActionAgreed:
		j.setAction(Action{ID: e.ActionID, Pathway: e.Pathway, Description: e.Description, Due: e.Due, AgreedAt: e.At})
	case ActionAssigned:
		a := j.Actions[e.ActionID]
		a.ID, a.Owner = e.ActionID, e.Owner
		j.setAction(a)
	case ActionCompleted:
		a := j.Actions[e.ActionID]
		a.ID, a.Outcome, a.CompletedAt = e.ActionID, e.Outcome, e.At
		j.setAction(a)
	case ReleaseDatesSet:
		j.ReleaseDates, j.ReleaseDatesToConfirm, j.ReleaseDatesCalculatedAt = e.Dates, false, calculated(e.CalculatedAt, e.At)
	case ReleaseDatesChanged:
		j.ReleaseDates, j.ReleaseDatesToConfirm, j.ReleaseDatesCalculatedAt = e.Dates, false, calculated(e.CalculatedAt, e.At)
	case PrisonerSentenced:
		j.Sentence = e.sentence()
	case SentenceRecalculated:
		j.ReleaseDatesToConfirm = true
		if e.CalculationID != "" {
			j.SentenceCalculationID = e.CalculationID
		}
		if e.BookingID != "" {
			j.BookingID = e.BookingID
		}
	case MetAtGate:
		j.MetAtGateAt, j.MetAtGateBy = e.At, e.By
	case SupervisionContactRecorded:
		j.SupervisionContacts++
		if e.At.After(j.LastContactAt) {
			j.LastContactAt = e.At
		}
	case RiskAssessed:
		if e.Level != j.RoSH {
			j.AllocationChangedAt = e.At
		}
		j.RoSH = e.Level
	case MAPPALevelSet:
		j.MAPPA, j.AllocationChangedAt = e.Level, e.At
	case BreachRecorded:
		j.Breaches++
	case LicenceRevoked:
		j.RecallPending = true
	case ProvenReoffenceRecorded:
		j.Reoffences = append(j.Reoffences, Reoffence{Offence: e.Offence, OffenceDate: e.OffenceDate,
			ConvictionDate: e.ConvictionDate, RecordedAt: e.At, ReleasedAt: e.ReleasedAt})
	case CRNLinked:
		j.CRN = e.CRN
		if e.PNC != "" {
			j.PNC = e.PNC
		}
	case FactCorrected:
		j.Corrections = append(j.Corrections, Correction(e))
		switch e.Field {
		case FieldReceptionKind:
			j.ReceptionKind = ReceptionKind(e.Value)
		case FieldReleaseKind:
			j.ReleaseKind = ReleaseKind(e.Value)
		case FieldPrison:
			j.Prison = e.Value
		case FieldCRN:
			j.CRN = e.Value
		}
	case JourneyClosed:
		j.Closed, j.ClosedAt, j.CloseReason = true, e.At, e.Reason
	case HandoverRequested:
		j.Handovers = append(j.Handovers, Handover{Seq: e.Seq, From: e.From, To: e.To, Reason: e.Reason,
			Due: e.Due, RequestedAt: e.At, Status: HandoverStatusOpen})
	case HandoverAccepted:
		if i := j.handoverIndex(e.Seq); i >= 0 {
			j.Handovers[i].Status, j.Handovers[i].DecidedAt = HandoverStatusAccepted, e.At
			j.Holder = j.Handovers[i].To
		}
	case HandoverRejected:
		if i := j.handoverIndex(e.Seq); i >= 0 {
			j.Handovers[i].Status, j.Handovers[i].DecidedAt, j.Handovers[i].RejectReason = HandoverStatusRejected, e.At, e.Reason
		}
	case ReleaseAreaChanged:
		j.ReleaseArea, j.AllocationChangedAt = e.To, e.At
	}
}

// calculated is a release-date calculation's time: when it was made, or,
// for history recorded before calculation times were, when it was recorded.
func calculated(calculatedAt, at time.Time) time.Time {
	if calculatedAt.IsZero() {
		return at
	}
	return calculatedAt
}

// move appends a movement to the history and reports whether it is in
// order, and so should change the current custody state.
func (j *Journey) move(eventType, kind, prison string, at time.Time, late bool) bool {
	j.Movements = append(j.Movements, Movement{Type: eventType, Kind: kind, Prison: prison, At: at, Late: late})
	if late {
		return false
	}
	if at.After(j.LastMovementAt) {
		j.LastMovementAt = at
	}
	return true
}

// endCustody folds a custody end that is not a release: the prison the
// person left (j.Prison) stays, because it stays accountable.
func (j *Journey) endCustody(status CustodyStatus, where CustodyEndKind, at time.Time) {
	j.Custody, j.Away, j.DetainedIn, j.CustodyEndedAt = status, AwayNone, where, at
}

func (j *Journey) setPathway(p Pathway, s PathwayState) {
	if j.Pathways == nil {
		j.Pathways = map[Pathway]PathwayState{}
	}
	j.Pathways[p] = s
}

func (j *Journey) setAction(a Action) {
	if j.Actions == nil {
		j.Actions = map[string]Action{}
	}
	j.Actions[a.ID] = a
}

func (j *Journey) handoverIndex(seq int) int {
	for i := range j.Handovers {
		if j.Handovers[i].Seq == seq {
			return i
		}
	}
	return -1
}
