package esdbserver

import (
	"context"
	"errors"
	"io"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/genproto/googleapis/rpc/code"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/gateledger/gateledger/internal/eventdb"
)

// Append reads the header and the proposed events, then writes them in one durable batch.
// A wrong expected version is an answer, not an error, exactly as on a real node.
func (s *Server) Append(stream api.Streams_AppendServer) error {
	setTrailer := streamTrailers(stream)
	recv := func() (appendFrame, error) {
		var raw rawMessage
		if err := stream.RecvMsg(&raw); err != nil {
			return appendFrame{}, err
		}
		return decodeAppendReq(raw)
	}
	first, err := recv()
	if err != nil {
		return s.toStatus(setTrailer, err)
	}
	if !first.hasOptions {
		return s.toStatus(setTrailer, invalid("the first append message must carry the options"))
	}
	if !first.expectedOK {
		return s.toStatus(setTrailer, invalid("unknown expected stream revision"))
	}
	var events []eventdb.ProposedEvent
	for {
		msg, err := recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return s.toStatus(setTrailer, err)
		}
		if !msg.hasEvent {
			return s.toStatus(setTrailer, invalid("append options may only be sent once"))
		}
		events = append(events, msg.event)
	}
	if err := s.refuseHidingMetadata(first.stream, events); err != nil {
		return s.toStatus(setTrailer, err)
	}
	res, err := s.db.Append(stream.Context(), first.stream, first.expected, events)
	var wrong *eventdb.WrongExpectedVersionError
	if errors.As(err, &wrong) {
		return stream.SendAndClose(&api.AppendResp{Result: &api.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: wrongExpectedVersion(wrong)}})
	}
	if err != nil {
		return s.toStatus(setTrailer, err)
	}
	return stream.SendAndClose(&api.AppendResp{Result: &api.AppendResp_Success_{Success: appendSuccess(res)}})
}

func appendSuccess(res eventdb.AppendResult) *api.AppendResp_Success {
	out := &api.AppendResp_Success{}
	if res.NoStream {
		out.CurrentRevisionOption = &api.AppendResp_Success_NoStream{NoStream: &shared.Empty{}}
	} else {
		out.CurrentRevisionOption = &api.AppendResp_Success_CurrentRevision{CurrentRevision: res.CurrentRevision}
	}
	if res.HasPosition {
		out.PositionOption = &api.AppendResp_Success_Position{Position: &api.AppendResp_Position{CommitPosition: res.Position, PreparePosition: res.Position}}
	} else {
		out.PositionOption = &api.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}}
	}
	return out
}

// wrongExpectedVersion fills both the current fields and the 20.6.0 ones, as the server
// does for older clients.
func wrongExpectedVersion(w *eventdb.WrongExpectedVersionError) *api.AppendResp_WrongExpectedVersion {
	out := &api.AppendResp_WrongExpectedVersion{}
	switch w.Expected.Kind {
	case eventdb.ExpectAny:
		out.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
		out.ExpectedRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_Any_20_6_0{Any_20_6_0: &shared.Empty{}}
	case eventdb.ExpectStreamExists:
		out.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
		out.ExpectedRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_StreamExists_20_6_0{StreamExists_20_6_0: &shared.Empty{}}
	case eventdb.ExpectNoStream:
		out.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
		out.ExpectedRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_ExpectedRevision_20_6_0{ExpectedRevision_20_6_0: ^uint64(0)}
	default:
		out.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: w.Expected.Revision}
		out.ExpectedRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_ExpectedRevision_20_6_0{ExpectedRevision_20_6_0: w.Expected.Revision}
	}
	if w.Current < 0 {
		out.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
		out.CurrentRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_NoStream_20_6_0{NoStream_20_6_0: &shared.Empty{}}
	} else {
		out.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(w.Current)}
		out.CurrentRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_CurrentRevision_20_6_0{CurrentRevision_20_6_0: uint64(w.Current)}
	}
	return out
}

func expectedFromDelete(o interface {
	GetRevision() uint64
	GetNoStream() *shared.Empty
	GetAny() *shared.Empty
	GetStreamExists() *shared.Empty
}, set bool) (eventdb.ExpectedRevision, error) {
	switch {
	case !set:
		return eventdb.ExpectedRevision{}, invalid("unknown expected stream revision")
	case o.GetNoStream() != nil:
		return eventdb.NoStream, nil
	case o.GetAny() != nil:
		return eventdb.Any, nil
	case o.GetStreamExists() != nil:
		return eventdb.StreamExists, nil
	}
	return eventdb.Exactly(o.GetRevision()), nil
}

// Delete soft-deletes a stream.
func (s *Server) Delete(ctx context.Context, req *api.DeleteReq) (*api.DeleteResp, error) {
	o := req.GetOptions()
	expected, err := expectedFromDelete(o, o.GetExpectedStreamRevision() != nil)
	if err != nil {
		return nil, s.toStatus(unaryTrailers(ctx), err)
	}
	name := string(o.GetStreamIdentifier().GetStreamName())
	if err := s.refuseDelete(name, "delete"); err != nil {
		return nil, s.toStatus(unaryTrailers(ctx), err)
	}
	res, err := s.db.Delete(ctx, name, expected)
	if err != nil {
		return nil, s.toStatus(unaryTrailers(ctx), err)
	}
	return &api.DeleteResp{PositionOption: &api.DeleteResp_Position_{Position: &api.DeleteResp_Position{CommitPosition: res.Position, PreparePosition: res.Position}}}, nil
}

// Tombstone hard-deletes a stream.
func (s *Server) Tombstone(ctx context.Context, req *api.TombstoneReq) (*api.TombstoneResp, error) {
	o := req.GetOptions()
	expected, err := expectedFromDelete(o, o.GetExpectedStreamRevision() != nil)
	if err != nil {
		return nil, s.toStatus(unaryTrailers(ctx), err)
	}
	name := string(o.GetStreamIdentifier().GetStreamName())
	if err := s.refuseDelete(name, "tombstone"); err != nil {
		return nil, s.toStatus(unaryTrailers(ctx), err)
	}
	res, err := s.db.Tombstone(ctx, name, expected)
	if err != nil {
		return nil, s.toStatus(unaryTrailers(ctx), err)
	}
	return &api.TombstoneResp{PositionOption: &api.TombstoneResp_Position_{Position: &api.TombstoneResp_Position{CommitPosition: res.Position, PreparePosition: res.Position}}}, nil
}

// BatchAppend takes appends split into chunks by correlation id; each append is written
// once its final chunk arrives, and answered on the response stream.
func (s *Server) BatchAppend(stream api.Streams_BatchAppendServer) error {
	type pending struct {
		name     string
		expected eventdb.ExpectedRevision
		events   []eventdb.ProposedEvent
		req      *api.BatchAppendReq_Options
	}
	inflight := make(map[string]*pending)
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return s.toStatus(streamTrailers(stream), err)
		}
		corr, err := parseUUID(req.GetCorrelationId())
		if err != nil {
			return s.toStatus(streamTrailers(stream), err)
		}
		key := corr.String()
		p := inflight[key]
		if p == nil {
			o := req.GetOptions()
			if o == nil {
				return s.toStatus(streamTrailers(stream), invalid("batch %s: the first chunk must carry the options", key))
			}
			p = &pending{name: string(o.GetStreamIdentifier().GetStreamName()), req: o}
			switch v := o.GetExpectedStreamPosition().(type) {
			case *api.BatchAppendReq_Options_StreamPosition:
				p.expected = eventdb.Exactly(v.StreamPosition)
			case *api.BatchAppendReq_Options_NoStream:
				p.expected = eventdb.NoStream
			case *api.BatchAppendReq_Options_StreamExists:
				p.expected = eventdb.StreamExists
			default:
				p.expected = eventdb.Any
			}
			inflight[key] = p
		}
		var bad error
		for _, pm := range req.GetProposedMessages() {
			ev, err := proposedEvent(pm.GetId(), pm.GetMetadata(), pm.GetCustomMetadata(), pm.GetData())
			if err != nil {
				bad = err
				break
			}
			p.events = append(p.events, ev)
		}
		if bad == nil && !req.GetIsFinal() {
			continue
		}
		delete(inflight, key)
		resp := &api.BatchAppendResp{
			CorrelationId:    req.GetCorrelationId(),
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(p.name)},
		}
		switch p.expected.Kind {
		case eventdb.ExpectRevision:
			resp.ExpectedStreamPosition = &api.BatchAppendResp_StreamPosition{StreamPosition: p.expected.Revision}
		case eventdb.ExpectNoStream:
			resp.ExpectedStreamPosition = &api.BatchAppendResp_NoStream{NoStream: &emptypb.Empty{}}
		case eventdb.ExpectStreamExists:
			resp.ExpectedStreamPosition = &api.BatchAppendResp_StreamExists{StreamExists: &emptypb.Empty{}}
		default:
			resp.ExpectedStreamPosition = &api.BatchAppendResp_Any{Any: &emptypb.Empty{}}
		}
		var res eventdb.AppendResult
		if bad == nil {
			bad = s.refuseHidingMetadata(p.name, p.events)
		}
		if bad == nil {
			res, bad = s.db.Append(stream.Context(), p.name, p.expected, p.events)
		}
		if bad != nil {
			resp.Result = &api.BatchAppendResp_Error{Error: batchError(bad)}
		} else {
			ok := &api.BatchAppendResp_Success{}
			if res.NoStream {
				ok.CurrentRevisionOption = &api.BatchAppendResp_Success_NoStream{NoStream: &emptypb.Empty{}}
			} else {
				ok.CurrentRevisionOption = &api.BatchAppendResp_Success_CurrentRevision{CurrentRevision: res.CurrentRevision}
			}
			if res.HasPosition {
				ok.PositionOption = &api.BatchAppendResp_Success_Position{Position: &shared.AllStreamPosition{CommitPosition: res.Position, PreparePosition: res.Position}}
			} else {
				ok.PositionOption = &api.BatchAppendResp_Success_NoPosition{NoPosition: &emptypb.Empty{}}
			}
			resp.Result = &api.BatchAppendResp_Success_{Success: ok}
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}

func batchError(err error) *rpcstatus.Status {
	var wrong *eventdb.WrongExpectedVersionError
	var deleted *eventdb.StreamDeletedError
	var refused *HistoryRefusedError
	switch {
	case errors.As(err, &refused):
		return &rpcstatus.Status{Code: int32(code.Code_PERMISSION_DENIED), Message: refused.Reason}
	case errors.As(err, &wrong):
		return &rpcstatus.Status{Code: int32(code.Code_FAILED_PRECONDITION), Message: wrong.Error()}
	case errors.As(err, &deleted):
		return &rpcstatus.Status{Code: int32(code.Code_FAILED_PRECONDITION), Message: deleted.Error()}
	case errors.Is(err, eventdb.ErrInvalidArgument), errors.Is(err, eventdb.ErrEventTooLarge):
		return &rpcstatus.Status{Code: int32(code.Code_INVALID_ARGUMENT), Message: err.Error()}
	case errors.Is(err, context.DeadlineExceeded):
		return &rpcstatus.Status{Code: int32(code.Code_DEADLINE_EXCEEDED), Message: err.Error()}
	case errors.Is(err, eventdb.ErrDiskFull):
		return &rpcstatus.Status{Code: int32(code.Code_RESOURCE_EXHAUSTED), Message: diskFullMessage}
	}
	return &rpcstatus.Status{Code: int32(code.Code_INTERNAL), Message: err.Error()}
}
