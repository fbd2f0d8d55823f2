package hmpps

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gateledger/gateledger/aggregates"
)

// Result is a translated HMPPS event.
type Result struct {
	// EventType is the HMPPS event type.
	EventType string
	// NOMS is the prison number; the commands go to its journey stream.
	NOMS string
	// OccurredAt is when the movement happened (UTC).
	OccurredAt time.Time
	// IdempotencyKey is stable across redeliveries of the same message.
	IdempotencyKey string
	// MessageID is the SNS MessageId, "" for a bare event.
	MessageID string
	// Reason is the HMPPS reason (received/released), for logs.
	Reason string
	// Commands are the journey commands, in the order to run them.
	Commands []aggregates.Command
}

// recallCodes are the NOMIS movement reason codes (MOVE_RSN) of a recall
// admission, from domain.md.
var recallCodes = []string{"Y", "PD", "ELR", "B", "24", "ETRLR", "L"}

// IsRecallMovementCode reports whether a NOMIS movement reason code marks a
// recall.
func IsRecallMovementCode(code string) bool { return slices.Contains(recallCodes, code) }

// Parse reads an SNS envelope or a bare HMPPS domain event and translates it.
// It never panics; errors match ErrMalformed, ErrUnknownEventType or
// ErrUnmappable (see DispositionOf). On error, Result holds whatever could be
// read, so that a dead letter can be filed under its NOMS and key.
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
	if head.EventType != EventReceived && head.EventType != EventReleased && head.EventType != EventSentenceDatesChanged {
		r.IdempotencyKey = key(env, inner, nil, head.EventType, "")
		return r, &UnknownEventTypeError{EventType: head.EventType}
	}
	var ev DomainEvent
	if err := json.Unmarshal(inner, &ev); err != nil {
		return r, malformed("event", err)
	}
	r.EventType = ev.EventType
	if err := readCommon(&r, &ev); err != nil {
		return r, err
	}
	r.IdempotencyKey = key(env, inner, &ev, r.EventType, r.NOMS)
	r.Reason = ev.AdditionalInformation.Reason
	cmds, err := translate(r, ev)
	if err != nil {
		return r, err
	}
	r.Commands = cmds
	return r, nil
}

// readCommon reads occurredAt and the prison number.
func readCommon(r *Result, ev *DomainEvent) error {
	if ev.OccurredAt == "" {
		return malformedf("occurredAt", "missing")
	}
	at, err := time.Parse(time.RFC3339Nano, ev.OccurredAt)
	if err != nil {
		return malformed("occurredAt", err)
	}
	r.OccurredAt = at.UTC()
	noms := ev.AdditionalInformation.NOMSNumber
	for _, id := range ev.PersonReference.Identifiers {
		if id.Type != "NOMS" {
			continue
		}
		if noms == "" {
			noms = id.Value
		} else if id.Value != noms {
			return malformedf("personReference", "NOMS %q disagrees with nomsNumber %q", id.Value, noms)
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

// translate maps one well-formed event to commands.
func translate(r Result, ev DomainEvent) ([]aggregates.Command, error) {
	info := ev.AdditionalInformation
	if r.EventType == EventSentenceDatesChanged {
		if err := aggregates.ValidateIdentifier("bookingId", string(info.BookingID)); err != nil {
			return nil, malformed("bookingId", err)
		}
		if err := aggregates.ValidateIdentifier("bookingId", string(info.SentenceCalculationID)); err != nil {
			return nil, malformed("sentenceCalculationId", err)
		}
		return []aggregates.Command{aggregates.NoteSentenceRecalculation{
			BookingID: string(info.BookingID), CalculationID: string(info.SentenceCalculationID), At: r.OccurredAt}}, nil
	}
	if err := aggregates.ValidateIdentifier("prison", info.PrisonID); err != nil {
		return nil, malformed("prisonId", err)
	}
	move := func(k aggregates.MovementKind) []aggregates.Command {
		return []aggregates.Command{aggregates.RecordMovement{Kind: k, Prison: info.PrisonID, At: r.OccurredAt}}
	}
	release := func(k aggregates.ReleaseKind) []aggregates.Command {
		return []aggregates.Command{aggregates.ReleasePrisoner{Kind: k, Prison: info.PrisonID, At: r.OccurredAt}}
	}
	unmappable := func(format string, args ...any) error {
		return &UnmappableError{EventType: r.EventType, Reason: fmt.Sprintf(format, args...)}
	}
	if r.EventType == EventReceived {
		switch info.Reason {
		case "ADMISSION":
			kind := aggregates.ReceptionAdmission
			if IsRecallMovementCode(strings.TrimSpace(info.NomisMovementReasonCode)) {
				kind = aggregates.ReceptionRecall
			}
			return []aggregates.Command{aggregates.ReceivePrisoner{NOMS: r.NOMS, Kind: kind, Prison: info.PrisonID,
				MovementReasonCode: info.NomisMovementReasonCode, At: r.OccurredAt}}, nil
		case "TEMPORARY_ABSENCE_RETURN":
			return move(aggregates.MovementTemporaryAbsenceReturn), nil
		case "RETURN_FROM_COURT":
			return move(aggregates.MovementCourtReturn), nil
		case "TRANSFERRED":
			return move(aggregates.MovementTransferIn), nil
		case "":
			return nil, malformedf("reason", "missing")
		}
		return nil, unmappable("receive reason %q is not one of ADMISSION, TEMPORARY_ABSENCE_RETURN, RETURN_FROM_COURT, TRANSFERRED", info.Reason)
	}
	switch info.Reason { // EventReleased
	case "RELEASED":
		return release(aggregates.ReleaseDischarged), nil
	case "RELEASED_TO_HOSPITAL":
		return release(aggregates.ReleaseToHospital), nil
	case "TEMPORARY_ABSENCE_RELEASE":
		return move(aggregates.MovementTemporaryAbsenceOut), nil
	case "SENT_TO_COURT":
		return move(aggregates.MovementCourtOut), nil
	case "TRANSFERRED":
		return move(aggregates.MovementTransferOut), nil
	case "UNKNOWN":
		return nil, unmappable("release reason UNKNOWN (movement code %q): not guessed; a person must say whether this was a release", info.NomisMovementReasonCode)
	case "":
		return nil, malformedf("reason", "missing")
	}
	return nil, unmappable("release reason %q is not one the ledger knows", info.Reason)
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
		if t, err := time.Parse(time.RFC3339Nano, at); err == nil {
			at = t.UTC().Format(time.RFC3339Nano)
		}
		info := ev.AdditionalInformation
		for _, s := range []string{at, noms, info.Reason, info.NomisMovementReasonCode, info.PrisonID,
			string(info.BookingID), string(info.SentenceCalculationID)} {
			field(s)
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
