package folds_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventlog/eventlogtest"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/journeys"
)

const noms = "A4092EA"

var (
	t0    = time.Date(2024, 6, 24, 15, 6, 39, 0, time.UTC)
	later = t0.AddDate(0, 1, 0) // when the history is recorded
)

// clock is a settable clock for a journeys.Service: each event's recordedAt is what it
// reads.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// writer is a command service on store, as another ledger instance would be.
func writer(store eventstore.Store, clk *clock) *journeys.Service {
	return &journeys.Service{Store: store, Policy: aggregates.DefaultPolicy(nil), Clock: clk.Now, Logger: eventlogtest.Logger()}
}

// history is a short journey, one event per command.
var history = []aggregates.Command{
	aggregates.ReceivePrisoner{NOMS: noms, Kind: aggregates.ReceptionSentence, Prison: "SWI", At: t0},
	aggregates.CompleteScreening{At: t0.Add(time.Hour)},
	aggregates.IdentifyNeed{Pathway: aggregates.PathwayAccommodation, Description: "no address", At: t0.Add(2 * time.Hour)},
	need("a1", 3),
	need("a2", 4),
}

func need(id string, hours int) aggregates.AgreeAction {
	return aggregates.AgreeAction{ActionID: id, Pathway: aggregates.PathwayAccommodation, Description: "action " + id,
		At: t0.Add(time.Duration(hours) * time.Hour)}
}

// record sends cmds through svc for noms, each under its own key.
func record(t testing.TB, svc *journeys.Service, who string, cmds ...aggregates.Command) []journeys.Result {
	t.Helper()
	var out []journeys.Result
	for _, c := range cmds {
		key := fmt.Sprintf("%s-%s-%s", who, c.CommandName(), rand.Text())
		res, err := svc.Handle(context.Background(), noms, c, journeys.CommandMeta{UserID: "officer-1", Role: "PRISON_STAFF",
			Organisation: "SWI", Source: aggregates.SourceAPI, CorrelationID: key, IdempotencyKey: key})
		if err != nil {
			t.Fatalf("%s: %v", c.CommandName(), err)
		}
		if len(res.Events) == 0 {
			t.Fatalf("%s recorded nothing", c.CommandName())
		}
		out = append(out, res)
	}
	return out
}

// stored is the person's stream as eventlog reads it whole: its decoded events.
func stored(t testing.TB, store eventstore.Store, who string) []aggregates.Event {
	t.Helper()
	st, err := eventlog.LoadJourney(context.Background(), store, who)
	if err != nil {
		t.Fatal(err)
	}
	evs := make([]aggregates.Event, len(st.Events))
	for i, e := range st.Events {
		evs[i] = e.Event
	}
	return evs
}

// spyStore records the revision each stream read starts from, and sends the reads
// whose context carries a replica to that store instead, once gate lets them.
type spyStore struct {
	eventstore.Store
	mu    sync.Mutex
	reads []esdb.StreamPosition
}

type replicaKey struct{}

// replica is a lagging copy of the store that a read is served from, when it may go.
type replica struct {
	store eventstore.Store
	gate  chan struct{}
}

func (s *spyStore) ReadStream(ctx context.Context, stream string, opts esdb.ReadStreamOptions, count uint64) (*esdb.ReadStream, error) {
	s.mu.Lock()
	s.reads = append(s.reads, opts.From)
	s.mu.Unlock()
	if r, ok := ctx.Value(replicaKey{}).(*replica); ok {
		<-r.gate
		return r.store.ReadStream(ctx, stream, opts, count)
	}
	return s.Store.ReadStream(ctx, stream, opts, count)
}

// Reads returns the starting points of the reads so far and forgets them.
func (s *spyStore) Reads() []esdb.StreamPosition {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.reads
	s.reads = nil
	return r
}
