package live

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/gateledger/gateledger/aggregates"
)

// Limits on a subscribe message. The read limit (Config.MaxMessageSize)
// bounds the message as a whole; these bound what it may ask for, so that
// the server-side stream filter and the per-connection sets stay small.
const (
	// MaxPeople is the most NOMS numbers one subscription may name.
	MaxPeople = 200
	// MaxEventTypes is the most event types one subscription may name.
	MaxEventTypes = 64
)

// Error codes of {"type":"error"} messages. They are stable: clients
// branch on them.
const (
	// CodeBadRequest: the client's message is not a valid subscribe.
	CodeBadRequest = "bad-request"
	// CodeAlreadySubscribed: a second subscribe on one connection.
	CodeAlreadySubscribed = "already-subscribed"
	// CodeUnauthenticated: the credential the connection was opened with no
	// longer verifies (revoked, expired) or now names another principal.
	CodeUnauthenticated = "unauthenticated"
	// CodeUnavailable: the event store or the access log did not answer;
	// reconnect later from the last position received.
	CodeUnavailable = "unavailable"
)

// FromKind says where a subscription starts.
type FromKind int

// Starting points.
const (
	// FromNow starts after the last event in the store when the subscribe
	// is handled (eventlog.LastPosition).
	FromNow FromKind = iota
	// FromStart starts before the first event of $all.
	FromStart
	// FromPosition starts after Position (exclusive), like an EventStoreDB
	// subscription: the position a client last received.
	FromPosition
)

// Subscribe is a decoded subscribe message.
type Subscribe struct {
	From FromKind
	// Position is the exclusive starting position when From is FromPosition.
	Position uint64
	// People, when not empty, restricts the feed to these journeys (sorted,
	// without duplicates).
	People []string
	// EventTypes, when not empty, restricts the events sent to these types
	// (sorted, without duplicates). Every event is still folded: the types
	// filter what is sent, never what decides visibility.
	EventTypes []string
}

// ProtocolError is a client message the server refuses; Code is one of the
// Code* constants and Message says why, for people.
type ProtocolError struct {
	Code    string
	Message string
}

func (e *ProtocolError) Error() string { return e.Code + ": " + e.Message }

func badRequest(format string, args ...any) error {
	return &ProtocolError{Code: CodeBadRequest, Message: fmt.Sprintf(format, args...)}
}

// eventTypePattern is what an event type named in a filter must look like:
// a PascalCase-ish name. Journey types are past-tense PascalCase; the
// pattern also admits the few other streams' types an inspector may see. It
// never admits "$", so a client cannot ask for the store's system events.
var eventTypePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._-]{0,99}$`)

// wireSubscribe is the JSON of a client message.
type wireSubscribe struct {
	Type       string          `json:"type"`
	From       json.RawMessage `json:"from"`
	People     []string        `json:"people"`
	EventTypes []string        `json:"eventTypes"`
}

// DecodeClientMessage decodes one text message from a client. The only
// message is subscribe:
//
//	{"type":"subscribe","from":"now"|"start"|<position>,"people":[...],"eventTypes":[...]}
//
// "from" defaults to "now"; a position is a non-negative JSON integer.
// Unknown fields, trailing data, malformed NOMS numbers and event types, and
// over-long lists are refused with a *ProtocolError.
func DecodeClientMessage(b []byte) (Subscribe, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var w wireSubscribe
	if err := dec.Decode(&w); err != nil {
		return Subscribe{}, badRequest("not a JSON message of the protocol: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Subscribe{}, badRequest("trailing data after the message")
	}
	if w.Type != "subscribe" {
		return Subscribe{}, badRequest("unknown message type %q (want \"subscribe\")", w.Type)
	}
	var s Subscribe
	if err := s.decodeFrom(w.From); err != nil {
		return Subscribe{}, err
	}
	if len(w.People) > MaxPeople {
		return Subscribe{}, badRequest("at most %d people per subscription", MaxPeople)
	}
	for _, n := range w.People {
		if !aggregates.ValidNOMS(n) {
			return Subscribe{}, badRequest("%q is not a NOMS number", n)
		}
	}
	if len(w.EventTypes) > MaxEventTypes {
		return Subscribe{}, badRequest("at most %d event types per subscription", MaxEventTypes)
	}
	for _, t := range w.EventTypes {
		if !eventTypePattern.MatchString(t) {
			return Subscribe{}, badRequest("%q is not an event type", t)
		}
	}
	s.People = sortedSet(w.People)
	s.EventTypes = sortedSet(w.EventTypes)
	return s, nil
}

func (s *Subscribe) decodeFrom(raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		s.From = FromNow
		return nil
	}
	var str string
	if err := json.Unmarshal(raw, &str); err == nil {
		switch str {
		case "now":
			s.From = FromNow
		case "start":
			s.From = FromStart
		default:
			return badRequest("from must be \"now\", \"start\" or a position, not %q", str)
		}
		return nil
	}
	// A position is an integer; json.Number would also take 1e3 or 1.5.
	n, err := strconv.ParseUint(string(raw), 10, 64)
	if err != nil {
		return badRequest("from must be \"now\", \"start\" or a non-negative integer position")
	}
	s.From, s.Position = FromPosition, n
	return nil
}

func sortedSet(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}

// Server messages. Every one is a JSON text frame with a "type".

type subscribedMessage struct {
	Type string `json:"type"`
	// From is "start" or the exclusive position the feed starts after
	// ("now" resolved to a position).
	From         any      `json:"from"`
	Role         string   `json:"role"`
	Organisation string   `json:"organisation,omitempty"`
	People       []string `json:"people,omitempty"`
	EventTypes   []string `json:"eventTypes,omitempty"`
}

type positionMessage struct {
	Type     string `json:"type"`
	Position uint64 `json:"position"`
}

type errorMessage struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// EventMessage is the JSON of one event sent to a client. Tests and Go
// clients decode into it.
type EventMessage struct {
	Type     string `json:"type"`
	Position uint64 `json:"position"`
	Stream   string `json:"stream"`
	// NOMS is set for journey streams.
	NOMS      string `json:"noms,omitempty"`
	Revision  uint64 `json:"revision"`
	EventType string `json:"eventType"`
	// Label says what happened in words, from the one table of labels
	// ("CRN linked"), for announcements to people.
	Label   string `json:"label,omitempty"`
	EventID string `json:"eventId"`
	// OccurredAt and RecordedAt come from the envelope.
	OccurredAt time.Time `json:"occurredAt,omitzero"`
	RecordedAt time.Time `json:"recordedAt,omitzero"`
	// Who is the user id that recorded the event; Role and Organisation are
	// theirs.
	Who           string `json:"who,omitempty"`
	Role          string `json:"role,omitempty"`
	Organisation  string `json:"organisation,omitempty"`
	Source        string `json:"source,omitempty"`
	CorrelationID string `json:"correlationId,omitempty"`
	// Data is the event's payload as stored (JSON), null when the stored
	// payload is not JSON.
	Data json.RawMessage `json:"data"`
}

// ServerMessage is any server message, decoded loosely: clients switch on
// Type. Position is set for event, caught-up and checkpoint.
type ServerMessage struct {
	Type     string `json:"type"`
	Position uint64 `json:"position"`
	Code     string `json:"code"`
	Message  string `json:"message"`
}

// Message types sent by the server.
const (
	TypeSubscribed = "subscribed"
	TypeEvent      = "event"
	TypeCaughtUp   = "caught-up"
	TypeCheckpoint = "checkpoint"
	TypeError      = "error"
)

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Every message is made of strings, numbers and validated raw JSON.
		panic(fmt.Sprintf("live: encode %T: %v", v, err))
	}
	return b
}
