package eventdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/google/uuid"
)

// ExpectedKind says what a writer expects of a stream before it appends.
type ExpectedKind uint8

// The expected-revision kinds of the EventStoreDB protocol.
const (
	ExpectAny ExpectedKind = iota
	ExpectNoStream
	ExpectStreamExists
	ExpectRevision
)

// ExpectedRevision is the optimistic-concurrency condition of a write.
type ExpectedRevision struct {
	Kind     ExpectedKind
	Revision uint64 // only for ExpectRevision
}

// Any, NoStream and StreamExists are the expected revisions that name no number.
var (
	Any          = ExpectedRevision{Kind: ExpectAny}
	NoStream     = ExpectedRevision{Kind: ExpectNoStream}
	StreamExists = ExpectedRevision{Kind: ExpectStreamExists}
)

// Exactly expects the stream's last revision to be r.
func Exactly(r uint64) ExpectedRevision { return ExpectedRevision{Kind: ExpectRevision, Revision: r} }

func (e ExpectedRevision) String() string {
	switch e.Kind {
	case ExpectAny:
		return "any"
	case ExpectNoStream:
		return "no stream"
	case ExpectStreamExists:
		return "stream exists"
	default:
		return fmt.Sprintf("revision %d", e.Revision)
	}
}

// ProposedEvent is an event a client asks to append.
type ProposedEvent struct {
	ID       uuid.UUID
	Type     string
	IsJSON   bool
	Data     []byte
	Metadata []byte // the client's custom metadata
}

// size is the event's size as the limit counts it, like the real server's size on disk.
func (e ProposedEvent) size() int { return len(e.Data) + len(e.Metadata) + len(e.Type) }

// Record is an event as stored, with the place the log gave it.
type Record struct {
	Position uint64 // in $all; commit and prepare positions are both this value
	Stream   string
	Revision uint64 // TombstoneRevision for the record that tombstones a stream
	ID       uuid.UUID
	Type     string
	IsJSON   bool
	Created  int64 // 100-ns ticks since the Unix epoch, as EventStoreDB clients expect
	Data     []byte
	Metadata []byte
}

// TombstoneRevision is the revision of the record that hard-deletes a stream, as in
// EventStoreDB (long.MaxValue).
const TombstoneRevision = math.MaxInt64

// System event types written by the store itself.
const (
	TypeStreamDeleted  = "$streamDeleted"
	TypeStreamMetadata = "$metadata"
)

var errCorrupt = errors.New("corrupt record")

// encodeRecord lays a record out as: stream, revision, id, type, flags, created, data,
// metadata, each variable-length field prefixed with its length.
func encodeRecord(dst []byte, r *Record) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(r.Stream)))
	dst = append(dst, r.Stream...)
	dst = binary.AppendUvarint(dst, r.Revision)
	dst = append(dst, r.ID[:]...)
	dst = binary.AppendUvarint(dst, uint64(len(r.Type)))
	dst = append(dst, r.Type...)
	var flags byte
	if r.IsJSON {
		flags |= 1
	}
	dst = append(dst, flags)
	dst = binary.AppendVarint(dst, r.Created)
	dst = binary.AppendUvarint(dst, uint64(len(r.Data)))
	dst = append(dst, r.Data...)
	dst = binary.AppendUvarint(dst, uint64(len(r.Metadata)))
	dst = append(dst, r.Metadata...)
	return dst
}

// recordReader decodes a stored record; the header (stream and type) can be looked at
// before the payload is copied, which is what filtered reads of $all need.
type recordReader struct {
	buf []byte
	off int
	err error
}

func (d *recordReader) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf[d.off:])
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.off += n
	return v
}

func (d *recordReader) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.buf)-d.off) {
		d.err = errCorrupt
		return nil
	}
	b := d.buf[d.off : d.off+int(n)]
	d.off += int(n)
	return b
}

// header decodes the stream name and event type without copying the payload.
type recordHeader struct {
	stream   []byte
	revision uint64
	id       uuid.UUID
	typ      []byte
	isJSON   bool
	created  int64
	rest     int // offset of the data field
}

func decodeHeader(buf []byte) (recordHeader, error) {
	d := recordReader{buf: buf}
	var h recordHeader
	h.stream = d.bytes()
	h.revision = d.uvarint()
	if d.err == nil && len(buf)-d.off < 16 {
		d.err = errCorrupt
	}
	if d.err != nil {
		return h, d.err
	}
	copy(h.id[:], buf[d.off:d.off+16])
	d.off += 16
	h.typ = d.bytes()
	if d.err == nil && d.off >= len(buf) {
		d.err = errCorrupt
	}
	if d.err != nil {
		return h, d.err
	}
	h.isJSON = buf[d.off]&1 != 0
	d.off++
	v, n := binary.Varint(buf[d.off:])
	if n <= 0 {
		return h, errCorrupt
	}
	h.created = v
	d.off += n
	h.rest = d.off
	return h, nil
}

// decodeRecord copies a stored record out of the (transaction-scoped) buffer.
func decodeRecord(pos uint64, buf []byte) (Record, error) {
	h, err := decodeHeader(buf)
	if err != nil {
		return Record{}, fmt.Errorf("record at position %d: %w", pos, err)
	}
	d := recordReader{buf: buf, off: h.rest}
	data := d.bytes()
	meta := d.bytes()
	if d.err != nil {
		return Record{}, fmt.Errorf("record at position %d: %w", pos, d.err)
	}
	// One allocation holds both payloads; the strings are copied by the conversion.
	block := make([]byte, len(data)+len(meta))
	copy(block, data)
	copy(block[len(data):], meta)
	return Record{
		Position: pos,
		Stream:   string(h.stream),
		Revision: h.revision,
		ID:       h.id,
		Type:     string(h.typ),
		IsJSON:   h.isJSON,
		Created:  h.created,
		Data:     block[:len(data):len(data)],
		Metadata: block[len(data):],
	}, nil
}
