package aggregates

import (
	"slices"
	"time"
)

// Sentence facts, and what the policy derives from them. Sources (domain brief,
// "Who gets what"):
//
//   - Through the Gate instructions and guidance, Schedule 7 (revised September
//     2019): "all prisoners serving 4 years or less on reception will undergo an
//     assessment from CRC staff (BCST part 2)". So a remand prisoner has no
//     resettlement-plan deadline, a remand prisoner who is sentenced starts the
//     plan clock at sentence, and a sentence over 4 years has no part-2 deadline
//     (PlanDue).
//   - Offender Rehabilitation Act 2014, s.2: supervision after release for at
//     least 12 months for sentences over 1 day and under 2 years, for offences
//     from 1 February 2015, aged 18 or over; longer determinate sentences carry a
//     licence to the sentence expiry date; a remand discharge carries none
//     (SupervisionAfterRelease).
//
// A sentence belongs to a custody period: a new remand, sentence or admission
// reception starts a period with no sentence recorded; a recall continues the
// sentence whose licence was revoked.

// SentenceType is the kind of custodial sentence.
type SentenceType string

// Sentence types.
const (
	// SentenceDeterminate: a fixed term (standard determinate sentence).
	SentenceDeterminate SentenceType = "DETERMINATE"
	// SentenceIndeterminate: life or imprisonment for public protection; the
	// licence has no end the ledger can compute.
	SentenceIndeterminate SentenceType = "INDETERMINATE"
	// SentenceDTO: a detention and training order (under 18); supervision
	// runs to the end of the order.
	SentenceDTO SentenceType = "DTO"
)

// Valid reports whether t is a known sentence type.
func (t SentenceType) Valid() bool {
	return slices.Contains([]SentenceType{SentenceDeterminate, SentenceIndeterminate, SentenceDTO}, t)
}

var (
	// ORAOffencesFrom is the first offence date the Offender Rehabilitation
	// Act 2014's supervision rule applies to (1 February 2015).
	ORAOffencesFrom = NewDate(2015, time.February, 1)
	// oraMaxMonths: ORA's 12 months' supervision is for sentences under 2 years.
	oraMaxMonths = 24
	// planMaxMonths: BCST part 2 is for sentences of 4 years or less.
	planMaxMonths = 48
)

// Sentence is the sentence of the current custody period, as recorded by
// PrisonerSentenced. The zero Sentence means none recorded.
type Sentence struct {
	Type         SentenceType `json:"type"`
	LengthMonths int          `json:"lengthMonths,omitempty"`
	LengthDays   int          `json:"lengthDays,omitempty"`
	SentenceDate Date         `json:"sentenceDate"`
	OffenceDate  Date         `json:"offenceDate,omitzero"`
	// Under18 is true when the person was known to be under 18 at sentence.
	Under18 bool `json:"under18,omitempty"`
	// At is when the sentence was passed (the plan clock of a remand prisoner
	// starts then).
	At time.Time `json:"occurredAt,omitzero"`
}

// Known reports whether a sentence is recorded.
func (s Sentence) Known() bool { return s.Type != "" }

// Expiry is the sentence expiry date of a fixed-term sentence (sentence date
// plus its length), zero for an indeterminate one.
func (s Sentence) Expiry() Date {
	if s.Type == SentenceIndeterminate || s.SentenceDate.IsZero() {
		return Date{}
	}
	return DateOf(s.SentenceDate.Time().AddDate(0, s.LengthMonths, s.LengthDays))
}

// longerThan reports whether the term is longer than months months.
func (s Sentence) longerThan(months int) bool {
	if s.Type == SentenceIndeterminate {
		return true
	}
	return s.Expiry().After(DateOf(s.SentenceDate.Time().AddDate(0, months, 0)))
}

// shorterThan reports whether the term is shorter than months months.
func (s Sentence) shorterThan(months int) bool {
	if s.Type == SentenceIndeterminate {
		return false
	}
	return s.Expiry().Before(DateOf(s.SentenceDate.Time().AddDate(0, months, 0)))
}

// SentencePrisoner records the sentence of a person in custody: at a
// sentence reception (its details), or of a remand prisoner sentenced with no
// new reception. Length is LengthMonths plus LengthDays; an indeterminate
// sentence has none.
type SentencePrisoner struct {
	Type         SentenceType
	LengthMonths int
	LengthDays   int
	SentenceDate Date
	OffenceDate  Date // optional
	Under18      bool // optional: known to be under 18 at sentence
	At           time.Time
}

// CommandName implements Command.
func (SentencePrisoner) CommandName() string { return "SentencePrisoner" }

// PrisonerSentenced: the person was sentenced (or the sentence of a sentence
// reception was recorded). It replaces any sentence recorded earlier in the
// same custody period.
type PrisonerSentenced struct {
	Type         SentenceType `json:"type"`
	LengthMonths int          `json:"lengthMonths,omitempty"`
	LengthDays   int          `json:"lengthDays,omitempty"`
	SentenceDate Date         `json:"sentenceDate"`
	OffenceDate  Date         `json:"offenceDate,omitzero"`
	Under18      bool         `json:"under18,omitempty"`
	At           time.Time    `json:"occurredAt"`
}

// TypePrisonerSentenced is the event type of PrisonerSentenced.
const TypePrisonerSentenced = "PrisonerSentenced"

// EventType implements Event.
func (PrisonerSentenced) EventType() string { return TypePrisonerSentenced }

// SchemaVersion implements Event.
func (PrisonerSentenced) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e PrisonerSentenced) OccurredAt() time.Time { return e.At }

func (e PrisonerSentenced) sentence() Sentence {
	return Sentence(e)
}

func decideSentence(j Journey, c SentencePrisoner, now time.Time, p Policy) ([]Event, error) {
	if !c.Type.Valid() {
		return nil, errorf(c, invalid("Type", "unknown sentence type %q", c.Type))
	}
	if c.LengthMonths < 0 || c.LengthDays < 0 {
		return nil, errorf(c, invalid("LengthMonths", "a sentence length cannot be negative"))
	}
	fixed := c.Type != SentenceIndeterminate
	if fixed && c.LengthMonths == 0 && c.LengthDays == 0 {
		return nil, errorf(c, invalid("LengthMonths", "a %s sentence needs its length in months or days", c.Type))
	}
	if !fixed && (c.LengthMonths != 0 || c.LengthDays != 0) {
		return nil, errorf(c, invalid("LengthMonths", "an indeterminate sentence has no length"))
	}
	if c.SentenceDate.IsZero() {
		return nil, errorf(c, invalid("SentenceDate", "the sentence date is required"))
	}
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	if c.SentenceDate.After(DateOf(at)) {
		return nil, errorf(c, rule("no-future-facts", ErrFutureDate, "SentenceDate", "sentence date %s is after it was recorded %s", c.SentenceDate, DateOf(at)))
	}
	if !c.OffenceDate.IsZero() && c.OffenceDate.After(c.SentenceDate) {
		return nil, errorf(c, rule("dates-in-order", ErrDateOrder, "OffenceDate", "offence %s after sentence %s", c.OffenceDate, c.SentenceDate))
	}
	if err := requireInCustody(j); err != nil {
		return nil, errorf(c, err)
	}
	if err := notBefore("At", at, j.ReceivedAt, "reception"); err != nil {
		return nil, errorf(c, err)
	}
	// A remand prisoner is sentenced after the remand began, never before.
	if j.ReceptionKind == ReceptionRemand && c.SentenceDate.Before(DateOf(j.ReceivedAt)) {
		return nil, errorf(c, rule("dates-in-order", ErrDateOrder, "SentenceDate",
			"sentence date %s is before the remand reception on %s", c.SentenceDate, DateOf(j.ReceivedAt)))
	}
	ev := PrisonerSentenced{Type: c.Type, LengthMonths: c.LengthMonths, LengthDays: c.LengthDays, SentenceDate: c.SentenceDate,
		OffenceDate: c.OffenceDate, Under18: c.Under18, At: at}
	if s := j.Sentence; s.Known() && s.Type == ev.Type && s.LengthMonths == ev.LengthMonths && s.LengthDays == ev.LengthDays &&
		s.SentenceDate == ev.SentenceDate && s.OffenceDate == ev.OffenceDate && s.Under18 == ev.Under18 {
		return nil, nil // already recorded
	}
	return one(ev)
}

// OnRemand reports whether the current custody period began as a remand and
// no sentence has been recorded since: the person is not (yet) serving a
// sentence. An ADMISSION, where the feed did not say, is not remand.
func (j Journey) OnRemand() bool {
	return j.ReceptionKind == ReceptionRemand && !j.Sentence.Known()
}

// PlanDue says whether the resettlement plan (BCST part 2) is due in the
// current custody period and, if so, when its clock starts (zero while it
// has not started: part 1 not done yet). Remand: no plan deadline. A remand
// prisoner who is sentenced: the clock starts at the later of part 1 and the
// sentence. A sentence over 4 years (or indeterminate): no part-2 deadline.
// Without a recorded sentence a sentence reception is taken to be in scope,
// so that a missing fact never hides a deadline.
func (j Journey) PlanDue() (start time.Time, due bool) {
	if j.Custody == NotReceived || j.OnRemand() {
		return time.Time{}, false
	}
	if j.Sentence.Known() && j.Sentence.longerThan(planMaxMonths) {
		return time.Time{}, false
	}
	start = j.ScreenedAt
	if j.ReceptionKind == ReceptionRemand && !start.IsZero() && j.Sentence.At.After(start) {
		start = j.Sentence.At
	}
	return start, true
}

// Supervision is what follows the current release in the community.
type Supervision struct {
	// Runs reports whether supervision follows the release at all.
	Runs bool
	// Ends is when it ends; zero while Runs means no end the ledger can
	// compute (an indeterminate sentence's licence).
	Ends time.Time
	// Basis names the rule that decided it, for people and tests.
	Basis string
}

// Supervision bases.
const (
	BasisNoRelease     = "not released"
	BasisNotSupervised = "release kind with no supervision"
	BasisRemand        = "remand discharge: no supervision"
	BasisDefault       = "no sentence recorded: the policy's supervision months"
	BasisORA           = "ORA 2014: at least 12 months from release"
	BasisLicence       = "licence to the sentence expiry date"
	BasisIndeterminate = "indeterminate sentence: licence with no computed end"
	BasisExpired       = "sentence expired at release: no supervision"
)

// SupervisionAfterRelease derives whether and how long supervision runs after
// the current release (ORA 2014 s.2; licence to sentence expiry for longer
// sentences; none after a remand discharge or a release kind that starts none).
func (j Journey) SupervisionAfterRelease(p Policy) Supervision {
	if j.ReleasedAt.IsZero() {
		return Supervision{Basis: BasisNoRelease}
	}
	if j.OnRemand() {
		return Supervision{Basis: BasisRemand}
	}
	if j.ReleaseKind != "" && !j.ReleaseKind.Supervised() {
		return Supervision{Basis: BasisNotSupervised}
	}
	s := j.Sentence
	if !s.Known() {
		return Supervision{Runs: true, Ends: j.ReleasedAt.AddDate(0, p.SupervisionMonths, 0), Basis: BasisDefault}
	}
	if s.Type == SentenceIndeterminate {
		return Supervision{Runs: true, Basis: BasisIndeterminate}
	}
	licenceEnd := s.Expiry().StartOfDay()
	ora := s.Type == SentenceDeterminate && !s.Under18 && s.Expiry().After(s.SentenceDate.AddDays(1)) && s.shorterThan(oraMaxMonths) &&
		(s.OffenceDate.IsZero() || !s.OffenceDate.Before(ORAOffencesFrom))
	if ora {
		end := j.ReleasedAt.AddDate(0, p.SupervisionMonths, 0)
		if licenceEnd.After(end) {
			end = licenceEnd
		}
		return Supervision{Runs: true, Ends: end, Basis: BasisORA}
	}
	if !licenceEnd.After(j.ReleasedAt) {
		return Supervision{Basis: BasisExpired}
	}
	return Supervision{Runs: true, Ends: licenceEnd, Basis: BasisLicence}
}
