package projections

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/projections/readmodel"
)

// OutcomesName names the payment-by-results projection and its bucket.
const OutcomesName = "outcomes"

var (
	outcomeMembers = []byte("members")
	outcomeCohorts = []byte("cohorts")
)

const outcomeRowVersion = 1

// OutcomesProjection keeps the payment-by-results measures: every release into the
// community from a sentence or a recall (aggregates.Journey.InReoffendingCohort; not a
// remand discharge, a move to hospital, a death or a removal) is one membership of the
// cohort of its provider and UK calendar quarter, and every proven reoffence recorded
// against a release counts when the rules allow it (committed within ReoffenceMonths
// of release and convicted within a further ConvictionWaitMonths).
//
// The provider is aggregates.Journey.CohortProvider: the probation organisation the
// allocation policy in force on the release's UK date names for the case as it stood
// at release (payment follows the contract), or the probation organisation that held
// or first took the case. Prisons are never providers: a release with no probation
// organisation known yet is a member whose provider is pending, counted in no cohort
// until a release area is recorded or a probation organisation accepts the case.
//
// A recall and a later release make a second membership, in the cohort of the second
// release; a reoffence counts against the release it followed.
//
// Storage:
//   - "members": key NOMS ‖ 0x00 ‖ U64(release time in Unix ns), value provider
//     ("" while pending), cohort ("" for a release in no cohort), release time,
//     counted and excluded reoffences.
//   - "cohorts": key provider ‖ 0x00 ‖ cohort ("2021-Q3"), value size, reoffenders,
//     counted and excluded reoffences, the quarter's first day.
//
// Whether a cohort's figures are final depends on now and is decided at query time.
type OutcomesProjection struct {
	policy aggregates.Policy
}

// NewOutcomes returns the payment-by-results projection under policy (allocation,
// reoffence window and conviction wait).
func NewOutcomes(policy aggregates.Policy) *OutcomesProjection {
	return &OutcomesProjection{policy: policy}
}

// Name implements Projection.
func (*OutcomesProjection) Name() string { return OutcomesName }

// Version implements Projection.
func (*OutcomesProjection) Version() int { return 2 }

type member struct {
	provider   aggregates.Org
	cohort     string
	releasedAt time.Time
	counted    uint64
	excluded   uint64
}

type cohortRow struct {
	start       aggregates.Date
	size        uint64
	reoffenders uint64
	counted     uint64
	excluded    uint64
}

// Apply implements Projection.
func (o *OutcomesProjection) Apply(b *bolt.Bucket, ev *readmodel.Event) error {
	if !ev.IsJourney() {
		return nil
	}
	if ev.DecodeErr != nil {
		return ev.DecodeErr
	}
	switch e := ev.Domain.(type) {
	case aggregates.PrisonerReleased:
		if e.Late || ev.After == nil || !ev.After.ReleasedAt.Equal(e.At) {
			return nil // a late movement records history; it is not a release now
		}
		return o.release(b, ev.NOMS, ev.After, e.At)
	case aggregates.ProvenReoffenceRecorded:
		return o.reoffence(b, ev.NOMS, e)
	case aggregates.ReleaseAreaChanged, aggregates.HandoverAccepted:
		if ev.After != nil && ev.After.Custody == aggregates.Released {
			return o.attribute(b, ev.NOMS, ev.After)
		}
	}
	return nil
}

func (o *OutcomesProjection) release(b *bolt.Bucket, noms string, after *aggregates.Journey, at time.Time) error {
	start := quarterStart(at)
	m := member{releasedAt: at}
	if after.InReoffendingCohort() {
		m.provider, m.cohort = after.CohortProvider(o.policy, at), cohortLabel(start)
	}
	members, err := readmodel.SubBucket(b, outcomeMembers)
	if err != nil {
		return err
	}
	if err := members.Put(memberKey(noms, at), m.encode()); err != nil {
		return fmt.Errorf("outcome member: %w", err)
	}
	if m.provider == "" {
		return nil // in no cohort, or waiting for a provider (attribute)
	}
	return o.updateCohort(b, m, func(c *cohortRow) { c.start = start; c.size++ })
}

// attribute gives a pending membership of the current release its provider once
// one is known, bringing the reoffences already recorded against it into the cohort.
func (o *OutcomesProjection) attribute(b *bolt.Bucket, noms string, after *aggregates.Journey) error {
	members, err := readmodel.SubBucket(b, outcomeMembers)
	if err != nil {
		return err
	}
	k := memberKey(noms, after.ReleasedAt)
	v := members.Get(k)
	if v == nil {
		return nil
	}
	m, err := decodeMember(v)
	if err != nil || m.cohort == "" || m.provider != "" {
		return err
	}
	if m.provider = after.CohortProvider(o.policy, after.ReleasedAt); m.provider == "" {
		return nil
	}
	if err := members.Put(k, m.encode()); err != nil {
		return fmt.Errorf("outcome member: %w", err)
	}
	return o.updateCohort(b, m, func(c *cohortRow) {
		c.start = quarterStart(m.releasedAt)
		c.size++
		c.counted += m.counted
		c.excluded += m.excluded
		if m.counted > 0 {
			c.reoffenders++
		}
	})
}

func (o *OutcomesProjection) reoffence(b *bolt.Bucket, noms string, e aggregates.ProvenReoffenceRecorded) error {
	members, err := readmodel.SubBucket(b, outcomeMembers)
	if err != nil {
		return err
	}
	k := memberKey(noms, e.ReleasedAt)
	v := members.Get(k)
	if v == nil {
		return fmt.Errorf("reoffence after a release at %s that was never recorded", e.ReleasedAt.Format(time.RFC3339))
	}
	// A member in no cohort keeps its counts for the record; they reach no cohort.
	m, err := decodeMember(v)
	if err != nil {
		return err
	}
	counts := countsForPbR(o.policy, e.ReleasedAt, e.OffenceDate, e.ConvictionDate)
	first := counts && m.counted == 0
	if counts {
		m.counted++
	} else {
		m.excluded++
	}
	if err := members.Put(k, m.encode()); err != nil {
		return fmt.Errorf("outcome member: %w", err)
	}
	if m.provider == "" {
		return nil // in no cohort, or waiting for a provider
	}
	return o.updateCohort(b, m, func(c *cohortRow) {
		if counts {
			c.counted++
		} else {
			c.excluded++
		}
		if first {
			c.reoffenders++
		}
	})
}

// countsForPbR is the proven-reoffending rule of aggregates.Journey.ProvenReoffending
// for one reoffence: committed on or after the release date and within
// ReoffenceMonths of it, convicted within ReoffenceMonths+ConvictionWaitMonths.
func countsForPbR(p aggregates.Policy, releasedAt time.Time, offence, conviction aggregates.Date) bool {
	end := aggregates.DateOf(releasedAt.AddDate(0, p.ReoffenceMonths, 0))
	wait := aggregates.DateOf(releasedAt.AddDate(0, p.ReoffenceMonths+p.ConvictionWaitMonths, 0))
	return !offence.Before(aggregates.DateOf(releasedAt)) && !offence.After(end) && !conviction.After(wait)
}

func (o *OutcomesProjection) updateCohort(b *bolt.Bucket, m member, change func(*cohortRow)) error {
	cohorts, err := readmodel.SubBucket(b, outcomeCohorts)
	if err != nil {
		return err
	}
	k := readmodel.Key(string(m.provider), m.cohort)
	var c cohortRow
	if v := cohorts.Get(k); v != nil {
		if c, err = decodeCohort(v); err != nil {
			return err
		}
	}
	change(&c)
	if err := cohorts.Put(k, c.encode()); err != nil {
		return fmt.Errorf("outcome cohort: %w", err)
	}
	return nil
}

func memberKey(noms string, at time.Time) []byte {
	return append(readmodel.Key(noms), readmodel.U64(uint64(readmodel.TimeNanos(at)))...)
}

// quarterStart is the first day of the UK calendar quarter of t: a release at 23:30
// UTC on 31 March is in the second quarter, because it is 1 April in the UK.
func quarterStart(t time.Time) aggregates.Date {
	d := aggregates.DateOf(t)
	return aggregates.NewDate(d.Year, time.Month((int(d.Month)-1)/3*3+1), 1)
}

func cohortLabel(start aggregates.Date) string {
	return fmt.Sprintf("%04d-Q%d", start.Year, (int(start.Month)-1)/3+1)
}

func (m member) encode() []byte {
	var w readmodel.Writer
	w.U8(outcomeRowVersion)
	w.Str(string(m.provider))
	w.Str(m.cohort)
	w.Time(m.releasedAt)
	w.Uvar(m.counted)
	w.Uvar(m.excluded)
	return w
}

func decodeMember(v []byte) (member, error) {
	r := readmodel.Reader{B: v}
	if ver := r.U8(); ver != outcomeRowVersion {
		return member{}, fmt.Errorf("%w: outcome member version %d", readmodel.ErrCorruptRow, ver)
	}
	m := member{provider: aggregates.Org(r.Str()), cohort: r.Str(), releasedAt: r.Time(), counted: r.Uvar(), excluded: r.Uvar()}
	return m, r.Err
}

func (c cohortRow) encode() []byte {
	var w readmodel.Writer
	w.U8(outcomeRowVersion)
	w.Date(c.start)
	w.Uvar(c.size)
	w.Uvar(c.reoffenders)
	w.Uvar(c.counted)
	w.Uvar(c.excluded)
	return w
}

func decodeCohort(v []byte) (cohortRow, error) {
	r := readmodel.Reader{B: v}
	if ver := r.U8(); ver != outcomeRowVersion {
		return cohortRow{}, fmt.Errorf("%w: outcome cohort version %d", readmodel.ErrCorruptRow, ver)
	}
	c := cohortRow{start: r.Date(), size: r.Uvar(), reoffenders: r.Uvar(), counted: r.Uvar(), excluded: r.Uvar()}
	return c, r.Err
}

// CohortOutcome is the payment-by-results measure of one provider's quarterly release
// cohort.
type CohortOutcome struct {
	Provider aggregates.Org
	// Cohort is the calendar quarter of release, "2021-Q3"; Start and End its first
	// and last days.
	Cohort string
	Start  aggregates.Date
	End    aggregates.Date
	// Size counts releases (a person released twice in the quarter counts twice).
	Size int
	// Reoffenders counts members with at least one proven reoffence that counts;
	// Reoffences counts those reoffences. ExcludedReoffences were recorded but fall
	// outside the rules (committed too late or convicted after the wait).
	Reoffenders        int
	Reoffences         int
	ExcludedReoffences int
	// BinaryRate is Reoffenders / Size; FrequencyRate is Reoffences / Reoffenders
	// (0 when nobody reoffended).
	BinaryRate    float64
	FrequencyRate float64
	// Provisional: convictions may still come in. FinalFrom is when they no longer
	// can: ReoffenceMonths + ConvictionWaitMonths after the last possible member's
	// release, which is the quarter's end (a cohort gains members until then), at
	// the start of that UK day.
	Provisional bool
	FinalFrom   time.Time
}

// Outcomes returns every provider's cohorts, ordered by cohort then provider, with
// provisional flags decided at now.
func Outcomes(r *readmodel.Runner, now time.Time) ([]CohortOutcome, error) {
	return outcomesOf(r, now, "")
}

// outcomesOf is Outcomes of one provider's cohorts, or of every provider's when
// provider is "".
func outcomesOf(r *readmodel.Runner, now time.Time, provider string) ([]CohortOutcome, error) {
	o, err := readmodel.ProjectionOf[*OutcomesProjection](r, OutcomesName)
	if err != nil {
		return nil, err
	}
	months := o.policy.ReoffenceMonths + o.policy.ConvictionWaitMonths
	out := []CohortOutcome{}
	err = r.View(OutcomesName, func(b *bolt.Bucket) error {
		cohorts := b.Bucket(outcomeCohorts)
		if cohorts == nil {
			return nil
		}
		var prefix []byte
		if provider != "" {
			prefix = readmodel.Key(provider)
		}
		return readmodel.ScanPrefix(cohorts, prefix, func(k, v []byte) error {
			if len(k) < 2 || k[len(k)-1] != 0 {
				return fmt.Errorf("%w: outcome cohort key %q", readmodel.ErrCorruptRow, k)
			}
			provider, label, ok := splitKey2(k)
			if !ok {
				return fmt.Errorf("%w: outcome cohort key %q", readmodel.ErrCorruptRow, k)
			}
			c, err := decodeCohort(v)
			if err != nil {
				return err
			}
			next := aggregates.DateOf(c.start.Time().AddDate(0, 3, 0))
			final := aggregates.DateOf(next.Time().AddDate(0, months, 0))
			co := CohortOutcome{Provider: aggregates.Org(provider), Cohort: label, Start: c.start,
				End: next.AddDays(-1), Size: int(c.size), Reoffenders: int(c.reoffenders),
				Reoffences: int(c.counted), ExcludedReoffences: int(c.excluded), FinalFrom: final.StartOfDay()}
			if co.Size > 0 {
				co.BinaryRate = float64(co.Reoffenders) / float64(co.Size)
			}
			if co.Reoffenders > 0 {
				co.FrequencyRate = float64(co.Reoffences) / float64(co.Reoffenders)
			}
			co.Provisional = now.Before(co.FinalFrom)
			out = append(out, co)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b CohortOutcome) int {
		return cmp.Or(cmp.Compare(a.Cohort, b.Cohort), cmp.Compare(a.Provider, b.Provider))
	})
	return out, nil
}

// splitKey2 splits a key made by key(a, b).
func splitKey2(k []byte) (a, b string, ok bool) {
	for i, c := range k[:len(k)-1] {
		if c == 0 {
			return string(k[:i]), string(k[i+1 : len(k)-1]), true
		}
	}
	return "", "", false
}
