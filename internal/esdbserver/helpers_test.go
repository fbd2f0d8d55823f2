package esdbserver_test

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/gateledger/gateledger/internal/esdbserver"
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

// startNodeWith starts a node from cfg (DataDir, Logger and FellBehindAfter get test
// defaults when unset) and returns it with an official client; both close at cleanup.
func startNodeWith(t testing.TB, cfg esdbserver.NodeConfig) (*esdbserver.Node, *esdb.Client) {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	if cfg.FellBehindAfter == 0 {
		cfg.FellBehindAfter = 64
	}
	node, err := esdbserver.StartNode(cfg)
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

// errCode is the official client's error code of err, or -1 when err is not an *esdb.Error.
func errCode(err error) esdb.ErrorCode {
	var e *esdb.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return -1
}

// wantCode fails the test unless err carries the client error code want.
func wantCode(t testing.TB, err error, want esdb.ErrorCode, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want error code %d", what, want)
	}
	if got := errCode(err); got != want {
		t.Fatalf("%s: error code %d (%v), want %d", what, got, err, want)
	}
}

// basicAuth sends basic credentials with every call of the raw gRPC client.
type basicAuth struct{ user, pass string }

func (b basicAuth) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(b.user+":"+b.pass))}, nil
}

func (basicAuth) RequireTransportSecurity() bool { return true }

// rawConn dials the node with the generated gRPC stubs, for requests the official client
// cannot produce.
func rawConn(t testing.TB, node *esdbserver.Node) *grpc.ClientConn {
	t.Helper()
	opts := []grpc.DialOption{}
	if node.Secrets != nil {
		opts = append(opts,
			grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: node.Secrets.CertPool, MinVersion: tls.VersionTLS12})),
			grpc.WithPerRPCCredentials(basicAuth{node.Secrets.Username, node.Secrets.Password}))
	} else {
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	conn, err := grpc.NewClient(node.Addr(), opts...)
	if err != nil {
		t.Fatalf("dial %s: %v", node.Addr(), err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func rawStreams(t testing.TB, node *esdbserver.Node) api.StreamsClient {
	return api.NewStreamsClient(rawConn(t, node))
}

// mustAppend appends and fails the test on error.
func mustAppend(t testing.TB, c *esdb.Client, stream string, expected esdb.ExpectedRevision, evs ...esdb.EventData) *esdb.WriteResult {
	t.Helper()
	res, err := c.AppendToStream(ctxT(t), stream, esdb.AppendToStreamOptions{ExpectedRevision: expected}, evs...)
	if err != nil {
		t.Fatalf("append %d events to %s (expected %#v): %v", len(evs), stream, expected, err)
	}
	return res
}

// mustRead reads a stream and fails the test on error.
func mustRead(t testing.TB, c *esdb.Client, stream string, opts esdb.ReadStreamOptions, count uint64) []*esdb.ResolvedEvent {
	t.Helper()
	evs, err := readStream(t, c, stream, opts, count)
	if err != nil {
		t.Fatalf("read %s: %v", stream, err)
	}
	return evs
}

// readAll reads $all and fails the test on error.
func readAll(t testing.TB, c *esdb.Client, opts esdb.ReadAllOptions, count uint64) []*esdb.ResolvedEvent {
	t.Helper()
	rs, err := c.ReadAll(ctxT(t), opts, count)
	if err != nil {
		t.Fatalf("read $all: %v", err)
	}
	defer rs.Close()
	var out []*esdb.ResolvedEvent
	for {
		ev, err := rs.Recv()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("read $all: %v", err)
		}
		out = append(out, ev)
	}
}

// userEvents keeps the events of streams that do not start with "$".
func userEvents(evs []*esdb.ResolvedEvent) []*esdb.ResolvedEvent {
	var out []*esdb.ResolvedEvent
	for _, e := range evs {
		if !strings.HasPrefix(e.Event.StreamID, "$") {
			out = append(out, e)
		}
	}
	return out
}

func revisions(evs []*esdb.ResolvedEvent) []uint64 {
	out := make([]uint64, len(evs))
	for i, e := range evs {
		out[i] = e.Event.EventNumber
	}
	return out
}

func ids(evs []*esdb.ResolvedEvent) []uuid.UUID {
	out := make([]uuid.UUID, len(evs))
	for i, e := range evs {
		out[i] = e.Event.EventID
	}
	return out
}

func dataIDs(evs []esdb.EventData) []uuid.UUID {
	out := make([]uuid.UUID, len(evs))
	for i, e := range evs {
		out[i] = e.EventID
	}
	return out
}

// subMsg is one message of a subscription, as the test sees it.
type subMsg struct {
	event      *esdb.ResolvedEvent
	checkpoint *esdb.Position
	caughtUp   bool
	fellBehind bool
	dropped    error
}

func (m subMsg) String() string {
	switch {
	case m.event != nil:
		return fmt.Sprintf("event %s@%d pos %d", m.event.Event.StreamID, m.event.Event.EventNumber, m.event.Event.Position.Commit)
	case m.checkpoint != nil:
		return fmt.Sprintf("checkpoint %d", m.checkpoint.Commit)
	case m.caughtUp:
		return "caught-up"
	case m.fellBehind:
		return "fell-behind"
	default:
		return fmt.Sprintf("dropped: %v", m.dropped)
	}
}

// subReader turns a subscription into a channel of messages, so tests can wait with
// deadlines.
type subReader struct {
	sub *esdb.Subscription
	ch  chan subMsg
}

func readSub(t testing.TB, sub *esdb.Subscription) *subReader {
	t.Helper()
	r := &subReader{sub: sub, ch: make(chan subMsg, 1<<16)}
	go func() {
		defer close(r.ch)
		for {
			ev := sub.Recv()
			var m subMsg
			switch {
			case ev.EventAppeared != nil:
				m.event = ev.EventAppeared
			case ev.CheckPointReached != nil:
				m.checkpoint = ev.CheckPointReached
			case ev.CaughtUp != nil:
				m.caughtUp = true
			case ev.FellBehind != nil:
				m.fellBehind = true
			case ev.SubscriptionDropped != nil:
				m.dropped = ev.SubscriptionDropped.Error
				r.ch <- m
				return
			}
			r.ch <- m
		}
	}()
	t.Cleanup(func() { _ = sub.Close() })
	return r
}

// next returns the next message, failing the test after a deadline.
func (r *subReader) next(t testing.TB) subMsg {
	t.Helper()
	select {
	case m, ok := <-r.ch:
		if !ok {
			t.Fatalf("subscription ended")
		}
		return m
	case <-time.After(15 * time.Second):
		t.Fatalf("no subscription message within 15s")
	}
	return subMsg{}
}

// events collects n events, returning also every other message seen on the way.
func (r *subReader) events(t testing.TB, n int) (evs []*esdb.ResolvedEvent, all []subMsg) {
	t.Helper()
	for len(evs) < n {
		m := r.next(t)
		all = append(all, m)
		if m.dropped != nil {
			t.Fatalf("subscription dropped after %d of %d events: %v", len(evs), n, m.dropped)
		}
		if m.event != nil {
			evs = append(evs, m.event)
		}
	}
	return evs, all
}

// until reads messages until one satisfies stop, returning all of them.
func (r *subReader) until(t testing.TB, stop func(subMsg) bool) []subMsg {
	t.Helper()
	var all []subMsg
	for {
		m := r.next(t)
		all = append(all, m)
		if stop(m) {
			return all
		}
		if m.dropped != nil {
			t.Fatalf("subscription dropped: %v (after %v)", m.dropped, all)
		}
	}
}

func isCaughtUp(m subMsg) bool { return m.caughtUp }

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	return host, port, err
}
