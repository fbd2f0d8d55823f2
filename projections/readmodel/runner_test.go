package readmodel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/internal/esdbserver"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func startStore(t *testing.T) eventstore.Store {
	t.Helper()
	node, err := esdbserver.StartNode(esdbserver.NodeConfig{DataDir: t.TempDir(), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := node.Client()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = node.Close(ctx)
	})
	return c
}

// counter counts events per stream and remembers the order it saw them in; it fails on
// an event whose data says "poison", to test that one projection stops alone.
type counter struct {
	name     string
	poisoned bool
}

func (c counter) Name() string { return c.name }
func (c counter) Version() int { return 1 }
func (c counter) Apply(b *bolt.Bucket, ev *Event) error {
	if c.poisoned && bytes.Contains(ev.Data, []byte("poison")) {
		return errors.New("cannot apply poison")
	}
	per, err := b.CreateBucketIfNotExists([]byte("per-stream"))
	if err != nil {
		return err
	}
	var n uint64
	if v := per.Get([]byte(ev.Stream)); v != nil {
		fmt.Sscan(string(v), &n)
	}
	if err := per.Put([]byte(ev.Stream), []byte(fmt.Sprint(n+1))); err != nil {
		return err
	}
	order, err := b.CreateBucketIfNotExists([]byte("order"))
	if err != nil {
		return err
	}
	return order.Put(U64(ev.Position), []byte(ev.Stream+"/"+fmt.Sprint(ev.Revision)))
}

func appendN(t *testing.T, c eventstore.Store, stream string, n int, data string) uint64 {
	t.Helper()
	evs := make([]esdb.EventData, n)
	for i := range evs {
		b, _ := json.Marshal(map[string]string{"d": data})
		evs[i] = esdb.EventData{EventID: uuid.New(), EventType: "Counted", ContentType: esdb.ContentTypeJson, Data: b}
	}
	res, err := c.AppendToStream(context.Background(), stream, esdb.AppendToStreamOptions{}, evs...)
	if err != nil {
		t.Fatal(err)
	}
	return res.CommitPosition
}

func run(t *testing.T, r *Runner) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = r.Run(ctx) }()
	return func() { cancel(); wg.Wait() }
}

func dump(t *testing.T, r *Runner, name string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := r.Dump(name, func(path [][]byte, k, v []byte) { fmt.Fprintf(&buf, "%q %q=%q\n", path, k, v) }); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestRunnerResumesRebuildsAndIsolatesFailures(t *testing.T) {
	c := startStore(t)
	path := filepath.Join(t.TempDir(), "projections.db")
	r, err := Open(path, c, quiet(), counter{name: "a"}, counter{name: "b", poisoned: true})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, r)
	appendN(t, c, "s-1", 10, "ok")
	pos := appendN(t, c, "s-2", 5, "ok")
	if err := r.WaitFor(waitCtx(t), "a", pos); err != nil {
		t.Fatalf("wait a: %v", err)
	}
	if err := r.WaitFor(waitCtx(t), "b", pos); err != nil {
		t.Fatalf("wait b: %v", err)
	}
	// Given b cannot apply a poisoned event, when one arrives, then b stops with an error
	// naming it and a keeps going.
	poison := appendN(t, c, "s-3", 1, "poison")
	after := appendN(t, c, "s-1", 3, "ok")
	if err := r.WaitFor(waitCtx(t), "a", after); err != nil {
		t.Fatalf("a should go on past the poison: %v", err)
	}
	var applyErr *ApplyError
	if err := r.WaitFor(waitCtx(t), "b", after); !errors.As(err, &applyErr) || applyErr.Position != poison || applyErr.Stream != "s-3" {
		t.Fatalf("b: err = %v, want ApplyError at %d in s-3", err, poison)
	}
	stop()
	incremental := dump(t, r, "a")
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	// A restart resumes from the checkpoint: nothing is applied twice.
	r, err = Open(path, c, quiet(), counter{name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	stop = run(t, r)
	last := appendN(t, c, "s-2", 2, "ok")
	if err := r.WaitFor(waitCtx(t), "a", last); err != nil {
		t.Fatal(err)
	}
	stop()
	resumed := dump(t, r, "a")

	// A rebuild from zero gives the same bytes as building incrementally.
	if err := r.Reset(); err != nil {
		t.Fatal(err)
	}
	stop = run(t, r)
	if err := r.WaitFor(waitCtx(t), "a", last); err != nil {
		t.Fatal(err)
	}
	stop()
	if rebuilt := dump(t, r, "a"); rebuilt != resumed {
		t.Fatalf("rebuilt state differs from incremental state:\n%s\n---\n%s", rebuilt, resumed)
	}
	if resumed == incremental {
		t.Fatal("state did not change after restart")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestWaitForTimesOutAndUnknownProjection(t *testing.T) {
	c := startStore(t)
	r, err := Open(filepath.Join(t.TempDir(), "p.db"), c, quiet(), counter{name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := r.WaitFor(ctx, "a", 1<<40); !errors.Is(err, ErrNotCaughtUp) {
		t.Fatalf("err = %v, want ErrNotCaughtUp", err)
	}
	if err := r.WaitFor(ctx, "nope", 1); !errors.Is(err, ErrUnknownProjection) {
		t.Fatalf("err = %v, want ErrUnknownProjection", err)
	}
}
