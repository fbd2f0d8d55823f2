// Package storetest is the conformance suite of eventstore.Store: the semantics of
// the EventStoreDB protocol the ledger relies on, each case named for the behaviour of
// the ledger that depends on it. It runs against the embedded node in every `make test`
// (eventstore's own tests) and against any EventStoreDB-compatible store, a KurrentDB
// node or cluster, named by GATELEDGER_CONFORMANCE_STORE (see docs/event-store.md).
//
// Every stream it writes has a name of its own (a random prefix per run), and every
// assertion about $all looks only at those streams, so it can run against a store that
// others are writing to. It deletes, tombstones and sets metadata only on its own
// streams.
//
// It may import the official client and eventstore; nothing else of the ledger, so that
// what it pins is the store's behaviour, not the ledger's.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/gateledger/gateledger/eventstore"
)

// Tamperer is what a store offers beyond eventstore.Store to those who would hide
// history: the ledger never calls it, but its seals must notice it (seal.CheckStream).
// The cases that need it are skipped for a store without it; *esdb.Client and
// *eventstore.Conn have it.
type Tamperer interface {
	DeleteStream(ctx context.Context, stream string, opts esdb.DeleteStreamOptions) (*esdb.DeleteResult, error)
	TombstoneStream(ctx context.Context, stream string, opts esdb.TombstoneStreamOptions) (*esdb.DeleteResult, error)
	SetStreamMetadata(ctx context.Context, stream string, opts esdb.AppendToStreamOptions, meta esdb.StreamMetadata) (*esdb.WriteResult, error)
}

// Run runs every case against store.
func Run(t *testing.T, store eventstore.Store) {
	s := &suite{store: store, prefix: "conformance-" + uuid.NewString()[:8] + "-"}
	t.Logf("streams of this run start with %q", s.prefix)
	for _, c := range []struct {
		name string
		run  func(*testing.T, *suite)
	}{
		{"a journey's first append expects no stream", firstAppend},
		{"data and metadata come back byte for byte, as the hash chain needs", byteForByte},
		{"a second writer starting the same journey is a conflict", secondStarter},
		{"an append on a stale or future revision is a conflict and writes nothing", staleRevision},
		{"a retried append whose answer was lost is answered as the first", idempotentRetry},
		{"an empty append expecting any revision records nothing (the write probe)", emptyAnyAppend},
		{"the position an append answers is its last event's (read your writes)", appendPosition},
		{"a stream reads forwards and backwards from a revision, count events at most", readStream},
		{"reading past a stream's end is empty, not not-found (refreshing a cached journey)", readPastEnd},
		{"a stream never written reads as not found (a new journey)", neverWritten},
		{"$all reads forwards from a position including it, backwards excluding it (paged scans)", readAll},
		{"$all backwards from the end starts at the last event (the store's head)", readAllEnd},
		{"every event has its own commit position, increasing in $all (one-number checkpoints)", positionsIncrease},
		{"created is when the store recorded the event (stored-at, as-at reads)", created},
		{"a subscription from a position starts just after it (resuming from a checkpoint)", subscribeAfter},
		{"a subscription from the start begins with the first event (rebuilding read models)", subscribeFromStart},
		{"a subscription sends history, caught up, then live events, no gap, no duplicate (projections, live feed)", subscribeLive},
		{"a stream-prefix filter delivers only those streams (the live hub, the redriver)", prefixFilter},
		{"a stream-name regex filter delivers only those streams (a live feed for chosen people)", regexFilter},
		{"a deleted stream reads as not found (seal verification)", softDeleted},
		{"a tombstoned stream answers stream deleted to reads and appends", tombstoned},
		{"stream metadata is readable from $$stream and hides events (seal verification)", streamMetadata},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, s) })
	}
}

type suite struct {
	store  eventstore.Store
	prefix string
	n      int
}

// stream returns a stream name no other case, run or writer uses.
func (s *suite) stream(what string) string {
	s.n++
	return fmt.Sprintf("%s%s-%d", s.prefix, what, s.n)
}

func (s *suite) tamperer(t *testing.T) Tamperer {
	tp, ok := s.store.(Tamperer)
	if !ok {
		t.Skip("the store offers no delete, tombstone or stream metadata")
	}
	return tp
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// events returns n JSON events of type typ with ids of their own.
func events(typ string, n int) []esdb.EventData {
	out := make([]esdb.EventData, n)
	for i := range out {
		out[i] = esdb.EventData{EventID: uuid.New(), EventType: typ, ContentType: esdb.ContentTypeJson,
			Data: fmt.Appendf(nil, `{"i":%d}`, i), Metadata: fmt.Appendf(nil, `{"n":%d}`, i)}
	}
	return out
}

func ids(evs []esdb.EventData) []uuid.UUID {
	out := make([]uuid.UUID, len(evs))
	for i, e := range evs {
		out[i] = e.EventID
	}
	return out
}

func recordedIDs(evs []*esdb.RecordedEvent) []uuid.UUID {
	out := make([]uuid.UUID, len(evs))
	for i, e := range evs {
		out[i] = e.EventID
	}
	return out
}

func revisions(evs []*esdb.RecordedEvent) []uint64 {
	out := make([]uint64, len(evs))
	for i, e := range evs {
		out[i] = e.EventNumber
	}
	return out
}

func (s *suite) mustAppend(t *testing.T, stream string, exp esdb.ExpectedRevision, evs ...esdb.EventData) *esdb.WriteResult {
	t.Helper()
	wr, err := s.store.AppendToStream(ctxFor(t), stream, esdb.AppendToStreamOptions{ExpectedRevision: exp}, evs...)
	if err != nil {
		t.Fatalf("append to %s: %v", stream, err)
	}
	return wr
}

// drain reads rs to its end. The error is the store's answer, from the call or a
// Recv, the way the ledger meets it either way.
func drain(rs *esdb.ReadStream, err error) ([]*esdb.RecordedEvent, error) {
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []*esdb.RecordedEvent
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if e := ev.OriginalEvent(); e != nil {
			out = append(out, e)
		}
	}
}

func (s *suite) read(t *testing.T, stream string, opts esdb.ReadStreamOptions, count uint64) ([]*esdb.RecordedEvent, error) {
	return drain(s.store.ReadStream(ctxFor(t), stream, opts, count))
}

func (s *suite) mustRead(t *testing.T, stream string, opts esdb.ReadStreamOptions, count uint64) []*esdb.RecordedEvent {
	t.Helper()
	evs, err := s.read(t, stream, opts, count)
	if err != nil {
		t.Fatalf("read %s: %v", stream, err)
	}
	return evs
}

func (s *suite) mustReadAll(t *testing.T, opts esdb.ReadAllOptions, count uint64) []*esdb.RecordedEvent {
	t.Helper()
	evs, err := drain(s.store.ReadAll(ctxFor(t), opts, count))
	if err != nil {
		t.Fatalf("read $all: %v", err)
	}
	return evs
}

func at(p esdb.Position) esdb.Position { return esdb.Position{Commit: p.Commit, Prepare: p.Commit} }

func firstAppend(t *testing.T, s *suite) {
	stream := s.stream("journey")
	evs := events("PrisonerReceived", 2)
	wr := s.mustAppend(t, stream, esdb.NoStream{}, evs...)
	if wr.NextExpectedVersion != 1 {
		t.Fatalf("next expected version %d after two events, want 1", wr.NextExpectedVersion)
	}
	got := s.mustRead(t, stream, esdb.ReadStreamOptions{From: esdb.Start{}}, 100)
	if !slices.Equal(recordedIDs(got), ids(evs)) || !slices.Equal(revisions(got), []uint64{0, 1}) {
		t.Fatalf("read ids %v revisions %v, want %v at 0 and 1", recordedIDs(got), revisions(got), ids(evs))
	}
	for _, e := range got {
		if e.StreamID != stream || e.EventType != "PrisonerReceived" || e.ContentType != "application/json" {
			t.Fatalf("read back %s %q %q", e.StreamID, e.EventType, e.ContentType)
		}
	}
}

func byteForByte(t *testing.T, s *suite) {
	stream := s.stream("bytes")
	// Valid JSON that a store re-encoding it would change: spacing, key order, escapes,
	// a large number. The event hash covers these exact bytes.
	data := []byte("{ \"z\":1,\n\t\"a\" : \"caf\\u00e9 \\/ é\", \"big\": 12345678901234567890 }")
	meta := []byte(`{"userId":"u-1","hash":"00ff","occurredAt":"2026-01-02T03:04:05.000000006Z","x":[ 1 ,2]}`)
	ev := esdb.EventData{EventID: uuid.New(), EventType: "NeedIdentified", ContentType: esdb.ContentTypeJson, Data: data, Metadata: meta}
	s.mustAppend(t, stream, esdb.NoStream{}, ev)
	got := s.mustRead(t, stream, esdb.ReadStreamOptions{From: esdb.Start{}}, 10)
	if len(got) != 1 || string(got[0].Data) != string(data) || string(got[0].UserMetadata) != string(meta) {
		t.Fatalf("read back %d events; data %q metadata %q", len(got), got[0].Data, got[0].UserMetadata)
	}
	all := s.mustReadAll(t, esdb.ReadAllOptions{From: at(got[0].Position)}, 1)
	if len(all) != 1 || all[0].EventID != ev.EventID || string(all[0].Data) != string(data) || string(all[0].UserMetadata) != string(meta) {
		t.Fatalf("$all at the event's position does not hold it byte for byte")
	}
}

func secondStarter(t *testing.T, s *suite) {
	stream := s.stream("journey")
	s.mustAppend(t, stream, esdb.NoStream{}, events("PrisonerReceived", 1)...)
	_, err := s.store.AppendToStream(ctxFor(t), stream, esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, events("PrisonerReceived", 1)...)
	if !eventstore.IsWrongExpectedVersion(err) {
		t.Fatalf("second append expecting no stream: %v, want wrong expected version", err)
	}
	if got := s.mustRead(t, stream, esdb.ReadStreamOptions{From: esdb.Start{}}, 10); len(got) != 1 {
		t.Fatalf("the stream has %d events, want 1", len(got))
	}
}

func staleRevision(t *testing.T, s *suite) {
	stream := s.stream("journey")
	s.mustAppend(t, stream, esdb.NoStream{}, events("A", 2)...)
	wr := s.mustAppend(t, stream, esdb.Revision(1), events("B", 1)...)
	if wr.NextExpectedVersion != 2 {
		t.Fatalf("next expected version %d, want 2", wr.NextExpectedVersion)
	}
	for _, exp := range []esdb.ExpectedRevision{esdb.Revision(1), esdb.Revision(0), esdb.Revision(7)} {
		_, err := s.store.AppendToStream(ctxFor(t), stream, esdb.AppendToStreamOptions{ExpectedRevision: exp}, events("C", 2)...)
		if !eventstore.IsWrongExpectedVersion(err) {
			t.Fatalf("append expecting %v on a stream at 2: %v, want wrong expected version", exp, err)
		}
	}
	if got := s.mustRead(t, stream, esdb.ReadStreamOptions{From: esdb.Start{}}, 10); len(got) != 3 {
		t.Fatalf("the stream has %d events, want 3: a refused append wrote something", len(got))
	}
}

func idempotentRetry(t *testing.T, s *suite) {
	stream := s.stream("journey")
	first := events("A", 3)
	w1 := s.mustAppend(t, stream, esdb.NoStream{}, first...)
	again := s.mustAppend(t, stream, esdb.NoStream{}, first...)
	if again.NextExpectedVersion != w1.NextExpectedVersion || again.CommitPosition != w1.CommitPosition {
		t.Fatalf("retry expecting no stream answered %+v, the first %+v", *again, *w1)
	}
	second := events("B", 2)
	w2 := s.mustAppend(t, stream, esdb.Revision(2), second...)
	again = s.mustAppend(t, stream, esdb.Revision(2), second...)
	if again.NextExpectedVersion != w2.NextExpectedVersion || again.CommitPosition != w2.CommitPosition {
		t.Fatalf("retry expecting revision 2 answered %+v, the first %+v", *again, *w2)
	}
	got := s.mustRead(t, stream, esdb.ReadStreamOptions{From: esdb.Start{}}, 100)
	if !slices.Equal(recordedIDs(got), append(ids(first), ids(second)...)) {
		t.Fatalf("stream holds %v, want each event once", recordedIDs(got))
	}
}

func emptyAnyAppend(t *testing.T, s *suite) {
	stream := s.stream("probe")
	for range 2 {
		if _, err := s.store.AppendToStream(ctxFor(t), stream, esdb.AppendToStreamOptions{ExpectedRevision: esdb.Any{}}); err != nil {
			t.Fatalf("empty append: %v", err)
		}
	}
	got, err := s.read(t, stream, esdb.ReadStreamOptions{From: esdb.Start{}}, 10)
	if len(got) != 0 || (err != nil && !eventstore.IsNotFound(err)) {
		t.Fatalf("after empty appends the stream reads %d events, %v", len(got), err)
	}
}

func appendPosition(t *testing.T, s *suite) {
	stream := s.stream("journey")
	w1 := s.mustAppend(t, stream, esdb.NoStream{}, events("A", 3)...)
	w2 := s.mustAppend(t, stream, esdb.Revision(2), events("B", 2)...)
	got := s.mustRead(t, stream, esdb.ReadStreamOptions{From: esdb.Start{}}, 10)
	if len(got) != 5 {
		t.Fatalf("read %d events, want 5", len(got))
	}
	// A read model that has applied the event at this position reflects the whole
	// append, and no part of a later one is needed to reach it.
	if got[2].Position.Commit != w1.CommitPosition || got[4].Position.Commit != w2.CommitPosition {
		t.Fatalf("appends answered %d and %d, their last events are at %d and %d",
			w1.CommitPosition, w2.CommitPosition, got[2].Position.Commit, got[4].Position.Commit)
	}
}

func readStream(t *testing.T, s *suite) {
	stream := s.stream("journey")
	evs := events("A", 10)
	s.mustAppend(t, stream, esdb.NoStream{}, evs[:6]...)
	s.mustAppend(t, stream, esdb.Revision(5), evs[6:]...)
	for _, c := range []struct {
		name  string
		opts  esdb.ReadStreamOptions
		count uint64
		want  []uint64
	}{
		{"forwards from the start", esdb.ReadStreamOptions{From: esdb.Start{}}, 1024, []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"forwards from a revision, a page", esdb.ReadStreamOptions{From: esdb.Revision(3)}, 4, []uint64{3, 4, 5, 6}},
		{"backwards from a revision, a page", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.Revision(6)}, 3, []uint64{6, 5, 4}},
		{"backwards from the end, one (the stream's head)", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1, []uint64{9}},
		{"backwards from the end, all", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 100, []uint64{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
	} {
		got := s.mustRead(t, stream, c.opts, c.count)
		if !slices.Equal(revisions(got), c.want) {
			t.Errorf("%s: revisions %v, want %v", c.name, revisions(got), c.want)
		}
		for _, e := range got {
			if e.EventID != evs[e.EventNumber].EventID {
				t.Errorf("%s: revision %d holds another event", c.name, e.EventNumber)
			}
		}
	}
}

func readPastEnd(t *testing.T, s *suite) {
	stream := s.stream("journey")
	s.mustAppend(t, stream, esdb.NoStream{}, events("A", 2)...)
	got, err := s.read(t, stream, esdb.ReadStreamOptions{From: esdb.Revision(2)}, 1024)
	if err != nil || len(got) != 0 {
		t.Fatalf("reading from revision 2 of a stream ending at 1: %d events, %v; want none and no error", len(got), err)
	}
}

func neverWritten(t *testing.T, s *suite) {
	for _, opts := range []esdb.ReadStreamOptions{
		{From: esdb.Start{}},
		{Direction: esdb.Backwards, From: esdb.End{}},
	} {
		got, err := s.read(t, s.stream("nobody"), opts, 10)
		if len(got) != 0 || !eventstore.IsNotFound(err) {
			t.Fatalf("%+v: %d events, %v; want not found", opts, len(got), err)
		}
	}
}

// appendOne appends evs in one append to a new stream and reads them back with their
// positions: one append's events are contiguous in $all.
func (s *suite) appendOne(t *testing.T, what string, evs []esdb.EventData) []*esdb.RecordedEvent {
	t.Helper()
	stream := s.stream(what)
	s.mustAppend(t, stream, esdb.NoStream{}, evs...)
	return s.mustRead(t, stream, esdb.ReadStreamOptions{From: esdb.Start{}}, uint64(len(evs)))
}

func readAll(t *testing.T, s *suite) {
	evs := s.appendOne(t, "all", events("A", 5))
	fwd := s.mustReadAll(t, esdb.ReadAllOptions{From: at(evs[1].Position)}, 3)
	if !slices.Equal(recordedIDs(fwd), recordedIDs(evs[1:4])) {
		t.Fatalf("forwards from the second event's position, 3: %v, want %v", recordedIDs(fwd), recordedIDs(evs[1:4]))
	}
	back := s.mustReadAll(t, esdb.ReadAllOptions{Direction: esdb.Backwards, From: at(evs[3].Position)}, 2)
	if !slices.Equal(recordedIDs(back), []uuid.UUID{evs[2].EventID, evs[1].EventID}) {
		t.Fatalf("backwards from the fourth event's position, 2: %v, want the third and second", recordedIDs(back))
	}
}

func readAllEnd(t *testing.T, s *suite) {
	evs := s.appendOne(t, "head", events("A", 2))
	last := s.mustReadAll(t, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
	if len(last) != 1 || last[0].Position.Commit < evs[1].Position.Commit {
		t.Fatalf("backwards from the end, 1: %d events, want one at or after %d", len(last), evs[1].Position.Commit)
	}
	page := s.mustReadAll(t, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 50)
	for i := 1; i < len(page); i++ {
		if page[i].Position.Commit >= page[i-1].Position.Commit {
			t.Fatalf("backwards from the end, positions %d then %d", page[i-1].Position.Commit, page[i].Position.Commit)
		}
	}
}

func positionsIncrease(t *testing.T, s *suite) {
	a := s.appendOne(t, "pos", events("A", 4))
	b := s.appendOne(t, "pos", events("B", 3))
	all := append(a, b...)
	for i, e := range all {
		if e.Position.Commit == 0 {
			t.Fatalf("event %d has no commit position", i)
		}
		if i > 0 && e.Position.Commit <= all[i-1].Position.Commit {
			t.Fatalf("event %d at %d, the one before at %d: positions must strictly increase", i, e.Position.Commit, all[i-1].Position.Commit)
		}
	}
	// A position kept as one number (commit = prepare) reads back the same event.
	for _, e := range all {
		got := s.mustReadAll(t, esdb.ReadAllOptions{From: at(e.Position)}, 1)
		if len(got) != 1 || got[0].EventID != e.EventID {
			t.Fatalf("$all from {%d, %d} does not start with the event there", e.Position.Commit, e.Position.Commit)
		}
	}
}

func created(t *testing.T, s *suite) {
	before := time.Now()
	evs := s.appendOne(t, "created", events("A", 2))
	after := time.Now()
	// The store's clock may differ from ours by a little: allow for it.
	const skew = 5 * time.Minute
	for _, e := range evs {
		if e.CreatedDate.Before(before.Add(-skew)) || e.CreatedDate.After(after.Add(skew)) {
			t.Fatalf("created %v, appended between %v and %v", e.CreatedDate, before, after)
		}
	}
}

// subscription receives a subscription's messages on a channel, so that a case can
// wait for them with a deadline.
type subscription struct {
	sub *esdb.Subscription
	c   chan *esdb.SubscriptionEvent
}

func (s *suite) subscribe(t *testing.T, opts esdb.SubscribeToAllOptions) *subscription {
	t.Helper()
	sub, err := s.store.SubscribeToAll(ctxFor(t), opts)
	if err != nil {
		t.Fatalf("subscribe to $all: %v", err)
	}
	r := &subscription{sub: sub, c: make(chan *esdb.SubscriptionEvent, 1024)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			e := sub.Recv()
			r.c <- e
			if e.SubscriptionDropped != nil {
				close(r.c)
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = sub.Close()
		for range r.c { // let the receiver end
		}
		<-done
	})
	return r
}

// next returns the next event (caughtUp false) or caught-up message (caughtUp true),
// skipping checkpoints and fell-behind.
func (r *subscription) next(t *testing.T) (ev *esdb.RecordedEvent, caughtUp bool) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case e, ok := <-r.c:
			switch {
			case !ok:
				t.Fatal("subscription ended")
			case e.SubscriptionDropped != nil:
				t.Fatalf("subscription dropped: %v", e.SubscriptionDropped.Error)
			case e.EventAppeared != nil:
				if o := e.EventAppeared.OriginalEvent(); o != nil {
					return o, false
				}
			case e.CaughtUp != nil:
				return nil, true
			}
		case <-timeout:
			t.Fatal("no event from the subscription in 30s")
		}
	}
}

// events receives n events, skipping caught-up messages.
func (r *subscription) events(t *testing.T, n int) []*esdb.RecordedEvent {
	t.Helper()
	var out []*esdb.RecordedEvent
	for len(out) < n {
		if ev, _ := r.next(t); ev != nil {
			out = append(out, ev)
		}
	}
	return out
}

func (s *suite) prefixFilter(what string) *esdb.SubscriptionFilter {
	return &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{s.prefix + what}}
}

func subscribeAfter(t *testing.T, s *suite) {
	evs := s.appendOne(t, "after-", events("A", 4))
	sub := s.subscribe(t, esdb.SubscribeToAllOptions{From: at(evs[1].Position), Filter: s.prefixFilter("after-")})
	got := sub.events(t, 2)
	if !slices.Equal(recordedIDs(got), recordedIDs(evs[2:])) {
		t.Fatalf("from the second event's position: %v, want the third and fourth", recordedIDs(got))
	}
}

func subscribeFromStart(t *testing.T, s *suite) {
	evs := s.appendOne(t, "start-", events("A", 3))
	sub := s.subscribe(t, esdb.SubscribeToAllOptions{From: esdb.Start{}, Filter: s.prefixFilter("start-")})
	got := sub.events(t, 3)
	if !slices.Equal(recordedIDs(got), recordedIDs(evs)) {
		t.Fatalf("from the start: %v, want %v", recordedIDs(got), recordedIDs(evs))
	}
}

func subscribeLive(t *testing.T, s *suite) {
	what := "live-" + uuid.NewString()[:4] + "-"
	mark := s.appendOne(t, what, events("Mark", 1))
	history := s.appendOne(t, what, events("History", 3))
	sub := s.subscribe(t, esdb.SubscribeToAllOptions{From: at(mark[0].Position), Filter: s.prefixFilter(what)})
	var got []*esdb.RecordedEvent
	for {
		ev, caughtUp := sub.next(t)
		if caughtUp {
			break
		}
		got = append(got, ev)
	}
	if !slices.Equal(recordedIDs(got), recordedIDs(history)) {
		t.Fatalf("before caught up: %v, want the history %v", recordedIDs(got), recordedIDs(history))
	}

	// Live: writers on several streams at once, as several ledger instances would.
	const writers, appends = 4, 8
	var (
		mu    sync.Mutex
		acked = map[uuid.UUID]uint64{} // event id: the commit position of its append
		wg    sync.WaitGroup
		errs  = make(chan error, writers)
	)
	for w := range writers {
		stream := s.stream(what + "w")
		wg.Add(1)
		go func() {
			defer wg.Done()
			var exp esdb.ExpectedRevision = esdb.NoStream{}
			for i := range appends {
				evs := events("Live", 1+(w+i)%3)
				wr, err := s.store.AppendToStream(context.Background(), stream, esdb.AppendToStreamOptions{ExpectedRevision: exp}, evs...)
				if err != nil {
					errs <- err
					return
				}
				exp = esdb.Revision(wr.NextExpectedVersion)
				mu.Lock()
				for _, e := range evs {
					acked[e.EventID] = wr.CommitPosition
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("live append: %v", err)
	}
	live := sub.events(t, len(acked))
	seen := map[uuid.UUID]bool{}
	revs := map[string]uint64{}
	for i, ev := range live {
		if seen[ev.EventID] {
			t.Fatalf("event %v received twice", ev.EventID)
		}
		seen[ev.EventID] = true
		if _, ok := acked[ev.EventID]; !ok {
			t.Fatalf("received %v (%s), which no writer appended", ev.EventID, ev.StreamID)
		}
		if i > 0 && ev.Position.Commit <= live[i-1].Position.Commit {
			t.Fatalf("positions %d then %d: not in commit order", live[i-1].Position.Commit, ev.Position.Commit)
		}
		if ev.Position.Commit <= history[len(history)-1].Position.Commit {
			t.Fatalf("a live event at %d, before the history's end", ev.Position.Commit)
		}
		if r, ok := revs[ev.StreamID]; (ok && ev.EventNumber != r+1) || (!ok && ev.EventNumber != 0) {
			t.Fatalf("%s revision %d after %d: a gap in the stream", ev.StreamID, ev.EventNumber, r)
		}
		revs[ev.StreamID] = ev.EventNumber
		if ev.Position.Commit > acked[ev.EventID] {
			t.Fatalf("event at %d is after the position its append answered (%d)", ev.Position.Commit, acked[ev.EventID])
		}
	}
	// Nothing more: every acknowledged event arrived once (checked above), and no other.
	select {
	case e := <-sub.c:
		if e != nil && e.EventAppeared != nil {
			t.Fatalf("an event more than was appended: %v", e.EventAppeared.OriginalEvent().EventID)
		}
	case <-time.After(200 * time.Millisecond):
	}
}

func prefixFilter(t *testing.T, s *suite) {
	what := "pf-" + uuid.NewString()[:4] + "-"
	mark := s.appendOne(t, what+"mark", events("Mark", 1))
	sub := s.subscribe(t, esdb.SubscribeToAllOptions{From: at(mark[0].Position),
		Filter: &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{s.prefix + what + "journey-", s.prefix + what + "letters"}}})
	want := map[uuid.UUID]bool{}
	for _, name := range []string{"other-1", "journey-A1", "journ", "letters", "x-journey-A2", "journey-B2", "other-2"} {
		evs := events("E", 1)
		s.mustAppend(t, s.prefix+what+name, esdb.Any{}, evs...)
		if name == "journey-A1" || name == "letters" || name == "journey-B2" {
			want[evs[0].EventID] = true
		}
	}
	got := sub.events(t, len(want))
	for _, ev := range got {
		if !want[ev.EventID] {
			t.Fatalf("received %s, which the filter excludes", ev.StreamID)
		}
	}
	end := s.appendOne(t, what+"journey-end", events("End", 1))
	if last := sub.events(t, 1); last[0].EventID != end[0].EventID {
		t.Fatalf("after the wanted events came %s, which the filter excludes", last[0].StreamID)
	}
}

func regexFilter(t *testing.T, s *suite) {
	what := "rf-" + uuid.NewString()[:4] + "-"
	mark := s.appendOne(t, what+"mark", events("Mark", 1))
	base := s.prefix + what + "journey-"
	sub := s.subscribe(t, esdb.SubscribeToAllOptions{From: at(mark[0].Position),
		Filter: &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Regex: "^" + regexp.QuoteMeta(base) + "(A1234BC|B2345CD)$"}})
	want := map[uuid.UUID]bool{}
	for _, name := range []string{"C3456DE", "A1234BC", "A1234BCX", "B2345CD", "XA1234BC"} {
		evs := events("E", 1)
		s.mustAppend(t, base+name, esdb.Any{}, evs...)
		if name == "A1234BC" || name == "B2345CD" {
			want[evs[0].EventID] = true
		}
	}
	got := sub.events(t, len(want))
	for _, ev := range got {
		if !want[ev.EventID] {
			t.Fatalf("received %s, which the filter excludes", ev.StreamID)
		}
	}
	end := []esdb.EventData{events("End", 1)[0]}
	s.mustAppend(t, base+"A1234BC", esdb.Revision(0), end...)
	if last := sub.events(t, 1); last[0].EventID != end[0].EventID {
		t.Fatalf("after the wanted events came %s, which the filter excludes", last[0].StreamID)
	}
}

func softDeleted(t *testing.T, s *suite) {
	tp := s.tamperer(t)
	stream := s.stream("deleted")
	s.mustAppend(t, stream, esdb.NoStream{}, events("A", 2)...)
	if _, err := tp.DeleteStream(ctxFor(t), stream, esdb.DeleteStreamOptions{ExpectedRevision: esdb.Any{}}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	got, err := s.read(t, stream, esdb.ReadStreamOptions{From: esdb.Start{}}, 10)
	if len(got) != 0 || !eventstore.IsNotFound(err) {
		t.Fatalf("a deleted stream reads %d events, %v; want not found", len(got), err)
	}
}

func tombstoned(t *testing.T, s *suite) {
	tp := s.tamperer(t)
	stream := s.stream("tombstoned")
	s.mustAppend(t, stream, esdb.NoStream{}, events("A", 2)...)
	if _, err := tp.TombstoneStream(ctxFor(t), stream, esdb.TombstoneStreamOptions{ExpectedRevision: esdb.Any{}}); err != nil {
		t.Fatalf("tombstone: %v", err)
	}
	for _, opts := range []esdb.ReadStreamOptions{{From: esdb.Start{}}, {Direction: esdb.Backwards, From: esdb.End{}}} {
		_, err := s.read(t, stream, opts, 10)
		if !eventstore.IsStreamDeleted(err) || !errors.Is(eventstore.Classify(err), eventstore.ErrStreamDeleted) {
			t.Fatalf("reading a tombstoned stream (%+v): %v, want stream deleted", opts, err)
		}
	}
	_, err := s.store.AppendToStream(ctxFor(t), stream, esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(1)}, events("B", 1)...)
	if !eventstore.IsStreamDeleted(err) || !errors.Is(eventstore.Classify(err), eventstore.ErrStreamDeleted) {
		t.Fatalf("appending to a tombstoned stream: %v, want stream deleted", err)
	}
}

func streamMetadata(t *testing.T, s *suite) {
	tp := s.tamperer(t)
	stream := s.stream("hidden")
	s.mustAppend(t, stream, esdb.NoStream{}, events("A", 5)...)
	var meta esdb.StreamMetadata
	meta.SetMaxCount(2)
	if _, err := tp.SetStreamMetadata(ctxFor(t), stream, esdb.AppendToStreamOptions{ExpectedRevision: esdb.Any{}}, meta); err != nil {
		t.Fatalf("set stream metadata: %v", err)
	}
	got := s.mustRead(t, "$$"+stream, esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
	var m map[string]any
	if len(got) != 1 || json.Unmarshal(got[0].Data, &m) != nil || m["$maxCount"] != float64(2) {
		t.Fatalf("$$%s holds %d events; want its metadata with $maxCount 2", stream, len(got))
	}
	if first := s.mustRead(t, stream, esdb.ReadStreamOptions{From: esdb.Start{}}, 10); !slices.Equal(revisions(first), []uint64{3, 4}) {
		t.Fatalf("with $maxCount 2 the stream reads revisions %v, want 3 and 4", revisions(first))
	}
}
