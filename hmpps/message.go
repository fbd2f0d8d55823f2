package hmpps

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Event types consumed.
const (
	EventReceived             = "prison-offender-events.prisoner.received"
	EventReleased             = "prison-offender-events.prisoner.released"
	EventSentenceDatesChanged = "prison-offender-events.prisoner.sentence-dates-changed"
	EventMerged               = "prison-offender-events.prisoner.merged"
	EventBookingMoved         = "prison-offender-events.prisoner.booking.moved"
	EventIdentifierAdded      = "probation-case.prison-identifier.added"
	EventIdentifierUpdated    = "probation-case.prison-identifier.updated"
)

// consumed reports whether the ledger reads events of type t.
func consumed(t string) bool {
	switch t {
	case EventReceived, EventReleased, EventSentenceDatesChanged, EventMerged, EventBookingMoved,
		EventIdentifierAdded, EventIdentifierUpdated:
		return true
	}
	return false
}

// MaxMessageBytes bounds what Parse reads; HMPPS events are a few hundred
// bytes and SNS caps messages at 256 KiB.
const MaxMessageBytes = 256 << 10

// Envelope is an SNS notification as delivered to SQS.
type Envelope struct {
	Type              string                      `json:"Type"`
	MessageID         string                      `json:"MessageId"`
	TopicArn          string                      `json:"TopicArn"`
	Message           *string                     `json:"Message"`
	Timestamp         string                      `json:"Timestamp"`
	MessageAttributes map[string]MessageAttribute `json:"MessageAttributes"`
}

// MessageAttribute is one SNS message attribute.
type MessageAttribute struct {
	Type  string `json:"Type"`
	Value string `json:"Value"`
}

// DomainEvent is an HMPPS domain event (hmpps-domain-event.schema.json).
type DomainEvent struct {
	EventType string `json:"eventType"`
	// Version is kept as sent: publishers write 1, "1" and "1.0", and the
	// ledger reads every version of these events the same way.
	Version               json.RawMessage       `json:"version"`
	Description           string                `json:"description"`
	DetailURL             string                `json:"detailUrl"`
	OccurredAt            string                `json:"occurredAt"`
	PublishedAt           string                `json:"publishedAt"`
	PersonReference       PersonReference       `json:"personReference"`
	AdditionalInformation AdditionalInformation `json:"additionalInformation"`
}

// PersonReference lists the person's identifiers.
type PersonReference struct {
	Identifiers []Identifier `json:"identifiers"`
}

// Identifier is one typed identifier ("NOMS", "CRN", ...).
type Identifier struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// AdditionalInformation holds the fields of the consumed event types. A
// field HMPPS sends as null reads as "".
type AdditionalInformation struct {
	NOMSNumber              string     `json:"nomsNumber"`
	Reason                  string     `json:"reason"`
	ProbableCause           string     `json:"probableCause"`
	Details                 string     `json:"details"`
	RemovedNOMSNumber       string     `json:"removedNomsNumber"`
	MovedFromNOMSNumber     string     `json:"movedFromNomsNumber"`
	MovedToNOMSNumber       string     `json:"movedToNomsNumber"`
	CurrentLocation         string     `json:"currentLocation"`
	PrisonID                string     `json:"prisonId"`
	NomisMovementReasonCode string     `json:"nomisMovementReasonCode"`
	CurrentPrisonStatus     string     `json:"currentPrisonStatus"`
	BookingID               flexString `json:"bookingId"`
	SentenceCalculationID   flexString `json:"sentenceCalculationId"`
}

// flexString reads a JSON string or number as a string: the published
// examples show bookingId both ways.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*f = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return errors.New("want a string or a number")
	}
	if _, err := strconv.ParseUint(n.String(), 10, 64); err != nil {
		return fmt.Errorf("want a whole number, got %s", n)
	}
	*f = flexString(n.String())
	return nil
}

// unwrap returns the domain event bytes and the envelope, if there was one.
func unwrap(data []byte) ([]byte, *Envelope, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, nil, malformed("message", err)
	}
	if probe == nil {
		return nil, nil, malformedf("message", "not a JSON object")
	}
	if _, ok := probe["Message"]; !ok {
		return data, nil, nil
	}
	var env Envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, nil, malformed("envelope", err)
	}
	if env.Type != "" && env.Type != "Notification" {
		// Subscription confirmations and the like carry no event.
		return nil, &env, &UnknownEventTypeError{EventType: "sns:" + env.Type}
	}
	if env.Message == nil || *env.Message == "" {
		return nil, &env, malformedf("Message", "empty SNS Message")
	}
	return []byte(*env.Message), &env, nil
}
