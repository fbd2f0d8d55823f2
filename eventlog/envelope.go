package eventlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/gateledger/gateledger/aggregates"
)

// HashDomain is the domain tag that starts every event hash of version 1 of the
// chain. A future change to the definition gets a new tag.
const HashDomain = "gateledger-event-v1"

// Metadata is the custom metadata stored with every event (the envelope). It is
// a superset of aggregates.Metadata: its JSON has every field of
// aggregates.Metadata under the same names, so a reader that decodes it into
// aggregates.Metadata loses only the two command fields below.
//
// Stored JSON, keys in this order (empty optional values are omitted):
//
//	{"userId":"…","role":"…","organisation":"…",
//	 "occurredAt":"RFC 3339 UTC","recordedAt":"RFC 3339 UTC","source":"api|ui|hmpps-feed|system",
//	 "correlationId":"…","causationId":"…","idempotencyKey":"…",
//	 "schemaVersion":N,"previousHash":"hex","hash":"hex",
//	 "command":"ReceivePrisoner","commandDigest":"hex"}
type Metadata struct {
	aggregates.Metadata
	// Command is the name of the command that decided the event.
	Command string `json:"command,omitempty"`
	// CommandDigest is the hex SHA-256 of the command (see journeys), so that a
	// second command under an idempotency key already used can be told apart
	// from a retry of the first.
	CommandDigest string `json:"commandDigest,omitempty"`
}

// canonicalFields are the metadata values the hash covers, read as the raw
// strings stored in the metadata JSON (an absent key reads as "").
type canonicalFields struct {
	UserID         string `json:"userId"`
	Role           string `json:"role"`
	Organisation   string `json:"organisation"`
	OccurredAt     string `json:"occurredAt"`
	RecordedAt     string `json:"recordedAt"`
	Source         string `json:"source"`
	CorrelationID  string `json:"correlationId"`
	CausationID    string `json:"causationId"`
	IdempotencyKey string `json:"idempotencyKey"`
	Command        string `json:"command"`
	CommandDigest  string `json:"commandDigest"`
	SchemaVersion  int64  `json:"schemaVersion"`
	PreviousHash   string `json:"previousHash"`
	Hash           string `json:"hash"`
}

// metadataKeys is the canonical order of the metadata fields in the hash.
var metadataKeys = [...]string{"userId", "role", "organisation", "occurredAt", "recordedAt", "source",
	"correlationId", "causationId", "idempotencyKey", "command", "commandDigest"}

func (c canonicalFields) values() [len(metadataKeys)]string {
	return [...]string{c.UserID, c.Role, c.Organisation, c.OccurredAt, c.RecordedAt, c.Source,
		c.CorrelationID, c.CausationID, c.IdempotencyKey, c.Command, c.CommandDigest}
}

// EventHash computes the hash that chains an event to the previous event of its
// stream. It is the definition an inspector reproduces; VerifyEvents uses it.
//
// Write F(x) for the byte string x preceded by its length as an 8-byte
// big-endian unsigned integer, and U(n) for the 8-byte big-endian encoding of
// the unsigned integer n. Then
//
//	hash = SHA-256(
//	    F("gateledger-event-v1")
//	  ‖ F(stream name, UTF-8)                       e.g. "journey-A4092EA"
//	  ‖ F(U(revision))                              0 for the first event
//	  ‖ F(event id)                                 36-character lower-case UUID text
//	  ‖ F(event type, UTF-8)                        e.g. "PrisonerReceived"
//	  ‖ F(U(schema version))                        metadata "schemaVersion"
//	  ‖ F(previous hash)                            32 raw bytes; 32 zero bytes at revision 0
//	  ‖ F(SHA-256(data))                            the stored data bytes exactly
//	  ‖ F(SHA-256(M)) )
//
// where M is the canonical metadata: for each key of userId, role,
// organisation, occurredAt, recordedAt, source, correlationId, causationId,
// idempotencyKey, command, commandDigest, in that order, F(key) ‖ F(value),
// value being the JSON string stored under that key in the event's metadata,
// byte for byte as stored after JSON unescaping (the times are RFC 3339 in UTC
// as written, e.g. "2024-06-24T15:06:39Z"), or the empty string when the key is
// absent. The keys "schemaVersion", "previousHash" and "hash" are not in M:
// the first two are covered above, and "hash" holds the result, in lower-case
// hex. The metadata key "previousHash" must also equal the previous event's
// "hash" (and be absent at revision 0); VerifyEvents checks both.
//
// Content type, the server's "created" time and the $all position are not
// covered: the server assigns them.
//
// EventHash reads the schema version and the metadata values from
// rawMetadata (the stored metadata JSON; its "hash" and "previousHash" keys
// are ignored), and previous is the previous event's hash (zero at revision 0).
func EventHash(stream string, revision uint64, eventID uuid.UUID, eventType string, previous [32]byte, data, rawMetadata []byte) ([32]byte, error) {
	var cf canonicalFields
	if err := json.Unmarshal(rawMetadata, &cf); err != nil {
		return [32]byte{}, fmt.Errorf("%w: %w", ErrMalformedEnvelope, err)
	}
	if cf.SchemaVersion < 0 {
		return [32]byte{}, fmt.Errorf("%w: schema version %d", ErrMalformedEnvelope, cf.SchemaVersion)
	}
	return eventHash(stream, revision, eventID, eventType, uint64(cf.SchemaVersion), previous, data, cf.values()), nil
}

func eventHash(stream string, revision uint64, eventID uuid.UUID, eventType string, schemaVersion uint64,
	previous [32]byte, data []byte, meta [len(metadataKeys)]string) [32]byte {
	h := sha256.New()
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	u64 := func(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
	field([]byte(HashDomain))
	field([]byte(stream))
	field(u64(revision))
	field([]byte(eventID.String()))
	field([]byte(eventType))
	field(u64(schemaVersion))
	field(previous[:])
	dataSum := sha256.Sum256(data)
	field(dataSum[:])
	m := sha256.New()
	mfield := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		m.Write(n[:])
		m.Write([]byte(s))
	}
	for i, k := range metadataKeys {
		mfield(k)
		mfield(meta[i])
	}
	field(m.Sum(nil))
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// eventIDNamespace is the UUIDv5 namespace of event ids:
// UUIDv5(URL namespace, "https://gateledger.org/ns/event-id").
var eventIDNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://gateledger.org/ns/event-id"))

// EventID is the id of the index-th event (0-based) recorded under an
// idempotency key on a stream: UUIDv5 in the namespace
// UUIDv5(URL, "https://gateledger.org/ns/event-id") of the name
// F(stream) ‖ F(key) ‖ F(U(index)) (F and U as in EventHash). A retried append
// therefore carries the same ids and the store answers it idempotently.
func EventID(stream, key string, index int) uuid.UUID {
	var name bytes.Buffer
	field := func(b []byte) {
		_ = binary.Write(&name, binary.BigEndian, uint64(len(b)))
		name.Write(b)
	}
	field([]byte(stream))
	field([]byte(key))
	field(binary.BigEndian.AppendUint64(nil, uint64(index)))
	return uuid.NewSHA1(eventIDNamespace, name.Bytes())
}

// Recorded is an event as stored, with its envelope.
type Recorded struct {
	Stream   string
	Revision uint64
	ID       uuid.UUID
	Type     string
	Data     []byte
	// Metadata is the parsed envelope; RawMetadata the bytes stored.
	Metadata    Metadata
	RawMetadata []byte
	// Position is the event's position in $all (zero for events just appended
	// other than the last, whose position AppendResult gives).
	Position esdb.Position
	// Created is the server's timestamp.
	Created time.Time
}

// Proposed is an event to append: its type, payload and metadata. Append
// fills PreviousHash and Hash; SchemaVersion must be set by the caller.
type Proposed struct {
	Type     string
	Data     []byte
	Metadata Metadata
}

// Head is where a stream ends: the revision and hash of its last event, or
// Exists false for a stream with no events.
type Head struct {
	Exists   bool
	Revision uint64
	Hash     string
}

// HeadOf is the head after events (which must be the whole stream, in order).
func HeadOf(events []Recorded) Head {
	if len(events) == 0 {
		return Head{}
	}
	last := events[len(events)-1]
	return Head{Exists: true, Revision: last.Revision, Hash: last.Metadata.Hash}
}

// ExpectedRevision is the esdb expected revision of an append after h.
func (h Head) ExpectedRevision() esdb.ExpectedRevision {
	if !h.Exists {
		return esdb.NoStream{}
	}
	return esdb.Revision(h.Revision)
}

// Next is the revision the next appended event gets.
func (h Head) Next() uint64 {
	if !h.Exists {
		return 0
	}
	return h.Revision + 1
}

// Seal assigns ids, revisions, previous hashes and hashes to events appended
// after head under the idempotency key, and returns them as they will be
// stored. It is pure: the same arguments give the same bytes.
func Seal(stream string, head Head, key string, events []Proposed) ([]Recorded, error) {
	prev, err := decodeHash(head.Hash, head.Exists)
	if err != nil {
		return nil, fmt.Errorf("eventlog: head of %s: %w", stream, err)
	}
	prevHex := ""
	if head.Exists {
		prevHex = head.Hash
	}
	out := make([]Recorded, 0, len(events))
	for i, p := range events {
		if p.Type == "" {
			return nil, fmt.Errorf("eventlog: event %d for %s has no type", i, stream)
		}
		if p.Metadata.SchemaVersion <= 0 {
			return nil, fmt.Errorf("eventlog: %s for %s has no schema version", p.Type, stream)
		}
		rec := Recorded{Stream: stream, Revision: head.Next() + uint64(i), ID: EventID(stream, key, i), Type: p.Type, Data: p.Data}
		m := p.Metadata
		m.OccurredAt, m.RecordedAt = utc(m.OccurredAt), utc(m.RecordedAt)
		m.PreviousHash, m.Hash = prevHex, ""
		unhashed, err := json.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("eventlog: metadata of %s: %w", p.Type, err)
		}
		var cf canonicalFields
		if err := json.Unmarshal(unhashed, &cf); err != nil {
			return nil, fmt.Errorf("eventlog: metadata of %s: %w", p.Type, err)
		}
		sum := eventHash(stream, rec.Revision, rec.ID, p.Type, uint64(m.SchemaVersion), prev, p.Data, cf.values())
		m.Hash = hex.EncodeToString(sum[:])
		if rec.RawMetadata, err = json.Marshal(m); err != nil {
			return nil, fmt.Errorf("eventlog: metadata of %s: %w", p.Type, err)
		}
		rec.Metadata = m
		out = append(out, rec)
		prev, prevHex = sum, m.Hash
	}
	return out, nil
}

// EventData is the record as the client appends it.
func (r Recorded) EventData() esdb.EventData {
	return esdb.EventData{EventID: r.ID, EventType: r.Type, ContentType: esdb.ContentTypeJson, Data: r.Data, Metadata: r.RawMetadata}
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// decodeHash reads a hex SHA-256; an absent previous event is 32 zero bytes.
func decodeHash(s string, exists bool) ([32]byte, error) {
	var out [32]byte
	if !exists {
		return out, nil
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(out) {
		return out, fmt.Errorf("%w: %q is not a hex SHA-256", ErrMalformedEnvelope, s)
	}
	copy(out[:], b)
	return out, nil
}

// ErrMalformedEnvelope: stored metadata that is not a Gateledger envelope.
var ErrMalformedEnvelope = errors.New("malformed event envelope")

// fromResolved converts a read event. On a malformed envelope it still returns
// the record (with zero Metadata) beside the error, so that verification can
// report it as a break rather than stop reading.
func fromResolved(ev *esdb.RecordedEvent) (Recorded, error) {
	r := Recorded{Stream: ev.StreamID, Revision: ev.EventNumber, ID: ev.EventID, Type: ev.EventType,
		Data: ev.Data, RawMetadata: ev.UserMetadata, Position: ev.Position, Created: ev.CreatedDate}
	if len(ev.UserMetadata) == 0 {
		return r, fmt.Errorf("%w: no metadata", ErrMalformedEnvelope)
	}
	m, err := DecodeMetadata(ev.UserMetadata)
	if err != nil {
		return r, fmt.Errorf("%w: %w", ErrMalformedEnvelope, err)
	}
	r.Metadata = m
	return r, nil
}
