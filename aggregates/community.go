package aggregates

import "time"

func decideMetAtGate(j Journey, c RecordMetAtGate, now time.Time, p Policy) ([]Event, error) {
	if err := required("By", c.By); err != nil {
		return nil, errorf(c, err)
	}
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	if err := requireReleased(j); err != nil {
		return nil, errorf(c, err)
	}
	if !j.MetAtGateAt.IsZero() {
		return nil, errorf(c, rule("met-at-gate-once", ErrAlreadyRecorded, "", "met at the gate %s by %s", ukTime(j.MetAtGateAt), j.MetAtGateBy))
	}
	if err := notBefore("At", at, j.ReleasedAt, "release"); err != nil {
		return nil, errorf(c, err)
	}
	return one(MetAtGate{By: c.By, At: at})
}

func decideContact(j Journey, c RecordSupervisionContact, now time.Time, p Policy) ([]Event, error) {
	if err := validOrg("By", c.By); err != nil {
		return nil, errorf(c, err)
	}
	if err := required("Kind", c.Kind); err != nil {
		return nil, errorf(c, err)
	}
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	if err := requireReleased(j); err != nil {
		return nil, errorf(c, err)
	}
	if err := notBefore("At", at, j.ReleasedAt, "release"); err != nil {
		return nil, errorf(c, err)
	}
	return one(SupervisionContactRecorded{By: c.By, Kind: c.Kind, Note: c.Note, At: at})
}

func decideBreach(j Journey, c RecordBreach, now time.Time, p Policy) ([]Event, error) {
	if err := required("Description", c.Description); err != nil {
		return nil, errorf(c, err)
	}
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	if err := requireReleased(j); err != nil {
		return nil, errorf(c, err)
	}
	if err := notBefore("At", at, j.ReleasedAt, "release"); err != nil {
		return nil, errorf(c, err)
	}
	return one(BreachRecorded{Description: c.Description, At: at})
}

func decideRecall(j Journey, c RecallPrisoner, now time.Time, p Policy) ([]Event, error) {
	if c.Reason == "" {
		return nil, errorf(c, rule("recall-needs-reason", ErrReasonRequired, "Reason", "say why the licence was revoked"))
	}
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	if err := requireReleased(j); err != nil {
		return nil, errorf(c, err)
	}
	if !j.SupervisionAfterRelease(p).Runs {
		return nil, errorf(c, rule("recall-needs-licence", ErrNoSentence, "",
			"released %s with no licence or supervision (%s): there is nothing to revoke", ukTime(j.ReleasedAt), j.SupervisionAfterRelease(p).Basis))
	}
	if j.RecallPending {
		return nil, errorf(c, rule("one-recall-at-a-time", ErrAlreadyRecorded, "", "licence already revoked; awaiting the recall reception"))
	}
	if err := notBefore("At", at, j.ReleasedAt, "release"); err != nil {
		return nil, errorf(c, err)
	}
	return one(LicenceRevoked{Reason: c.Reason, At: at})
}

func decideReoffence(j Journey, c RecordProvenReoffence, now time.Time, p Policy) ([]Event, error) {
	if err := required("Offence", c.Offence); err != nil {
		return nil, errorf(c, err)
	}
	if c.OffenceDate.IsZero() || c.ConvictionDate.IsZero() {
		return nil, errorf(c, invalid("OffenceDate", "offence and conviction dates are required"))
	}
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	// Closed journeys accept reoffences: convictions take months to come
	// through and proven reoffending is measured after the journey ends.
	if j.Custody == NotReceived {
		return nil, errorf(c, rule("requires-reception", ErrNotReceived, "", "no reception recorded for this journey"))
	}
	if j.LastReleasedAt.IsZero() {
		return nil, errorf(c, rule("reoffence-requires-release", ErrNotReleased, "", "never released"))
	}
	if c.OffenceDate.After(c.ConvictionDate) {
		return nil, errorf(c, rule("dates-in-order", ErrDateOrder, "OffenceDate", "offence %s after conviction %s", ukDate(c.OffenceDate), ukDate(c.ConvictionDate)))
	}
	// The offence attaches to the release it followed, which after a recall
	// and re-release may be an earlier one than the last.
	followed := j.releaseBefore(c.OffenceDate)
	if followed.IsZero() {
		return nil, errorf(c, rule("dates-in-order", ErrDateOrder, "OffenceDate", "offence %s before the first release %s", ukDate(c.OffenceDate), ukDate(DateOf(j.firstRelease()))))
	}
	if c.ConvictionDate.After(DateOf(at)) {
		return nil, errorf(c, rule("no-future-facts", ErrFutureDate, "ConvictionDate", "conviction %s after it was recorded %s", ukDate(c.ConvictionDate), ukDate(DateOf(at))))
	}
	return one(ProvenReoffenceRecorded{Offence: c.Offence, OffenceDate: c.OffenceDate, ConvictionDate: c.ConvictionDate, ReleasedAt: followed, At: at})
}

func decideClose(j Journey, c CloseJourney, now time.Time, p Policy) ([]Event, error) {
	if !c.Reason.Valid() {
		return nil, errorf(c, invalid("Reason", "unknown close reason %q", c.Reason))
	}
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	if err := requireOpen(j); err != nil {
		return nil, errorf(c, err)
	}
	if c.Reason == CloseSupervisionEnded {
		if j.Custody != Released {
			return nil, errorf(c, rule("supervision-needs-release", ErrNotReleased, "", "supervision starts at release"))
		}
		s := j.SupervisionAfterRelease(p)
		if !s.Runs {
			return nil, errorf(c, rule("supervision-needs-sentence", ErrNoSentence, "Reason",
				"no supervision followed the release of %s (%s); close with another reason", ukTime(j.ReleasedAt), s.Basis))
		}
		if s.Ends.IsZero() {
			return nil, errorf(c, rule("close-after-supervision", ErrSupervisionActive, "At", "%s", s.Basis))
		}
		if at.Before(s.Ends) {
			return nil, errorf(c, rule("close-after-supervision", ErrSupervisionActive, "At", "supervision ends %s", ukTime(s.Ends)))
		}
	}
	if err := notBefore("At", at, j.ReceivedAt, "reception"); err != nil {
		return nil, errorf(c, err)
	}
	return one(JourneyClosed{Reason: c.Reason, At: at})
}

// releaseBefore is the latest release into the community on or before UK date
// d (late history included), zero if none: the release an offence on d
// followed.
func (j Journey) releaseBefore(d Date) time.Time {
	var best time.Time
	for _, m := range j.Movements {
		if m.Type != TypePrisonerReleased || m.Kind == string(ReleaseToHospital) || DateOf(m.At).After(d) {
			continue
		}
		if m.At.After(best) {
			best = m.At
		}
	}
	return best
}

// firstRelease is the earliest release into the community recorded.
func (j Journey) firstRelease() time.Time {
	var first time.Time
	for _, m := range j.Movements {
		if m.Type == TypePrisonerReleased && m.Kind != string(ReleaseToHospital) && (first.IsZero() || m.At.Before(first)) {
			first = m.At
		}
	}
	return first
}
