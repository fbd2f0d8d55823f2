package hmpps

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // Europe/London without the host's zone files

	"github.com/gateledger/gateledger/aggregates"
)

// Result is a translated HMPPS event.
type Result struct {
	// EventType is the HMPPS event type.
	EventType string
	// NOMS is the prison number the message is about; its steps go to this
	// journey (a merge also writes to the removed number's).
	NOMS string
	// OccurredAt is when the movement happened (UTC).
	OccurredAt time.Time
	// IdempotencyKey is stable across redeliveries of the same message.
	IdempotencyKey string
	// MessageID is the SNS MessageId, "" for a bare event.
	MessageID string
	// Reason is the HMPPS reason (received/released), for logs.
	Reason string
	// Code is the NOMIS movement reason code, for logs and dead letters.
	Code string
	// Steps are the journey commands, in the order to run them.
	Steps []Step
}

// london reads occurredAt values sent without an offset: HMPPS publishers
// write UK local time.
var london = mustLoadLondon()

func mustLoadLondon() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic("hmpps: Europe/London missing from the embedded zone database: " + err.Error())
	}
	return loc
}

// Parse reads an SNS envelope or a bare HMPPS domain event and translates it
// by the Mapping table. It never panics; errors match ErrMalformed,
// ErrUnknownEventType, ErrNothingToRecord or ErrUnmappable (see
// DispositionOf). On error, Result holds whatever could be read, so that a
// dead letter can be filed under its NOMS and key.
func Parse(data []byte) (Result, error) {
	var r Result
	if len(data) > MaxMessageBytes {
		return r, malformedf("message", "%d bytes is over the %d limit", len(data), MaxMessageBytes)
	}
	inner, env, err := unwrap(data)
	if env != nil {
		r.MessageID = env.MessageID
	}
	if err != nil {
		return r, err
	}
	// Read the type first: an event type we do not consume may have fields
	// of other shapes, and must be ignored rather than called malformed.
	var head struct {
		EventType string `json:"eventType"`
	}
	if err := json.Unmarshal(inner, &head); err != nil {
		return r, malformed("event", err)
	}
	r.EventType = head.EventType
	if head.EventType == "" {
		return r, malformedf("eventType", "missing")
	}
	if !consumed(head.EventType) {
		r.IdempotencyKey = key(env, inner, nil, head.EventType, "")
		return r, &UnknownEventTypeError{EventType: head.EventType}
	}
	var ev DomainEvent
	if err := json.Unmarshal(inner, &ev); err != nil {
		return r, malformed("event", err)
	}
	r.EventType = ev.EventType
	m := message{info: ev.AdditionalInformation}
	if err := readCommon(&r, &m, &ev); err != nil {
		return r, err
	}
	r.IdempotencyKey = key(env, inner, &ev, r.EventType, r.NOMS)
	r.Reason = ev.AdditionalInformation.Reason
	r.Code = strings.TrimSpace(ev.AdditionalInformation.NomisMovementReasonCode)
	m.Result = r
	steps, err := translate(m)
	if err != nil {
		return r, err
	}
	r.Steps = steps
	return r, nil
}

// parseOccurredAt reads an RFC 3339 time, or a local date-time without an
// offset as UK local time.
func parseOccurredAt(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", s, london)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 date-time", s)
	}
	return t.UTC(), nil
}

// readCommon reads occurredAt, the prison number and the CRN.
func readCommon(r *Result, m *message, ev *DomainEvent) error {
	if ev.OccurredAt == "" {
		return malformedf("occurredAt", "missing")
	}
	at, err := parseOccurredAt(ev.OccurredAt)
	if err != nil {
		return malformed("occurredAt", err)
	}
	r.OccurredAt = at
	info := ev.AdditionalInformation
	noms := strings.TrimSpace(info.NOMSNumber)
	if noms == "" && r.EventType == EventBookingMoved {
		noms = strings.TrimSpace(info.MovedToNOMSNumber)
	}
	for _, id := range ev.PersonReference.Identifiers {
		switch id.Type {
		case "NOMS":
			if noms == "" {
				noms = id.Value
			} else if id.Value != noms {
				return malformedf("personReference", "NOMS %q disagrees with nomsNumber %q", id.Value, noms)
			}
		case "CRN":
			m.crn = strings.TrimSpace(id.Value)
		}
	}
	if noms == "" {
		return malformedf("nomsNumber", "missing")
	}
	if err := aggregates.ValidateIdentifier("noms", noms); err != nil {
		return malformed("nomsNumber", err)
	}
	r.NOMS = noms
	return nil
}

// key is the idempotency key of a message. With an SNS envelope it is the
// MessageId, suffixed with a hash of the Message so that two different
// messages under one id (as in the shared samples, where the intake and
// recall examples share a MessageId) are not taken for one; redelivery
// repeats both, so the key is stable. A bare event is keyed by a hash of
// its identifying fields.
func key(env *Envelope, inner []byte, ev *DomainEvent, eventType, noms string) string {
	if env != nil && env.MessageID != "" {
		sum := sha256.Sum256(inner)
		return "sns:" + env.MessageID + ":" + hex.EncodeToString(sum[:8])
	}
	h := sha256.New()
	field := func(s string) { h.Write([]byte(s)); h.Write([]byte{0}) }
	field(eventType)
	if ev == nil {
		h.Write(inner)
	} else {
		at := ev.OccurredAt
		if t, err := parseOccurredAt(at); err == nil {
			at = t.Format(time.RFC3339Nano)
		}
		info := ev.AdditionalInformation
		for _, s := range []string{at, noms, info.Reason, info.NomisMovementReasonCode, info.PrisonID,
			string(info.BookingID), string(info.SentenceCalculationID)} {
			field(s)
		}
		// Fields of the identity messages, only when present, so that the
		// keys of the movement messages stay what they always were.
		if info.RemovedNOMSNumber != "" || info.MovedFromNOMSNumber != "" || info.MovedToNOMSNumber != "" {
			for _, s := range []string{info.RemovedNOMSNumber, info.MovedFromNOMSNumber, info.MovedToNOMSNumber} {
				field(s)
			}
		}
	}
	return "hmpps:" + hex.EncodeToString(h.Sum(nil)[:16])
}

// Order sorts results by occurredAt (stably, so equal times keep their
// arrival order). Use it when replaying a batch or the dead-letter stream,
// so that facts are offered to the aggregate in the order they happened.
func Order(rs []Result) {
	slices.SortStableFunc(rs, func(a, b Result) int { return a.OccurredAt.Compare(b.OccurredAt) })
}
