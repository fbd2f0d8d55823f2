package folds_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog/eventlogtest"
	"github.com/gateledger/gateledger/folds"
	"github.com/gateledger/gateledger/internal/journeygen"
)

// holds reports whether c holds exactly f as the fold of its person at f.Next: At
// answers with the held fold itself, and reads nothing (no store is needed).
func holds(t *testing.T, c *folds.Cache, f *folds.Fold) bool {
	t.Helper()
	got, err := c.At(context.Background(), f.NOMS, f.Stream, f.Next)
	if err != nil {
		t.Fatal(err)
	}
	return got == f
}

// The cache is bounded: past max people, the least recently used is the one let go.
// Both Put and At count as use. No store is needed: every fold here stands at revision
// 0, which At answers without reading.
func TestCacheIsBoundedLeastRecentlyUsedOut(t *testing.T) {
	tests := []struct {
		name string
		max  int
		// given these steps ("put X" or "use X"),
		steps []string
		// then the cache holds these, and the one named gone is not held.
		held []string
		gone string
	}{
		{name: "under the bound nothing goes", max: 3, steps: []string{"put A", "put B"}, held: []string{"A", "B"}},
		{name: "the first put is the first out", max: 3, steps: []string{"put A", "put B", "put C", "put D"},
			held: []string{"B", "C", "D"}, gone: "A"},
		{name: "a use keeps a fold in", max: 3, steps: []string{"put A", "put B", "put C", "use A", "put D"},
			held: []string{"A", "C", "D"}, gone: "B"},
		{name: "a put again keeps a fold in", max: 3, steps: []string{"put A", "put B", "put C", "put A", "put D", "put E"},
			held: []string{"A", "D", "E"}, gone: "C"},
		{name: "a bound of one keeps the last", max: 1, steps: []string{"put A", "put B", "use B", "put C"},
			held: []string{"C"}, gone: "B"},
		{name: "many more people than the bound", max: 2,
			steps: []string{"put A", "put B", "put C", "put D", "put E", "use D", "put F"}, held: []string{"D", "F"}, gone: "E"},
		{name: "a bound of zero holds none", max: 0, steps: []string{"put A", "put B"}, gone: "B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := folds.NewCache(nil, tt.max)
			put := map[string]*folds.Fold{}
			for _, s := range tt.steps {
				op, who, _ := strings.Cut(s, " ")
				switch op {
				case "put":
					put[who] = &folds.Fold{NOMS: who, Stream: aggregates.StreamName(who)}
					c.Put(put[who])
				case "use":
					if !holds(t, c, put[who]) {
						t.Fatalf("%s: %s is not held", s, who)
					}
				}
			}
			if c.Len() != len(tt.held) {
				t.Fatalf("Len() = %d, want %d", c.Len(), len(tt.held))
			}
			for _, who := range tt.held {
				if !holds(t, c, put[who]) {
					t.Errorf("%s is not held", who)
				}
			}
			if tt.gone != "" && holds(t, c, put[tt.gone]) {
				t.Errorf("%s is still held", tt.gone)
			}
			if c.Len() > max(tt.max, 0) {
				t.Errorf("Len() = %d over the bound %d", c.Len(), tt.max)
			}
		})
	}
}

// Drop forgets one person and no other.
func TestCacheDrop(t *testing.T) {
	c := folds.NewCache(nil, 4)
	a, b := &folds.Fold{NOMS: "A"}, &folds.Fold{NOMS: "B"}
	c.Put(a)
	c.Put(b)
	c.Drop("A")
	c.Drop("nobody")
	if c.Len() != 1 || !holds(t, c, b) || holds(t, c, a) {
		t.Fatalf("after Drop(A): Len %d, B held %v", c.Len(), holds(t, c, b))
	}
}

// Put holds the fold given in place of any other of the person's, older or newer, as
// it documents: the runner rebuilding from an earlier checkpoint goes on from the fold
// At refolded for it. It is Stream that never lets an older read replace a newer
// (TestStreamKeepsTheLaterRead).
func TestPutReplacesThePersonsFold(t *testing.T) {
	c := folds.NewCache(nil, 4)
	newer := &folds.Fold{NOMS: "A", Next: 0}
	c.Put(newer)
	newer.Next = 7 // fed in place past revision 6
	older := &folds.Fold{NOMS: "A", Next: 0}
	c.Put(older)
	if c.Len() != 1 || !holds(t, c, older) {
		t.Fatal("the fold put last is not the one held")
	}
}

// At(noms, stream, rev) is the journey just before revision rev, whatever the cache
// holds of the person: the held fold itself when it stands at rev (no read), else one
// folded again from the store, which is then held.
func TestAtIsTheJourneyBeforeRevision(t *testing.T) {
	ctx := context.Background()
	store := eventlogtest.Store(t)
	record(t, writer(store, &clock{now: later}), "w", history...)
	evs := stored(t, store, noms)
	stream := aggregates.StreamName(noms)
	n := uint64(len(evs))

	tests := []struct {
		name string
		// given the cache holds the person at this revision (-1: not at all),
		heldAt int
		// when asked for the journey before rev,
		rev uint64
		// then it answers with the held fold without a read, or refolds.
		same bool
	}{
		{name: "not held, first event", heldAt: -1, rev: 0},
		{name: "not held, mid stream", heldAt: -1, rev: 3},
		{name: "not held, at the end", heldAt: -1, rev: n},
		{name: "held there", heldAt: 3, rev: 3, same: true},
		{name: "held at the end", heldAt: int(n), rev: n, same: true},
		{name: "held beyond rev", heldAt: int(n), rev: 2},
		{name: "held beyond rev, first event", heldAt: 3, rev: 0},
		{name: "held behind rev", heldAt: 1, rev: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spy := &spyStore{Store: store}
			c := folds.NewCache(spy, 8)
			var held *folds.Fold
			if tt.heldAt >= 0 {
				var err error
				if held, err = folds.Before(ctx, store, noms, stream, uint64(tt.heldAt)); err != nil {
					t.Fatal(err)
				}
				c.Put(held)
			}
			f, err := c.At(ctx, noms, stream, tt.rev)
			if err != nil {
				t.Fatal(err)
			}
			reads := spy.Reads()
			if tt.same != (f == held) {
				t.Fatalf("answered with the held fold: %v, want %v", f == held, tt.same)
			}
			if tt.same && len(reads) != 0 {
				t.Fatalf("a held fold at rev read the store: %v", reads)
			}
			if f.NOMS != noms || f.Stream != stream || f.Next != tt.rev || f.Broken != nil {
				t.Fatalf("fold %s %s next %d broken %v", f.NOMS, f.Stream, f.Next, f.Broken)
			}
			if want := aggregates.Rebuild(evs[:tt.rev]); !reflect.DeepEqual(f.Journey, want) {
				t.Fatalf("journey before %d:\n got %+v\nwant %+v", tt.rev, f.Journey, want)
			}
			// The fold answered is the one now held: asked again, no read.
			if again, _ := c.At(ctx, noms, stream, tt.rev); again != f || len(spy.Reads()) != 0 {
				t.Fatal("the fold answered is not the one held")
			}
			if c.Len() != 1 {
				t.Fatalf("Len() = %d", c.Len())
			}
		})
	}
}

// The hub's and the runner's way: At then Apply, event after event, needs one read at
// most per person however long the stream (none for a stream's first event).
func TestAtThenApplyReadsOnce(t *testing.T) {
	ctx := context.Background()
	store := eventlogtest.Store(t)
	record(t, writer(store, &clock{now: later}), "w", history...)
	evs := stored(t, store, noms)
	spy := &spyStore{Store: store}
	c := folds.NewCache(spy, 2)
	stream := aggregates.StreamName(noms)
	for i, ev := range evs {
		f, err := c.At(ctx, noms, stream, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		f.Apply(uint64(i), uint64(100+i), ev, nil)
	}
	if r := spy.Reads(); len(r) != 0 {
		t.Fatalf("folding from revision 0 read the store %d times", len(r))
	}
	// Resubscribed from an earlier checkpoint: one read refolds to there.
	for i := 2; i < len(evs); i++ {
		f, err := c.At(ctx, noms, stream, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		f.Apply(uint64(i), uint64(100+i), evs[i], nil)
		if want := aggregates.Rebuild(evs[:i+1]); !reflect.DeepEqual(f.Journey, want) {
			t.Fatalf("after revision %d the journey differs", i)
		}
	}
	if r := spy.Reads(); len(r) != 1 || r[0] != (esdb.Start{}) {
		t.Fatalf("replaying from revision 2 read %v, want one read from the start", r)
	}
}

// The fold's property: folding a journey event by event through Fold.Apply equals
// aggregates' own fold of the whole stream so far, after every event, for generated
// journeys.
func TestApplyEqualsRebuildAfterEveryEvent(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 60
	}
	pol := aggregates.DefaultPolicy(nil)
	g := journeygen.New(16, t0.AddDate(2, 0, 0), 3*365*24*time.Hour, pol)
	events := 0
	for i := range n {
		gj := g.Journey(i)
		var evs []aggregates.Event
		for _, s := range gj.Steps {
			evs = append(evs, s.Events...)
		}
		f := &folds.Fold{NOMS: gj.NOMS, Stream: aggregates.StreamName(gj.NOMS)}
		for k, ev := range evs {
			f.Apply(uint64(k), uint64(k+1), ev, nil)
			events++
			if want := aggregates.Rebuild(evs[:k+1]); !reflect.DeepEqual(f.Journey, want) {
				t.Fatalf("journey %d (%s) after event %d (%T): fold differs from aggregates.Rebuild\n got %+v\nwant %+v",
					i, gj.NOMS, k, ev, f.Journey, want)
			}
			if f.Next != uint64(k+1) || f.Position != uint64(k+1) || f.Broken != nil {
				t.Fatalf("journey %d after event %d: next %d position %d broken %v", i, k, f.Next, f.Position, f.Broken)
			}
		}
		if !reflect.DeepEqual(f.Journey, gj.Final) {
			t.Fatalf("journey %d (%s): fold differs from the generator's final journey", i, gj.NOMS)
		}
	}
	t.Logf("%d journeys, %d events", n, events)
}
