package aggregates

import "time"

// Automatic handover reasons.
const (
	HandoverReasonRiskEscalation = "RISK_ESCALATION"
	HandoverReasonMAPPA          = "MAPPA"
	HandoverReasonReleaseArea    = "RELEASE_AREA_CHANGED"
	HandoverReasonRelease        = "RELEASE"
)

// autoHandover requests the handover the allocation policy implies for the
// state after an event, if responsibility would change and none is open. An
// open handover blocks it (at most one open at a time); HandoverNeeded then
// reports the case so that a person can act once the open one is decided.
func autoHandover(after Journey, reason string, at time.Time, p Policy) (Event, bool) {
	if after.OpenHandover() != nil {
		return nil, false
	}
	target := p.Allocation.Allocate(after, at)
	current := ResponsibleFor(after, at)
	if target == "" || target == current {
		return nil, false
	}
	return HandoverRequested{Seq: len(after.Handovers) + 1, From: current, To: target, Reason: reason,
		Due: p.Calendar.AddWorkingDays(at, p.HandoverWorkingDays), At: at}, true
}

func decideRisk(j Journey, c AssessRisk, now time.Time, p Policy) ([]Event, error) {
	if !c.Level.Valid() {
		return nil, errorf(c, invalid("Level", "unknown RoSH level %q", c.Level))
	}
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	if err := requireOpen(j); err != nil {
		return nil, errorf(c, err)
	}
	// A reassessment at the same level is still a fact worth recording:
	// reviews are part of the inspection trail.
	ev := RiskAssessed{Level: c.Level, Previous: j.RoSH, At: at}
	events := []Event{ev}
	if c.Level.AtLeastHigh() && !j.RoSH.AtLeastHigh() {
		if h, ok := autoHandover(Evolve(j, ev), HandoverReasonRiskEscalation, at, p); ok {
			events = append(events, h)
		}
	}
	return events, nil
}

func decideMAPPA(j Journey, c SetMAPPALevel, now time.Time, p Policy) ([]Event, error) {
	if c.Level < 0 || c.Level > 3 {
		return nil, errorf(c, invalid("Level", "MAPPA level %d is not 0-3", c.Level))
	}
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	if err := requireOpen(j); err != nil {
		return nil, errorf(c, err)
	}
	if c.Level == j.MAPPA {
		return nil, nil
	}
	ev := MAPPALevelSet{Level: c.Level, Previous: j.MAPPA, At: at}
	events := []Event{ev}
	if c.Level > 0 && j.MAPPA == 0 {
		if h, ok := autoHandover(Evolve(j, ev), HandoverReasonMAPPA, at, p); ok {
			events = append(events, h)
		}
	}
	return events, nil
}

func decideReleaseArea(j Journey, c ChangeReleaseArea, now time.Time, p Policy) ([]Event, error) {
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	if err := checkReleaseArea(c.Area, at); err != nil {
		return nil, errorf(c, err)
	}
	if err := requireOpen(j); err != nil {
		return nil, errorf(c, err)
	}
	if c.Area == j.ReleaseArea {
		return nil, nil
	}
	ev := ReleaseAreaChanged{From: j.ReleaseArea, To: c.Area, At: at}
	events := []Event{ev}
	if h, ok := autoHandover(Evolve(j, ev), HandoverReasonReleaseArea, at, p); ok {
		events = append(events, h)
	}
	return events, nil
}

func decideRequestHandover(j Journey, c RequestHandover, now time.Time, p Policy) ([]Event, error) {
	if err := validOrg("To", c.To); err != nil {
		return nil, errorf(c, err)
	}
	if c.Reason == "" {
		return nil, errorf(c, rule("handover-needs-reason", ErrReasonRequired, "Reason", "say why responsibility should move"))
	}
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	if err := requireOpen(j); err != nil {
		return nil, errorf(c, err)
	}
	if h := j.OpenHandover(); h != nil {
		return nil, errorf(c, rule("one-open-handover", ErrHandoverOpen, "", "handover %d from %s to %s is open", h.Seq, h.From, h.To))
	}
	if err := checkHolder("To", j, c.To, at); err != nil {
		return nil, errorf(c, err)
	}
	from := ResponsibleFor(j, at)
	if c.To == from {
		return nil, errorf(c, invalid("To", "%s is already responsible", c.To))
	}
	due := c.Due.UTC()
	if c.Due.IsZero() {
		due = p.Calendar.AddWorkingDays(at, p.HandoverWorkingDays)
	}
	if err := notBefore("Due", due, at, "the request"); err != nil {
		return nil, errorf(c, err)
	}
	return one(HandoverRequested{Seq: len(j.Handovers) + 1, From: from, To: c.To, Reason: c.Reason, Due: due, At: at})
}

func decideAcceptHandover(j Journey, c AcceptHandover, now time.Time, p Policy) ([]Event, error) {
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	if err := requireOpen(j); err != nil {
		return nil, errorf(c, err)
	}
	h := j.OpenHandover()
	if h == nil {
		return nil, errorf(c, rule("decide-open-handover", ErrNoOpenHandover, "", "nothing to accept"))
	}
	if err := notBefore("At", at, h.RequestedAt, "the request"); err != nil {
		return nil, errorf(c, err)
	}
	// A handover requested before probation unification to a CRC or NPS
	// division cannot be accepted after it: the receiver no longer exists,
	// and the case is already its successor region's (see Successor).
	if err := checkExists("To", h.To, at); err != nil {
		return nil, errorf(c, err)
	}
	return one(HandoverAccepted{Seq: h.Seq, To: h.To, At: at})
}

func decideRejectHandover(j Journey, c RejectHandover, now time.Time, p Policy) ([]Event, error) {
	if c.Reason == "" {
		return nil, errorf(c, rule("rejection-needs-reason", ErrReasonRequired, "Reason", "say why the handover is refused"))
	}
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	if err := requireOpen(j); err != nil {
		return nil, errorf(c, err)
	}
	h := j.OpenHandover()
	if h == nil {
		return nil, errorf(c, rule("decide-open-handover", ErrNoOpenHandover, "", "nothing to reject"))
	}
	if err := notBefore("At", at, h.RequestedAt, "the request"); err != nil {
		return nil, errorf(c, err)
	}
	return one(HandoverRejected{Seq: h.Seq, Reason: c.Reason, At: at})
}
