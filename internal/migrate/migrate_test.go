package migrate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog/eventlogtest"
	"github.com/gateledger/gateledger/internal/journeygen"
)

// seed writes journeys with hash chains, plus the awkward cases: stream metadata, a
// soft-deleted stream written to again, a tombstoned stream, binary events.
func seed(ctx context.Context, t *testing.T, c *esdb.Client, journeys int) {
	t.Helper()
	g := journeygen.New(3, time.Now(), 365*24*time.Hour, aggregates.DefaultPolicy(nil))
	var js []journeygen.Journey
	for i := 0; i < journeys; i++ {
		js = append(js, g.Journey(i))
	}
	if err := (&journeygen.Writer{Client: c, StepsPerAppend: 3}).Write(ctx, js); err != nil {
		t.Fatal(err)
	}
	app := func(stream string, ct esdb.ContentType, data string) {
		t.Helper()
		if _, err := c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{}, esdb.EventData{EventID: uuid.New(), EventType: "Note", ContentType: ct, Data: []byte(data), Metadata: []byte(`{"m":1}`)}); err != nil {
			t.Fatal(err)
		}
	}
	app("notes-a", esdb.ContentTypeJson, `{"n":1}`)
	app("notes-b", esdb.ContentTypeBinary, "\x00\x01binary")
	if _, err := c.SetStreamMetadata(ctx, "notes-a", esdb.AppendToStreamOptions{}, esdb.StreamMetadata{}); err != nil {
		t.Fatal(err)
	}
	app("notes-c", esdb.ContentTypeJson, `{"n":2}`)
	if _, err := c.DeleteStream(ctx, "notes-c", esdb.DeleteStreamOptions{ExpectedRevision: esdb.Any{}}); err != nil {
		t.Fatal(err)
	}
	app("notes-c", esdb.ContentTypeJson, `{"n":3}`) // after a soft delete: revisions continue
	app("notes-d", esdb.ContentTypeJson, `{"n":4}`)
	if _, err := c.TombstoneStream(ctx, "notes-d", esdb.TombstoneStreamOptions{ExpectedRevision: esdb.Any{}}); err != nil {
		t.Fatal(err)
	}
	app("notes-a", esdb.ContentTypeJson, `{"n":5}`)
}

type stored struct {
	stream, typ, contentType string
	revision                 uint64
	id                       uuid.UUID
	data, meta               []byte
}

// all reads the whole of $all, leaving out the store's own streams.
func all(ctx context.Context, t *testing.T, c *esdb.Client) []stored {
	t.Helper()
	rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{From: esdb.Start{}}, ^uint64(0))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []stored
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		e := ev.OriginalEvent()
		if systemStream(e.StreamID) {
			continue
		}
		s := stored{stream: e.StreamID, typ: e.EventType, contentType: e.ContentType, id: e.EventID, data: e.Data, meta: e.UserMetadata}
		if e.EventType != "$streamDeleted" { // the revision of a tombstone record is the store's own
			s.revision = e.EventNumber
		}
		out = append(out, s)
	}
}

func compare(t *testing.T, want, got []stored) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("source has %d events, target %d", len(want), len(got))
	}
	for i := range want {
		w, g := want[i], got[i]
		// Stream metadata the target wrote itself (a soft-deleted stream written to
		// again) has its own id, as does a tombstone record, which the store writes.
		sameID := w.id == g.id || (w.typ == "$metadata" && sameJSON(w.data, g.data)) || w.typ == "$streamDeleted"
		if w.stream != g.stream || w.revision != g.revision || !sameID || w.typ != g.typ || w.contentType != g.contentType ||
			!sameJSONOrBytes(w, g) || !bytes.Equal(w.meta, g.meta) {
			t.Fatalf("$all event %d differs:\nsource %+v\ntarget %+v", i, w, g)
		}
	}
}

func sameJSONOrBytes(w, g stored) bool {
	if w.typ == "$metadata" {
		return sameJSON(w.data, g.data)
	}
	return bytes.Equal(w.data, g.data)
}

// TestMigrateInterruptResumeRerun migrates between two embedded servers over real
// gRPC, is cancelled midway, resumes, is run again, and leaves a target identical to
// the source event by event in $all order.
func TestMigrateInterruptResumeRerun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	src, dst := eventlogtest.Store(t), eventlogtest.Store(t)
	seed(ctx, t, src.Client, 60)
	want := all(ctx, t, src.Client)

	// Interrupted once about half the events are copied.
	stopCtx, stop := context.WithCancel(ctx)
	rep, err := Run(stopCtx, Config{Source: src.Client, Target: dst.Client, MaxBatch: 2, Progress: func(_, _ uint64, copied int64) {
		if copied >= int64(len(want)/2) {
			stop()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted migration: %v (%+v)", err, rep)
	}
	partial := all(ctx, t, dst.Client)
	if len(partial) == 0 || len(partial) >= len(want) {
		t.Fatalf("after the interruption the target has %d of %d events", len(partial), len(want))
	}
	compare(t, want[:len(partial)], partial)

	rep, err = Run(ctx, Config{Source: src.Client, Target: dst.Client})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ResumedAfter == 0 || rep.Events+rep.Matched+int64(len(partial))+rep.Tombstones != int64(len(want)) {
		t.Fatalf("resumed run: %+v; %d copied before, %d in the source", rep, len(partial), len(want))
	}
	compare(t, want, all(ctx, t, dst.Client))

	rep, err = Run(ctx, Config{Source: src.Client, Target: dst.Client})
	if err != nil || rep.Events != 0 || rep.Tombstones != 0 || rep.Matched != 0 {
		t.Fatalf("rerun copied something: %+v %v", rep, err)
	}
	compare(t, want, all(ctx, t, dst.Client))

	// The tombstone and the soft delete hold on the target.
	if _, err := dst.Client.AppendToStream(ctx, "notes-d", esdb.AppendToStreamOptions{}, esdb.EventData{EventType: "X", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)}); errorCode(err) != esdb.ErrorCodeStreamDeleted {
		t.Fatalf("append to the tombstoned stream on the target: %v", err)
	}
	rs, err := dst.Client.ReadStream(ctx, "notes-c", esdb.ReadStreamOptions{From: esdb.Start{}}, 10)
	if err != nil {
		t.Fatal(err)
	}
	var visible []string
	for {
		ev, err := rs.Recv()
		if err != nil {
			break
		}
		visible = append(visible, string(ev.Event.Data))
	}
	rs.Close()
	if fmt.Sprint(visible) != `[{"n":3}]` {
		t.Fatalf("soft-deleted stream on the target reads %v", visible)
	}

	// More events in the source: a rerun copies just those.
	if _, err := src.Client.AppendToStream(ctx, "notes-e", esdb.AppendToStreamOptions{}, esdb.EventData{EventType: "Note", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if rep, err := Run(ctx, Config{Source: src.Client, Target: dst.Client}); err != nil || rep.Events != 1 {
		t.Fatalf("incremental run: %+v %v", rep, err)
	}
	compare(t, all(ctx, t, src.Client), all(ctx, t, dst.Client))
}

// TestMigrateRefusesADivergedTarget: a target whose stream holds another event where
// the source's goes fails clearly, and nothing is overwritten.
func TestMigrateRefusesADivergedTarget(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tests := []struct {
		name  string
		setup func(dst *esdb.Client)
	}{
		{"stream written before the copy", func(dst *esdb.Client) {
			if _, err := dst.AppendToStream(ctx, "notes-a", esdb.AppendToStreamOptions{}, esdb.EventData{EventType: "Other", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)}); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, dst := eventlogtest.Store(t), eventlogtest.Store(t)
			seed(ctx, t, src.Client, 3)
			tc.setup(dst.Client)
			_, err := Run(ctx, Config{Source: src.Client, Target: dst.Client})
			if !errors.Is(err, ErrDiverged) {
				t.Fatalf("want ErrDiverged, got %v", err)
			}
		})
	}
	// A copy written to afterwards: the target's last event is not the source's.
	src, dst := eventlogtest.Store(t), eventlogtest.Store(t)
	seed(ctx, t, src.Client, 3)
	if _, err := Run(ctx, Config{Source: src.Client, Target: dst.Client}); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Client.AppendToStream(ctx, "notes-a", esdb.AppendToStreamOptions{}, esdb.EventData{EventType: "Other", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Client.AppendToStream(ctx, "notes-a", esdb.AppendToStreamOptions{}, esdb.EventData{EventType: "Note", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(ctx, Config{Source: src.Client, Target: dst.Client}); !errors.Is(err, ErrDiverged) {
		t.Fatalf("a target written to after the copy: want ErrDiverged, got %v", err)
	}
}

func TestSystemStream(t *testing.T) {
	for name, want := range map[string]bool{"journey-A1234BC": false, "$$journey-A1234BC": false, "$$$settings": true, "$settings": true, "$$": true, "$stats-127": true} {
		if got := systemStream(name); got != want {
			t.Errorf("systemStream(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestMigrateResumesPastATombstone: when the target's last events are a tombstone
// and events of streams the source has tombstoned, which cannot be looked up in the
// source, the resume point is found further back, and a rerun copies nothing.
func TestMigrateResumesPastATombstone(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	src, dst := eventlogtest.Store(t), eventlogtest.Store(t)
	seed(ctx, t, src.Client, 2)
	for _, s := range []string{"gone-a", "gone-b"} {
		if _, err := src.Client.AppendToStream(ctx, s, esdb.AppendToStreamOptions{}, esdb.EventData{EventType: "Note", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []string{"gone-a", "gone-b"} {
		if _, err := src.Client.TombstoneStream(ctx, s, esdb.TombstoneStreamOptions{ExpectedRevision: esdb.Any{}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Run(ctx, Config{Source: src.Client, Target: dst.Client}); err != nil {
		t.Fatal(err)
	}
	want := all(ctx, t, src.Client)
	compare(t, want, all(ctx, t, dst.Client))
	rep, err := Run(ctx, Config{Source: src.Client, Target: dst.Client})
	if err != nil || rep.Events != 0 || rep.Tombstones != 0 || rep.ResumedAfter == 0 {
		t.Fatalf("rerun after tombstones: %+v %v", rep, err)
	}
	compare(t, want, all(ctx, t, dst.Client))
}
