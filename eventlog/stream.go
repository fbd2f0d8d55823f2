package eventlog

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/gateledger/gateledger/eventstore"
)

// readPage is how many events one read request asks for.
const readPage = 1024

// ErrWrongExpectedRevision matches *ConflictError: the stream moved on since it
// was read. Reload and decide again.
var ErrWrongExpectedRevision = errors.New("wrong expected revision")

// ConflictError is an append refused because the stream is not at the
// expected head.
type ConflictError struct {
	Stream   string
	Expected Head
	Err      error
}

func (e *ConflictError) Error() string {
	exp := "no stream"
	if e.Expected.Exists {
		exp = fmt.Sprintf("revision %d", e.Expected.Revision)
	}
	return fmt.Sprintf("append to %s expecting %s: %v", e.Stream, exp, e.Err)
}

// Unwrap exposes the client's error.
func (e *ConflictError) Unwrap() error { return e.Err }

// Is matches ErrWrongExpectedRevision.
func (e *ConflictError) Is(target error) bool { return target == ErrWrongExpectedRevision }

func isEOF(err error) bool { return errors.Is(err, io.EOF) }

// readRaw reads a whole stream forwards. envErrs[i] is the envelope error of
// events[i], if any. A stream that does not exist reads as empty.
func readRaw(ctx context.Context, client eventstore.Store, stream string) (events []Recorded, envErrs []error, err error) {
	events, envErrs, _, err = readFrom(ctx, client, stream, esdb.Start{})
	return events, envErrs, err
}

// readFrom reads a stream forwards from from to its end. notFound reports that the
// store answered the stream does not exist (never written, or deleted).
func readFrom(ctx context.Context, client eventstore.Store, stream string, from esdb.StreamPosition) (events []Recorded, envErrs []error, notFound bool, err error) {
	for {
		n, nf, err := readPageInto(ctx, client, stream, from, &events, &envErrs)
		if err != nil {
			return nil, nil, false, err
		}
		if nf && len(events) == 0 {
			return nil, nil, true, nil
		}
		if n < readPage {
			return events, envErrs, false, nil
		}
		from = esdb.Revision(events[len(events)-1].Revision + 1)
	}
}

func readPageInto(ctx context.Context, client eventstore.Store, stream string, from esdb.StreamPosition, events *[]Recorded, envErrs *[]error) (n int, notFound bool, err error) {
	rs, err := client.ReadStream(ctx, stream, esdb.ReadStreamOptions{Direction: esdb.Forwards, From: from}, readPage)
	if err != nil {
		if eventstore.IsNotFound(err) {
			return 0, true, nil
		}
		return 0, false, fmt.Errorf("eventlog: read %s: %w", stream, eventstore.Classify(err))
	}
	defer rs.Close()
	for {
		ev, err := rs.Recv()
		if isEOF(err) {
			return n, false, nil
		}
		if err != nil {
			if eventstore.IsNotFound(err) {
				return n, true, nil
			}
			return n, false, fmt.Errorf("eventlog: read %s: %w", stream, eventstore.Classify(err))
		}
		rec := ev.OriginalEvent()
		if rec == nil {
			continue
		}
		r, envErr := fromResolved(rec)
		*events = append(*events, r)
		*envErrs = append(*envErrs, envErr)
		n++
	}
}

// ReadStreamFrom reads a stream forwards from revision from to its end, with each
// event's envelope error beside it (envErrs[i] for events[i]: the event is still
// returned, with zero Metadata). notFound reports that the store answered the stream
// does not exist (never written, or deleted).
func ReadStreamFrom(ctx context.Context, client eventstore.Store, stream string, from uint64) (events []Recorded, envErrs []error, notFound bool, err error) {
	var start esdb.StreamPosition = esdb.Start{}
	if from > 0 {
		start = esdb.Revision(from)
	}
	return readFrom(ctx, client, stream, start)
}

// ReadStream reads every event of a stream, oldest first, with its envelope. A
// stream that does not exist reads as no events. An event whose metadata is
// not an envelope is an error matching ErrMalformedEnvelope.
func ReadStream(ctx context.Context, client eventstore.Store, stream string) ([]Recorded, error) {
	events, envErrs, err := readRaw(ctx, client, stream)
	if err != nil {
		return nil, err
	}
	for i, e := range envErrs {
		if e != nil {
			return nil, fmt.Errorf("eventlog: %s revision %d: %w", stream, events[i].Revision, e)
		}
	}
	return events, nil
}

// AppendResult is what an append stored.
type AppendResult struct {
	// Events are the records appended, in order.
	Events []Recorded
	// Head is the stream's head after the append.
	Head Head
	// Position is the $all position of the last event appended.
	Position esdb.Position
}

// Append seals events (see Seal) and appends them to stream expecting it to
// end at head. If the stream has moved on the error matches
// ErrWrongExpectedRevision (*ConflictError). Retrying the same call after a
// lost answer is idempotent: the event ids are derived from key and the
// expected revision is exact, so the store returns the first result.
func Append(ctx context.Context, client eventstore.Store, stream string, head Head, key string, events []Proposed) (AppendResult, error) {
	if len(events) == 0 {
		return AppendResult{}, fmt.Errorf("eventlog: append to %s: no events", stream)
	}
	recs, err := Seal(stream, head, key, events)
	if err != nil {
		return AppendResult{}, err
	}
	data := make([]esdb.EventData, len(recs))
	for i, r := range recs {
		data[i] = r.EventData()
	}
	wr, err := client.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: head.ExpectedRevision()}, data...)
	if err != nil {
		if eventstore.IsWrongExpectedVersion(err) {
			return AppendResult{}, &ConflictError{Stream: stream, Expected: head, Err: err}
		}
		return AppendResult{}, fmt.Errorf("eventlog: append to %s: %w", stream, eventstore.Classify(err))
	}
	pos := esdb.Position{Commit: wr.CommitPosition, Prepare: wr.PreparePosition}
	recs[len(recs)-1].Position = pos
	return AppendResult{Events: recs, Head: HeadOf(recs), Position: pos}, nil
}
