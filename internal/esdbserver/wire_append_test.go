package esdbserver

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/gateledger/gateledger/internal/eventdb"
)

func marshalDet(t testing.TB, m proto.Message) []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func appendSeeds(t testing.TB) [][]byte {
	id := uuid.New()
	most, least := int64(0), int64(0)
	for i := 0; i < 8; i++ {
		most = most<<8 | int64(id[i])
		least = least<<8 | int64(id[8+i])
	}
	return [][]byte{
		marshalDet(t, &api.AppendReq{Content: &api.AppendReq_Options_{Options: &api.AppendReq_Options{
			StreamIdentifier:       &shared.StreamIdentifier{StreamName: []byte("journey-A4092EA")},
			ExpectedStreamRevision: &api.AppendReq_Options_Revision{Revision: 41},
		}}}),
		marshalDet(t, &api.AppendReq{Content: &api.AppendReq_Options_{Options: &api.AppendReq_Options{
			StreamIdentifier:       &shared.StreamIdentifier{StreamName: []byte("s")},
			ExpectedStreamRevision: &api.AppendReq_Options_NoStream{NoStream: &shared.Empty{}},
		}}}),
		marshalDet(t, &api.AppendReq{Content: &api.AppendReq_ProposedMessage_{ProposedMessage: &api.AppendReq_ProposedMessage{
			Id:             &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{MostSignificantBits: most, LeastSignificantBits: least}}},
			Metadata:       map[string]string{"type": "PrisonerReceived", "content-type": "application/json"},
			CustomMetadata: []byte(`{"who":"x"}`),
			Data:           []byte(`{"noms":"A4092EA"}`),
		}}}),
		marshalDet(t, &api.AppendReq{Content: &api.AppendReq_ProposedMessage_{ProposedMessage: &api.AppendReq_ProposedMessage{
			Id:       &shared.UUID{Value: &shared.UUID_String_{String_: id.String()}},
			Metadata: map[string]string{"type": "T", "content-type": "application/octet-stream"},
		}}}),
		marshalDet(t, &api.AppendReq{Content: &api.AppendReq_ProposedMessage_{ProposedMessage: &api.AppendReq_ProposedMessage{
			Id:       &shared.UUID{Value: &shared.UUID_String_{String_: "not-a-uuid"}},
			Metadata: map[string]string{"type": "T", "content-type": "application/json"},
		}}}),
	}
}

// viaGenerated decodes with the generated code and the conversions the server used before
// it decoded the wire format itself.
func viaGenerated(b []byte) (appendFrame, error) {
	var req api.AppendReq
	if err := proto.Unmarshal(b, &req); err != nil {
		return appendFrame{}, err
	}
	var f appendFrame
	if o := req.GetOptions(); o != nil {
		f.hasOptions = true
		f.stream = string(o.GetStreamIdentifier().GetStreamName())
		exp, err := expectedFromAppend(o)
		f.expected, f.expectedOK = exp, err == nil
		return f, nil
	}
	if pm := req.GetProposedMessage(); pm != nil {
		f.hasEvent = true
		ev, err := proposedEvent(pm.GetId(), pm.GetMetadata(), pm.GetCustomMetadata(), pm.GetData())
		f.event = ev
		return f, err
	}
	return f, nil
}

func sameFrame(a, b appendFrame) bool {
	return a.hasOptions == b.hasOptions && a.stream == b.stream && a.expected == b.expected && a.expectedOK == b.expectedOK &&
		a.hasEvent == b.hasEvent && a.event.ID == b.event.ID && a.event.Type == b.event.Type && a.event.IsJSON == b.event.IsJSON &&
		bytes.Equal(a.event.Data, b.event.Data) && bytes.Equal(a.event.Metadata, b.event.Metadata)
}

func TestDecodeAppendReqMatchesGenerated(t *testing.T) {
	for i, seed := range appendSeeds(t) {
		got, gotErr := decodeAppendReq(seed)
		want, wantErr := viaGenerated(seed)
		if (gotErr == nil) != (wantErr == nil) || (gotErr == nil && !sameFrame(got, want)) {
			t.Errorf("seed %d: decoded %+v (%v), generated %+v (%v)", i, got, gotErr, want, wantErr)
		}
		if gotErr != nil && !errors.Is(gotErr, eventdb.ErrInvalidArgument) {
			t.Errorf("seed %d: error %v is not an invalid-argument error", i, gotErr)
		}
	}
}

// FuzzDecodeAppendReq feeds arbitrary bytes to the append decoder: it must never panic,
// and on canonical encodings it must agree with the generated decoder.
func FuzzDecodeAppendReq(f *testing.F) {
	for _, s := range appendSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, gotErr := decodeAppendReq(bytes.Clone(b))
		var req api.AppendReq
		if proto.Unmarshal(b, &req) != nil {
			return
		}
		if canon, err := (proto.MarshalOptions{Deterministic: true}).Marshal(&req); err != nil || !bytes.Equal(canon, b) {
			return // duplicate or reordered fields: proto merges them, which the server need not copy
		}
		want, wantErr := viaGenerated(b)
		if (gotErr == nil) != (wantErr == nil) || (gotErr == nil && !sameFrame(got, want)) {
			t.Fatalf("decoded %+v (%v), generated %+v (%v)", got, gotErr, want, wantErr)
		}
	})
}

// expectedFromAppend converts the append header's oneof; nil means the client sent none.
func expectedFromAppend(o *api.AppendReq_Options) (eventdb.ExpectedRevision, error) {
	switch v := o.GetExpectedStreamRevision().(type) {
	case *api.AppendReq_Options_Any:
		return eventdb.Any, nil
	case *api.AppendReq_Options_NoStream:
		return eventdb.NoStream, nil
	case *api.AppendReq_Options_StreamExists:
		return eventdb.StreamExists, nil
	case *api.AppendReq_Options_Revision:
		return eventdb.Exactly(v.Revision), nil
	}
	return eventdb.ExpectedRevision{}, fmt.Errorf("%w: unknown expected stream revision", eventdb.ErrInvalidArgument)
}
