package esdbserver_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/gateledger/gateledger/esdbserver"
)

// startNode starts an embedded node on loopback with TLS and authentication, as in
// production, and returns an official client connected to it.
func startNode(t testing.TB, dir string) (*esdbserver.Node, *esdb.Client) {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	node, err := esdbserver.StartNode(esdbserver.NodeConfig{DataDir: dir, Logger: quietLogger(), FellBehindAfter: 64})
	if err != nil {
		t.Fatalf("start node: %v", err)
	}
	client, err := node.Client()
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	t.Cleanup(func() {
		_ = client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := node.Close(ctx); err != nil {
			t.Errorf("close node: %v", err)
		}
	})
	return node, client
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func jsonEvent(typ string, v any) esdb.EventData {
	b, _ := json.Marshal(v)
	return esdb.EventData{EventID: uuid.New(), EventType: typ, ContentType: esdb.ContentTypeJson, Data: b}
}

func events(n int, typ string) []esdb.EventData {
	out := make([]esdb.EventData, n)
	for i := range out {
		out[i] = jsonEvent(typ, map[string]int{"n": i})
	}
	return out
}

// readAllOf reads a whole stream forwards; it fails the test on any error.
func readStream(t testing.TB, c *esdb.Client, stream string, opts esdb.ReadStreamOptions, count uint64) ([]*esdb.ResolvedEvent, error) {
	t.Helper()
	rs, err := c.ReadStream(ctxT(t), stream, opts, count)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []*esdb.ResolvedEvent
	for {
		ev, err := rs.Recv()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, ev)
	}
}
