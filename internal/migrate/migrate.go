// Package migrate copies an event store into another EventStoreDB-compatible store
// (a KurrentDB cluster, say) through the official client: every stream in $all order,
// with the same event ids, types, content types, data and metadata, stream metadata
// ($$ streams, soft deletes included) and tombstones.
//
// The copy is sequential, so the target's $all holds the events in the source's order.
// It keeps no checkpoint of its own: the point to resume from is derived from the
// target, whose last copied event is looked up in the source. Appends name the
// revision each stream must be at, so an event already copied is acknowledged again
// without being written twice (the stores' idempotent retries), and a target stream
// that holds something else fails the copy with ErrDiverged. One exception: a store
// writes stream metadata itself when a soft-deleted stream is written to again, so
// those $$ events are matched by content, and their ids may differ from the source's;
// a tombstone is re-made on the target, whose $streamDeleted record has its own id.
//
// Of ours it imports only eventstore: it copies events, whatever they mean.
package migrate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/gateledger/gateledger/eventstore"
)

// ErrDiverged means the target holds events that are not the source's at the same
// place: it was written to by something other than this migration.
var ErrDiverged = errors.New("the target has diverged from the source")

// Target is a store to copy into: an eventstore.Store that can also tombstone a
// stream, since the copy re-makes the source's tombstones (the ledger itself never
// deletes anything, so eventstore.Store does not name it). *esdb.Client and
// *eventstore.Conn are both.
type Target interface {
	eventstore.Store
	TombstoneStream(ctx context.Context, stream string, opts esdb.TombstoneStreamOptions) (*esdb.DeleteResult, error)
}

// Config is a migration.
type Config struct {
	Source eventstore.Store
	Target Target
	// PageSize is how many events are read from the source at once; 0 means 1,000.
	PageSize uint64
	// MaxBatch bounds how many consecutive events of one stream go in one append; 0
	// means 500.
	MaxBatch int
	// Progress, when set, is called after each append with the source position reached,
	// the source's last position when the migration began, and the events copied.
	Progress func(position, head uint64, copied int64)
}

// Report says what a migration did.
type Report struct {
	// ResumedAfter is the source position of the last event the target already held
	// (0 when the copy started from the beginning).
	ResumedAfter uint64
	// Head is the source's last position when the migration began.
	Head uint64
	// Events counts the events appended (stream metadata included), Tombstones the
	// streams tombstoned, Appends the append calls.
	Events, Tombstones, Appends int64
	// Matched counts stream metadata events the target had written itself (see the
	// package comment).
	Matched int64
	// Position is the source position of the last event copied or found copied.
	Position uint64
}

// Run copies everything in the source's $all after the last event the target holds.
// Cancelling ctx stops it between appends; a later Run resumes.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if cfg.PageSize == 0 {
		cfg.PageSize = 1000
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 500
	}
	var rep Report
	head, err := lastPosition(ctx, cfg.Source)
	if err != nil {
		return rep, fmt.Errorf("source: %w", err)
	}
	rep.Head = head
	from, skip, err := resumePoint(ctx, cfg.Source, cfg.Target)
	if err != nil {
		return rep, err
	}
	if skip != uuid.Nil {
		rep.ResumedAfter = from.(esdb.Position).Commit
		rep.Position = rep.ResumedAfter
	}
	c := copier{cfg: cfg, rep: &rep}
	started := false
	var last esdb.Position
	for {
		rs, err := cfg.Source.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Forwards, From: from}, cfg.PageSize)
		if err != nil {
			return rep, fmt.Errorf("source: read $all: %w", err)
		}
		fresh := 0
		for {
			ev, err := rs.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rs.Close()
				return rep, fmt.Errorf("source: read $all: %w", err)
			}
			e := ev.OriginalEvent()
			if e == nil {
				continue
			}
			// A forward read includes the position it starts at: the event already
			// copied (on resume) or the last of the previous page.
			if (started && e.Position.Commit <= last.Commit) || (!started && e.EventID == skip) {
				started, last = true, e.Position
				continue
			}
			started, last = true, e.Position
			fresh++
			if err := c.add(ctx, e); err != nil {
				rs.Close()
				return rep, err
			}
		}
		rs.Close()
		if fresh == 0 {
			break
		}
		from = last
	}
	return rep, c.flush(ctx)
}

// copier gathers consecutive events of one stream into one append.
type copier struct {
	cfg    Config
	rep    *Report
	stream string
	first  uint64 // revision of the batch's first event
	batch  []esdb.EventData
	pos    uint64 // source position of the batch's last event
}

func (c *copier) add(ctx context.Context, e *esdb.RecordedEvent) error {
	if systemStream(e.StreamID) {
		return nil
	}
	if e.EventType == "$streamDeleted" {
		if err := c.flush(ctx); err != nil {
			return err
		}
		return c.tombstone(ctx, e)
	}
	if len(c.batch) > 0 && (e.StreamID != c.stream || e.EventNumber != c.first+uint64(len(c.batch)) || len(c.batch) >= c.cfg.MaxBatch) {
		if err := c.flush(ctx); err != nil {
			return err
		}
	}
	if len(c.batch) == 0 {
		c.stream, c.first = e.StreamID, e.EventNumber
	}
	ct := esdb.ContentTypeBinary
	if e.ContentType == "application/json" {
		ct = esdb.ContentTypeJson
	}
	c.batch = append(c.batch, esdb.EventData{EventID: e.EventID, EventType: e.EventType, ContentType: ct, Data: e.Data, Metadata: e.UserMetadata})
	c.pos = e.Position.Commit
	return nil
}

func (c *copier) flush(ctx context.Context) error {
	if len(c.batch) == 0 {
		return nil
	}
	var expected esdb.ExpectedRevision = esdb.NoStream{}
	if c.first > 0 {
		expected = esdb.Revision(c.first - 1)
	}
	_, err := c.cfg.Target.AppendToStream(ctx, c.stream, esdb.AppendToStreamOptions{ExpectedRevision: expected}, c.batch...)
	n, batch := len(c.batch), c.batch
	c.batch = nil
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("target: append to %q: %w", c.stream, ctx.Err())
	}
	if err != nil {
		code := errorCode(err)
		switch {
		case code == esdb.ErrorCodeWrongExpectedVersion && strings.HasPrefix(c.stream, "$$") && c.sameMetadata(ctx, c.stream, c.first, batch):
			// The target wrote this stream metadata itself: a store rewrites $tb when a
			// soft-deleted stream is written to again, as the source did.
			c.rep.Matched += int64(n)
		case code == esdb.ErrorCodeWrongExpectedVersion:
			return fmt.Errorf("%w: stream %q on the target is not at revision %d, where the source's event %d follows (%v)",
				ErrDiverged, c.stream, int64(c.first)-1, c.first, err)
		case code == esdb.ErrorCodeStreamDeleted && c.sourceTombstoned(ctx, c.stream):
			// Copied before: the tombstone that follows in the source is on the target.
		default:
			return fmt.Errorf("target: append %d events to %q: %w", n, c.stream, err)
		}
	} else {
		c.rep.Events += int64(n)
		c.rep.Appends++
	}
	c.rep.Position = c.pos
	if c.cfg.Progress != nil {
		c.cfg.Progress(c.pos, c.rep.Head, c.rep.Events)
	}
	return nil
}

// sameMetadata reports whether the target's stream metadata events from revision first
// on hold the same documents as batch (the ids may differ).
func (c *copier) sameMetadata(ctx context.Context, stream string, first uint64, batch []esdb.EventData) bool {
	for i, want := range batch {
		got, err := eventAt(ctx, c.cfg.Target, stream, first+uint64(i))
		if err != nil || got == nil || got.EventType != want.EventType || !sameJSON(got.Data, want.Data) {
			return false
		}
	}
	return true
}

// sameJSON compares two JSON documents by value, so key order and spacing do not count.
func sameJSON(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(va, vb)
}

func (c *copier) tombstone(ctx context.Context, e *esdb.RecordedEvent) error {
	_, err := c.cfg.Target.TombstoneStream(ctx, e.StreamID, esdb.TombstoneStreamOptions{ExpectedRevision: esdb.Any{}})
	switch {
	case err == nil:
		c.rep.Tombstones++
	case errorCode(err) == esdb.ErrorCodeStreamDeleted: // tombstoned before
	default:
		return fmt.Errorf("target: tombstone %q: %w", e.StreamID, err)
	}
	c.rep.Position = e.Position.Commit
	return nil
}

func (c *copier) sourceTombstoned(ctx context.Context, stream string) bool {
	rs, err := c.cfg.Source.ReadStream(ctx, stream, esdb.ReadStreamOptions{From: esdb.Start{}}, 1)
	if err == nil {
		defer rs.Close()
		_, err = rs.Recv()
	}
	return err != nil && errorCode(err) == esdb.ErrorCodeStreamDeleted
}

// resumePoint finds where to start reading the source: after the last event the
// target holds, looked up in the source by stream and revision. It walks back over
// the target's last events that cannot be looked up (tombstones, events of streams
// deleted in the source); when none can, the copy starts again from the beginning,
// which the idempotent appends make safe. A target event whose place in the source
// holds another event means the target diverged.
func resumePoint(ctx context.Context, src, dst eventstore.Store) (esdb.AllPosition, uuid.UUID, error) {
	const walk = 1000
	rs, err := dst.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, walk)
	if err != nil {
		return nil, uuid.Nil, fmt.Errorf("target: read $all: %w", err)
	}
	defer rs.Close()
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return esdb.Start{}, uuid.Nil, nil
		}
		if err != nil {
			return nil, uuid.Nil, fmt.Errorf("target: read $all: %w", err)
		}
		t := ev.OriginalEvent()
		if t == nil || systemStream(t.StreamID) || t.EventType == "$streamDeleted" {
			continue
		}
		s, err := eventAt(ctx, src, t.StreamID, t.EventNumber)
		if err != nil {
			return nil, uuid.Nil, err
		}
		if s == nil {
			continue
		}
		if s.EventID != t.EventID && !(strings.HasPrefix(t.StreamID, "$$") && t.EventType == s.EventType && sameJSON(t.Data, s.Data)) {
			return nil, uuid.Nil, fmt.Errorf("%w: %q revision %d is event %s on the target and %s in the source",
				ErrDiverged, t.StreamID, t.EventNumber, t.EventID, s.EventID)
		}
		return s.Position, s.EventID, nil
	}
}

// eventAt reads one event of the source, or nil when it cannot be read there.
func eventAt(ctx context.Context, c eventstore.Store, stream string, revision uint64) (*esdb.RecordedEvent, error) {
	rs, err := c.ReadStream(ctx, stream, esdb.ReadStreamOptions{From: esdb.Revision(revision)}, 1)
	if err != nil {
		return nil, fmt.Errorf("source: read %q: %w", stream, err)
	}
	defer rs.Close()
	ev, err := rs.Recv()
	switch {
	case errors.Is(err, io.EOF):
		return nil, nil
	case err != nil:
		if code := errorCode(err); code == esdb.ErrorCodeResourceNotFound || code == esdb.ErrorCodeStreamDeleted {
			return nil, nil
		}
		return nil, fmt.Errorf("source: read %q: %w", stream, err)
	}
	e := ev.OriginalEvent()
	if e == nil || e.EventNumber != revision {
		return nil, nil
	}
	return e, nil
}

func lastPosition(ctx context.Context, c eventstore.Store) (uint64, error) {
	rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
	if err != nil {
		return 0, err
	}
	defer rs.Close()
	ev, err := rs.Recv()
	if errors.Is(err, io.EOF) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return ev.OriginalEvent().Position.Commit, nil
}

// systemStream reports the store's own streams, which a migration leaves alone: every
// stream whose name starts with "$" except the metadata of a user stream ("$$name").
func systemStream(name string) bool {
	if !strings.HasPrefix(name, "$") {
		return false
	}
	rest, ok := strings.CutPrefix(name, "$$")
	return !ok || rest == "" || strings.HasPrefix(rest, "$")
}

func errorCode(err error) esdb.ErrorCode {
	var e *esdb.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return esdb.ErrorCodeUnknown
}
