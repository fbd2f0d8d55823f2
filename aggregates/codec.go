package aggregates

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"unsafe"
)

// ErrMalformedEvent: stored event data that is not valid JSON for its type.
var ErrMalformedEvent = errors.New("malformed event data")

// upcaster rewrites the JSON of version n into version n+1.
type upcaster func([]byte) ([]byte, error)

// codec decodes one event type.
type codec struct {
	version int
	// decodeFast reads a current-version payload through the type's field
	// table, reporting false for anything it leaves to encoding/json (see
	// shape).
	decodeFast func([]byte) (Event, bool)
	// decodeJSON is encoding/json alone, the reference decodeFast matches.
	decodeJSON func([]byte) (Event, error)
	// fast is the type's field table; nil means encoding/json only.
	fast *shape
	// up[n] upcasts version n to n+1.
	up map[int]upcaster
}

func codecFor[T Event](up map[int]upcaster) codec {
	var zero T
	sh := shapeOf(reflect.TypeFor[T]())
	return codec{
		version: zero.SchemaVersion(),
		fast:    sh,
		decodeFast: func(b []byte) (Event, bool) {
			var e T // stays on the stack: only the returned copy is allocated
			if sh == nil || !sh.decode(b, unsafe.Pointer(&e)) {
				return nil, false
			}
			return e, true
		},
		decodeJSON: func(b []byte) (Event, error) {
			var e T
			if err := json.Unmarshal(b, &e); err != nil {
				return nil, err
			}
			return e, nil
		},
		up: up,
	}
}

// registry is the immutable table of event types this code reads and writes.
var registry = map[string]codec{
	TypePrisonerReceived:           codecFor[PrisonerReceived](map[int]upcaster{1: upcastPrisonerReceivedV1}),
	TypeCustodyScreeningCompleted:  codecFor[CustodyScreeningCompleted](nil),
	TypeResettlementPlanDrafted:    codecFor[ResettlementPlanDrafted](nil),
	TypeResettlementPlanRevised:    codecFor[ResettlementPlanRevised](nil),
	TypePathwayNeedIdentified:      codecFor[PathwayNeedIdentified](nil),
	TypePathwayStatusChanged:       codecFor[PathwayStatusChanged](nil),
	TypeActionAgreed:               codecFor[ActionAgreed](nil),
	TypeActionAssigned:             codecFor[ActionAssigned](nil),
	TypeActionCompleted:            codecFor[ActionCompleted](nil),
	TypeTemporaryAbsenceStarted:    codecFor[TemporaryAbsenceStarted](nil),
	TypeTemporaryAbsenceEnded:      codecFor[TemporaryAbsenceEnded](nil),
	TypeSentToCourt:                codecFor[SentToCourt](nil),
	TypeReturnedFromCourt:          codecFor[ReturnedFromCourt](nil),
	TypeTransferDeparted:           codecFor[TransferDeparted](nil),
	TypePrisonerTransferred:        codecFor[PrisonerTransferred](nil),
	TypeReleaseDatesSet:            codecFor[ReleaseDatesSet](nil),
	TypeReleaseDatesChanged:        codecFor[ReleaseDatesChanged](nil),
	TypeSentenceRecalculated:       codecFor[SentenceRecalculated](nil),
	TypePrisonerReleased:           codecFor[PrisonerReleased](nil),
	TypeMetAtGate:                  codecFor[MetAtGate](nil),
	TypeSupervisionContactRecorded: codecFor[SupervisionContactRecorded](nil),
	TypeRiskAssessed:               codecFor[RiskAssessed](nil),
	TypePrisonerSentenced:          codecFor[PrisonerSentenced](nil),
	TypeMAPPALevelSet:              codecFor[MAPPALevelSet](nil),
	TypeBreachRecorded:             codecFor[BreachRecorded](nil),
	TypeLicenceRevoked:             codecFor[LicenceRevoked](nil),
	TypeProvenReoffenceRecorded:    codecFor[ProvenReoffenceRecorded](nil),
	TypeCRNLinked:                  codecFor[CRNLinked](nil),
	TypeFactCorrected:              codecFor[FactCorrected](nil),
	TypeJourneyClosed:              codecFor[JourneyClosed](nil),
	TypeHandoverRequested:          codecFor[HandoverRequested](nil),
	TypeHandoverAccepted:           codecFor[HandoverAccepted](nil),
	TypeHandoverRejected:           codecFor[HandoverRejected](nil),
	TypeReleaseAreaChanged:         codecFor[ReleaseAreaChanged](nil),

	TypePrisonerUnlawfullyAtLarge:     codecFor[PrisonerUnlawfullyAtLarge](nil),
	TypePrisonerDiedInCustody:         codecFor[PrisonerDiedInCustody](nil),
	TypePrisonerMovedToSecureHospital: codecFor[PrisonerMovedToSecureHospital](nil),
	TypePrisonerMovedToRemovalCentre:  codecFor[PrisonerMovedToRemovalCentre](nil),
	TypePrisonNumberMerged:            codecFor[PrisonNumberMerged](nil),
	TypePrisonNumberAbsorbed:          codecFor[PrisonNumberAbsorbed](nil),
}

// EventTypes lists every event type Decode knows, sorted.
func EventTypes() []string {
	out := make([]string, 0, len(registry))
	for t := range registry {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// SchemaVersionOf is the schema version this code writes for eventType, and
// false for an unknown type.
func SchemaVersionOf(eventType string) (int, bool) {
	c, ok := registry[eventType]
	return c.version, ok
}

// Encode returns the stored type name and JSON payload of ev. The schema
// version to store alongside is ev.SchemaVersion().
func Encode(ev Event) (eventType string, data []byte, err error) {
	if ev == nil {
		return "", nil, errors.New("aggregates: encode nil event")
	}
	eventType = ev.EventType()
	if _, ok := registry[eventType]; !ok {
		return "", nil, fmt.Errorf("aggregates: encode: %w", &UnknownEventTypeError{EventType: eventType})
	}
	data, err = json.Marshal(ev)
	if err != nil {
		return "", nil, fmt.Errorf("aggregates: encode %s: %w", eventType, err)
	}
	return eventType, data, nil
}

// Decode reads a stored event, upcasting older schema versions to the
// current one. A schemaVersion of 0 (metadata without a version, as written
// by tools) is read as 1. Unknown JSON fields are ignored so that a newer
// writer's additions do not break an older reader; an unknown type gives an
// *UnknownEventTypeError, a version newer than this code knows
// ErrUnsupportedSchemaVersion.
func Decode(eventType string, schemaVersion int, data []byte) (Event, error) {
	return decode(eventType, schemaVersion, data, false)
}

// decode is Decode; with jsonOnly it decodes with encoding/json alone, as
// Decode did before the field tables, for the tests and benchmarks to compare.
func decode(eventType string, schemaVersion int, data []byte, jsonOnly bool) (Event, error) {
	c, ok := registry[eventType]
	if !ok {
		return nil, fmt.Errorf("aggregates: decode: %w", &UnknownEventTypeError{EventType: eventType})
	}
	if schemaVersion == 0 {
		schemaVersion = 1
	}
	if schemaVersion < 0 || schemaVersion > c.version {
		return nil, fmt.Errorf("aggregates: decode %s v%d (this code writes v%d): %w", eventType, schemaVersion, c.version, ErrUnsupportedSchemaVersion)
	}
	for v := schemaVersion; v < c.version; v++ {
		up, ok := c.up[v]
		if !ok {
			return nil, fmt.Errorf("aggregates: decode %s: no upcaster from v%d: %w", eventType, v, ErrUnsupportedSchemaVersion)
		}
		var err error
		if data, err = up(data); err != nil {
			return nil, fmt.Errorf("aggregates: upcast %s v%d: %w: %w", eventType, v, ErrMalformedEvent, err)
		}
	}
	if !jsonOnly {
		if ev, ok := c.decodeFast(data); ok {
			return ev, nil
		}
	}
	ev, err := c.decodeJSON(data)
	if err != nil {
		return nil, fmt.Errorf("aggregates: decode %s v%d: %w: %w", eventType, c.version, ErrMalformedEvent, err)
	}
	return ev, nil
}

// upcastPrisonerReceivedV1: v1 named the time "receivedAt"; v2 calls it
// "occurredAt" like every other event and adds movementReasonCode and late,
// whose absence means "not known" and "in order".
func upcastPrisonerReceivedV1(b []byte) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("payload is null")
	}
	if at, ok := m["receivedAt"]; ok {
		if _, has := m["occurredAt"]; !has {
			m["occurredAt"] = at
		}
		delete(m, "receivedAt")
	}
	return json.Marshal(m)
}
