package aggregates

import (
	"testing"
	"time"
)

func remanded(at time.Time) PrisonerReceived {
	return PrisonerReceived{NOMS: noms, Kind: ReceptionRemand, Prison: "MDI", At: at}
}

func sentenced(months int, at time.Time) PrisonerSentenced {
	return PrisonerSentenced{Type: SentenceDeterminate, LengthMonths: months, SentenceDate: DateOf(at), At: at}
}

// Sentence facts: recorded by SentencePrisoner, with the rules named.
func TestSentenceGWT(t *testing.T) {
	runGWT(t, []gwt{
		{name: "a remand prisoner is sentenced without a new reception",
			given: []Event{remanded(h(0))},
			when:  SentencePrisoner{Type: SentenceDeterminate, LengthMonths: 18, SentenceDate: DateOf(h(100)), OffenceDate: DateOf(h(-500)), At: h(100)},
			then:  []Event{PrisonerSentenced{Type: SentenceDeterminate, LengthMonths: 18, SentenceDate: DateOf(h(100)), OffenceDate: DateOf(h(-500)), At: h(100)}}},
		{name: "the same sentence again records nothing",
			given: []Event{remanded(h(0)), sentenced(18, h(100))},
			when:  SentencePrisoner{Type: SentenceDeterminate, LengthMonths: 18, SentenceDate: DateOf(h(100)), At: h(120)},
			then:  nil},
		{name: "a sentence before the remand began is refused",
			given: []Event{remanded(h(0))},
			when:  SentencePrisoner{Type: SentenceDeterminate, LengthMonths: 6, SentenceDate: DateOf(h(-48)), At: h(10)},
			err:   ErrDateOrder},
		{name: "an offence after the sentence is refused",
			given: []Event{received(h(0))},
			when:  SentencePrisoner{Type: SentenceDeterminate, LengthMonths: 6, SentenceDate: DateOf(h(0)), OffenceDate: DateOf(h(48)), At: h(60)},
			err:   ErrDateOrder},
		{name: "a determinate sentence needs a length",
			given: []Event{received(h(0))},
			when:  SentencePrisoner{Type: SentenceDeterminate, SentenceDate: DateOf(h(0)), At: h(1)},
			err:   ErrInvalidValue},
		{name: "an indeterminate sentence has none",
			given: []Event{received(h(0))},
			when:  SentencePrisoner{Type: SentenceIndeterminate, LengthMonths: 12, SentenceDate: DateOf(h(0)), At: h(1)},
			err:   ErrInvalidValue},
		{name: "an unknown sentence type is refused",
			given: []Event{received(h(0))},
			when:  SentencePrisoner{Type: "LIFE-ISH", SentenceDate: DateOf(h(0)), At: h(1)},
			err:   ErrInvalidValue},
		{name: "sentencing needs custody",
			given: []Event{received(h(0)), released(h(100))},
			when:  SentencePrisoner{Type: SentenceDeterminate, LengthMonths: 6, SentenceDate: DateOf(h(0)), At: h(120)},
			err:   ErrReleased},
		{name: "sentencing needs a reception",
			when: SentencePrisoner{Type: SentenceDeterminate, LengthMonths: 6, SentenceDate: DateOf(h(0)), At: h(1)},
			err:  ErrNotReceived},
		// Commands that need a sentence fact and lack it say so.
		{name: "release dates on remand are refused: record the sentence first",
			given: []Event{remanded(h(0))},
			when:  SetReleaseDates{Dates: ReleaseDates{ConditionalRelease: DateOf(h(24 * 90))}, At: h(2)},
			err:   ErrNoSentence},
		{name: "release dates once the remand prisoner is sentenced",
			given: []Event{remanded(h(0)), sentenced(6, h(24))},
			when:  SetReleaseDates{Dates: ReleaseDates{ConditionalRelease: DateOf(h(24 * 90))}, At: h(30)},
			then:  []Event{ReleaseDatesSet{Dates: ReleaseDates{ConditionalRelease: DateOf(h(24 * 90))}, At: h(30)}}},
		{name: "no licence to revoke after a remand discharge",
			given: []Event{remanded(h(0)), PrisonerReleased{Kind: ReleaseDischarged, Prison: "MDI", At: h(100)}},
			when:  RecallPrisoner{Reason: "breach", At: h(200)},
			err:   ErrNoSentence},
		{name: "no supervision to end after a remand discharge",
			given: []Event{remanded(h(0)), PrisonerReleased{Kind: ReleaseOnLicence, Prison: "MDI", At: h(100)}},
			when:  CloseJourney{Reason: CloseSupervisionEnded, At: h(100 + 24*400)},
			now:   h(100 + 24*500),
			err:   ErrNoSentence},
		{name: "an indeterminate licence is not closed as ended",
			given: []Event{received(h(0)), PrisonerSentenced{Type: SentenceIndeterminate, SentenceDate: DateOf(h(0)), At: h(1)}, released(h(100))},
			when:  CloseJourney{Reason: CloseSupervisionEnded, At: h(100 + 24*800)},
			now:   h(100 + 24*900),
			err:   ErrSupervisionActive},
		{name: "a remand discharge asks no probation organisation to take the case",
			given: []Event{remanded(h(0)), ReleaseAreaChanged{To: "C05", At: h(1)}},
			when:  ReleasePrisoner{Kind: ReleaseOnLicence, Prison: "MDI", At: h(100)},
			then:  []Event{PrisonerReleased{Kind: ReleaseOnLicence, Prison: "MDI", At: h(100)}}},
	})
}

// Release-date calculations are ordered by when they were made.
func TestReleaseDatesByCalculationTimeGWT(t *testing.T) {
	d1, d2 := DateOf(h(24*100)), DateOf(h(24*120))
	newer := ReleaseDatesSet{Dates: ReleaseDates{ConditionalRelease: d1}, CalculatedAt: h(10), At: h(12)}
	runGWT(t, []gwt{
		{name: "an older calculation recorded later is refused",
			given: []Event{received(h(0)), newer},
			when:  SetReleaseDates{Dates: ReleaseDates{ConditionalRelease: d2}, CalculatedAt: h(5), At: h(20)},
			err:   ErrSuperseded},
		{name: "a newer calculation replaces it",
			given: []Event{received(h(0)), newer},
			when:  SetReleaseDates{Dates: ReleaseDates{ConditionalRelease: d2}, CalculatedAt: h(15), At: h(20)},
			then:  []Event{ReleaseDatesChanged{Dates: ReleaseDates{ConditionalRelease: d2}, Previous: ReleaseDates{ConditionalRelease: d1}, CalculatedAt: h(15), At: h(20)}}},
		{name: "without a calculation time the recording time orders it",
			given: []Event{received(h(0)), newer},
			when:  SetReleaseDates{Dates: ReleaseDates{ConditionalRelease: d2}, At: h(11)},
			then:  []Event{ReleaseDatesChanged{Dates: ReleaseDates{ConditionalRelease: d2}, Previous: ReleaseDates{ConditionalRelease: d1}, At: h(11)}}},
		{name: "history without calculation times: recorded at 12, so 11 is older",
			given: []Event{received(h(0)), ReleaseDatesSet{Dates: ReleaseDates{ConditionalRelease: d1}, At: h(12)}},
			when:  SetReleaseDates{Dates: ReleaseDates{ConditionalRelease: d2}, CalculatedAt: h(11), At: h(13)},
			err:   ErrSuperseded},
		{name: "a calculation made in the future is refused",
			given: []Event{received(h(0))},
			when:  SetReleaseDates{Dates: ReleaseDates{ConditionalRelease: d2}, CalculatedAt: now.Add(time.Hour), At: h(13)},
			err:   ErrFutureDate},
	})
}

// A reoffence from the first licence, recorded after a recall and re-release,
// attaches to the first release.
func TestReoffenceAttachesToTheReleaseItFollowedGWT(t *testing.T) {
	first, second := h(100), h(24*60)
	given := []Event{received(h(0)), released(first), LicenceRevoked{Reason: "breach", At: h(24 * 10)},
		PrisonerReceived{NOMS: noms, Kind: ReceptionRecall, Prison: "MDI", At: h(24 * 11)}, released(second)}
	runGWT(t, []gwt{
		{name: "offence during the first licence",
			given: given,
			when:  RecordProvenReoffence{Offence: "theft", OffenceDate: DateOf(h(24 * 6)), ConvictionDate: DateOf(h(24 * 90)), At: h(24 * 91)},
			then:  []Event{ProvenReoffenceRecorded{Offence: "theft", OffenceDate: DateOf(h(24 * 6)), ConvictionDate: DateOf(h(24 * 90)), ReleasedAt: first, At: h(24 * 91)}}},
		{name: "offence after the re-release",
			given: given,
			when:  RecordProvenReoffence{Offence: "theft", OffenceDate: DateOf(h(24 * 70)), ConvictionDate: DateOf(h(24 * 90)), At: h(24 * 91)},
			then:  []Event{ProvenReoffenceRecorded{Offence: "theft", OffenceDate: DateOf(h(24 * 70)), ConvictionDate: DateOf(h(24 * 90)), ReleasedAt: second, At: h(24 * 91)}}},
		{name: "offence before the first release",
			given: given,
			when:  RecordProvenReoffence{Offence: "theft", OffenceDate: DateOf(h(-24)), ConvictionDate: DateOf(h(24 * 90)), At: h(24 * 91)},
			err:   ErrDateOrder},
	})
	j := Rebuild(with(given, ProvenReoffenceRecorded{Offence: "theft", OffenceDate: DateOf(h(24 * 6)), ConvictionDate: DateOf(h(24 * 90)), ReleasedAt: first, At: h(24 * 91)}))
	if ok, n := j.ProvenReoffending(pol); !ok || n != 1 {
		t.Fatalf("proven reoffending after a recall: %v %d", ok, n)
	}
}

// What the policy derives from sentence facts: one function each.
func TestPlanDueFromSentenceFacts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		given []Event
		due   bool
		start time.Time
	}{
		{"sentence reception, screened", []Event{received(h(0)), screened(h(2))}, true, h(2)},
		{"sentence reception, not screened: clock not started", []Event{received(h(0))}, true, time.Time{}},
		{"remand: no plan deadline", []Event{remanded(h(0)), screened(h(2))}, false, time.Time{}},
		{"remand then sentenced: the clock starts at sentence", []Event{remanded(h(0)), screened(h(2)), sentenced(12, h(300))}, true, h(300)},
		{"sentence of exactly 4 years: due", []Event{received(h(0)), screened(h(2)), sentenced(48, h(1))}, true, h(2)},
		{"sentence over 4 years: no part-2 deadline", []Event{received(h(0)), screened(h(2)), sentenced(49, h(1))}, false, time.Time{}},
		{"indeterminate: no part-2 deadline", []Event{received(h(0)), screened(h(2)), PrisonerSentenced{Type: SentenceIndeterminate, SentenceDate: DateOf(h(0)), At: h(1)}}, false, time.Time{}},
		{"a new remand clears the last sentence", []Event{received(h(0)), sentenced(12, h(1)), released(h(100)), remanded(h(24 * 400)), screened(h(24*400 + 2))}, false, time.Time{}},
		{"a recall keeps the sentence", []Event{received(h(0)), sentenced(60, h(1)), released(h(100)), LicenceRevoked{Reason: "r", At: h(200)},
			PrisonerReceived{NOMS: noms, Kind: ReceptionRecall, Prison: "MDI", At: h(300)}, screened(h(302))}, false, time.Time{}},
	} {
		j := Rebuild(tc.given)
		start, due := j.PlanDue()
		if due != tc.due || !start.Equal(tc.start) {
			t.Errorf("%s: due %v from %v, want %v from %v", tc.name, due, start, tc.due, tc.start)
		}
		if d := j.Deadlines(pol); d.Plan.Applies() != (tc.due && !tc.start.IsZero()) {
			t.Errorf("%s: plan deadline applies = %v", tc.name, d.Plan.Applies())
		}
	}
}

func TestSupervisionAfterRelease(t *testing.T) {
	rel := h(24 * 200) // release
	year := rel.AddDate(0, 12, 0)
	sent := func(typ SentenceType, months int, offence Date, under18 bool) PrisonerSentenced {
		return PrisonerSentenced{Type: typ, LengthMonths: months, SentenceDate: DateOf(h(0)), OffenceDate: offence, Under18: under18, At: h(1)}
	}
	expiry := func(months int) time.Time { return DateOf(DateOf(h(0)).Time().AddDate(0, months, 0)).StartOfDay() }
	pre := NewDate(2014, time.December, 1)
	for _, tc := range []struct {
		name  string
		given []Event
		runs  bool
		ends  time.Time
		basis string
	}{
		{"no sentence recorded: the policy's 12 months", []Event{received(h(0)), released(rel)}, true, year, BasisDefault},
		{"ORA: 6 months, 12 months from release", []Event{received(h(0)), sent(SentenceDeterminate, 6, Date{}, false), released(rel)}, true, year, BasisORA},
		{"ORA: 23 months, expiry later than 12 months", []Event{received(h(0)), sent(SentenceDeterminate, 23, Date{}, false), released(rel)}, true, expiry(23), BasisORA},
		{"offence before 1 February 2015, 10 months: licence to expiry", []Event{received(h(0)), sent(SentenceDeterminate, 10, pre, false), released(rel)}, true, expiry(10), BasisLicence},
		{"under 18: licence to expiry", []Event{received(h(0)), sent(SentenceDeterminate, 10, Date{}, true), released(rel)}, true, expiry(10), BasisLicence},
		{"3 years: licence to expiry", []Event{received(h(0)), sent(SentenceDeterminate, 36, Date{}, false), released(rel)}, true, expiry(36), BasisLicence},
		{"DTO: to the end of the order", []Event{received(h(0)), sent(SentenceDTO, 12, Date{}, true), released(rel)}, true, expiry(12), BasisLicence},
		{"sentence expired before release", []Event{received(h(0)), sent(SentenceDeterminate, 36, pre, false), released(expiry(37))}, false, time.Time{}, BasisExpired},
		{"indeterminate: no computed end", []Event{received(h(0)), PrisonerSentenced{Type: SentenceIndeterminate, SentenceDate: DateOf(h(0)), At: h(1)}, released(rel)}, true, time.Time{}, BasisIndeterminate},
		{"remand discharge: none", []Event{remanded(h(0)), PrisonerReleased{Kind: ReleaseDischarged, Prison: "MDI", At: rel}}, false, time.Time{}, BasisRemand},
		{"remand discharge said to be on licence: none", []Event{remanded(h(0)), released(rel)}, false, time.Time{}, BasisRemand},
		{"remand, sentenced, released: ORA", []Event{remanded(h(0)), sent(SentenceDeterminate, 6, Date{}, false), released(rel)}, true, year, BasisORA},
		{"discharged from a sentence: no supervision", []Event{received(h(0)), PrisonerReleased{Kind: ReleaseDischarged, Prison: "MDI", At: rel}}, false, time.Time{}, BasisNotSupervised},
		{"not released", []Event{received(h(0))}, false, time.Time{}, BasisNoRelease},
	} {
		j := Rebuild(tc.given)
		s := j.SupervisionAfterRelease(pol)
		if s.Runs != tc.runs || !s.Ends.Equal(tc.ends) || s.Basis != tc.basis {
			t.Errorf("%s: got %+v, want runs %v ends %v (%s)", tc.name, s, tc.runs, tc.ends, tc.basis)
		}
		if got := j.SupervisionEnd(pol); !got.Equal(tc.ends) {
			t.Errorf("%s: SupervisionEnd %v", tc.name, got)
		}
	}
}

// Cohort membership: remand discharges are in no cohort; a remand prisoner
// sentenced before release is.
func TestCohortFromSentenceFacts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		given []Event
		want  bool
	}{
		{"sentenced", []Event{received(h(0)), released(h(100))}, true},
		{"remand discharge", []Event{remanded(h(0)), PrisonerReleased{Kind: ReleaseDischarged, Prison: "MDI", At: h(100)}}, false},
		{"remand, sentenced, released", []Event{remanded(h(0)), sentenced(6, h(50)), released(h(100))}, true},
	} {
		if got := Rebuild(tc.given).InReoffendingCohort(); got != tc.want {
			t.Errorf("%s: in cohort %v, want %v", tc.name, got, tc.want)
		}
	}
}
