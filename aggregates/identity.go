package aggregates

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

func decideLinkCRN(j Journey, c LinkCRN, now time.Time, p Policy) ([]Event, error) {
	if err := checkID("crn", c.CRN); err != nil {
		return nil, errorf(c, err)
	}
	if err := checkOptionalID("pnc", c.PNC); err != nil {
		return nil, errorf(c, err)
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

// MergePrisonNumber records, on the journey of a prison number that NOMIS
// removed in a merge (prison-offender-events.prisoner.merged), that the
// person's records continue under Into. The journey keeps its history; every
// later command for the removed number is refused with a *MergedError naming
// Into, so that callers send it there instead.
type MergePrisonNumber struct {
	Into      string
	BookingID string
	At        time.Time
}

// AbsorbPrisonNumber records, on the journey of the prison number that
// remains after a merge, that the history of From is this person's too.
// Removed is the journey of From as folded now (the caller loads it; a
// zero Journey when nothing was recorded under From): Decide carries its
// custody movements over as history, and its whole state when it is the more
// recent of the two (see PrisonNumberAbsorbed).
type AbsorbPrisonNumber struct {
	// NOMS is the prison number that remains (this journey's).
	NOMS      string
	From      string
	BookingID string
	// Removed is context the server loads, not something the sender says:
	// it stays out of the command's encoding, so that a redelivery after the
	// merge is recognised as the same command (journeys.CommandDigest).
	Removed Journey `json:"-"`
	At      time.Time
}

// CommandName implements Command.
func (MergePrisonNumber) CommandName() string { return "MergePrisonNumber" }

// CommandName implements Command.
func (AbsorbPrisonNumber) CommandName() string { return "AbsorbPrisonNumber" }

// PrisonNumberMerged: this prison number was merged into Into; the person's
// records continue there.
type PrisonNumberMerged struct {
	Into      string    `json:"intoNomsNumber"`
	BookingID string    `json:"bookingId,omitempty"`
	At        time.Time `json:"occurredAt"`
}

// PrisonNumberAbsorbed: the history of prison number From (merged into this
// one) belongs to this person. Carried holds what the merge carries over, an
// AbsorbedFacts as JSON: one string keeps the payload flat, so that it reads
// like every other event (fastdecode.go), and merges are rare. From's own
// events stay in its stream, unaltered, and its hash chain with them.
type PrisonNumberAbsorbed struct {
	NOMS      string    `json:"nomsNumber"`
	From      string    `json:"fromNomsNumber"`
	BookingID string    `json:"bookingId,omitempty"`
	Carried   string    `json:"carried,omitempty"`
	At        time.Time `json:"occurredAt"`
}

// AbsorbedFacts is what a merge carries from the removed number's journey to
// the remaining one. Movements are its custody movements, which join this
// journey's movement history (so a movement delivered again under the
// remaining number is recognised as recorded). Adopted, when present, is its
// state at the merge, taken as this journey's present because it is the more
// recent of the two (the remaining number had no custody, or older custody):
// NOMIS keeps one booking history per person after a merge, and the ledger
// must not lose who holds the person, where, or since when.
type AbsorbedFacts struct {
	Movements []Movement `json:"movements,omitempty"`
	Adopted   *Journey   `json:"adopted,omitempty"`
}

// Facts decodes Carried.
func (e PrisonNumberAbsorbed) Facts() (AbsorbedFacts, error) {
	var f AbsorbedFacts
	if e.Carried == "" {
		return f, nil
	}
	err := json.Unmarshal([]byte(e.Carried), &f)
	return f, err
}

// EventType implements Event.
func (PrisonNumberMerged) EventType() string { return TypePrisonNumberMerged }

// SchemaVersion implements Event.
func (PrisonNumberMerged) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e PrisonNumberMerged) OccurredAt() time.Time { return e.At }

// EventType implements Event.
func (PrisonNumberAbsorbed) EventType() string { return TypePrisonNumberAbsorbed }

// SchemaVersion implements Event.
func (PrisonNumberAbsorbed) SchemaVersion() int { return 1 }

// OccurredAt implements Event.
func (e PrisonNumberAbsorbed) OccurredAt() time.Time { return e.At }

// MergedError is Decide's answer to a command for a merged prison number. It
// matches ErrMerged.
type MergedError struct {
	NOMS string
	Into string
}

func (e *MergedError) Error() string {
	return fmt.Sprintf("merged: prison number %s was merged into %s; send it to %s", e.NOMS, e.Into, e.Into)
}

// Is makes errors.Is(err, ErrMerged) true.
func (e *MergedError) Is(target error) bool { return target == ErrMerged }

func decideMerge(j Journey, c MergePrisonNumber, now time.Time, p Policy) ([]Event, error) {
	if err := checkID("noms", c.Into); err != nil {
		return nil, errorf(c, err)
	}
	if err := checkOptionalID("bookingId", c.BookingID); err != nil {
		return nil, errorf(c, err)
	}
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	if c.Into == j.NOMS && j.NOMS != "" {
		return nil, errorf(c, invalid("Into", "a prison number cannot be merged into itself"))
	}
	switch j.MergedInto {
	case c.Into:
		return nil, nil
	case "":
		return one(PrisonNumberMerged{Into: c.Into, BookingID: c.BookingID, At: at})
	}
	return nil, errorf(c, rule("merged-once", ErrAlreadyRecorded, "Into", "already merged into %s", j.MergedInto))
}

func decideAbsorb(j Journey, c AbsorbPrisonNumber, now time.Time, p Policy) ([]Event, error) {
	if err := checkID("noms", c.NOMS); err != nil {
		return nil, errorf(c, err)
	}
	if j.NOMS != "" && c.NOMS != j.NOMS {
		return nil, errorf(c, invalid("NOMS", "command for %s sent to the journey of %s", c.NOMS, j.NOMS))
	}
	if err := checkID("noms", c.From); err != nil {
		return nil, errorf(c, err)
	}
	if err := checkOptionalID("bookingId", c.BookingID); err != nil {
		return nil, errorf(c, err)
	}
	at, err := occurred(c.At, now, p)
	if err != nil {
		return nil, errorf(c, err)
	}
	if c.From == c.NOMS {
		return nil, errorf(c, invalid("From", "a prison number cannot absorb itself"))
	}
	if slices.Contains(j.MergedFrom, c.From) {
		return nil, nil
	}
	if c.Removed.NOMS != "" && c.Removed.NOMS != c.From {
		return nil, errorf(c, invalid("Removed", "the journey given is %s's, not %s's", c.Removed.NOMS, c.From))
	}
	facts := AbsorbedFacts{Movements: c.Removed.Movements}
	if c.Removed.Custody != NotReceived && (j.Custody == NotReceived || c.Removed.LastMovementAt.After(j.LastMovementAt)) {
		adopted := c.Removed.clone()
		adopted.NOMS, adopted.Version, adopted.MergedInto, adopted.MergedFrom, adopted.Movements = "", 0, "", nil, nil
		facts.Adopted = &adopted
	}
	ev := PrisonNumberAbsorbed{NOMS: c.NOMS, From: c.From, BookingID: c.BookingID, At: at}
	if len(facts.Movements) > 0 || facts.Adopted != nil {
		b, err := json.Marshal(facts)
		if err != nil {
			return nil, errorf(c, invalid("Removed", "cannot carry the journey over: %v", err))
		}
		ev.Carried = string(b)
	}
	return one(ev)
}

// absorb folds a PrisonNumberAbsorbed (see its documentation).
func (j *Journey) absorb(e PrisonNumberAbsorbed) {
	if slices.Contains(j.MergedFrom, e.From) {
		return
	}
	// History cannot be refused: facts that do not decode carry nothing.
	facts, _ := e.Facts()
	keep := *j
	if facts.Adopted != nil {
		*j = facts.Adopted.clone()
		j.Version, j.MergedInto = keep.Version, keep.MergedInto
		if !keep.FirstReceivedAt.IsZero() && keep.FirstReceivedAt.Before(j.FirstReceivedAt) {
			j.FirstReceivedAt = keep.FirstReceivedAt
		}
	}
	j.NOMS = keep.NOMS
	if j.NOMS == "" {
		j.NOMS = e.NOMS
	}
	j.MergedFrom = append(slices.Clone(keep.MergedFrom), e.From)
	// One movement history, in time order, each movement once.
	moves := slices.Clone(keep.Movements)
	for _, m := range facts.Movements {
		if !slices.ContainsFunc(moves, func(x Movement) bool { return x.Type == m.Type && x.At.Equal(m.At) && x.Prison == m.Prison }) {
			moves = append(moves, m)
		}
	}
	slices.SortStableFunc(moves, func(a, b Movement) int { return a.At.Compare(b.At) })
	j.Movements = moves
	for _, m := range facts.Movements {
		if m.Type == TypePrisonerReceived && (j.FirstReceivedAt.IsZero() || m.At.Before(j.FirstReceivedAt)) {
			j.FirstReceivedAt = m.At
		}
	}
}
