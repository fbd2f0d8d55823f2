package projections

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/folds"
	"github.com/gateledger/gateledger/internal/journeygen"
	"github.com/gateledger/gateledger/projections/readmodel"
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
func (f *feeder) cmd(tb testing.TB, noms, org string, c aggregates.Command) []readmodel.Event {
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
	out := make([]readmodel.Event, len(recs))
	for i, rec := range recs {
		f.pos += 100
		after := aggregates.Evolve(p.j, evs[i])
		out[i] = readmodel.Event{Position: f.pos, Stream: stream, Revision: rec.Revision, ID: rec.ID, Type: rec.Type, Data: rec.Data,
			Metadata: rec.RawMetadata, Recorded: recordedAt, Decoded: folds.Decoded{Envelope: rec.Metadata, NOMS: noms, Domain: evs[i]},
			After: &after}
		p.j = after
	}
	p.head = eventlog.HeadOf(recs)
	return out
}

// applyDirect applies events to every projection of r in transactions of batch
// events, as the runner does, without a subscription.
func applyDirect(tb testing.TB, r *readmodel.Runner, evs []readmodel.Event, batch int) {
	tb.Helper()
	for len(evs) > 0 {
		n := min(batch, len(evs))
		err := r.Update(func(ps []readmodel.Projection, buckets []*bolt.Bucket) error {
			for k, p := range ps {
				b := buckets[k]
				for i := range evs[:n] {
					if err := p.Apply(b, &evs[i]); err != nil {
						return err
					}
				}
				if bt, ok := p.(readmodel.Batcher); ok {
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
func caseloadPeople(tb testing.TB, f *feeder, n int) []readmodel.Event {
	var evs []readmodel.Event
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

func benchRunner(b *testing.B) *readmodel.Runner {
	b.Helper()
	r, err := readmodel.Open(filepath.Join(b.TempDir(), "bench.db"), nil, quiet(), All(testPolicy())...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = r.Close() })
	return r
}

// BenchmarkCaseloadQuery: the caseload of an organisation responsible for 5,000 people
// (NPS-C: since 26 June 2021 a CRC's cases are its region's).
func BenchmarkCaseloadQuery(b *testing.B) {
	r := benchRunner(b)
	f := newFeeder(testPolicy())
	applyDirect(b, r, caseloadPeople(b, f, 5000), 2000)
	now := time.Date(2019, 7, 1, 9, 0, 0, 0, time.UTC)
	rows, err := Caseload(r, "NPS-C", now)
	if err != nil || len(rows) != 5000 || !rows[0].Attention.Has(AttnActionsOverdue) {
		b.Fatalf("caseload: %d rows, %v (%+v)", len(rows), err, rows[0])
	}
	durs := make([]time.Duration, 0, b.N)
	runtime.GC() // the set-up's garbage is not the query's
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if _, err := Caseload(r, "NPS-C", now); err != nil {
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
	var evs []readmodel.Event
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

// genEvents builds the events of generated journeys (journeygen, seed 42 over four years,
// as the rebuild benchmark writes them) until there are at least n, interleaved as
// journeygen.Writer stores them (six steps of every journey per round), each sealed into
// its stream's hash chain with the envelope the writer gives it. Domain is set; After is
// left to applyFolded, and the stored bytes (Data, Metadata) are left out: no
// projection reads them, and 200,000 of them would dominate the benchmark's memory.
func genEvents(tb testing.TB, n int) []readmodel.Event {
	tb.Helper()
	genMu.Lock()
	defer genMu.Unlock()
	if evs, ok := genCache[n]; ok {
		return evs
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	g := journeygen.New(42, now, 4*365*24*time.Hour, testPolicy())
	var js []journeygen.Journey
	for total := 0; total < n; {
		j := g.Journey(len(js))
		js = append(js, j)
		total += j.EventCount()
	}
	const per = 6
	heads := make([]eventlog.Head, len(js))
	evs := make([]readmodel.Event, 0, n+n/8)
	var pos uint64
	for round, more := 0, true; more; round++ {
		more = false
		for i, j := range js {
			steps := j.Steps[min(len(j.Steps), round*per):min(len(j.Steps), (round+1)*per)]
			if len(steps) == 0 {
				continue
			}
			more = true
			key := fmt.Sprintf("gen:%s:%d", j.NOMS, round)
			var proposed []eventlog.Proposed
			var domain []aggregates.Event
			for k, st := range steps {
				skey := fmt.Sprintf("%s:%d", key, k)
				for _, ev := range st.Events {
					occurred := ev.OccurredAt()
					if occurred.IsZero() {
						occurred = st.At
					}
					typ, data, err := aggregates.Encode(ev)
					if err != nil {
						tb.Fatal(err)
					}
					proposed = append(proposed, eventlog.Proposed{Type: typ, Data: data, Metadata: eventlog.Metadata{
						Metadata: aggregates.Metadata{UserID: st.Actor.UserID, Role: st.Actor.Role, Organisation: st.Actor.Organisation,
							OccurredAt: occurred, RecordedAt: st.At.Add(90 * time.Second), Source: st.Actor.Source,
							CorrelationID: skey, IdempotencyKey: skey, SchemaVersion: ev.SchemaVersion()},
						Command: st.Command.CommandName()}})
					domain = append(domain, ev)
				}
			}
			stream := aggregates.StreamName(j.NOMS)
			recs, err := eventlog.Seal(stream, heads[i], key, proposed)
			if err != nil {
				tb.Fatal(err)
			}
			heads[i] = eventlog.HeadOf(recs)
			for k, rec := range recs {
				pos += 200
				evs = append(evs, readmodel.Event{Position: pos, Stream: stream, Revision: rec.Revision, ID: rec.ID, Type: rec.Type,
					Recorded: rec.Metadata.RecordedAt, Decoded: folds.Decoded{Envelope: rec.Metadata, NOMS: j.NOMS, Domain: domain[k]}})
			}
		}
	}
	genCache[n] = evs
	return evs
}

var (
	genMu    sync.Mutex
	genCache = map[int][]readmodel.Event{}
)

// applyFolded applies events to every projection of r as the runner does: in
// transactions of batch events, each event to every projection in turn, with the
// person's journey folded in place just before (After points at it, so a Batcher that
// keeps it sees the person's latest state at Commit).
func applyFolded(tb testing.TB, r *readmodel.Runner, evs []readmodel.Event, batch int) {
	tb.Helper()
	folds := map[string]*aggregates.Journey{}
	for len(evs) > 0 {
		n := min(batch, len(evs))
		err := r.Update(func(ps []readmodel.Projection, buckets []*bolt.Bucket) error {
			for i := range evs[:n] {
				ev := evs[i]
				j := folds[ev.NOMS]
				if j == nil {
					j = &aggregates.Journey{}
					folds[ev.NOMS] = j
				}
				aggregates.Fold(j, ev.Domain)
				ev.After = j
				for k, p := range ps {
					if err := p.Apply(buckets[k], &ev); err != nil {
						return fmt.Errorf("%s at %d: %w", p.Name(), ev.Position, err)
					}
				}
			}
			for k, p := range ps {
				if bt, ok := p.(readmodel.Batcher); ok {
					if err := bt.Commit(buckets[k]); err != nil {
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

// benchApplyEvents is how many generated events BenchmarkApplyAll applies.
const benchApplyEvents = 200_000

// BenchmarkApplyAll: how fast every read model applies 200,000 decoded events of
// generated journeys (the runner's decode is not included; its in-place fold is, as
// applyFolded does it), and what it costs the disk: written-MB is the bytes the process
// passed to write calls while applying (bbolt's pages and meta pages), state-MB the
// file's size at the end.
func BenchmarkApplyAll(b *testing.B) {
	evs := genEvents(b, benchApplyEvents)
	var written, size float64
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		r := benchRunner(b)
		runtime.GC()
		w0 := procWritten()
		b.StartTimer()
		applyFolded(b, r, evs, 2000)
		b.StopTimer()
		written += float64(procWritten() - w0)
		if fi, err := os.Stat(r.Path()); err == nil {
			size += float64(fi.Size())
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "ev/s")
	b.ReportMetric(written/float64(b.N)/1e6, "written-MB")
	b.ReportMetric(size/float64(b.N)/1e6, "state-MB")
}

// procWritten is how many bytes the process has passed to write calls so far
// (/proc/self/io wchar; 0 where there is none).
func procWritten() int64 {
	raw, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// BenchmarkCaseloadPage: one page (the default 50, closed cases hidden) of an
// organisation responsible for 50,000 people (NPS-C: the probation service holds the
// cases of 2019 receptions with a release area), in each order.
func BenchmarkCaseloadPage(b *testing.B) {
	r := benchRunner(b)
	f := newFeeder(testPolicy())
	applyDirect(b, r, caseloadPeople(b, f, 50_000), 5000)
	now := time.Date(2019, 7, 1, 9, 0, 0, 0, time.UTC)
	if n, err := CaseloadCount(r, "NPS-C"); err != nil || n != 50_000 {
		b.Fatalf("caseload: %d rows, %v", n, err)
	}
	for _, s := range []CaseSort{SortNOMS, SortReleaseDate, SortDeadline} {
		b.Run(string(s), func(b *testing.B) {
			q := CaseQuery{Org: "NPS-C", Now: now, Sort: s}
			first, err := CaseloadPage(r, q)
			if err != nil || len(first.Rows) != DefaultPageSize || first.Next == "" {
				b.Fatalf("page: %d rows, %v", len(first.Rows), err)
			}
			q.After = first.Next // a page in the middle of the walk
			durs := make([]time.Duration, 0, b.N)
			runtime.GC()
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				if _, err := CaseloadPage(r, q); err != nil {
					b.Fatal(err)
				}
				durs = append(durs, time.Since(start))
			}
			b.StopTimer()
			b.ReportMetric(p99(durs), "p99-ms")
		})
	}
}
