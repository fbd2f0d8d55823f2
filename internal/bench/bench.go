// Package bench measures the event store the way its users load it: through the
// official client over loopback, against the machine's own disk limits measured in the
// same run, so the figures can be read side by side.
//
// Of ours it may import aggregates, eventstore, journeys, projections and its runner, and
// the internal journeygen and progress.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"golang.org/x/sys/unix"

	"github.com/gateledger/gateledger/eventstore"
)

// Results are the store figures; the JSON keys are the ones `gateledger bench --json`
// promises.
type Results struct {
	DiskFdatasyncPerS      float64 `json:"disk_fdatasync_per_s"`
	DiskSeqWriteMBPerS     float64 `json:"disk_seq_write_mb_per_s"`
	Append1WEvPerS         float64 `json:"append_1w_ev_per_s"`
	Append64WEvPerS        float64 `json:"append_64w_ev_per_s"`
	Append64WBatch50EvPerS float64 `json:"append_64w_batch50_ev_per_s"`
	CatchupReadEvPerS      float64 `json:"catchup_read_ev_per_s"`
	CatchupEvents          int     `json:"catchup_events"`
	LiveP50Ms              float64 `json:"live_p50_ms"`
	LiveP99Ms              float64 `json:"live_p99_ms"`
	LiveEvents             int     `json:"live_events"`
	EventBytes             int     `json:"event_bytes"`
	StoreFileMB            float64 `json:"store_file_mb"`
	PhaseSeconds           float64 `json:"phase_seconds"`
}

// Config sets the size of a run.
type Config struct {
	// Dir is a scratch directory: the run creates its store and disk probes here.
	Dir string
	// Phase is how long each timed phase runs; 0 means 3 s.
	Phase time.Duration
	// EventBytes is the size of each event's data; 0 means 400.
	EventBytes int
	// Progress receives a line as each phase starts; nil discards them.
	Progress io.Writer
	Logger   *slog.Logger
}

// Run measures the disk, then starts an embedded node in cfg.Dir and measures it.
func Run(ctx context.Context, cfg Config) (Results, error) {
	if cfg.Phase <= 0 {
		cfg.Phase = 3 * time.Second
	}
	if cfg.EventBytes <= 0 {
		cfg.EventBytes = 400
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	r := Results{EventBytes: cfg.EventBytes, PhaseSeconds: cfg.Phase.Seconds()}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return r, err
	}
	step := func(name string) { fmt.Fprintf(cfg.Progress, "bench: %s\n", name) }

	step("disk: fdatasync rate")
	var err error
	if r.DiskFdatasyncPerS, err = fdatasyncRate(cfg.Dir, cfg.Phase); err != nil {
		return r, err
	}
	step("disk: sequential write")
	if r.DiskSeqWriteMBPerS, err = seqWriteRate(cfg.Dir, 256<<20); err != nil {
		return r, err
	}

	store, err := eventstore.Open(ctx, eventstore.Config{DataDir: filepath.Join(cfg.Dir, "store"), Logger: cfg.Logger})
	if err != nil {
		return r, err
	}
	defer store.Close(context.WithoutCancel(ctx))
	c := store.Client
	payload := make([]byte, cfg.EventBytes)
	_, _ = rand.Read(payload)

	step("append: 1 writer, single events")
	if r.Append1WEvPerS, err = appendRate(ctx, c, 1, 1, cfg.Phase, payload); err != nil {
		return r, err
	}
	step("append: 64 writers, single events")
	if r.Append64WEvPerS, err = appendRate(ctx, c, 64, 1, cfg.Phase, payload); err != nil {
		return r, err
	}
	step("append: 64 writers, 50-event batches")
	if r.Append64WBatch50EvPerS, err = appendRate(ctx, c, 64, 50, cfg.Phase, payload); err != nil {
		return r, err
	}
	step("catch-up read of $all")
	if r.CatchupReadEvPerS, r.CatchupEvents, err = catchupRate(ctx, c); err != nil {
		return r, err
	}
	step("live subscription latency at 1,000 appends/s")
	var lat []time.Duration
	if lat, err = liveLatency(ctx, c, 1000, cfg.Phase, payload); err != nil {
		return r, err
	}
	r.LiveEvents = len(lat)
	r.LiveP50Ms = ms(percentile(lat, 0.50))
	r.LiveP99Ms = ms(percentile(lat, 0.99))
	if size, err := store.Node.DB.Size(); err == nil {
		r.StoreFileMB = float64(size) / (1 << 20)
	}
	return r, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p)
	return s[i]
}

// fdatasyncRate is the machine's ceiling for durable commits: 4 KiB write + fdatasync.
func fdatasyncRate(dir string, d time.Duration) (float64, error) {
	f, err := os.CreateTemp(dir, "fsync-probe-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 4096)
	n := 0
	start := time.Now()
	for time.Since(start) < d {
		if _, err := f.WriteAt(buf, int64(n%256)*4096); err != nil {
			return 0, err
		}
		if err := unix.Fdatasync(int(f.Fd())); err != nil {
			return 0, err
		}
		n++
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// seqWriteRate writes size bytes in 1 MiB blocks and syncs once.
func seqWriteRate(dir string, size int) (float64, error) {
	f, err := os.CreateTemp(dir, "seq-probe-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 1<<20)
	_, _ = rand.Read(buf)
	start := time.Now()
	for written := 0; written < size; written += len(buf) {
		if _, err := f.Write(buf); err != nil {
			return 0, err
		}
	}
	if err := unix.Fdatasync(int(f.Fd())); err != nil {
		return 0, err
	}
	return float64(size) / (1 << 20) / time.Since(start).Seconds(), nil
}

func newEvents(n int, payload []byte) []esdb.EventData {
	evs := make([]esdb.EventData, n)
	for i := range evs {
		evs[i] = esdb.EventData{EventID: uuid.New(), EventType: "BenchEvent", ContentType: esdb.ContentTypeBinary, Data: payload}
	}
	return evs
}

// appendRate runs writers goroutines, each appending batch-sized appends to its own
// stream for d, and returns acknowledged events per second.
func appendRate(ctx context.Context, c eventstore.Store, writers, batch int, d time.Duration, payload []byte) (float64, error) {
	var total atomic.Int64
	var firstErr error
	var once sync.Once
	deadline := time.Now().Add(d)
	run := uuid.NewString()[:8]
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			stream := fmt.Sprintf("bench-%s-%d", run, w)
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if _, err := c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{}, newEvents(batch, payload)...); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				total.Add(int64(batch))
			}
		}(w)
	}
	wg.Wait()
	if firstErr != nil {
		return 0, fmt.Errorf("append (%d writers, batch %d): %w", writers, batch, firstErr)
	}
	return float64(total.Load()) / time.Since(start).Seconds(), nil
}

// catchupRate subscribes to $all from the start and counts events until caught up.
func catchupRate(ctx context.Context, c eventstore.Store) (float64, int, error) {
	start := time.Now()
	sub, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: esdb.Start{}})
	if err != nil {
		return 0, 0, err
	}
	defer sub.Close()
	n := 0
	for {
		ev := sub.Recv()
		switch {
		case ev.EventAppeared != nil:
			n++
		case ev.CaughtUp != nil:
			return float64(n) / time.Since(start).Seconds(), n, nil
		case ev.SubscriptionDropped != nil:
			return 0, n, fmt.Errorf("catch-up subscription dropped: %w", ev.SubscriptionDropped.Error)
		}
	}
}

// liveStore is a Store that can also follow a single stream: the live-latency figure
// is the store's own, measured on one stream, not on the ledger's filtered $all.
type liveStore interface {
	eventstore.Store
	SubscribeToStream(ctx context.Context, stream string, opts esdb.SubscribeToStreamOptions) (*esdb.Subscription, error)
}

// liveLatency appends rate events per second for d while a live subscriber measures
// the time from each append's start to the event's arrival.
func liveLatency(ctx context.Context, c liveStore, rate int, d time.Duration, payload []byte) ([]time.Duration, error) {
	stream := "bench-live-" + uuid.NewString()[:8]
	sub, err := c.SubscribeToStream(ctx, stream, esdb.SubscribeToStreamOptions{From: esdb.End{}})
	if err != nil {
		return nil, err
	}
	defer sub.Close()
	want := int(float64(rate) * d.Seconds())
	base := time.Now()
	received := make(chan []time.Duration, 1)
	go func() {
		var lat []time.Duration
		for len(lat) < want {
			ev := sub.Recv()
			if ev.SubscriptionDropped != nil {
				break
			}
			if ev.EventAppeared == nil {
				continue
			}
			sent := time.Duration(binary.BigEndian.Uint64(ev.EventAppeared.Event.Data))
			lat = append(lat, time.Since(base)-sent)
		}
		received <- lat
	}()
	// Appends run from a few goroutines so that one slow commit does not hold back the
	// schedule, which would understate latency.
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	var appendErr atomic.Value
	for i := 0; i < want; i++ {
		<-tick.C
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			data := slices.Clone(payload)
			binary.BigEndian.PutUint64(data, uint64(time.Since(base)))
			ev := esdb.EventData{EventID: uuid.New(), EventType: "BenchLive", ContentType: esdb.ContentTypeBinary, Data: data}
			if _, err := c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{}, ev); err != nil {
				appendErr.Store(err)
			}
		}()
	}
	wg.Wait()
	if err, _ := appendErr.Load().(error); err != nil {
		return nil, fmt.Errorf("live append: %w", err)
	}
	select {
	case lat := <-received:
		if len(lat) < want {
			return lat, errors.New("live subscription dropped before every event arrived")
		}
		return lat, nil
	case <-time.After(30 * time.Second):
		return nil, errors.New("live subscription did not receive every event within 30 s")
	}
}
