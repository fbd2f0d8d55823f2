package aggregates

import "time"

func decideLinkCRN(j Journey, c LinkCRN, now time.Time, p Policy) ([]Event, error) {
	if err := checkID("crn", c.CRN); err != nil {
		return nil, errorf(c, err)
	}
	if c.PNC != "" {
		if err := checkID("pnc", c.PNC); err != nil {
			return nil, errorf(c, err)
		}
	}
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	if err := requireOpen(j); err != nil {
		return nil, errorf(c, err)
	}
	if j.CRN != "" && j.CRN != c.CRN {
		return nil, errorf(c, rule("one-crn", ErrAlreadyRecorded, "CRN", "linked to %s; record a correction instead", j.CRN))
	}
	if j.PNC != "" && c.PNC != "" && j.PNC != c.PNC {
		return nil, errorf(c, rule("one-pnc", ErrAlreadyRecorded, "PNC", "linked to %s; record a correction instead", j.PNC))
	}
	if j.CRN == c.CRN && (c.PNC == "" || c.PNC == j.PNC) {
		return nil, nil
	}
	return one(CRNLinked{CRN: c.CRN, PNC: c.PNC, At: at})
}

// FieldCRN corrects the linked CRN.
const FieldCRN = "crn"

func decideCorrection(j Journey, c CorrectFact, now time.Time, p Policy) ([]Event, error) {
	if err := checkID("correctsEventId", c.CorrectsEventID); err != nil {
		return nil, errorf(c, err)
	}
	if c.Reason == "" {
		return nil, errorf(c, rule("correction-needs-reason", ErrReasonRequired, "Reason", "say what was wrong"))
	}
	switch c.Field {
	case FieldReceptionKind:
		if !ReceptionKind(c.Value).Valid() {
			return nil, errorf(c, invalid("Value", "unknown reception kind %q", c.Value))
		}
	case FieldReleaseKind:
		if !ReleaseKind(c.Value).Valid() {
			return nil, errorf(c, invalid("Value", "unknown release kind %q", c.Value))
		}
	case FieldPrison:
		if err := checkID("prison", c.Value); err != nil {
			return nil, errorf(c, err)
		}
	case FieldCRN:
		if err := checkID("crn", c.Value); err != nil {
			return nil, errorf(c, err)
		}
	case FieldNote:
	default:
		return nil, errorf(c, invalid("Field", "cannot correct %q", c.Field))
	}
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	// Corrections are accepted on closed journeys: inspectors need the
	// history right even after the end.
	if j.Custody == NotReceived {
		return nil, errorf(c, rule("requires-reception", ErrNotReceived, "", "nothing to correct"))
	}
	if c.Field == FieldReleaseKind && j.ReleasedAt.IsZero() {
		return nil, errorf(c, rule("requires-release", ErrNotReleased, "Field", "no release in this custody period"))
	}
	return one(FactCorrected{CorrectsEventID: c.CorrectsEventID, Field: c.Field, Value: c.Value, Reason: c.Reason, At: at})
}
