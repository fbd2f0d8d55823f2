package projections

import (
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
)

// feeder builds the events a runner would hand the projections, without a store:
// commands are decided by the aggregate, sealed into the hash chain by the event log
// (so metadata and hashes are real), and folded with Evolve for After (a snapshot per
// event; the runner folds in place, which a projection may not tell apart during Apply).
type feeder struct {
	policy aggregates.Policy
	pos    uint64
	n      int
	people map[string]*fedJourney
}

type fedJourney struct {
	j    aggregates.Journey
	head eventlog.Head
}

func newFeeder(policy aggregates.Policy) *feeder {
	return &feeder{policy: policy, people: map[string]*fedJourney{}}
}

// cmd decides c on noms's journey as a user of org and returns the events recorded.
// Events are recorded a second apart from 1 March 2026, after every fact they record.
func (f *feeder) cmd(tb testing.TB, noms, org string, c aggregates.Command) []Event {
	tb.Helper()
	p := f.people[noms]
	if p == nil {
		p = &fedJourney{}
		f.people[noms] = p
	}
	recordedAt := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(f.n) * time.Second)
	evs, err := aggregates.Decide(p.j, c, recordedAt, f.policy)
	if err != nil {
		tb.Fatalf("%s for %s: %v", c.CommandName(), noms, err)
	}
	f.n++
	k := fmt.Sprintf("k-%d", f.n)
	proposed := make([]eventlog.Proposed, len(evs))
	for i, ev := range evs {
		typ, data, err := aggregates.Encode(ev)
		if err != nil {
			tb.Fatal(err)
		}
		proposed[i] = eventlog.Proposed{Type: typ, Data: data, Metadata: eventlog.Metadata{
			Metadata: aggregates.Metadata{UserID: "user-" + org, Role: "STAFF", Organisation: org, OccurredAt: ev.OccurredAt(),
				RecordedAt: recordedAt, Source: aggregates.SourceAPI, CorrelationID: k, IdempotencyKey: k, SchemaVersion: ev.SchemaVersion()},
			Command: c.CommandName()}}
	}
	stream := aggregates.StreamName(noms)
	recs, err := eventlog.Seal(stream, p.head, k, proposed)
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]Event, len(recs))
	for i, rec := range recs {
		f.pos += 100
		after := aggregates.Evolve(p.j, evs[i])
		out[i] = Event{Position: f.pos, Stream: stream, Revision: rec.Revision, ID: rec.ID, Type: rec.Type, Data: rec.Data,
			Metadata: rec.RawMetadata, Recorded: recordedAt, Envelope: rec.Metadata, NOMS: noms, Domain: evs[i],
			After: &after}
		p.j = after
	}
	p.head = eventlog.HeadOf(recs)
	return out
}

// applyDirect applies events to every projection of r in transactions of batch
// events, as the runner does, without a subscription.
func applyDirect(tb testing.TB, r *Runner, evs []Event, batch int) {
	tb.Helper()
	for len(evs) > 0 {
		n := min(batch, len(evs))
		err := r.db.Update(func(tx *bolt.Tx) error {
			for _, s := range r.slots {
				b := tx.Bucket(s.name)
				for i := range evs[:n] {
					if err := s.p.Apply(b, evs[i]); err != nil {
						return err
					}
				}
				if bt, ok := s.p.(Batcher); ok {
					if err := bt.Commit(b); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
		evs = evs[n:]
	}
}

func nomsFor(i int) string {
	return fmt.Sprintf("A%04d%c%c", i%10000, 'A'+byte(i/10000%26), 'A'+byte(i/260000%26))
}

// caseloadPeople records n people received at Moorland in 2019, with risk, release
// dates, a need and an action, handed over to the West Yorkshire CRC (split model).
func caseloadPeople(tb testing.TB, f *feeder, n int) []Event {
	var evs []Event
	for i := range n {
		noms := nomsFor(i)
		t := time.Date(2019, 1, 7, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
		evs = append(evs, f.cmd(tb, noms, "MDI", aggregates.ReceivePrisoner{NOMS: noms, Kind: aggregates.ReceptionSentence, Prison: "MDI", At: t})...)
		evs = append(evs, f.cmd(tb, noms, "MDI", aggregates.AssessRisk{Level: aggregates.RoSHMedium, At: t.Add(time.Hour)})...)
		evs = append(evs, f.cmd(tb, noms, "MDI", aggregates.CompleteScreening{At: t.Add(2 * time.Hour)})...)
		evs = append(evs, f.cmd(tb, noms, "MDI", aggregates.SetReleaseDates{Dates: aggregates.ReleaseDates{ConditionalRelease: aggregates.NewDate(2019, 9, 1+i%28)}, At: t.Add(3 * time.Hour)})...)
		evs = append(evs, f.cmd(tb, noms, "MDI", aggregates.IdentifyNeed{Pathway: aggregates.PathwayAccommodation, Description: "no fixed abode", At: t.Add(4 * time.Hour)})...)
		evs = append(evs, f.cmd(tb, noms, "MDI", aggregates.AgreeAction{ActionID: "acc-1", Pathway: aggregates.PathwayAccommodation, Description: "refer to housing", Due: aggregates.NewDate(2019, 3, 1), At: t.Add(5 * time.Hour)})...)
		evs = append(evs, f.cmd(tb, noms, "MDI", aggregates.ChangeReleaseArea{Area: "C05", At: t.Add(6 * time.Hour)})...)
		evs = append(evs, f.cmd(tb, noms, "C05", aggregates.AcceptHandover{At: t.Add(24 * time.Hour)})...)
	}
	return evs
}

// p99 reports the 99th percentile of durs in milliseconds.
func p99(durs []time.Duration) float64 {
	slices.Sort(durs)
	i := (len(durs)*99+99)/100 - 1
	return float64(durs[min(max(i, 0), len(durs)-1)]) / float64(time.Millisecond)
}

func benchRunner(b *testing.B) *Runner {
	b.Helper()
	r, err := Open(filepath.Join(b.TempDir(), "bench.db"), nil, quiet(), All(testPolicy())...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = r.Close() })
	return r
}

// BenchmarkCaseloadQuery: the caseload of an organisation responsible for 5,000 people.
func BenchmarkCaseloadQuery(b *testing.B) {
	r := benchRunner(b)
	f := newFeeder(testPolicy())
	applyDirect(b, r, caseloadPeople(b, f, 5000), 2000)
	now := time.Date(2019, 7, 1, 9, 0, 0, 0, time.UTC)
	rows, err := Caseload(r, "C05", now)
	if err != nil || len(rows) != 5000 || !rows[0].Attention.Has(AttnActionsOverdue) {
		b.Fatalf("caseload: %d rows, %v (%+v)", len(rows), err, rows[0])
	}
	durs := make([]time.Duration, 0, b.N)
	runtime.GC() // the set-up's garbage is not the query's
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if _, err := Caseload(r, "C05", now); err != nil {
			b.Fatal(err)
		}
		durs = append(durs, time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(p99(durs), "p99-ms")
	b.ReportMetric(float64(durs[len(durs)/2])/float64(time.Millisecond), "p50-ms")
}

// BenchmarkAuditTrail: the trail of a person with 500 events.
func BenchmarkAuditTrail(b *testing.B) {
	r := benchRunner(b)
	f := newFeeder(testPolicy())
	const noms = "A4092EA"
	t := time.Date(2024, 1, 8, 9, 0, 0, 0, time.UTC)
	var evs []Event
	evs = append(evs, f.cmd(b, noms, "MDI", aggregates.ReceivePrisoner{NOMS: noms, Kind: aggregates.ReceptionSentence, Prison: "MDI", At: t})...)
	evs = append(evs, f.cmd(b, noms, "MDI", aggregates.CompleteScreening{At: t.Add(time.Hour)})...)
	evs = append(evs, f.cmd(b, noms, "MDI", aggregates.ReleasePrisoner{Kind: aggregates.ReleaseOnLicence, Prison: "MDI", At: t.Add(24 * time.Hour)})...)
	for i := 0; len(evs) < 500; i++ {
		evs = append(evs, f.cmd(b, noms, "C05", aggregates.RecordSupervisionContact{By: "C05", Kind: "OFFICE_VISIT",
			Note: "attended; discussed accommodation and work", At: t.Add(48*time.Hour + time.Duration(i)*time.Hour)})...)
	}
	applyDirect(b, r, evs, 2000)
	if trail, err := Trail(r, noms); err != nil || len(trail) != 500 {
		b.Fatalf("trail: %d, %v", len(trail), err)
	}
	if trail, _ := Trail(r, noms); trail[0].PreviousHash != "" || trail[499].Hash == "" {
		b.Fatalf("trail hashes: %+v … %+v", trail[0], trail[499])
	} else {
		for i := 1; i < len(trail); i++ {
			if trail[i].PreviousHash != trail[i-1].Hash {
				b.Fatalf("trail row %d does not chain to row %d", i, i-1)
			}
		}
	}
	durs := make([]time.Duration, 0, b.N)
	runtime.GC() // the set-up's garbage is not the query's
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if _, err := Trail(r, noms); err != nil {
			b.Fatal(err)
		}
		durs = append(durs, time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(p99(durs), "p99-ms")
}

// BenchmarkApplyAll: how fast every read model applies already decoded and folded
// events (the runner's decode and fold are not included).
func BenchmarkApplyAll(b *testing.B) {
	f := newFeeder(testPolicy())
	evs := caseloadPeople(b, f, 2000)
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		r := benchRunner(b)
		b.StartTimer()
		applyDirect(b, r, evs, 2000)
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "ev/s")
}
