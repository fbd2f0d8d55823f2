package esdbserver

import (
	"strconv"

	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/gateledger/gateledger/internal/eventdb"
	"github.com/google/uuid"
)

// Reads send every event as a ReadResp. Building the generated structs (with a metadata
// map per event) and marshalling them by reflection cost more than everything else a
// catch-up read does on the server, so events are encoded straight to protobuf wire
// format here and handed to gRPC as bytes. TestWireEncodingMatchesProto pins the
// encoding against the generated marshaller.

// rawMessage is a message already in protobuf wire format.
type rawMessage []byte

// codec passes rawMessage through and leaves every other message to the proto codec.
type codec struct{ proto encoding.CodecV2 }

func newCodec() codec { return codec{proto: encoding.GetCodecV2(grpcproto.Name)} }

func (c codec) Marshal(v any) (mem.BufferSlice, error) {
	if raw, ok := v.(rawMessage); ok {
		return mem.BufferSlice{mem.SliceBuffer(raw)}, nil
	}
	return c.proto.Marshal(v)
}

func (c codec) Unmarshal(data mem.BufferSlice, v any) error {
	if raw, ok := v.(*rawMessage); ok {
		*raw = data.Materialize() // a copy: gRPC frees data when this returns
		return nil
	}
	return c.proto.Unmarshal(data, v)
}

func (c codec) Name() string { return grpcproto.Name }

// Field numbers of the messages encoded by hand (streams.proto, shared.proto).
const (
	fieldReadRespEvent        = 1 // ReadResp.event
	fieldReadEventEvent       = 1 // ReadEvent.event
	fieldReadEventCommit      = 3 // ReadEvent.commit_position
	fieldRecordedID           = 1
	fieldRecordedStream       = 2
	fieldRecordedRevision     = 3
	fieldRecordedPrepare      = 4
	fieldRecordedCommit       = 5
	fieldRecordedMetadata     = 6
	fieldRecordedCustomMeta   = 7
	fieldRecordedData         = 8
	fieldUUIDStructured       = 1
	fieldUUIDString           = 2
	fieldStructuredMost       = 1
	fieldStructuredLeast      = 2
	fieldStreamIdentifierName = 3
	fieldMapKey               = 1
	fieldMapValue             = 2
)

// encoder reuses its scratch buffer from one event to the next.
type encoder struct {
	ticks [20]byte
}

// readEvent returns the wire form of ReadResp{event: ReadEvent{event: r, commit_position}}.
// The nested messages' lengths are worked out first, so that the message is written in
// one pass into a buffer of exactly its size, copying data and metadata once. The result
// is freshly allocated: gRPC may hold it after Send returns.
func (e *encoder) readEvent(r *eventdb.RecordView, uuidAsString bool) rawMessage {
	var idText string
	var most, least uint64
	var structured int // of UUID.Structured
	var idLen int      // of the UUID message
	if uuidAsString {
		idText = uuid.UUID(r.ID).String()
		idLen = protowire.SizeTag(fieldUUIDString) + protowire.SizeBytes(len(idText))
	} else {
		most, least = beUint64(r.ID[0:8]), beUint64(r.ID[8:16])
		structured = protowire.SizeTag(fieldStructuredMost) + protowire.SizeVarint(most) +
			protowire.SizeTag(fieldStructuredLeast) + protowire.SizeVarint(least)
		idLen = protowire.SizeTag(fieldUUIDStructured) + protowire.SizeBytes(structured)
	}
	streamLen := protowire.SizeTag(fieldStreamIdentifierName) + protowire.SizeBytes(len(r.Stream))
	ct := "application/octet-stream"
	if r.IsJSON {
		ct = "application/json"
	}
	ticks := strconv.AppendInt(e.ticks[:0], r.Created, 10)
	recLen := protowire.SizeTag(fieldRecordedID) + protowire.SizeBytes(idLen) +
		protowire.SizeTag(fieldRecordedStream) + protowire.SizeBytes(streamLen) +
		sizeUint(fieldRecordedRevision, r.Revision) + sizeUint(fieldRecordedPrepare, r.Position) +
		sizeUint(fieldRecordedCommit, r.Position) +
		sizeMapEntry("type", len(r.Type)) + sizeMapEntry("content-type", len(ct)) + sizeMapEntry("created", len(ticks))
	if len(r.Metadata) > 0 {
		recLen += protowire.SizeTag(fieldRecordedCustomMeta) + protowire.SizeBytes(len(r.Metadata))
	}
	if len(r.Data) > 0 {
		recLen += protowire.SizeTag(fieldRecordedData) + protowire.SizeBytes(len(r.Data))
	}
	evLen := protowire.SizeTag(fieldReadEventEvent) + protowire.SizeBytes(recLen) +
		protowire.SizeTag(fieldReadEventCommit) + protowire.SizeVarint(r.Position)

	b := make([]byte, 0, protowire.SizeTag(fieldReadRespEvent)+protowire.SizeBytes(evLen))
	b = protowire.AppendTag(b, fieldReadRespEvent, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(evLen))
	b = protowire.AppendTag(b, fieldReadEventEvent, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(recLen))
	// id
	b = protowire.AppendTag(b, fieldRecordedID, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(idLen))
	if uuidAsString {
		b = protowire.AppendTag(b, fieldUUIDString, protowire.BytesType)
		b = protowire.AppendString(b, idText)
	} else {
		b = protowire.AppendTag(b, fieldUUIDStructured, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(structured))
		b = protowire.AppendTag(b, fieldStructuredMost, protowire.VarintType)
		b = protowire.AppendVarint(b, most)
		b = protowire.AppendTag(b, fieldStructuredLeast, protowire.VarintType)
		b = protowire.AppendVarint(b, least)
	}
	// stream_identifier
	b = protowire.AppendTag(b, fieldRecordedStream, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(streamLen))
	b = protowire.AppendTag(b, fieldStreamIdentifierName, protowire.BytesType)
	b = protowire.AppendBytes(b, r.Stream)
	b = appendUint(b, fieldRecordedRevision, r.Revision)
	b = appendUint(b, fieldRecordedPrepare, r.Position)
	b = appendUint(b, fieldRecordedCommit, r.Position)
	b = appendMapEntryBytes(b, "type", r.Type)
	b = appendMapEntry(b, "content-type", ct)
	b = appendMapEntryBytes(b, "created", ticks)
	if len(r.Metadata) > 0 {
		b = protowire.AppendTag(b, fieldRecordedCustomMeta, protowire.BytesType)
		b = protowire.AppendBytes(b, r.Metadata)
	}
	if len(r.Data) > 0 {
		b = protowire.AppendTag(b, fieldRecordedData, protowire.BytesType)
		b = protowire.AppendBytes(b, r.Data)
	}
	b = protowire.AppendTag(b, fieldReadEventCommit, protowire.VarintType)
	return protowire.AppendVarint(b, r.Position)
}

func sizeUint(field protowire.Number, v uint64) int {
	if v == 0 {
		return 0 // proto3 leaves zero scalars out
	}
	return protowire.SizeTag(field) + protowire.SizeVarint(v)
}

func sizeMapEntry(key string, valueLen int) int {
	n := protowire.SizeTag(fieldMapKey) + protowire.SizeBytes(len(key)) + protowire.SizeTag(fieldMapValue) + protowire.SizeBytes(valueLen)
	return protowire.SizeTag(fieldRecordedMetadata) + protowire.SizeBytes(n)
}

func appendUint(b []byte, field protowire.Number, v uint64) []byte {
	if v == 0 {
		return b // proto3 leaves zero scalars out
	}
	b = protowire.AppendTag(b, field, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func appendMapEntry(b []byte, key, value string) []byte {
	n := protowire.SizeTag(fieldMapKey) + protowire.SizeBytes(len(key)) + protowire.SizeTag(fieldMapValue) + protowire.SizeBytes(len(value))
	b = protowire.AppendTag(b, fieldRecordedMetadata, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(n))
	b = protowire.AppendTag(b, fieldMapKey, protowire.BytesType)
	b = protowire.AppendString(b, key)
	b = protowire.AppendTag(b, fieldMapValue, protowire.BytesType)
	return protowire.AppendString(b, value)
}

func appendMapEntryBytes(b []byte, key string, value []byte) []byte {
	n := protowire.SizeTag(fieldMapKey) + protowire.SizeBytes(len(key)) + protowire.SizeTag(fieldMapValue) + protowire.SizeBytes(len(value))
	b = protowire.AppendTag(b, fieldRecordedMetadata, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(n))
	b = protowire.AppendTag(b, fieldMapKey, protowire.BytesType)
	b = protowire.AppendString(b, key)
	b = protowire.AppendTag(b, fieldMapValue, protowire.BytesType)
	return protowire.AppendBytes(b, value)
}

func beUint64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
}

// viewOf shows a copied record as a view, for the paths that read whole records.
func viewOf(r *eventdb.Record) *eventdb.RecordView {
	return &eventdb.RecordView{Position: r.Position, Stream: []byte(r.Stream), Revision: r.Revision, ID: r.ID,
		Type: []byte(r.Type), IsJSON: r.IsJSON, Created: r.Created, Data: r.Data, Metadata: r.Metadata}
}
