package esdbserver

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/gateledger/gateledger/internal/eventdb"
)

func mustMarshal(t testing.TB, m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func seedProposed(id *shared.UUID, meta map[string]string) *api.AppendReq {
	return &api.AppendReq{Content: &api.AppendReq_ProposedMessage_{ProposedMessage: &api.AppendReq_ProposedMessage{
		Id: id, Metadata: meta, Data: []byte(`{"a":1}`), CustomMetadata: []byte(`{}`),
	}}}
}

// FuzzProposedEvent feeds arbitrary AppendReq bytes to the conversions of the append
// path: they must never panic, and what they accept must be a well-formed event.
func FuzzProposedEvent(f *testing.F) {
	id := uuid.New()
	msb, lsb := uuidProto(id, false).GetStructured().GetMostSignificantBits(), uuidProto(id, false).GetStructured().GetLeastSignificantBits()
	seeds := []proto.Message{
		seedProposed(uuidProto(id, true), map[string]string{"type": "T", "content-type": "application/json"}),
		seedProposed(uuidProto(id, false), map[string]string{"type": "T", "content-type": "application/octet-stream"}),
		seedProposed(&shared.UUID{Value: &shared.UUID_String_{String_: "not-a-uuid"}}, map[string]string{"type": "T", "content-type": "x"}),
		seedProposed(&shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{MostSignificantBits: msb, LeastSignificantBits: lsb}}}, nil),
		seedProposed(nil, map[string]string{"type": ""}),
		&api.AppendReq{Content: &api.AppendReq_Options_{Options: &api.AppendReq_Options{StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte("s")}, ExpectedStreamRevision: &api.AppendReq_Options_Revision{Revision: 3}}}},
		&api.AppendReq{Content: &api.AppendReq_Options_{Options: &api.AppendReq_Options{}}},
	}
	for _, s := range seeds {
		f.Add(mustMarshal(f, s))
	}
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		var req api.AppendReq
		if proto.Unmarshal(b, &req) != nil {
			return
		}
		if o := req.GetOptions(); o != nil {
			_, _ = expectedFromAppend(o)
		}
		pm := req.GetProposedMessage()
		ev, err := proposedEvent(pm.GetId(), pm.GetMetadata(), pm.GetCustomMetadata(), pm.GetData())
		if err != nil {
			return
		}
		if ev.Type == "" {
			t.Fatalf("accepted an event without a type: %+v", ev)
		}
		if _, ok := pm.GetMetadata()["content-type"]; !ok {
			t.Fatalf("accepted an event without a content type")
		}
		// An accepted id survives the way back to the client, in both encodings.
		for _, asString := range []bool{false, true} {
			back, err := parseUUID(uuidProto(ev.ID, asString))
			if err != nil || back != ev.ID {
				t.Fatalf("id %s does not round-trip (string %v): %s, %v", ev.ID, asString, back, err)
			}
		}
	})
}

// FuzzParseUUID: any string either parses or is refused with ErrInvalidArgument.
func FuzzParseUUID(f *testing.F) {
	for _, s := range []string{uuid.NewString(), "", "not-a-uuid", "{" + uuid.NewString() + "}", "urn:uuid:" + uuid.NewString(), "00000000-0000-0000-0000-00000000000g"} {
		f.Add(s, int64(0), int64(0))
	}
	f.Add("", int64(-1), int64(1<<62))
	f.Fuzz(func(t *testing.T, s string, msb, lsb int64) {
		if _, err := parseUUID(&shared.UUID{Value: &shared.UUID_String_{String_: s}}); err != nil && !isInvalid(err) {
			t.Fatalf("parseUUID(%q) = %v, want an invalid-argument error", s, err)
		}
		id, err := parseUUID(&shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{MostSignificantBits: msb, LeastSignificantBits: lsb}}})
		if err != nil {
			t.Fatalf("structured uuid refused: %v", err)
		}
		s2 := uuidProto(id, false).GetStructured()
		if s2.GetMostSignificantBits() != msb || s2.GetLeastSignificantBits() != lsb {
			t.Fatalf("structured uuid does not round-trip")
		}
	})
}

func isInvalid(err error) bool {
	for e := err; e != nil; {
		if e == eventdb.ErrInvalidArgument {
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

func seedFilterReads() []*api.ReadReq {
	expr := func(prefix []string, regex string) *api.ReadReq_Options_FilterOptions_Expression {
		return &api.ReadReq_Options_FilterOptions_Expression{Prefix: prefix, Regex: regex}
	}
	mk := func(fo *api.ReadReq_Options_FilterOptions) *api.ReadReq {
		return &api.ReadReq{Options: &api.ReadReq_Options{
			StreamOption:  &api.ReadReq_Options_All{All: &api.ReadReq_Options_AllOptions{AllOption: &api.ReadReq_Options_AllOptions_Start{Start: &shared.Empty{}}}},
			CountOption:   &api.ReadReq_Options_Subscription{Subscription: &api.ReadReq_Options_SubscriptionOptions{}},
			FilterOption:  &api.ReadReq_Options_Filter{Filter: fo},
			ReadDirection: api.ReadReq_Options_Forwards,
		}}
	}
	return []*api.ReadReq{
		mk(&api.ReadReq_Options_FilterOptions{Filter: &api.ReadReq_Options_FilterOptions_StreamIdentifier{StreamIdentifier: expr([]string{"a-", "b-"}, "")}, Window: &api.ReadReq_Options_FilterOptions_Max{Max: 10}, CheckpointIntervalMultiplier: 2}),
		mk(&api.ReadReq_Options_FilterOptions{Filter: &api.ReadReq_Options_FilterOptions_EventType{EventType: expr(nil, "^[^$].*")}, Window: &api.ReadReq_Options_FilterOptions_Count{Count: &shared.Empty{}}, CheckpointIntervalMultiplier: 1}),
		mk(&api.ReadReq_Options_FilterOptions{Filter: &api.ReadReq_Options_FilterOptions_EventType{EventType: expr(nil, "(")}, CheckpointIntervalMultiplier: 1}),
		mk(&api.ReadReq_Options_FilterOptions{Filter: &api.ReadReq_Options_FilterOptions_EventType{EventType: expr([]string{"x"}, "y")}, CheckpointIntervalMultiplier: 1}),
		mk(&api.ReadReq_Options_FilterOptions{Filter: &api.ReadReq_Options_FilterOptions_StreamIdentifier{StreamIdentifier: expr([]string{"a"}, "")}, Window: &api.ReadReq_Options_FilterOptions_Max{Max: 0xffffffff}, CheckpointIntervalMultiplier: 0xffffffff}),
		mk(&api.ReadReq_Options_FilterOptions{}),
		{Options: &api.ReadReq_Options{
			StreamOption: &api.ReadReq_Options_Stream{Stream: &api.ReadReq_Options_StreamOptions{StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte("s")}, RevisionOption: &api.ReadReq_Options_StreamOptions_Revision{Revision: 2}}},
			CountOption:  &api.ReadReq_Options_Count{Count: 5},
		}},
	}
}

// FuzzCompileFilter: arbitrary read options compile to a filter or an invalid-argument
// error, and a compiled filter can be applied to anything, never panicking.
func FuzzCompileFilter(f *testing.F) {
	for _, r := range seedFilterReads() {
		f.Add(mustMarshal(f, r), "a-1", "OrderPlaced")
	}
	f.Fuzz(func(t *testing.T, b []byte, stream, typ string) {
		var req api.ReadReq
		if proto.Unmarshal(b, &req) != nil {
			return
		}
		flt, err := compileFilter(req.GetOptions())
		if err != nil {
			if !isInvalid(err) {
				t.Fatalf("compileFilter error %v is not invalid-argument", err)
			}
			return
		}
		if flt.match == nil {
			if req.GetOptions().GetFilter() != nil {
				t.Fatal("a filter compiled to nothing")
			}
			return
		}
		if flt.window <= 0 || flt.checkpoint <= 0 {
			t.Fatalf("filter window %d checkpoint %d, want both above zero", flt.window, flt.checkpoint)
		}
		flt.match([]byte(stream), []byte(typ))
	})
}

// fakeStream is a server stream without a network, for feeding handlers fuzzed requests.
type fakeStream struct {
	ctx  context.Context
	mu   sync.Mutex
	sent int
}

func (s *fakeStream) SetHeader(metadata.MD) error  { return nil }
func (s *fakeStream) SendHeader(metadata.MD) error { return nil }
func (s *fakeStream) SetTrailer(metadata.MD)       {}
func (s *fakeStream) Context() context.Context     { return s.ctx }
func (s *fakeStream) SendMsg(any) error            { s.mu.Lock(); s.sent++; s.mu.Unlock(); return nil }
func (s *fakeStream) RecvMsg(any) error            { return io.EOF }

type fakeReadServer struct{ *fakeStream }

func (s fakeReadServer) Send(*api.ReadResp) error { return s.SendMsg(nil) }

type fakeAppendServer struct {
	*fakeStream
	reqs []*api.AppendReq
}

func (s *fakeAppendServer) Recv() (*api.AppendReq, error) {
	if len(s.reqs) == 0 {
		return nil, io.EOF
	}
	r := s.reqs[0]
	s.reqs = s.reqs[1:]
	return r, nil
}

// RecvMsg hands the next request over the way the server's codec does: as wire bytes
// for a *rawMessage, decoded for a generated message.
func (s *fakeAppendServer) RecvMsg(m any) error {
	r, err := s.Recv()
	if err != nil {
		return err
	}
	b, err := proto.Marshal(r)
	if err != nil {
		return err
	}
	switch v := m.(type) {
	case *rawMessage:
		*v = b
		return nil
	case proto.Message:
		return proto.Unmarshal(b, v)
	}
	return io.ErrUnexpectedEOF
}

func (s *fakeAppendServer) SendAndClose(*api.AppendResp) error { return s.SendMsg(nil) }

// newFuzzServer is a server over a store of the fuzz target's own, closed at cleanup.
func newFuzzServer(f *testing.F) *Server {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := eventdb.Open(f.TempDir(), eventdb.Options{Logger: quiet})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = db.Close() })
	return New(db, Options{Logger: quiet})
}

// FuzzReadHandler runs the Read handler on arbitrary requests: reads and subscriptions
// (with a cancelled context, so they end once caught up) must never panic, and an error
// must be a gRPC status.
func FuzzReadHandler(f *testing.F) {
	for _, r := range seedFilterReads() {
		f.Add(mustMarshal(f, r))
	}
	f.Add(mustMarshal(f, &api.ReadReq{Options: &api.ReadReq_Options{
		StreamOption:  &api.ReadReq_Options_All{All: &api.ReadReq_Options_AllOptions{AllOption: &api.ReadReq_Options_AllOptions_Position{Position: &api.ReadReq_Options_Position{CommitPosition: 1 << 63}}}},
		CountOption:   &api.ReadReq_Options_Count{Count: 1 << 63},
		ReadDirection: api.ReadReq_Options_Backwards,
	}}))
	f.Add(mustMarshal(f, &api.ReadReq{Options: &api.ReadReq_Options{
		StreamOption: &api.ReadReq_Options_Stream{Stream: &api.ReadReq_Options_StreamOptions{StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte("fuzz")}, RevisionOption: &api.ReadReq_Options_StreamOptions_End{End: &shared.Empty{}}}},
		CountOption:  &api.ReadReq_Options_Subscription{Subscription: &api.ReadReq_Options_SubscriptionOptions{}},
	}}))
	f.Add([]byte{})
	s := newFuzzServer(f)
	if _, err := s.db.Append(context.Background(), "fuzz", eventdb.Any, []eventdb.ProposedEvent{{ID: uuid.New(), Type: "T", Data: []byte("x")}, {ID: uuid.New(), Type: "U"}}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var req api.ReadReq
		if proto.Unmarshal(b, &req) != nil {
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := s.Read(&req, fakeReadServer{&fakeStream{ctx: ctx}})
		checkStatus(t, err)
	})
}

// FuzzAppendHandler runs the Append handler on an options message and a proposed
// message decoded from arbitrary bytes.
func FuzzAppendHandler(f *testing.F) {
	opts := &api.AppendReq{Content: &api.AppendReq_Options_{Options: &api.AppendReq_Options{StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte("fuzz-append")}, ExpectedStreamRevision: &api.AppendReq_Options_Any{Any: &shared.Empty{}}}}}
	ev := seedProposed(uuidProto(uuid.New(), true), map[string]string{"type": "T", "content-type": "application/json"})
	f.Add(mustMarshal(f, opts), mustMarshal(f, ev))
	f.Add(mustMarshal(f, ev), mustMarshal(f, opts))
	f.Add([]byte{}, []byte{})
	s := newFuzzServer(f)
	// The well-formed seed really goes through the handler into the store.
	ok := &fakeAppendServer{fakeStream: &fakeStream{ctx: context.Background()}, reqs: []*api.AppendReq{opts, ev}}
	if err := s.Append(ok); err != nil || s.db.LastPosition() == 0 {
		f.Fatalf("well-formed append through the handler: %v, last position %d", err, s.db.LastPosition())
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var first, second api.AppendReq
		if proto.Unmarshal(a, &first) != nil || proto.Unmarshal(b, &second) != nil {
			return
		}
		srv := &fakeAppendServer{fakeStream: &fakeStream{ctx: context.Background()}, reqs: []*api.AppendReq{&first, &second}}
		err := s.Append(srv)
		checkStatus(t, err)
		if err == nil && srv.sent != 1 {
			t.Fatalf("append answered %d messages, want 1", srv.sent)
		}
	})
}

func checkStatus(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if _, ok := status.FromError(err); !ok {
		t.Fatalf("handler returned %T %v, want a gRPC status", err, err)
	}
}
