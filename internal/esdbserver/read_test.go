package esdbserver_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/gateledger/gateledger/internal/esdbserver"
	"github.com/gateledger/gateledger/internal/eventdb"
)

func TestReadStream(t *testing.T) {
	_, c := startNode(t, "")
	evs := events(10, "T")
	mustAppend(t, c, "rs", esdb.NoStream{}, evs...)
	mustAppend(t, c, "other", esdb.NoStream{}, events(3, "T")...)
	cases := []struct {
		name  string
		opts  esdb.ReadStreamOptions
		count uint64
		want  []uint64
	}{
		{"forwards from start", esdb.ReadStreamOptions{}, 100, []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"forwards from start, count", esdb.ReadStreamOptions{From: esdb.Start{}}, 3, []uint64{0, 1, 2}},
		{"forwards from revision", esdb.ReadStreamOptions{From: esdb.Revision(7)}, 100, []uint64{7, 8, 9}},
		{"forwards from revision, count", esdb.ReadStreamOptions{From: esdb.Revision(4)}, 2, []uint64{4, 5}},
		{"forwards from past the end", esdb.ReadStreamOptions{From: esdb.Revision(50)}, 100, nil},
		{"forwards from end", esdb.ReadStreamOptions{From: esdb.End{}}, 100, nil},
		{"backwards from end", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 100, []uint64{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
		{"backwards from end, count", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 2, []uint64{9, 8}},
		{"backwards from revision", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.Revision(3)}, 100, []uint64{3, 2, 1, 0}},
		{"backwards from revision, count", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.Revision(5)}, 2, []uint64{5, 4}},
		{"backwards from past the end", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.Revision(50)}, 3, []uint64{9, 8, 7}},
		{"backwards from start", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.Start{}}, 100, []uint64{0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := mustRead(t, c, "rs", tc.opts, tc.count)
			if !slices.Equal(revisions(got), tc.want) {
				t.Fatalf("revisions %v, want %v", revisions(got), tc.want)
			}
			for _, e := range got {
				if e.Event.StreamID != "rs" || e.Event.EventID != evs[e.Event.EventNumber].EventID {
					t.Fatalf("event %d is %s of %s", e.Event.EventNumber, e.Event.EventID, e.Event.StreamID)
				}
			}
		})
	}
}

// TestReadStreamLong reads a stream longer than one page of the server in both directions.
func TestReadStreamLong(t *testing.T) {
	_, c := startNode(t, "")
	const n = 1300
	for i := 0; i < n; i += 100 {
		mustAppend(t, c, "long", esdb.Any{}, events(100, "T")...)
	}
	fw := mustRead(t, c, "long", esdb.ReadStreamOptions{}, n+10)
	bw := mustRead(t, c, "long", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, n+10)
	if len(fw) != n || len(bw) != n {
		t.Fatalf("read %d forwards and %d backwards, want %d", len(fw), len(bw), n)
	}
	for i := range n {
		if fw[i].Event.EventNumber != uint64(i) || bw[i].Event.EventNumber != uint64(n-1-i) {
			t.Fatalf("at %d: forwards %d, backwards %d", i, fw[i].Event.EventNumber, bw[i].Event.EventNumber)
		}
	}
	part := mustRead(t, c, "long", esdb.ReadStreamOptions{From: esdb.Revision(100)}, 700)
	if len(part) != 700 || part[0].Event.EventNumber != 100 || part[699].Event.EventNumber != 799 {
		t.Fatalf("count 700 from 100: %d events", len(part))
	}
}

func TestReadStreamNotFoundAndDeleted(t *testing.T) {
	_, c := startNode(t, "")
	_, err := readStream(t, c, "nowhere", esdb.ReadStreamOptions{}, 10)
	wantCode(t, err, esdb.ErrorCodeResourceNotFound, "read a stream never written")
	_, err = readStream(t, c, "nowhere", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 10)
	wantCode(t, err, esdb.ErrorCodeResourceNotFound, "read backwards a stream never written")

	stateTombstoned.prepare(t, c, "tomb")
	for _, dir := range []esdb.Direction{esdb.Forwards, esdb.Backwards} {
		_, err = readStream(t, c, "tomb", esdb.ReadStreamOptions{Direction: dir}, 10)
		wantCode(t, err, esdb.ErrorCodeStreamDeleted, "read a tombstoned stream")
	}

	stateSoftDeleted.prepare(t, c, "soft")
	for _, dir := range []esdb.Direction{esdb.Forwards, esdb.Backwards} {
		_, err = readStream(t, c, "soft", esdb.ReadStreamOptions{Direction: dir}, 10)
		wantCode(t, err, esdb.ErrorCodeResourceNotFound, "read a soft-deleted stream")
	}
}

// TestSoftDeleteThenAppend: revisions continue after a soft delete, and reads return only
// what was written after it.
func TestSoftDeleteThenAppend(t *testing.T) {
	_, c := startNode(t, "")
	mustAppend(t, c, "sd", esdb.NoStream{}, events(2, "Old")...)
	if _, err := c.DeleteStream(ctxT(t), "sd", esdb.DeleteStreamOptions{ExpectedRevision: esdb.Revision(1)}); err != nil {
		t.Fatal(err)
	}
	fresh := events(2, "New")
	res := mustAppend(t, c, "sd", esdb.Any{}, fresh...)
	if res.NextExpectedVersion != 3 {
		t.Fatalf("next expected version %d, want 3", res.NextExpectedVersion)
	}
	for _, opts := range []esdb.ReadStreamOptions{{}, {Direction: esdb.Backwards, From: esdb.End{}}} {
		got := mustRead(t, c, "sd", opts, 100)
		slices.SortFunc(got, func(a, b *esdb.ResolvedEvent) int { return int(a.Event.EventNumber) - int(b.Event.EventNumber) })
		if !slices.Equal(revisions(got), []uint64{2, 3}) || !slices.Equal(ids(got), dataIDs(fresh)) {
			t.Fatalf("read %v, want revisions 2 and 3 of the new events", revisions(got))
		}
	}
	// The next write continues from there with an exact revision.
	mustAppend(t, c, "sd", esdb.Revision(3), events(1, "Next")...)
	// Reading from a deleted revision starts at the first visible one.
	got := mustRead(t, c, "sd", esdb.ReadStreamOptions{From: esdb.Revision(0)}, 100)
	if !slices.Equal(revisions(got), []uint64{2, 3, 4}) {
		t.Fatalf("read from 0: %v, want [2 3 4]", revisions(got))
	}
	// A second soft delete and a write again.
	if _, err := c.DeleteStream(ctxT(t), "sd", esdb.DeleteStreamOptions{ExpectedRevision: esdb.Revision(4)}); err != nil {
		t.Fatal(err)
	}
	res = mustAppend(t, c, "sd", esdb.NoStream{}, events(1, "Again")...)
	if res.NextExpectedVersion != 5 {
		t.Fatalf("after the second delete: next expected version %d, want 5", res.NextExpectedVersion)
	}
}

func TestStreamMetadataRoundTrip(t *testing.T) {
	_, c := startNode(t, "")
	mustAppend(t, c, "m", esdb.NoStream{}, events(1, "T")...)
	got, err := c.GetStreamMetadata(ctxT(t), "m", esdb.ReadStreamOptions{})
	if err != nil {
		// No metadata yet: a real node answers stream not found for $$m.
		wantCode(t, err, esdb.ErrorCodeResourceNotFound, "metadata of a stream without any")
	} else if got.MaxCount() != nil {
		t.Fatalf("metadata before any was set: %+v", got)
	}
	var meta esdb.StreamMetadata
	meta.SetMaxCount(5)
	meta.SetMaxAge(2 * time.Hour)
	meta.AddCustomProperty("owner", "team-a")
	res, err := c.SetStreamMetadata(ctxT(t), "m", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, meta)
	if err != nil {
		t.Fatal(err)
	}
	if res.NextExpectedVersion != 0 {
		t.Fatalf("first metadata write got revision %d", res.NextExpectedVersion)
	}
	got, err = c.GetStreamMetadata(ctxT(t), "m", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}})
	if err != nil {
		t.Fatal(err)
	}
	if got.MaxCount() == nil || *got.MaxCount() != 5 || got.MaxAge() == nil || *got.MaxAge() != 2*time.Hour || got.CustomProperty("owner") != "team-a" {
		t.Fatalf("metadata read back = maxCount %v maxAge %v owner %v", got.MaxCount(), got.MaxAge(), got.CustomProperty("owner"))
	}
	// Metadata writes take expected revisions like any stream.
	_, err = c.SetStreamMetadata(ctxT(t), "m", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, meta)
	wantCode(t, err, esdb.ErrorCodeWrongExpectedVersion, "second metadata write expecting no stream")
	raw := mustRead(t, c, "$$m", esdb.ReadStreamOptions{}, 10)
	if len(raw) != 1 || raw[0].Event.EventType != "$metadata" {
		t.Fatalf("$$m holds %d events", len(raw))
	}
}

func TestMaxCount(t *testing.T) {
	_, c := startNode(t, "")
	mustAppend(t, c, "mc", esdb.NoStream{}, events(10, "T")...)
	var meta esdb.StreamMetadata
	meta.SetMaxCount(3)
	if _, err := c.SetStreamMetadata(ctxT(t), "mc", esdb.AppendToStreamOptions{}, meta); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, c, "mc", esdb.ReadStreamOptions{}, 100); !slices.Equal(revisions(got), []uint64{7, 8, 9}) {
		t.Fatalf("forwards: %v, want [7 8 9]", revisions(got))
	}
	if got := mustRead(t, c, "mc", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 100); !slices.Equal(revisions(got), []uint64{9, 8, 7}) {
		t.Fatalf("backwards: %v, want [9 8 7]", revisions(got))
	}
	if got := mustRead(t, c, "mc", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.Revision(5)}, 100); len(got) != 0 {
		t.Fatalf("backwards from a revision past $maxCount: %v, want nothing", revisions(got))
	}
	mustAppend(t, c, "mc", esdb.Revision(9), events(2, "T")...)
	if got := mustRead(t, c, "mc", esdb.ReadStreamOptions{}, 100); !slices.Equal(revisions(got), []uint64{9, 10, 11}) {
		t.Fatalf("after more appends: %v, want [9 10 11]", revisions(got))
	}
	// Raising the limit brings older events back, as they were never scavenged.
	meta.SetMaxCount(100)
	if _, err := c.SetStreamMetadata(ctxT(t), "mc", esdb.AppendToStreamOptions{}, meta); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, c, "mc", esdb.ReadStreamOptions{}, 100); len(got) != 12 {
		t.Fatalf("after raising $maxCount: %d events, want 12", len(got))
	}
}

// clock is a settable time source for the store.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestMaxAge(t *testing.T) {
	clk := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	_, c := startNodeWith(t, esdbserver.NodeConfig{Store: eventdb.Options{Now: clk.Now}})
	mustAppend(t, c, "ma", esdb.NoStream{}, events(3, "Old")...)
	clk.Advance(2 * time.Hour)
	recent := events(2, "Recent")
	mustAppend(t, c, "ma", esdb.Revision(2), recent...)
	var meta esdb.StreamMetadata
	meta.SetMaxAge(time.Hour)
	if _, err := c.SetStreamMetadata(ctxT(t), "ma", esdb.AppendToStreamOptions{}, meta); err != nil {
		t.Fatal(err)
	}
	got := mustRead(t, c, "ma", esdb.ReadStreamOptions{}, 100)
	if !slices.Equal(ids(got), dataIDs(recent)) {
		t.Fatalf("forwards: revisions %v, want only the 2 recent events (3, 4)", revisions(got))
	}
	if got[0].Event.CreatedDate.Sub(clk.Now()).Abs() > time.Second {
		t.Errorf("created %v, store clock %v", got[0].Event.CreatedDate, clk.Now())
	}
	got = mustRead(t, c, "ma", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 100)
	if !slices.Equal(revisions(got), []uint64{4, 3}) {
		t.Fatalf("backwards: %v, want [4 3]", revisions(got))
	}
	clk.Advance(2 * time.Hour)
	if got := mustRead(t, c, "ma", esdb.ReadStreamOptions{}, 100); len(got) != 0 {
		t.Fatalf("once every event is too old: %v, want none", revisions(got))
	}
	// The stream still exists: appends continue its revisions.
	res := mustAppend(t, c, "ma", esdb.Revision(4), events(1, "New")...)
	if res.NextExpectedVersion != 5 {
		t.Fatalf("next expected version %d, want 5", res.NextExpectedVersion)
	}
}

// fillAll appends to a few streams in an interleaved order and returns the events as
// appended.
func fillAll(t *testing.T, c *esdb.Client, n int) []esdb.EventData {
	t.Helper()
	var all []esdb.EventData
	streams := []string{"a-1", "b-1", "a-2"}
	for i := range n {
		ev := jsonEvent("T"+streams[i%3][:1], i)
		mustAppend(t, c, streams[i%3], esdb.Any{}, ev)
		all = append(all, ev)
	}
	return all
}

func TestReadAll(t *testing.T) {
	_, c := startNode(t, "")
	appended := fillAll(t, c, 30)
	fw := userEvents(readAll(t, c, esdb.ReadAllOptions{}, 1000))
	if !slices.Equal(ids(fw), dataIDs(appended)) {
		t.Fatalf("$all forwards holds %d user events out of order, want the %d appended in order", len(fw), len(appended))
	}
	next := map[string]uint64{}
	for i, e := range fw {
		if i > 0 && e.Event.Position.Commit <= fw[i-1].Event.Position.Commit {
			t.Fatalf("positions not increasing at %d: %d after %d", i, e.Event.Position.Commit, fw[i-1].Event.Position.Commit)
		}
		if e.Event.Position.Commit != e.Event.Position.Prepare {
			t.Fatalf("commit %d != prepare %d", e.Event.Position.Commit, e.Event.Position.Prepare)
		}
		if e.Event.EventNumber != next[e.Event.StreamID] {
			t.Fatalf("%s: revision %d, want %d", e.Event.StreamID, e.Event.EventNumber, next[e.Event.StreamID])
		}
		next[e.Event.StreamID]++
		if e.Commit == nil || *e.Commit != e.Event.Position.Commit {
			t.Fatalf("resolved event commit position %v, event position %d", e.Commit, e.Event.Position.Commit)
		}
	}
	bw := userEvents(readAll(t, c, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1000))
	slices.Reverse(bw)
	if !slices.Equal(ids(bw), ids(fw)) {
		t.Fatalf("$all backwards is not forwards reversed")
	}
	k := 10
	pos := esdb.Position{Commit: fw[k].Event.Position.Commit, Prepare: fw[k].Event.Position.Prepare}
	cases := []struct {
		name  string
		opts  esdb.ReadAllOptions
		count uint64
		want  []*esdb.ResolvedEvent
	}{
		{"forwards from start, count", esdb.ReadAllOptions{From: esdb.Start{}}, 5, fw[:5]},
		{"forwards from position (inclusive)", esdb.ReadAllOptions{From: pos}, 3, fw[k : k+3]},
		{"backwards from position (exclusive)", esdb.ReadAllOptions{Direction: esdb.Backwards, From: pos}, 3, []*esdb.ResolvedEvent{fw[k-1], fw[k-2], fw[k-3]}},
		{"backwards from end, count", esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 2, []*esdb.ResolvedEvent{fw[len(fw)-1], fw[len(fw)-2]}},
		{"forwards from end", esdb.ReadAllOptions{From: esdb.End{}}, 10, nil},
		{"backwards from start", esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.Start{}}, 10, nil},
		{"forwards from position 0", esdb.ReadAllOptions{From: esdb.Position{}}, 1, fw[:1]},
		{"forwards from past the end", esdb.ReadAllOptions{From: esdb.Position{Commit: fw[len(fw)-1].Event.Position.Commit + 1, Prepare: fw[len(fw)-1].Event.Position.Commit + 1}}, 10, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := readAll(t, c, tc.opts, tc.count)
			if !slices.Equal(ids(got), ids(tc.want)) {
				t.Fatalf("got %d events %v, want %d %v", len(got), ids(got), len(tc.want), ids(tc.want))
			}
		})
	}
}

// TestReadAllLong reads $all across many server pages, including large events.
func TestReadAllLong(t *testing.T) {
	_, c := startNode(t, "")
	const n = 1500
	for i := 0; i < n; i += 250 {
		mustAppend(t, c, "long-all", esdb.Any{}, events(250, "T")...)
	}
	big := make([]esdb.EventData, 3)
	for i := range big {
		big[i] = esdb.EventData{EventID: jsonEvent("B", 0).EventID, EventType: "Big", ContentType: esdb.ContentTypeBinary, Data: make([]byte, 3<<20)}
	}
	mustAppend(t, c, "long-all", esdb.Any{}, big...)
	fw := userEvents(readAll(t, c, esdb.ReadAllOptions{}, 100000))
	if len(fw) != n+len(big) {
		t.Fatalf("forwards: %d events, want %d", len(fw), n+len(big))
	}
	for i, e := range fw {
		if e.Event.EventNumber != uint64(i) {
			t.Fatalf("event %d has revision %d", i, e.Event.EventNumber)
		}
	}
	bw := userEvents(readAll(t, c, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 100000))
	if len(bw) != len(fw) {
		t.Fatalf("backwards: %d events, want %d", len(bw), len(fw))
	}
}
