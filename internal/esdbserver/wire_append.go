package esdbserver

import (
	"unicode/utf8"

	"github.com/google/uuid"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/gateledger/gateledger/internal/eventdb"
)

// Append requests carry one gRPC message per event, each with a metadata map. Decoding
// them with the generated code allocates a map and several structs per event; decoding
// the wire format here gives the event straight to the store. FuzzDecodeAppendReq checks
// this decoder against the generated one.

// appendFrame is one decoded AppendReq: either the options or one proposed event.
type appendFrame struct {
	hasOptions bool
	stream     string
	expected   eventdb.ExpectedRevision
	expectedOK bool
	hasEvent   bool
	event      eventdb.ProposedEvent
}

// Field numbers of AppendReq and its parts (streams.proto, shared.proto).
const (
	fieldAppendOptions        = 1
	fieldAppendProposed       = 2
	fieldOptionsStream        = 1
	fieldOptionsRevision      = 2
	fieldOptionsNoStream      = 3
	fieldOptionsAny           = 4
	fieldOptionsStreamExists  = 5
	fieldProposedID           = 1
	fieldProposedMetadata     = 2
	fieldProposedCustomMeta   = 3
	fieldProposedData         = 4
	fieldStreamIdentifierBody = 3
)

// decodeAppendReq decodes b, which it may alias (it must not be reused by the caller).
func decodeAppendReq(b []byte) (appendFrame, error) {
	var f appendFrame
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case fieldAppendOptions:
			f.hasOptions, f.hasEvent = true, false
			return decodeAppendOptions(v, &f)
		case fieldAppendProposed:
			f.hasEvent, f.hasOptions = true, false
			ev, err := decodeProposed(v)
			f.event = ev
			return err
		}
		return nil
	})
	return f, err
}

func decodeAppendOptions(b []byte, f *appendFrame) error {
	return eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		switch {
		case num == fieldOptionsStream && typ == protowire.BytesType:
			return eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
				if num == fieldStreamIdentifierBody && typ == protowire.BytesType {
					f.stream = string(v)
				}
				return nil
			})
		case num == fieldOptionsRevision && typ == protowire.VarintType:
			f.expected, f.expectedOK = eventdb.Exactly(n), true
		case num == fieldOptionsNoStream && typ == protowire.BytesType:
			f.expected, f.expectedOK = eventdb.NoStream, true
		case num == fieldOptionsAny && typ == protowire.BytesType:
			f.expected, f.expectedOK = eventdb.Any, true
		case num == fieldOptionsStreamExists && typ == protowire.BytesType:
			f.expected, f.expectedOK = eventdb.StreamExists, true
		}
		return nil
	})
}

func decodeProposed(b []byte) (eventdb.ProposedEvent, error) {
	var ev eventdb.ProposedEvent
	var haveID, haveType, haveContentType bool
	var idErr error
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case fieldProposedID:
			id, err := decodeUUID(v)
			ev.ID, haveID, idErr = id, err == nil, err
		case fieldProposedMetadata:
			key, value, err := decodeStringMapEntry(v)
			if err != nil {
				return err
			}
			switch key {
			case "type":
				ev.Type, haveType = value, true
			case "content-type":
				ev.IsJSON, haveContentType = value == "application/json", true
			}
		case fieldProposedCustomMeta:
			ev.Metadata = v
		case fieldProposedData:
			ev.Data = v
		}
		return nil
	})
	switch {
	case err != nil:
		return ev, err
	case idErr != nil:
		return ev, idErr
	case !haveID:
		return ev, invalid("event id missing")
	case !haveType || ev.Type == "":
		return ev, invalid("event %s: required metadata property 'type' is missing", ev.ID)
	case !haveContentType:
		return ev, invalid("event %s: required metadata property 'content-type' is missing", ev.ID)
	}
	return ev, nil
}

func decodeUUID(b []byte) (uuid.UUID, error) {
	var id uuid.UUID
	var have bool
	var parseErr error
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch {
		case num == fieldUUIDStructured && typ == protowire.BytesType:
			var most, least uint64
			if err := eachField(v, func(num protowire.Number, typ protowire.Type, _ []byte, n uint64) error {
				if typ == protowire.VarintType {
					switch num {
					case fieldStructuredMost:
						most = n
					case fieldStructuredLeast:
						least = n
					}
				}
				return nil
			}); err != nil {
				return err
			}
			for i := 0; i < 8; i++ {
				id[i] = byte(most >> (56 - 8*i))
				id[8+i] = byte(least >> (56 - 8*i))
			}
			have, parseErr = true, nil
		case num == fieldUUIDString && typ == protowire.BytesType:
			parsed, err := uuid.Parse(string(v))
			if err != nil {
				have, parseErr = false, invalid("malformed event id %q", v)
				return nil
			}
			id, have, parseErr = parsed, true, nil
		}
		return nil
	})
	switch {
	case err != nil:
		return id, err
	case parseErr != nil:
		return id, parseErr
	case !have:
		return id, invalid("event id missing")
	}
	return id, nil
}

func decodeStringMapEntry(b []byte) (key, value string, err error) {
	err = eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		if !utf8.Valid(v) {
			return invalid("metadata holds invalid UTF-8")
		}
		switch num {
		case fieldMapKey:
			key = string(v)
		case fieldMapValue:
			value = string(v)
		}
		return nil
	})
	return key, value, err
}

// eachField walks the fields of a message: v holds a length-delimited field's bytes, n a
// varint's value. Fixed-width and group fields are skipped, as unknown fields are.
func eachField(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error) error {
	for len(b) > 0 {
		num, typ, tl := protowire.ConsumeTag(b)
		if tl < 0 {
			return invalid("malformed request: %v", protowire.ParseError(tl))
		}
		b = b[tl:]
		var v []byte
		var n uint64
		var l int
		switch typ {
		case protowire.BytesType:
			v, l = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			n, l = protowire.ConsumeVarint(b)
		default:
			l = protowire.ConsumeFieldValue(num, typ, b)
		}
		if l < 0 {
			return invalid("malformed request: %v", protowire.ParseError(l))
		}
		b = b[l:]
		if typ == protowire.BytesType || typ == protowire.VarintType {
			if err := fn(num, typ, v, n); err != nil {
				return err
			}
		}
	}
	return nil
}
