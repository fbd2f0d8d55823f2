package aggregates

import "time"

// movementEventType is the event type recording a movement kind.
func movementEventType(k MovementKind) string {
	switch k {
	case MovementTemporaryAbsenceOut:
		return TypeTemporaryAbsenceStarted
	case MovementTemporaryAbsenceReturn:
		return TypeTemporaryAbsenceEnded
	case MovementCourtOut:
		return TypeSentToCourt
	case MovementCourtReturn:
		return TypeReturnedFromCourt
	case MovementTransferOut:
		return TypeTransferDeparted
	case MovementTransferIn:
		return TypePrisonerTransferred
	}
	return ""
}

// recorded finds a movement of this type, time and prison in the history.
func (j Journey) recorded(eventType string, at time.Time, prison string) (Movement, bool) {
	for _, m := range j.Movements {
		if m.Type == eventType && m.At.Equal(at) && m.Prison == prison {
			return m, true
		}
	}
	return Movement{}, false
}

func decideReceive(j Journey, c ReceivePrisoner, now time.Time, p Policy) ([]Event, error) {
	if err := checkID("noms", c.NOMS); err != nil {
		return nil, errorf(c, err)
	}
	if j.NOMS != "" && c.NOMS != j.NOMS {
		return nil, errorf(c, invalid("NOMS", "command for %s sent to the journey of %s", c.NOMS, j.NOMS))
	}
	if !c.Kind.Valid() {
		return nil, errorf(c, invalid("Kind", "unknown reception kind %q", c.Kind))
	}
	if err := checkID("prison", c.Prison); err != nil {
		return nil, errorf(c, err)
	}
	if err := checkOptionalID("bookingId", c.BookingID); err != nil {
		return nil, errorf(c, err)
	}
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	ev := PrisonerReceived{NOMS: c.NOMS, Kind: c.Kind, Prison: c.Prison, BookingID: c.BookingID,
		MovementReasonCode: c.MovementReasonCode, At: at}
	if m, ok := j.recorded(TypePrisonerReceived, at, c.Prison); ok {
		if m.Kind != string(c.Kind) {
			return nil, errorf(c, rule("conflicting-duplicate", ErrConflictingDuplicate, "Kind",
				"reception on %s in %s already recorded as %s, now said to be %s", ukTime(at), c.Prison, m.Kind, c.Kind))
		}
		return nil, nil
	}
	// A reception is the one movement that may be dated before the first
	// reception: it is an earlier custody period arriving out of order, and
	// it moves FirstReceivedAt back.
	if j.historic(at) || at.Before(j.FirstReceivedAt) {
		ev.Late = true
		return one(ev)
	}
	if j.Custody == Died {
		return nil, errorf(c, rule("journey-ended-by-death", ErrClosed, "", "died in custody %s; only history dated before the death can be recorded", ukTime(j.ClosedAt)))
	}
	if j.Custody == InCustody && !j.Closed {
		return nil, errorf(c, rule("no-reception-in-custody", ErrInCustody, "",
			"in custody at %s since %s; a release must be recorded first", j.Prison, ukTime(j.ReceivedAt)))
	}
	// From a hospital, a removal centre or unlawfully at large, a reception
	// is the return to prison (or the recall) that the state was waiting for.
	return one(ev)
}

func decideMovement(j Journey, c RecordMovement, now time.Time, p Policy) ([]Event, error) {
	if !c.Kind.Valid() {
		return nil, errorf(c, invalid("Kind", "unknown movement kind %q", c.Kind))
	}
	// Only a movement out names the prison the person is in, and may leave it
	// out (HMPPS sends prisonId null): it is then the prison holding the
	// person. A return or a transfer in names the prison arrived at.
	out := c.Kind == MovementTemporaryAbsenceOut || c.Kind == MovementCourtOut || c.Kind == MovementTransferOut
	if c.Prison != "" || !out {
		if err := checkID("prison", c.Prison); err != nil {
			return nil, errorf(c, err)
		}
	}
	if err := checkOptionalID("prison", c.FromPrison); err != nil {
		return nil, errorf(c, err)
	}
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	prison, _, err := j.placeMovement(at, c.Prison, out)
	if err != nil {
		return nil, errorf(c, err)
	}
	c.Prison = prison
	if _, ok := j.recorded(movementEventType(c.Kind), at, c.Prison); ok {
		return nil, nil
	}
	late := j.historic(at)
	if !late {
		if err := j.requireDetained(false); err != nil {
			return nil, errorf(c, err)
		}
	}
	switch c.Kind {
	case MovementTemporaryAbsenceOut:
		return one(TemporaryAbsenceStarted{Prison: c.Prison, Late: late, At: at})
	case MovementTemporaryAbsenceReturn:
		return one(TemporaryAbsenceEnded{Prison: c.Prison, Late: late, At: at})
	case MovementCourtOut:
		return one(SentToCourt{Prison: c.Prison, Late: late, At: at})
	case MovementCourtReturn:
		return one(ReturnedFromCourt{Prison: c.Prison, Late: late, At: at})
	case MovementTransferOut:
		return one(TransferDeparted{Prison: c.Prison, Late: late, At: at})
	default: // MovementTransferIn
		from := c.FromPrison
		if from == "" && !late {
			from = j.Prison
		}
		return one(PrisonerTransferred{FromPrison: from, ToPrison: c.Prison, IntoResettlementPrison: c.IntoResettlementPrison, Late: late, At: at})
	}
}

func decideRelease(j Journey, c ReleasePrisoner, now time.Time, p Policy) ([]Event, error) {
	if !c.Kind.Valid() {
		return nil, errorf(c, invalid("Kind", "unknown release kind %q", c.Kind))
	}
	if c.Kind == ReleaseToHospital {
		// Not a release: detention continues in hospital (custodyend.go).
		return decideEndCustody(j, EndCustody{Kind: EndSecureHospital, Prison: c.Prison, MovementReasonCode: c.MovementReasonCode, At: c.At}, now, p)
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
	ev := PrisonerReleased{Kind: c.Kind, Prison: prison, MovementReasonCode: c.MovementReasonCode, Late: historic, At: at}
	if m, ok := j.recorded(TypePrisonerReleased, at, prison); ok {
		if m.Kind != string(c.Kind) {
			return nil, errorf(c, rule("conflicting-duplicate", ErrConflictingDuplicate, "Kind",
				"release on %s from %s already recorded as %s, now said to be %s", ukTime(at), prison, m.Kind, c.Kind))
		}
		return nil, nil
	}
	if historic {
		return one(ev)
	}
	// A person is released from a prison or, at the end of detention there,
	// from a secure hospital or removal centre; never while at large.
	if err := j.requireDetained(true); err != nil {
		return nil, errorf(c, err)
	}
	events := []Event{ev}
	// Custody to community: if the prison still holds the case and
	// supervision follows, ask the provider of the release area to take it.
	after := Evolve(j, ev)
	if after.Holder == "" && after.SupervisionAfterRelease(p).Runs {
		if h, ok := autoHandover(after, "RELEASE", at, p); ok {
			events = append(events, h)
		}
	}
	return events, nil
}

func decideScreening(j Journey, c CompleteScreening, now time.Time, p Policy) ([]Event, error) {
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	if err := requireInCustody(j); err != nil {
		return nil, errorf(c, err)
	}
	if !j.ScreenedAt.IsZero() {
		return nil, errorf(c, rule("screen-once-per-custody", ErrAlreadyScreened, "", "screened %s", ukTime(j.ScreenedAt)))
	}
	if err := notBefore("At", at, j.ReceivedAt, "reception"); err != nil {
		return nil, errorf(c, err)
	}
	return one(CustodyScreeningCompleted{Prison: j.Prison, At: at})
}

func decideReleaseDates(j Journey, c SetReleaseDates, now time.Time, p Policy) ([]Event, error) {
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	if err := requireInCustody(j); err != nil {
		return nil, errorf(c, err)
	}
	d := c.Dates
	if d.IsZero() {
		return nil, errorf(c, invalid("Dates", "at least one release date is required"))
	}
	if j.OnRemand() {
		return nil, errorf(c, rule("release-dates-need-sentence", ErrNoSentence, "",
			"on remand since %s: release dates come from a sentence calculation; record the sentence (SentencePrisoner) first", ukTime(j.ReceivedAt)))
	}
	calc := at
	if !c.CalculatedAt.IsZero() {
		calc = c.CalculatedAt.UTC()
		if calc.After(now.Add(p.ClockSkew)) {
			return nil, errorf(c, rule("no-future-facts", ErrFutureDate, "CalculatedAt", "calculated %s, after now", ukTime(calc)))
		}
	}
	// Calculations are ordered by when they were made, not by when they
	// arrive: an older one recorded later does not replace a newer one.
	if !j.ReleaseDatesCalculatedAt.IsZero() && calc.Before(j.ReleaseDatesCalculatedAt) {
		return nil, errorf(c, rule("release-dates-by-calculation-time", ErrSuperseded, "CalculatedAt",
			"this calculation was made %s; the recorded one was made later, %s", ukTime(calc), ukTime(j.ReleaseDatesCalculatedAt)))
	}
	var calcField time.Time
	if !c.CalculatedAt.IsZero() {
		calcField = calc
	}
	received := DateOf(j.ReceivedAt)
	for _, x := range []Date{d.ConfirmedRelease, d.ActualParole, d.HDCActual, d.ConditionalRelease, d.AutomaticRelease} {
		if !x.IsZero() && x.Before(received) {
			return nil, errorf(c, rule("dates-in-order", ErrDateOrder, "Dates", "release date %s is before reception %s", ukDate(x), ukDate(received)))
		}
	}
	if !d.HDCActual.IsZero() && !d.ConditionalRelease.IsZero() && d.HDCActual.After(d.ConditionalRelease) {
		return nil, errorf(c, rule("dates-in-order", ErrDateOrder, "Dates.HDCActual",
			"HDC date %s is after the conditional release date %s", ukDate(d.HDCActual), ukDate(d.ConditionalRelease)))
	}
	if d == j.ReleaseDates {
		if j.ReleaseDatesToConfirm {
			// The same dates, confirmed after a recalculation: worth
			// recording, because it clears the need to confirm them.
			reason := c.Reason
			if reason == "" {
				reason = "confirmed after the sentence was recalculated"
			}
			return one(ReleaseDatesChanged{Dates: d, Previous: j.ReleaseDates, Reason: reason, CalculatedAt: calcField, At: at})
		}
		return nil, nil
	}
	if j.ReleaseDates.IsZero() {
		return one(ReleaseDatesSet{Dates: d, CalculatedAt: calcField, At: at})
	}
	return one(ReleaseDatesChanged{Dates: d, Previous: j.ReleaseDates, Reason: c.Reason, CalculatedAt: calcField, At: at})
}

func decideRecalculation(j Journey, c NoteSentenceRecalculation, now time.Time, p Policy) ([]Event, error) {
	if err := checkOptionalID("bookingId", c.BookingID); err != nil {
		return nil, errorf(c, err)
	}
	// HMPPS sends the calculation id on some messages and not on others.
	if c.CalculationID != "" && !bookingPattern.MatchString(c.CalculationID) {
		return nil, errorf(c, wrapID(&IdentifierError{Field: "sentenceCalculationId", Value: c.CalculationID, Pattern: bookingPattern.String()}))
	}
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	if err := requireOpen(j); err != nil {
		return nil, errorf(c, err)
	}
	if c.CalculationID != "" && c.CalculationID == j.SentenceCalculationID {
		return nil, nil
	}
	if c.CalculationID == "" && j.ReleaseDatesToConfirm {
		return nil, nil
	}
	return one(SentenceRecalculated{BookingID: c.BookingID, CalculationID: c.CalculationID, At: at})
}
