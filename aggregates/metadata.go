package aggregates

import "time"

// Source says where an event came from.
type Source string

// Sources of events.
const (
	SourceAPI       Source = "api"
	SourceUI        Source = "ui"
	SourceHMPPSFeed Source = "hmpps-feed"
	SourceSystem    Source = "system"
)

// Metadata is what every stored event carries beside its payload (design.md
// "Events"). It is pure data: the event log fills RecordedAt, PreviousHash
// and Hash (hex SHA-256 chaining the event to the previous one of its
// stream); this package computes none of it.
type Metadata struct {
	// Who.
	UserID       string `json:"userId"`
	Role         string `json:"role,omitempty"`
	Organisation string `json:"organisation,omitempty"`
	// When: the fact happened, and it was recorded.
	OccurredAt time.Time `json:"occurredAt"`
	RecordedAt time.Time `json:"recordedAt,omitzero"`
	// Where from.
	Source Source `json:"source"`
	// Tracing and idempotency.
	CorrelationID  string `json:"correlationId,omitempty"`
	CausationID    string `json:"causationId,omitempty"`
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
	// SchemaVersion of the payload (Event.SchemaVersion when written).
	SchemaVersion int `json:"schemaVersion"`
	// Hash chain, hex SHA-256.
	PreviousHash string `json:"previousHash,omitempty"`
	Hash         string `json:"hash,omitempty"`
}

// Valid reports whether s is a known source.
func (s Source) Valid() bool {
	return s == SourceAPI || s == SourceUI || s == SourceHMPPSFeed || s == SourceSystem
}
