package esdbserver_test

import (
	"context"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/gateledger/gateledger/internal/eventdb"
)

// BenchmarkCatchUpAll measures a catch-up subscription to $all through the official
// client over loopback TLS; one op is one 400-byte event delivered.
func BenchmarkCatchUpAll(b *testing.B) {
	node, c := startNode(b, "")
	payload := make([]byte, 400)
	for left := b.N; left > 0; {
		n := min(left, 1000)
		evs := make([]eventdb.ProposedEvent, n)
		for j := range evs {
			evs[j] = eventdb.ProposedEvent{ID: uuid.New(), Type: "BenchEvent", Data: payload}
		}
		if _, err := node.DB.Append(context.Background(), "bench-"+uuid.NewString(), eventdb.Any, evs); err != nil {
			b.Fatal(err)
		}
		left -= n
	}
	b.ResetTimer()
	sub, err := c.SubscribeToAll(context.Background(), esdb.SubscribeToAllOptions{From: esdb.Start{}})
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Close()
	n := 0
	for {
		ev := sub.Recv()
		if ev.EventAppeared != nil {
			n++
		}
		if ev.CaughtUp != nil {
			break
		}
		if ev.SubscriptionDropped != nil {
			b.Fatal(ev.SubscriptionDropped.Error)
		}
	}
	b.StopTimer()
	if n != b.N {
		b.Fatalf("caught up after %d events, want %d", n, b.N)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
