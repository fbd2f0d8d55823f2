package aggregates

import (
	"maps"
	"slices"
	"time"
)

// Journey is the state of one person's journey, folded from its events. It
// is a value: Evolve returns a new Journey and never changes its argument.
// All times are UTC.
type Journey struct {
	NOMS string `json:"nomsNumber"`
	// Version is the number of events folded in (stream revision + 1).
	Version int `json:"version"`

	CRN string `json:"crn,omitempty"`
	PNC string `json:"pnc,omitempty"`

	Custody              CustodyStatus `json:"custody"`
	Away                 Away          `json:"away,omitempty"`
	Prison               string        `json:"prison,omitempty"`
	InResettlementPrison bool          `json:"inResettlementPrison,omitempty"`
	BookingID            string        `json:"bookingId,omitempty"`
	ReceptionKind        ReceptionKind `json:"receptionKind,omitempty"`
	// Sentence is the sentence of the current custody period (zero: none
	// recorded); a recall keeps it, any other reception clears it.
	Sentence Sentence `json:"sentence,omitzero"`
	// ReceivedAt is the reception that started the current (or last)
	// custody period.
	ReceivedAt time.Time `json:"receivedAt,omitzero"`
	// FirstReceivedAt is the earliest reception recorded (late ones
	// included): nothing but a reception may be dated before it.
	FirstReceivedAt time.Time `json:"firstReceivedAt,omitzero"`
	// DetainedIn says where a person DETAINED_ELSEWHERE is held.
	DetainedIn CustodyEndKind `json:"detainedIn,omitempty"`
	// CustodyEndedAt is when custody last ended without a release
	// (unlawfully at large, death, move to a hospital or removal centre).
	CustodyEndedAt time.Time `json:"custodyEndedAt,omitzero"`
	Receptions     int       `json:"receptions"`
	Recalls        int       `json:"recalls"`
	// RecallPending: the licence was revoked and the reception is awaited.
	RecallPending bool `json:"recallPending,omitempty"`
	// LastMovementAt is the latest occurredAt of an in-order movement;
	// movements earlier than it are late.
	LastMovementAt time.Time  `json:"lastMovementAt,omitzero"`
	Movements      []Movement `json:"movements,omitempty"`

	// ScreenedAt and Plan belong to the current custody period.
	ScreenedAt time.Time `json:"screenedAt,omitzero"`
	Plan       Plan      `json:"plan"`

	Pathways map[Pathway]PathwayState `json:"pathways,omitempty"`
	Actions  map[string]Action        `json:"actions,omitempty"`

	ReleaseDates ReleaseDates `json:"releaseDates"`
	// ReleaseDatesCalculatedAt is when the calculation behind ReleaseDates
	// was made: an older calculation recorded later does not replace it.
	ReleaseDatesCalculatedAt time.Time `json:"releaseDatesCalculatedAt,omitzero"`
	// SentenceCalculationID is the NOMIS calculation last announced.
	SentenceCalculationID string `json:"sentenceCalculationId,omitempty"`
	// ReleaseDatesToConfirm: NOMIS recalculated the sentence after the
	// release dates were last recorded, so they must be confirmed again.
	ReleaseDatesToConfirm bool `json:"releaseDatesToConfirm,omitempty"`

	ReleasedAt     time.Time   `json:"releasedAt,omitzero"`
	ReleaseKind    ReleaseKind `json:"releaseKind,omitempty"`
	LastReleasedAt time.Time   `json:"lastReleasedAt,omitzero"`
	MetAtGateAt    time.Time   `json:"metAtGateAt,omitzero"`
	MetAtGateBy    string      `json:"metAtGateBy,omitempty"`

	SupervisionContacts int         `json:"supervisionContacts"`
	LastContactAt       time.Time   `json:"lastContactAt,omitzero"`
	Breaches            int         `json:"breaches"`
	Reoffences          []Reoffence `json:"reoffences,omitempty"`

	RoSH  RoSH `json:"rosh,omitempty"`
	MAPPA int  `json:"mappa,omitempty"`

	// ReleaseArea is the CPA (C01..C21) of the release address.
	ReleaseArea string `json:"releaseArea,omitempty"`
	// Holder is the organisation that accepted the last handover; empty
	// means the prison holding the person is responsible.
	Holder Org `json:"holder,omitempty"`
	// AllocationChangedAt is when the last fact the allocation policy reads
	// (release area, RoSH level, MAPPA level) changed; a handover requested
	// after it was a deliberate decision on the facts as they stand.
	AllocationChangedAt time.Time  `json:"allocationChangedAt,omitzero"`
	Handovers           []Handover `json:"handovers,omitempty"`

	Corrections []Correction `json:"corrections,omitempty"`

	// MergedInto is the prison number this one was merged into; every
	// command for this journey is then refused with a *MergedError.
	MergedInto string `json:"mergedInto,omitempty"`
	// MergedFrom lists the prison numbers merged into this one.
	MergedFrom []string `json:"mergedFrom,omitempty"`

	Closed      bool        `json:"closed,omitempty"`
	ClosedAt    time.Time   `json:"closedAt,omitzero"`
	CloseReason CloseReason `json:"closeReason,omitempty"`
}

// Movement is one custody movement in the history, in the order recorded.
type Movement struct {
	Type   string    `json:"type"`
	Kind   string    `json:"kind"`
	Prison string    `json:"prison"`
	At     time.Time `json:"occurredAt"`
	Late   bool      `json:"late,omitempty"`
}

// Plan is the resettlement plan of the current custody period; Revision 0
// means none drafted.
type Plan struct {
	Revision  int       `json:"revision"`
	Summary   string    `json:"summary,omitempty"`
	DraftedAt time.Time `json:"draftedAt,omitzero"`
	RevisedAt time.Time `json:"revisedAt,omitzero"`
}

// PathwayState is the need and status on one pathway.
type PathwayState struct {
	Status       PathwayStatus `json:"status"`
	Reason       string        `json:"reason,omitempty"`
	Need         string        `json:"need,omitempty"`
	IdentifiedAt time.Time     `json:"identifiedAt,omitzero"`
	ChangedAt    time.Time     `json:"changedAt,omitzero"`
}

// Action is one agreed action on a pathway.
type Action struct {
	ID          string    `json:"id"`
	Pathway     Pathway   `json:"pathway"`
	Description string    `json:"description"`
	Due         Date      `json:"due,omitzero"`
	Owner       Org       `json:"owner,omitempty"`
	AgreedAt    time.Time `json:"agreedAt,omitzero"`
	Outcome     string    `json:"outcome,omitempty"`
	CompletedAt time.Time `json:"completedAt,omitzero"`
}

// Completed reports whether the action has an outcome.
func (a Action) Completed() bool { return !a.CompletedAt.IsZero() }

// ReleaseDates are the competing release dates of the current sentence
// calculation.
type ReleaseDates struct {
	ConfirmedRelease   Date `json:"confirmedReleaseDate,omitzero"`
	ActualParole       Date `json:"actualParoleDate,omitzero"`
	HDCActual          Date `json:"hdcActualDate,omitzero"`
	ConditionalRelease Date `json:"conditionalReleaseDate,omitzero"`
	AutomaticRelease   Date `json:"automaticReleaseDate,omitzero"`
}

// Displayed is the date shown: the first present of confirmed release,
// actual parole, HDC actual, conditional release, automatic release.
func (r ReleaseDates) Displayed() Date {
	for _, d := range []Date{r.ConfirmedRelease, r.ActualParole, r.HDCActual, r.ConditionalRelease, r.AutomaticRelease} {
		if !d.IsZero() {
			return d
		}
	}
	return Date{}
}

// IsZero reports whether no date is present.
func (r ReleaseDates) IsZero() bool { return r == ReleaseDates{} }

// Reoffence is a proven reoffence.
type Reoffence struct {
	Offence        string    `json:"offence"`
	OffenceDate    Date      `json:"offenceDate"`
	ConvictionDate Date      `json:"convictionDate"`
	RecordedAt     time.Time `json:"occurredAt"`
	// ReleasedAt is the release the offence followed.
	ReleasedAt time.Time `json:"releasedAt"`
}

// HandoverStatus is the state of a handover.
type HandoverStatus string

// Handover statuses.
const (
	HandoverStatusOpen     HandoverStatus = "OPEN"
	HandoverStatusAccepted HandoverStatus = "ACCEPTED"
	HandoverStatusRejected HandoverStatus = "REJECTED"
)

// Handover is a request to move responsibility from one organisation to
// another. Handovers are never deleted: the list is the accountability trail.
type Handover struct {
	Seq          int            `json:"seq"`
	From         Org            `json:"from"`
	To           Org            `json:"to"`
	Reason       string         `json:"reason"`
	Due          time.Time      `json:"due"`
	RequestedAt  time.Time      `json:"requestedAt"`
	Status       HandoverStatus `json:"status"`
	DecidedAt    time.Time      `json:"decidedAt,omitzero"`
	RejectReason string         `json:"rejectReason,omitempty"`
}

// Correction is a recorded correction of an earlier event.
type Correction struct {
	CorrectsEventID string    `json:"correctsEventId"`
	Field           string    `json:"field"`
	Value           string    `json:"value,omitempty"`
	Reason          string    `json:"reason"`
	At              time.Time `json:"occurredAt"`
}

// OpenHandover returns the open handover, or nil.
func (j Journey) OpenHandover() *Handover {
	for i := range j.Handovers {
		if j.Handovers[i].Status == HandoverStatusOpen {
			h := j.Handovers[i]
			return &h
		}
	}
	return nil
}

// Pathway returns the state of pathway p (NOT_STARTED if never touched).
func (j Journey) Pathway(p Pathway) PathwayState {
	if s, ok := j.Pathways[p]; ok {
		return s
	}
	return PathwayState{Status: StatusNotStarted}
}

// ProvenReoffending reports, for the last release, whether a reoffence
// counts for payment by results (offence within ReoffenceMonths of release,
// convicted within a further ConvictionWaitMonths) and how many do.
func (j Journey) ProvenReoffending(p Policy) (reoffended bool, count int) {
	for _, r := range j.Reoffences {
		if r.ReleasedAt.IsZero() {
			continue
		}
		end := DateOf(r.ReleasedAt.AddDate(0, p.ReoffenceMonths, 0))
		wait := DateOf(r.ReleasedAt.AddDate(0, p.ReoffenceMonths+p.ConvictionWaitMonths, 0))
		if r.OffenceDate.Before(DateOf(r.ReleasedAt)) || r.OffenceDate.After(end) || r.ConvictionDate.After(wait) {
			continue
		}
		count++
	}
	return count > 0, count
}

// prisonAt is the last prison the person was received or transferred into
// at or before t, according to the in-order movement history ("" if none).
// It is the prison accountable at t when no handover was accepted: a release,
// a move to hospital or being at large do not end its part until another
// organisation takes the case (responsibility is never empty once custody
// began).
func (j Journey) prisonAt(t time.Time) string {
	prison := ""
	for _, m := range j.Movements {
		if m.Late || m.At.After(t) {
			continue
		}
		if m.Type == TypePrisonerReceived || m.Type == TypePrisonerTransferred {
			prison = m.Prison
		}
	}
	return prison
}

// clone copies the maps and slices so that folding an event into the copy
// cannot reach the original.
func (j Journey) clone() Journey {
	j.Movements = slices.Clone(j.Movements)
	j.Pathways = maps.Clone(j.Pathways)
	j.Actions = maps.Clone(j.Actions)
	j.Reoffences = slices.Clone(j.Reoffences)
	j.Handovers = slices.Clone(j.Handovers)
	j.Corrections = slices.Clone(j.Corrections)
	j.MergedFrom = slices.Clone(j.MergedFrom)
	return j
}
