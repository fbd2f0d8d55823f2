package esdbserver_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// subscribeStream opens a stream subscription and reads it through a subReader.
func subscribeStream(t *testing.T, c *esdb.Client, stream string, from esdb.StreamPosition) *subReader {
	t.Helper()
	sub, err := c.SubscribeToStream(context.Background(), stream, esdb.SubscribeToStreamOptions{From: from})
	if err != nil {
		t.Fatalf("subscribe to %s: %v", stream, err)
	}
	return readSub(t, sub)
}

func subscribeAll(t *testing.T, c *esdb.Client, opts esdb.SubscribeToAllOptions) *subReader {
	t.Helper()
	sub, err := c.SubscribeToAll(context.Background(), opts)
	if err != nil {
		t.Fatalf("subscribe to $all: %v", err)
	}
	return readSub(t, sub)
}

// expectEvents reads messages until caught-up (when caughtUp is true) and checks the
// events seen on the way are want, in order.
func (r *subReader) expectHistory(t *testing.T, want []uuid.UUID) {
	t.Helper()
	msgs := r.until(t, isCaughtUp)
	var got []uuid.UUID
	for _, m := range msgs {
		if m.event != nil {
			got = append(got, m.event.Event.EventID)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("history before caught-up: %v, want %v (messages %v)", got, want, msgs)
	}
}

// expectLive reads exactly the events want, in order, with no other message but
// checkpoints.
func (r *subReader) expectLive(t *testing.T, want []uuid.UUID) {
	t.Helper()
	for i, id := range want {
		m := r.next(t)
		for m.checkpoint != nil {
			m = r.next(t)
		}
		if m.event == nil || m.event.Event.EventID != id {
			t.Fatalf("live message %d: %v, want event %s", i, m, id)
		}
	}
}

func TestSubscribeToStream(t *testing.T) {
	_, c := startNode(t, "")
	hist := events(5, "T")
	mustAppend(t, c, "sub", esdb.NoStream{}, hist...)
	mustAppend(t, c, "sub-other", esdb.NoStream{}, events(2, "T")...)
	cases := []struct {
		name string
		from esdb.StreamPosition
		want []uuid.UUID
	}{
		{"from start", esdb.Start{}, dataIDs(hist)},
		{"from revision (exclusive)", esdb.Revision(2), dataIDs(hist[3:])},
		{"from the last revision", esdb.Revision(4), nil},
		{"from end", esdb.End{}, nil},
	}
	subs := make([]*subReader, len(cases))
	for i, tc := range cases {
		subs[i] = subscribeStream(t, c, "sub", tc.from)
		subs[i].expectHistory(t, tc.want)
	}
	live := events(3, "Live")
	mustAppend(t, c, "sub", esdb.Revision(4), live[:1]...)
	mustAppend(t, c, "sub-other", esdb.Any{}, events(2, "T")...)
	mustAppend(t, c, "sub", esdb.Revision(5), live[1:]...)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { subs[i].expectLive(t, dataIDs(live)) })
	}
}

func TestSubscribeToStreamNotYetWritten(t *testing.T) {
	_, c := startNode(t, "")
	for _, from := range []esdb.StreamPosition{esdb.Start{}, esdb.End{}} {
		r := subscribeStream(t, c, "later", from)
		r.expectHistory(t, nil)
		defer func() { _ = r.sub.Close() }()
	}
	s1 := subscribeStream(t, c, "later2", esdb.Start{})
	s1.expectHistory(t, nil)
	evs := events(3, "T")
	mustAppend(t, c, "later2", esdb.NoStream{}, evs...)
	s1.expectLive(t, dataIDs(evs))
}

// TestSubscribeToStreamAfterSoftDelete: a subscriber sees the events written after a soft
// delete, continuing the revisions.
func TestSubscribeToStreamAfterSoftDelete(t *testing.T) {
	_, c := startNode(t, "")
	stateSoftDeleted.prepare(t, c, "sub-sd")
	r := subscribeStream(t, c, "sub-sd", esdb.Start{})
	r.expectHistory(t, nil)
	evs := events(2, "T")
	mustAppend(t, c, "sub-sd", esdb.Any{}, evs...)
	got, _ := r.events(t, 2)
	if !slices.Equal(revisions(got), []uint64{2, 3}) {
		t.Fatalf("revisions %v, want [2 3]", revisions(got))
	}
}

func TestSubscribeToAll(t *testing.T) {
	_, c := startNode(t, "")
	hist := fillAll(t, c, 9)
	all := userEvents(readAll(t, c, esdb.ReadAllOptions{}, 100))
	k := 4
	pos := esdb.Position{Commit: all[k].Event.Position.Commit, Prepare: all[k].Event.Position.Prepare}
	cases := []struct {
		name string
		from esdb.AllPosition
		want []uuid.UUID
	}{
		{"from start", esdb.Start{}, dataIDs(hist)},
		{"from position (exclusive)", pos, dataIDs(hist[k+1:])},
		{"from end", esdb.End{}, nil},
	}
	subs := make([]*subReader, len(cases))
	for i, tc := range cases {
		subs[i] = subscribeAll(t, c, esdb.SubscribeToAllOptions{From: tc.from})
		subs[i].expectHistory(t, tc.want)
	}
	live := fillAll(t, c, 6)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { subs[i].expectLive(t, dataIDs(live)) })
	}
}

// TestSubscribeToAllFiltered covers stream-name and event-type filters, by prefixes and
// by regex, in history and live.
func TestSubscribeToAllFiltered(t *testing.T) {
	_, c := startNode(t, "")
	type ev struct {
		stream, typ string
		data        esdb.EventData
	}
	var written []ev
	write := func(n int) {
		for i := range n {
			stream := []string{"order-1", "invoice-7", "order-2", "user-3"}[i%4]
			typ := []string{"OrderPlaced", "InvoiceSent", "OrderShipped", "UserJoined", "OrderPlaced"}[i%5]
			d := jsonEvent(typ, i)
			mustAppend(t, c, stream, esdb.Any{}, d)
			written = append(written, ev{stream, typ, d})
		}
	}
	write(40)
	cases := []struct {
		name   string
		filter esdb.SubscriptionFilter
		match  func(ev) bool
	}{
		{"stream prefix", esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{"order-"}}, func(e ev) bool { return strings.HasPrefix(e.stream, "order-") }},
		{"stream prefixes", esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{"invoice-", "user-"}}, func(e ev) bool { return e.stream == "invoice-7" || e.stream == "user-3" }},
		{"stream regex", esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Regex: `^(order|user)-[23]$`}, func(e ev) bool { return e.stream == "order-2" || e.stream == "user-3" }},
		{"event type prefix", esdb.SubscriptionFilter{Type: esdb.EventFilterType, Prefixes: []string{"Order"}}, func(e ev) bool { return strings.HasPrefix(e.typ, "Order") }},
		{"event type regex", esdb.SubscriptionFilter{Type: esdb.EventFilterType, Regex: `Sent$|Joined$`}, func(e ev) bool { return e.typ == "InvoiceSent" || e.typ == "UserJoined" }},
		{"exclude system events", *esdb.ExcludeSystemEventsFilter(), func(ev) bool { return true }},
	}
	wantOf := func(evs []ev, match func(ev) bool) []uuid.UUID {
		var out []uuid.UUID
		for _, e := range evs {
			if match(e) {
				out = append(out, e.data.EventID)
			}
		}
		return out
	}
	subs := make([]*subReader, len(cases))
	for i, tc := range cases {
		f := tc.filter
		subs[i] = subscribeAll(t, c, esdb.SubscribeToAllOptions{From: esdb.Start{}, Filter: &f})
	}
	// A metadata event is a system event in $all; only the system-events filter
	// must leave it out (the others do by name or type anyway).
	var meta esdb.StreamMetadata
	meta.SetMaxCount(1000)
	if _, err := c.SetStreamMetadata(ctxT(t), "user-3", esdb.AppendToStreamOptions{}, meta); err != nil {
		t.Fatal(err)
	}
	histLen := len(written)
	write(20)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			subs[i].expectHistory(t, wantOf(written[:histLen], tc.match))
			subs[i].expectLive(t, wantOf(written[histLen:], tc.match))
		})
	}
}

// TestFilteredCheckpoints: a filtered subscription gets a checkpoint every
// MaxSearchWindow x CheckpointInterval events considered, matching or not.
func TestFilteredCheckpoints(t *testing.T) {
	_, c := startNode(t, "")
	const window, interval, n = 5, 3, 100
	for i := 0; i < n; i += 10 {
		mustAppend(t, c, "noise", esdb.Any{}, events(10, "Noise")...)
	}
	all := readAll(t, c, esdb.ReadAllOptions{}, 1000)
	if len(all) != n {
		t.Fatalf("$all holds %d events, want %d", len(all), n)
	}
	f := esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{"wanted-"}}
	r := subscribeAll(t, c, esdb.SubscribeToAllOptions{From: esdb.Start{}, Filter: &f, MaxSearchWindow: window, CheckpointInterval: interval})
	msgs := r.until(t, isCaughtUp)
	var cps []uint64
	for _, m := range msgs {
		switch {
		case m.event != nil:
			t.Fatalf("unexpected event %v", m)
		case m.checkpoint != nil:
			cps = append(cps, m.checkpoint.Commit)
		}
	}
	// Every 15 events considered, and possibly a last one where it caught up.
	var want []uint64
	for i := window*interval - 1; i < n; i += window * interval {
		want = append(want, all[i].Event.Position.Commit)
	}
	if len(cps) < len(want) || !slices.Equal(cps[:len(want)], want) {
		t.Fatalf("checkpoints at %v, want %v", cps, want)
	}
	if extra := cps[len(want):]; len(extra) > 1 || (len(extra) == 1 && extra[0] != all[n-1].Event.Position.Commit) {
		t.Fatalf("extra checkpoints %v; only one at the end (%d) may follow", extra, all[n-1].Event.Position.Commit)
	}
	if !slices.IsSorted(cps) {
		t.Fatalf("checkpoints not increasing: %v", cps)
	}
	// Live, checkpoints keep coming while nothing matches, and a match still arrives.
	for i := 0; i < 40; i += 10 {
		mustAppend(t, c, "noise", esdb.Any{}, events(10, "Noise")...)
	}
	wanted := events(1, "W")
	mustAppend(t, c, "wanted-1", esdb.NoStream{}, wanted...)
	live := r.until(t, func(m subMsg) bool { return m.event != nil })
	liveCps := 0
	for _, m := range live {
		if m.checkpoint != nil {
			liveCps++
		}
	}
	if liveCps < 2 || live[len(live)-1].event.Event.EventID != wanted[0].EventID {
		t.Fatalf("live: %v; want at least 2 checkpoints over 40 events, then the wanted event", live)
	}
}

// TestSubscriptionsUnderConcurrentAppends: many goroutines append while subscribers to
// $all and to one stream read; every event arrives once, in position order.
func TestSubscriptionsUnderConcurrentAppends(t *testing.T) {
	_, c := startNode(t, "")
	mustAppend(t, c, "pre", esdb.NoStream{}, events(20, "Pre")...)
	allSub := subscribeAll(t, c, esdb.SubscribeToAllOptions{From: esdb.Start{}})
	streamSub := subscribeStream(t, c, "shared", esdb.Start{})
	lateAll := subscribeAll(t, c, esdb.SubscribeToAllOptions{From: esdb.End{}})
	lateAll.expectHistory(t, nil)
	const writers, each = 16, 30
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	start := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := range each {
				stream := fmt.Sprintf("w-%d", w)
				if i%2 == 0 {
					stream = "shared"
				}
				n := 1 + i%3
				if _, err := c.AppendToStream(context.Background(), stream, esdb.AppendToStreamOptions{}, events(n, "C")...); err != nil {
					errs <- err
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	all := readAll(t, c, esdb.ReadAllOptions{}, 100000)
	shared := mustRead(t, c, "shared", esdb.ReadStreamOptions{}, 100000)
	sentinel := jsonEvent("Sentinel", 0)
	mustAppend(t, c, "shared", esdb.Any{}, sentinel)

	check := func(name string, r *subReader, want []*esdb.ResolvedEvent) {
		got, msgs := r.events(t, len(want)+1)
		if got[len(got)-1].Event.EventID != sentinel.EventID {
			t.Fatalf("%s: after %d events, got %v instead of the sentinel", name, len(want), got[len(got)-1].Event.EventID)
		}
		got = got[:len(want)]
		for i := range got {
			if got[i].Event.EventID != want[i].Event.EventID {
				t.Fatalf("%s: event %d is %s@%d (pos %d), want %s@%d (pos %d)", name, i,
					got[i].Event.StreamID, got[i].Event.EventNumber, got[i].Event.Position.Commit,
					want[i].Event.StreamID, want[i].Event.EventNumber, want[i].Event.Position.Commit)
			}
			if i > 0 && got[i].Event.Position.Commit <= got[i-1].Event.Position.Commit {
				t.Fatalf("%s: positions not increasing at %d", name, i)
			}
		}
		fell, caught := 0, 0
		for _, m := range msgs {
			if m.fellBehind {
				fell++
			}
			if m.caughtUp {
				caught++
			}
		}
		t.Logf("%s: %d events, %d fell-behind, %d caught-up", name, len(got), fell, caught)
	}
	check("$all from start", allSub, all)
	check("$all from end", lateAll, all[20:])
	check("stream", streamSub, shared)
	for i, e := range shared {
		if e.Event.EventNumber != uint64(i) {
			t.Fatalf("shared stream revision %d at %d", e.Event.EventNumber, i)
		}
	}
}

// TestSubscriberFallsBehind: the node tells a subscriber it fell behind (FellBehindAfter
// is 64 in tests) when a burst outruns it, catches it up from the store, and says
// caught-up again, with no gap.
func TestSubscriberFallsBehind(t *testing.T) {
	_, c := startNode(t, "")
	for _, kind := range []string{"$all", "stream"} {
		t.Run(kind, func(t *testing.T) {
			var r *subReader
			stream := "burst-" + strings.Trim(kind, "$")
			if kind == "$all" {
				r = subscribeAll(t, c, esdb.SubscribeToAllOptions{From: esdb.End{}})
			} else {
				r = subscribeStream(t, c, stream, esdb.Start{})
			}
			r.expectHistory(t, nil)
			burst := events(500, "Burst")
			mustAppend(t, c, stream, esdb.Any{}, burst...)
			more := events(3, "After")
			got, msgs := r.events(t, len(burst))
			if !slices.Equal(ids(got), dataIDs(burst)) {
				t.Fatalf("burst arrived with gaps or out of order")
			}
			fellAt, caughtAt := -1, -1
			seen := 0
			for _, m := range msgs {
				switch {
				case m.fellBehind && fellAt < 0:
					fellAt = seen
				case m.event != nil:
					seen++
				}
			}
			if fellAt != 0 {
				t.Fatalf("fell-behind after %d events of the burst, want before the first (messages start %v)", fellAt, msgs[:min(3, len(msgs))])
			}
			rest := r.until(t, isCaughtUp)
			for i, m := range rest {
				if m.event != nil {
					t.Fatalf("unexpected event %v before caught-up", m)
				}
				if m.caughtUp {
					caughtAt = i
				}
			}
			if caughtAt < 0 {
				t.Fatal("no caught-up after falling behind")
			}
			for _, e := range more {
				mustAppend(t, c, stream, esdb.Any{}, e)
			}
			r.expectLive(t, dataIDs(more))
		})
	}
}

// TestSubscribeToTombstonedStream: subscribing to a tombstoned stream fails with stream
// deleted, and a live subscription is dropped when its stream is tombstoned.
func TestSubscribeToTombstonedStream(t *testing.T) {
	_, c := startNode(t, "")
	stateTombstoned.prepare(t, c, "gone")
	sub, err := c.SubscribeToStream(context.Background(), "gone", esdb.SubscribeToStreamOptions{From: esdb.Start{}})
	if err == nil {
		r := readSub(t, sub)
		m := r.next(t)
		if m.dropped == nil || status.Code(m.dropped) != codes.FailedPrecondition || !strings.Contains(m.dropped.Error(), "deleted") {
			t.Fatalf("first message %v, want dropped with stream deleted", m)
		}
	} else {
		wantCode(t, err, esdb.ErrorCodeStreamDeleted, "subscribe to a tombstoned stream")
	}

	before := events(2, "T")
	mustAppend(t, c, "going", esdb.NoStream{}, before...)
	r := subscribeStream(t, c, "going", esdb.Start{})
	r.expectHistory(t, dataIDs(before))
	if _, err := c.TombstoneStream(ctxT(t), "going", esdb.TombstoneStreamOptions{ExpectedRevision: esdb.Revision(1)}); err != nil {
		t.Fatal(err)
	}
	m := r.next(t)
	for m.event != nil {
		m = r.next(t)
	}
	if m.dropped == nil || status.Code(m.dropped) != codes.FailedPrecondition || !strings.Contains(m.dropped.Error(), "deleted") {
		t.Fatalf("after tombstone: %v, want dropped with stream deleted", m)
	}
}
