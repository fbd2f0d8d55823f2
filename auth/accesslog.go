package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventstore"
)

// AccessLogPrefix starts the access log's streams: one per calendar month
// (UTC) of the access, "access-log-2026-05", so that a month can be read and
// verified on its own.
const AccessLogPrefix = "access-log-"

// TypeAccessRecorded is the event type of an access log entry (schema 1).
const (
	TypeAccessRecorded = "AccessRecorded"
	accessSchema       = 1
)

// DefaultAccessBatch is the most entries one append carries.
const DefaultAccessBatch = 500

// maxAccessMonths bounds the months one Read may span.
const maxAccessMonths = 120

// AccessEntry is one recorded access: who, what, when, about whom.
type AccessEntry struct {
	PrincipalID   string    `json:"principalId"`
	PrincipalName string    `json:"principalName,omitempty"`
	Role          Role      `json:"role"`
	Org           string    `json:"org,omitempty"`
	What          string    `json:"what"`
	Subject       string    `json:"subject,omitempty"`
	At            time.Time `json:"at"`
	// Stream and Revision say where the entry is stored (set by Read).
	Stream   string `json:"-"`
	Revision uint64 `json:"-"`
}

// AccessLogConfig configures an AccessLog. The zero value is usable.
type AccessLogConfig struct {
	// StreamPrefix replaces AccessLogPrefix (tests).
	StreamPrefix string
	// Source is the envelope's source of the entries; empty means api.
	Source aggregates.Source
	// MaxBatch bounds the entries of one append; zero means
	// DefaultAccessBatch.
	MaxBatch int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// AccessLog records who read what, in append-only, hash-chained streams of
// the event store. Record returns once its entry is stored: entries recorded
// at the same time share one append (group commit), so the log costs one
// append per burst, not one per read, and an entry whose Record returned nil
// is never lost. Close stores what is pending before it returns.
//
// The HTTP layer should record before it answers and refuse to answer (503)
// when Record fails: a read that cannot be recorded is not served.
//
// An AccessLog is safe for concurrent use.
type AccessLog struct {
	client   eventstore.Store
	prefix   string
	source   aggregates.Source
	maxBatch int
	now      func() time.Time
	log      *slog.Logger

	mu      sync.Mutex
	pending []*accessReq
	closed  bool

	wake chan struct{}
	stop chan struct{}
	done chan struct{}

	// heads is the flusher goroutine's own cache of stream heads.
	heads map[string]eventlog.Head
}

type accessReq struct {
	entry AccessEntry
	done  chan error
}

// NewAccessLog starts an access log writing through client. Close it.
func NewAccessLog(client eventstore.Store, cfg AccessLogConfig) *AccessLog {
	if cfg.StreamPrefix == "" {
		cfg.StreamPrefix = AccessLogPrefix
	}
	if cfg.Source == "" {
		cfg.Source = aggregates.SourceAPI
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultAccessBatch
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	l := &AccessLog{client: client, prefix: cfg.StreamPrefix, source: cfg.Source, maxBatch: cfg.MaxBatch,
		now: cfg.Now, log: cfg.Logger, wake: make(chan struct{}, 1), stop: make(chan struct{}),
		done: make(chan struct{}), heads: make(map[string]eventlog.Head)}
	go l.run()
	return l
}

// StreamFor is the stream holding accesses at t.
func (l *AccessLog) StreamFor(t time.Time) string {
	return l.prefix + t.UTC().Format("2006-01")
}

// Record stores that p did what (for example "read journey", "read plan")
// about subject (usually a NOMS number) now. It returns once the entry is
// stored, or with the error that prevented it. If ctx ends first, Record
// returns ctx's error and the entry is still stored.
func (l *AccessLog) Record(ctx context.Context, p Principal, what, subject string) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("auth: access log: %w", err)
	}
	if what == "" {
		return errors.New("auth: access log: say what was accessed")
	}
	for field, v := range map[string]string{"what": what, "subject": subject} {
		if err := validText(field, v); err != nil {
			return fmt.Errorf("auth: access log: %w", err)
		}
	}
	req := &accessReq{entry: AccessEntry{PrincipalID: p.ID, PrincipalName: p.Name, Role: p.Role, Org: p.Org,
		What: what, Subject: subject, At: l.now().UTC()}, done: make(chan error, 1)}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.pending = append(l.pending, req)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops accepting entries, stores those pending, and returns when done
// or when ctx ends (then pending entries may not be stored, and their
// Record calls return an error).
func (l *AccessLog) Close(ctx context.Context) error {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.stop)
	}
	l.mu.Unlock()
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("auth: access log close: %w", ctx.Err())
	}
}

func (l *AccessLog) run() {
	defer close(l.done)
	for {
		select {
		case <-l.wake:
			l.flush()
		case <-l.stop:
			l.flush()
			return
		}
	}
}

// flush stores everything pending, batch by batch.
func (l *AccessLog) flush() {
	for {
		l.mu.Lock()
		n := min(len(l.pending), l.maxBatch)
		batch := slices.Clone(l.pending[:n])
		l.pending = l.pending[n:]
		l.mu.Unlock()
		if n == 0 {
			return
		}
		// Finish what is accepted even while closing; a store that does not
		// answer is bounded by the append timeout.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		l.store(ctx, batch)
		cancel()
	}
}

// store appends a batch, one append per month stream, and answers each
// request.
func (l *AccessLog) store(ctx context.Context, batch []*accessReq) {
	byStream := make(map[string][]*accessReq)
	var order []string
	for _, r := range batch {
		s := l.StreamFor(r.entry.At)
		if _, ok := byStream[s]; !ok {
			order = append(order, s)
		}
		byStream[s] = append(byStream[s], r)
	}
	for _, s := range order {
		reqs := byStream[s]
		err := l.appendTo(ctx, s, reqs)
		if err != nil {
			l.log.Error("access log append failed", "stream", s, "entries", len(reqs), "err", err)
		}
		for _, r := range reqs {
			r.done <- err
		}
	}
}

func (l *AccessLog) appendTo(ctx context.Context, stream string, reqs []*accessReq) error {
	key := uuid.NewString()
	recordedAt := l.now().UTC()
	events := make([]eventlog.Proposed, len(reqs))
	for i, r := range reqs {
		data, err := json.Marshal(r.entry)
		if err != nil {
			return fmt.Errorf("auth: access log: %w", err)
		}
		events[i] = eventlog.Proposed{Type: TypeAccessRecorded, Data: data, Metadata: eventlog.Metadata{Metadata: aggregates.Metadata{
			UserID: r.entry.PrincipalID, Role: string(r.entry.Role), Organisation: r.entry.Org,
			OccurredAt: r.entry.At, RecordedAt: recordedAt, Source: l.source, IdempotencyKey: key,
			SchemaVersion: accessSchema}}}
	}
	firstID := eventlog.EventID(stream, key, 0)
	for attempt := 1; ; attempt++ {
		head, ok := l.heads[stream]
		if !ok {
			var err error
			if head, err = readLast(ctx, l.client, stream); err != nil {
				return fmt.Errorf("auth: access log: %w", err)
			}
		}
		res, err := eventlog.Append(ctx, l.client, stream, head, key, events)
		if err == nil {
			l.heads[stream] = res.Head
			return nil
		}
		delete(l.heads, stream)
		if attempt == maxAppendAttempts {
			return fmt.Errorf("auth: access log: %w", err)
		}
		// Another writer got there first, or the answer was lost: if the
		// batch is in the stream after all, it is stored.
		if !errors.Is(err, eventlog.ErrWrongExpectedRevision) && ctx.Err() != nil {
			return fmt.Errorf("auth: access log: %w", err)
		}
		after, rerr := readFrom(ctx, l.client, stream, head.Next())
		if rerr != nil {
			return fmt.Errorf("auth: access log: %w (and reading back: %w)", err, rerr)
		}
		if slices.ContainsFunc(after, func(r eventlog.Recorded) bool { return r.ID == firstID }) {
			return nil
		}
	}
}

// Read returns the accesses recorded from from (inclusive) to to
// (exclusive), oldest first, after checking the hash chain of every month
// stream read (an error matching ErrChainBroken if one does not verify). It
// is for inspectors (CanReadAccessLog); the caller checks that.
func (l *AccessLog) Read(ctx context.Context, from, to time.Time) ([]AccessEntry, error) {
	from, to = from.UTC(), to.UTC()
	if !from.Before(to) {
		return nil, nil
	}
	first := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
	var out []AccessEntry
	for m, n := first, 0; m.Before(to); m, n = m.AddDate(0, 1, 0), n+1 {
		if n == maxAccessMonths {
			return nil, fmt.Errorf("auth: access log: read at most %d months at once", maxAccessMonths)
		}
		stream := l.StreamFor(m)
		recs, err := readFrom(ctx, l.client, stream, 0)
		if err != nil {
			return nil, fmt.Errorf("auth: access log: %w", err)
		}
		var head eventlog.Head
		for _, rec := range recs {
			if head, err = verifyNext(head, rec); err != nil {
				return nil, err
			}
			if rec.Type != TypeAccessRecorded || rec.Metadata.SchemaVersion != accessSchema {
				return nil, fmt.Errorf("auth: access log: %s revision %d: unknown event %s v%d", stream, rec.Revision, rec.Type, rec.Metadata.SchemaVersion)
			}
			var e AccessEntry
			if err := json.Unmarshal(rec.Data, &e); err != nil {
				return nil, fmt.Errorf("auth: access log: %s revision %d: %w", stream, rec.Revision, err)
			}
			if e.At.Before(from) || !e.At.Before(to) {
				continue
			}
			e.Stream, e.Revision = stream, rec.Revision
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b AccessEntry) int { return a.At.Compare(b.At) })
	return out, nil
}

// What the access log says was read (AccessEntry.What). The HTTP API and
// the web pages record the same words for the same reads.
const (
	AccessReadJourney       = "read journey"
	AccessReadPlan          = "read plan"
	AccessReadTrail         = "read audit trail"
	AccessExportTrail       = "export audit trail"
	AccessFindPerson        = "find person"
	AccessVerifyJourney     = "verify journey"
	AccessVerifyAllJourneys = "verify all journeys"
	AccessReadCaseload      = "read caseload"
	AccessReadHandovers     = "read handovers"
	AccessReadDeadLetters   = "read dead letters"
	AccessReadDeadLetter    = "read dead letter"
)
