package esdbserver

import (
	"bytes"
	"errors"
	"regexp"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"

	"github.com/gateledger/gateledger/internal/eventdb"
)

// pageSize is how many records one store read returns while serving a read.
const pageSize = 512

// defaultSearchWindow is EventStoreDB's read batch size, used when a filter asks for a
// count window instead of a maximum.
const defaultSearchWindow = 32

// maxCheckpointInterval caps window x multiplier: beyond it a checkpoint is as good as never.
const maxCheckpointInterval = 1 << 31

// Read serves reads and catch-up subscriptions of a stream or of $all.
func (s *Server) Read(req *api.ReadReq, stream api.Streams_ReadServer) error {
	setTrailer := streamTrailers(stream)
	o := req.GetOptions()
	if o == nil {
		return s.toStatus(setTrailer, invalid("read options are missing"))
	}
	r := &readRun{s: s, stream: stream, uuidAsString: isStringUUID(o.GetUuidOption())}
	var err error
	switch {
	case o.GetStream() != nil && o.GetCountOption() != nil:
		err = r.streamRead(o)
	case o.GetAll() != nil && o.GetCountOption() != nil:
		err = r.allRead(o)
	case o.GetCountOption() == nil:
		err = invalid("read options name neither a count nor a subscription")
	default:
		err = invalid("read options name neither a stream nor $all")
	}
	if err != nil {
		return s.toStatus(setTrailer, err)
	}
	return nil
}

func isStringUUID(u *api.ReadReq_Options_UUIDOption) bool {
	_, ok := u.GetContent().(*api.ReadReq_Options_UUIDOption_String_)
	return ok
}

type readRun struct {
	s            *Server
	stream       api.Streams_ReadServer
	uuidAsString bool
	enc          encoder
	msgs         []rawMessage
}

// maxPageBytes bounds the encoded events one page of $all holds before it is sent.
const maxPageBytes = 4 << 20

func (r *readRun) sendRecord(rec *eventdb.Record) error {
	return r.stream.SendMsg(r.enc.readEvent(viewOf(rec), r.uuidAsString))
}

// scanAll reads a page of $all and encodes its events in place, without copying records
// out of the store first.
func (r *readRun) scanAll(req eventdb.AllRead) (eventdb.AllPage, []rawMessage, error) {
	msgs := r.msgs[:0]
	size := 0
	page, err := r.s.db.ScanAll(req, func(v *eventdb.RecordView) error {
		m := r.enc.readEvent(v, r.uuidAsString)
		msgs = append(msgs, m)
		if size += len(m); size >= maxPageBytes {
			return eventdb.ErrPageFull
		}
		return nil
	})
	r.msgs = msgs
	return page, msgs, err
}

func (r *readRun) sendAll(msgs []rawMessage) error {
	for i, m := range msgs {
		if err := r.stream.SendMsg(m); err != nil {
			return err
		}
		msgs[i] = nil // let the message go once gRPC is done with it
	}
	return nil
}

func (r *readRun) confirm() error {
	return r.stream.Send(&api.ReadResp{Content: &api.ReadResp_Confirmation{Confirmation: &api.ReadResp_SubscriptionConfirmation{SubscriptionId: uuid.NewString()}}})
}

func (r *readRun) caughtUp() error {
	return r.stream.Send(&api.ReadResp{Content: &api.ReadResp_CaughtUp_{CaughtUp: &api.ReadResp_CaughtUp{}}})
}

func (r *readRun) fellBehind() error {
	return r.stream.Send(&api.ReadResp{Content: &api.ReadResp_FellBehind_{FellBehind: &api.ReadResp_FellBehind{}}})
}

func (r *readRun) checkpoint(pos uint64) error {
	return r.stream.Send(&api.ReadResp{Content: &api.ReadResp_Checkpoint_{Checkpoint: &api.ReadResp_Checkpoint{CommitPosition: pos, PreparePosition: pos}}})
}

// streamRead reads one stream, or subscribes to it.
func (r *readRun) streamRead(o *api.ReadReq_Options) error {
	so := o.GetStream()
	name := string(so.GetStreamIdentifier().GetStreamName())
	if name == "" {
		return invalid("empty stream name")
	}
	backwards := o.GetReadDirection() == api.ReadReq_Options_Backwards
	var from uint64
	var fromEnd bool
	switch v := so.GetRevisionOption().(type) {
	case *api.ReadReq_Options_StreamOptions_Revision:
		from = v.Revision
	case *api.ReadReq_Options_StreamOptions_Start:
	case *api.ReadReq_Options_StreamOptions_End:
		fromEnd = true
	default:
		return invalid("stream read names no revision")
	}
	if o.GetSubscription() != nil {
		return r.subscribeStream(name, from, so.GetRevisionOption())
	}
	remaining := o.GetCount()
	for remaining > 0 {
		page, err := r.s.db.ReadStream(eventdb.StreamRead{Stream: name, From: from, FromEnd: fromEnd, Backwards: backwards, Max: int(min(remaining, pageSize))})
		if errors.Is(err, eventdb.ErrStreamNotFound) {
			return r.stream.Send(&api.ReadResp{Content: &api.ReadResp_StreamNotFound_{StreamNotFound: &api.ReadResp_StreamNotFound{
				StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(name)},
			}}})
		}
		if err != nil {
			return err
		}
		for i := range page.Records {
			if err := r.sendRecord(&page.Records[i]); err != nil {
				return err
			}
		}
		remaining -= uint64(len(page.Records))
		if page.End {
			return nil
		}
		from, fromEnd = page.Next, false
	}
	return nil
}

// subscribeStream sends confirmation, the stream's history after the starting point,
// caught_up, then live events. It reads everything from the store, so a slow subscriber
// is caught up from disk rather than dropped, and nothing is skipped or sent twice.
func (r *readRun) subscribeStream(name string, from uint64, opt any) error {
	db := r.s.db
	if _, err := db.StreamLastRevision(name); err != nil {
		return err
	}
	if err := r.confirm(); err != nil {
		return err
	}
	ctx := r.stream.Context()
	next := uint64(0)
	switch opt.(type) {
	case *api.ReadReq_Options_StreamOptions_Revision:
		next = from + 1 // a subscription starts after the revision it names
	case *api.ReadReq_Options_StreamOptions_End:
		last, err := db.StreamLastRevision(name)
		if err != nil {
			return err
		}
		next = uint64(last + 1)
	}
	live, backlog := false, 0
	for {
		changed := db.Changed()
		page, err := db.ReadStream(eventdb.StreamRead{Stream: name, From: next, Max: pageSize})
		switch {
		case errors.Is(err, eventdb.ErrStreamNotFound):
			page = eventdb.StreamPage{End: true, Next: next}
		case err != nil:
			return err
		}
		// A live subscriber told it fell behind before the backlog, not after it.
		backlog += len(page.Records)
		if live && backlog > r.s.opts.FellBehindAfter {
			live = false
			if err := r.fellBehind(); err != nil {
				return err
			}
		}
		for i := range page.Records {
			if err := r.sendRecord(&page.Records[i]); err != nil {
				return err
			}
		}
		next = max(next, page.Next)
		if !page.End {
			continue
		}
		backlog = 0
		if !live {
			live = true
			if err := r.caughtUp(); err != nil {
				return err
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil
		case <-r.s.stopping:
			return errShuttingDown
		}
	}
}

// filter compiles the read's server-side filter.
type filter struct {
	match      eventdb.Filter
	window     int
	checkpoint int // considered events between checkpoints; 0 for unfiltered reads
}

func compileFilter(o *api.ReadReq_Options) (filter, error) {
	fo := o.GetFilter()
	if fo == nil {
		return filter{}, nil
	}
	var expr *api.ReadReq_Options_FilterOptions_Expression
	byType := false
	switch v := fo.GetFilter().(type) {
	case *api.ReadReq_Options_FilterOptions_StreamIdentifier:
		expr = v.StreamIdentifier
	case *api.ReadReq_Options_FilterOptions_EventType:
		expr, byType = v.EventType, true
	default:
		return filter{}, invalid("filter names neither stream identifier nor event type")
	}
	var test func([]byte) bool
	switch {
	case expr.GetRegex() != "" && len(expr.GetPrefix()) > 0:
		return filter{}, invalid("a filter takes a regex or prefixes, not both")
	case expr.GetRegex() != "":
		re, err := regexp.Compile(expr.GetRegex())
		if err != nil {
			return filter{}, invalid("filter regex %q: %v", expr.GetRegex(), err)
		}
		test = re.Match
	case len(expr.GetPrefix()) > 0:
		prefixes := make([][]byte, len(expr.GetPrefix()))
		for i, p := range expr.GetPrefix() {
			prefixes[i] = []byte(p)
		}
		test = func(b []byte) bool {
			for _, p := range prefixes {
				if bytes.HasPrefix(b, p) {
					return true
				}
			}
			return false
		}
	default:
		return filter{}, invalid("a filter needs a regex or at least one prefix")
	}
	f := filter{window: defaultSearchWindow}
	if byType {
		f.match = func(_, typ []byte) bool { return test(typ) }
	} else {
		f.match = func(stream, _ []byte) bool { return test(stream) }
	}
	if m, ok := fo.GetWindow().(*api.ReadReq_Options_FilterOptions_Max); ok {
		if m.Max == 0 {
			return filter{}, invalid("filter search window must be above zero")
		}
		f.window = int(m.Max)
	}
	if fo.GetCheckpointIntervalMultiplier() == 0 {
		return filter{}, invalid("checkpoint interval multiplier must be above zero")
	}
	// Both factors are uint32: their product is computed in 64 bits and capped, so a huge
	// window and multiplier cannot overflow into a negative interval.
	f.checkpoint = int(min(uint64(f.window)*uint64(fo.GetCheckpointIntervalMultiplier()), maxCheckpointInterval))
	return f, nil
}

// allRead reads $all, or subscribes to it.
func (r *readRun) allRead(o *api.ReadReq_Options) error {
	f, err := compileFilter(o)
	if err != nil {
		return err
	}
	ao := o.GetAll()
	var from uint64
	var fromEnd, fromStart bool
	switch v := ao.GetAllOption().(type) {
	case *api.ReadReq_Options_AllOptions_Position:
		from = v.Position.GetCommitPosition()
	case *api.ReadReq_Options_AllOptions_Start:
		fromStart = true
	case *api.ReadReq_Options_AllOptions_End:
		fromEnd = true
	default:
		return invalid("$all read names no position")
	}
	if o.GetSubscription() != nil {
		switch {
		case fromStart:
			from = 0
		case fromEnd:
			from = r.s.db.LastPosition() + 1
		default:
			from++ // a subscription starts after the position it names
		}
		return r.subscribeAll(from, f)
	}
	backwards := o.GetReadDirection() == api.ReadReq_Options_Backwards
	if backwards && fromStart {
		return nil
	}
	remaining := o.GetCount()
	for remaining > 0 {
		page, msgs, err := r.scanAll(eventdb.AllRead{From: from, FromEnd: fromEnd, Backwards: backwards, Max: int(min(remaining, pageSize)), Filter: f.match})
		if err != nil {
			return err
		}
		if err := r.sendAll(msgs); err != nil {
			return err
		}
		remaining -= uint64(len(msgs))
		if page.End {
			return nil
		}
		from, fromEnd = page.Next, false
	}
	return nil
}

// subscribeAll serves a catch-up subscription to $all from position next (inclusive).
// Filtered subscriptions get a checkpoint every window x multiplier events considered,
// and one when they go live, as a real node sends them.
func (r *readRun) subscribeAll(next uint64, f filter) error {
	if err := r.confirm(); err != nil {
		return err
	}
	db := r.s.db
	ctx := r.stream.Context()
	live, backlog, considered := false, 0, 0
	var lastConsidered, lastCheckpoint uint64
	for {
		changed := db.Changed()
		page, msgs, err := r.scanAll(eventdb.AllRead{From: next, Max: pageSize, MaxScan: f.checkpoint, Filter: f.match})
		if err != nil {
			return err
		}
		// A live subscriber told it fell behind before the backlog, not after it.
		backlog += page.Considered
		if live && backlog > r.s.opts.FellBehindAfter {
			live = false
			if err := r.fellBehind(); err != nil {
				return err
			}
		}
		if err := r.sendAll(msgs); err != nil {
			return err
		}
		if page.Considered > 0 {
			lastConsidered = page.LastConsidered
			next = page.LastConsidered + 1
		}
		if f.checkpoint > 0 {
			considered += page.Considered
			if considered >= f.checkpoint {
				considered %= f.checkpoint
				if err := r.checkpoint(lastConsidered); err != nil {
					return err
				}
				lastCheckpoint = lastConsidered
			}
		}
		if !page.End {
			continue
		}
		backlog = 0
		if !live {
			live = true
			if f.checkpoint > 0 && lastConsidered > lastCheckpoint {
				if err := r.checkpoint(lastConsidered); err != nil {
					return err
				}
				lastCheckpoint = lastConsidered
			}
			if err := r.caughtUp(); err != nil {
				return err
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil
		case <-r.s.stopping:
			return errShuttingDown
		}
	}
}
