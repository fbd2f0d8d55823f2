package esdbserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// TestClientKeepalivesDoNotDropSubscriptions: the official client pings every 10 s. A
// server that calls that abuse answers GOAWAY "too_many_pings" after a few pings and
// drops every subscription on the connection, which is what the default gRPC policy does.
func TestClientKeepalivesDoNotDropSubscriptions(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 35 s for several client keepalive pings")
	}
	t.Parallel()
	_, c := startNode(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sub, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: esdb.End{}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	dropped := make(chan error, 1)
	go func() {
		for {
			ev := sub.Recv()
			if ev.SubscriptionDropped != nil {
				dropped <- ev.SubscriptionDropped.Error
				return
			}
		}
	}()
	select {
	case err := <-dropped:
		if ctx.Err() == nil {
			t.Fatalf("idle subscription dropped: %v", err)
		}
	case <-time.After(35 * time.Second):
	}
	if _, err := c.AppendToStream(ctx, "after-idle", esdb.AppendToStreamOptions{}, events(1, "T")...); err != nil {
		t.Fatalf("append after an idle period: %v", err)
	}
}
