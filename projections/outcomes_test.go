package projections

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventlog/eventlogtest"
	"github.com/gateledger/gateledger/internal/journeygen"
	"github.com/gateledger/gateledger/projections/readmodel"
)

// Every figure of the outcomes read model is reproducible from the events: generated
// journeys over ten years (both allocation models) are written to a store and
// projected, and the binary and frequency rates by provider and UK quarter are
// recomputed here from the journeys' events, with the membership and counting rules
// written out again rather than taken from the projection.
func TestOutcomesRecomputedFromEvents(t *testing.T) {
	people := 600
	if testing.Short() {
		people = 200
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	store := eventlogtest.Store(t)
	policy := testPolicy()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	// Receptions from late 2016 on: every release is after the plausible-date floor,
	// and cohorts fall on both sides of 26 June 2021.
	g := journeygen.New(23, now, 10*365*24*time.Hour, policy)
	js := make([]journeygen.Journey, people)
	for i := range js {
		js[i] = g.Journey(i)
	}

	r, err := readmodel.Open(filepath.Join(t.TempDir(), "projections.db"), store.Client, quiet(), NewOutcomes(policy))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	stop := run(t, r)
	defer stop()
	if err := (&journeygen.Writer{Client: store.Client}).Write(ctx, js); err != nil {
		t.Fatal(err)
	}
	last, err := eventlog.LastPosition(ctx, store.Client)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.WaitFor(ctx, OutcomesName, last); err != nil {
		t.Fatal(err)
	}
	got, err := Outcomes(r, now)
	if err != nil {
		t.Fatal(err)
	}

	want, seen := recomputeOutcomes(t, js, policy)
	if seen.remandDischarges == 0 || seen.members == 0 || seen.reoffences == 0 || seen.splitCohorts == 0 || seen.unifiedCohorts == 0 {
		t.Fatalf("the generated history lacks a case: %+v", seen)
	}
	if len(got) != len(want) {
		t.Fatalf("%d cohorts projected, %d recomputed", len(got), len(want))
	}
	for _, co := range got {
		if !co.Provider.IsProvider() {
			t.Errorf("%s %s: a provider that is not a probation organisation", co.Provider, co.Cohort)
		}
		if !aggregates.OrgExistsOn(co.Provider, co.Start) && !aggregates.OrgExistsOn(co.Provider, co.End) {
			t.Errorf("%s %s: provider does not exist in the quarter", co.Provider, co.Cohort)
		}
		w, ok := want[string(co.Provider)+" "+co.Cohort]
		if !ok {
			t.Errorf("projected cohort %s %s not recomputed", co.Provider, co.Cohort)
			continue
		}
		if co.Size != w.size || co.Reoffenders != w.reoffenders || co.Reoffences != w.reoffences || co.ExcludedReoffences != w.excluded ||
			!sameRate(co.BinaryRate, w.binary()) || !sameRate(co.FrequencyRate, w.frequency()) {
			t.Errorf("%s %s: projected %+v, recomputed %+v (binary %.4f, frequency %.4f)", co.Provider, co.Cohort, co, w, w.binary(), w.frequency())
		}
	}
}

type recomputed struct{ size, reoffenders, reoffences, excluded int }

func (c recomputed) binary() float64 {
	if c.size == 0 {
		return 0
	}
	return float64(c.reoffenders) / float64(c.size)
}

func (c recomputed) frequency() float64 {
	if c.reoffenders == 0 {
		return 0
	}
	return float64(c.reoffences) / float64(c.reoffenders)
}

func sameRate(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

type coverage struct{ remandDischarges, members, reoffences, splitCohorts, unifiedCohorts int }

// recomputeOutcomes folds each journey's events and measures cohorts the long way:
// the UK quarter from a separately loaded Europe/London, membership as "released into
// the community (licence, HDC, sentence end or discharge) from a sentence or recall",
// and a reoffence counted when committed from the release's UK date to 12 months
// after and convicted within 18 months.
func recomputeOutcomes(t *testing.T, js []journeygen.Journey, policy aggregates.Policy) (map[string]recomputed, coverage) {
	t.Helper()
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	ukDay := func(at time.Time) time.Time {
		y, m, d := at.In(london).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	community := map[aggregates.ReleaseKind]bool{aggregates.ReleaseOnLicence: true, aggregates.ReleaseHDC: true,
		aggregates.ReleaseSentenceEnd: true, aggregates.ReleaseDischarged: true}
	type release struct {
		key       string // provider and quarter; "" when in no cohort
		reoffends bool
	}
	out := map[string]recomputed{}
	var cov coverage
	for _, jn := range js {
		var j aggregates.Journey
		reception := aggregates.ReceptionKind("")
		sentenced := false
		releases := map[time.Time]*release{}
		for _, step := range jn.Steps {
			for _, ev := range step.Events {
				j = aggregates.Evolve(j, ev)
				switch e := ev.(type) {
				case aggregates.PrisonerReceived:
					if !e.Late {
						reception = e.Kind
						if e.Kind != aggregates.ReceptionRecall {
							sentenced = false
						}
					}
				case aggregates.PrisonerSentenced:
					// A remand prisoner sentenced before release is a
					// sentenced prisoner (issue 13).
					sentenced = true
				case aggregates.PrisonerReleased:
					if e.Late {
						continue
					}
					rel := &release{}
					releases[e.At] = rel
					if reception == aggregates.ReceptionRemand && !sentenced {
						cov.remandDischarges++
						continue
					}
					if !community[e.Kind] {
						continue
					}
					provider := j.CohortProvider(policy, e.At)
					if provider == "" {
						t.Fatalf("%s: no provider at release %s", jn.NOMS, e.At)
					}
					d := ukDay(e.At)
					rel.key = fmt.Sprintf("%s %04d-Q%d", provider, d.Year(), (int(d.Month())-1)/3+1)
					if provider.Kind() == aggregates.OrgNPSRegion {
						cov.unifiedCohorts++
					} else {
						cov.splitCohorts++
					}
					c := out[rel.key]
					c.size++
					out[rel.key] = c
					cov.members++
				case aggregates.ProvenReoffenceRecorded:
					rel := releases[e.ReleasedAt]
					if rel == nil {
						t.Fatalf("%s: reoffence after an unknown release", jn.NOMS)
					}
					if rel.key == "" {
						continue
					}
					cov.reoffences++
					released := ukDay(e.ReleasedAt)
					offence, conviction := e.OffenceDate.Time(), e.ConvictionDate.Time()
					c := out[rel.key]
					if !offence.Before(released) && !offence.After(ukDay(e.ReleasedAt.AddDate(1, 0, 0))) &&
						!conviction.After(ukDay(e.ReleasedAt.AddDate(1, 6, 0))) {
						c.reoffences++
						if !rel.reoffends {
							rel.reoffends = true
							c.reoffenders++
						}
					} else {
						c.excluded++
					}
					out[rel.key] = c
				}
			}
		}
	}
	return out, cov
}
