package esdbserver

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/google/uuid"

	"github.com/gateledger/gateledger/internal/eventdb"
)

// parseUUID reads an event id in either of the protocol's encodings.
func parseUUID(u *shared.UUID) (uuid.UUID, error) {
	var id uuid.UUID
	switch v := u.GetValue().(type) {
	case *shared.UUID_Structured_:
		binary.BigEndian.PutUint64(id[0:8], uint64(v.Structured.GetMostSignificantBits()))
		binary.BigEndian.PutUint64(id[8:16], uint64(v.Structured.GetLeastSignificantBits()))
		return id, nil
	case *shared.UUID_String_:
		parsed, err := uuid.Parse(v.String_)
		if err != nil {
			return id, fmt.Errorf("%w: malformed event id %q", eventdb.ErrInvalidArgument, v.String_)
		}
		return parsed, nil
	default:
		return id, fmt.Errorf("%w: event id missing", eventdb.ErrInvalidArgument)
	}
}

func uuidProto(id uuid.UUID, asString bool) *shared.UUID {
	if asString {
		return &shared.UUID{Value: &shared.UUID_String_{String_: id.String()}}
	}
	return &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{
		MostSignificantBits:  int64(binary.BigEndian.Uint64(id[0:8])),
		LeastSignificantBits: int64(binary.BigEndian.Uint64(id[8:16])),
	}}}
}

// proposedEvent converts a proposed message; the content type and event type travel in
// the system metadata map, as the client sends them.
func proposedEvent(id *shared.UUID, meta map[string]string, custom, data []byte) (eventdb.ProposedEvent, error) {
	eid, err := parseUUID(id)
	if err != nil {
		return eventdb.ProposedEvent{}, err
	}
	typ, ok := meta["type"]
	if !ok || typ == "" {
		return eventdb.ProposedEvent{}, fmt.Errorf("%w: event %s: required metadata property 'type' is missing", eventdb.ErrInvalidArgument, eid)
	}
	ct, ok := meta["content-type"]
	if !ok {
		return eventdb.ProposedEvent{}, fmt.Errorf("%w: event %s: required metadata property 'content-type' is missing", eventdb.ErrInvalidArgument, eid)
	}
	return eventdb.ProposedEvent{ID: eid, Type: typ, IsJSON: ct == "application/json", Data: data, Metadata: custom}, nil
}

// esdbVersionNumber renders an expected revision as the long EventStoreDB puts in trailers.
func esdbVersionNumber(e eventdb.ExpectedRevision) string {
	switch e.Kind {
	case eventdb.ExpectAny:
		return "-2"
	case eventdb.ExpectNoStream:
		return "-1"
	case eventdb.ExpectStreamExists:
		return "-4"
	}
	return strconv.FormatUint(e.Revision, 10)
}
