// Package export writes a person's audit trail as downloads: CSV (RFC 4180,
// guarded against formula injection) and JSON. Each entry says what happened
// (the event's label and its labelled fields, package labels), who did it
// (their name, when a Describer knows it), when in UK time, where from, and
// its place in the hash chain; the machine fields (ISO times, ids) follow. Both stream the trail entry by
// entry to the writer, so an answer starts at once and holds no second copy
// of a long history. Entry is also the shape of the API's audit trail
// entries, so a JSON download and GET /v1/journeys/{noms}/trail agree field
// for field.
//
// Recording the read in the access log is the caller's job, before the first
// byte is written.
//
// Of ours it may import aggregates, eventlog, labels and projections.
package export

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/labels"
	"github.com/gateledger/gateledger/projections"
)

// Entry is one event of a person's audit trail as the API and the downloads
// show it: where it is in the store and in its stream, who recorded it, for
// which organisation, when, from where, and its place in the hash chain.
type Entry struct {
	Position uint64 `json:"position"`
	Stream   string `json:"stream"`
	Revision uint64 `json:"revision"`
	// What happened, in words ("Released"), and the event's own values,
	// labelled ("Release kind": "On licence"); empty when the event itself
	// was not read.
	What    string         `json:"what,omitempty"`
	Details []labels.Field `json:"details,omitempty"`
	// Who is the name of the person who recorded it, when known.
	Who string `json:"who,omitempty"`
	// Occurred and Recorded are OccurredAt and KnownAt in UK time, as
	// people write them ("1 December 2026, 9:00am"); From is Source in words.
	Occurred       string    `json:"occurred,omitempty"`
	Recorded       string    `json:"recorded,omitempty"`
	From           string    `json:"from,omitempty"`
	EventID        string    `json:"eventId"`
	Type           string    `json:"type"`
	SchemaVersion  int       `json:"schemaVersion"`
	UserID         string    `json:"userId"`
	Role           string    `json:"role,omitempty"`
	Organisation   string    `json:"organisation,omitempty"`
	OccurredAt     time.Time `json:"occurredAt,omitzero"`
	RecordedAt     time.Time `json:"recordedAt,omitzero"`
	StoredAt       time.Time `json:"storedAt,omitzero"`
	Source         string    `json:"source"`
	CorrelationID  string    `json:"correlationId,omitempty"`
	CausationID    string    `json:"causationId,omitempty"`
	IdempotencyKey string    `json:"idempotencyKey,omitempty"`
	Command        string    `json:"command,omitempty"`
	Hash           string    `json:"hash"`
	PreviousHash   string    `json:"previousHash,omitempty"`
	EnvelopeError  string    `json:"envelopeError,omitempty"`
}

// EntryOf is the entry of an audit row.
func EntryOf(e projections.AuditEntry) Entry {
	return Entry{Position: e.Position, Stream: e.Stream, Revision: e.Revision, EventID: e.EventID.String(), Type: e.Type,
		SchemaVersion: e.SchemaVersion, UserID: e.UserID, Role: e.Role, Organisation: e.Organisation, OccurredAt: e.OccurredAt,
		RecordedAt: e.RecordedAt, StoredAt: e.StoredAt, Source: string(e.Source), CorrelationID: e.CorrelationID,
		CausationID: e.CausationID, IdempotencyKey: e.IdempotencyKey, Command: e.Command, Hash: e.Hash,
		PreviousHash: e.PreviousHash, EnvelopeError: e.EnvelopeError}
}

// Describer fills in the words of entries: what happened and who. The zero
// value fills in what the audit row alone says (the event type's label,
// times in UK time, the source in words).
type Describer struct {
	// Event, when set, returns the event at revision of stream, or nil.
	Event func(stream string, revision uint64) aggregates.Event
	// Name, when set, returns the name of a principal id, or "".
	Name func(userID string) string
}

// Entry is the entry of an audit row, in words.
func (d Describer) Entry(e projections.AuditEntry) Entry {
	out := EntryOf(e)
	out.What = labels.EventType(e.Type)
	if d.Event != nil {
		if ev := d.Event(e.Stream, e.Revision); ev != nil {
			out.Details = labels.Fields(ev)
		}
	}
	if d.Name != nil {
		out.Who = d.Name(e.UserID)
	}
	out.Occurred = labels.When(e.OccurredAt)
	out.Recorded = labels.When(out.KnownAt())
	if e.Source != "" {
		out.From = labels.Of(e.Source)
	}
	return out
}

// StreamEvents is a Describer's Event over journeys already read: the
// events of each stream by revision.
func StreamEvents(streams ...eventlog.JourneyStream) func(string, uint64) aggregates.Event {
	byKey := map[streamRev]aggregates.Event{}
	for _, st := range streams {
		for _, e := range st.Events {
			byKey[streamRev{e.Stream, e.Revision}] = e.Event
		}
	}
	return func(stream string, rev uint64) aggregates.Event { return byKey[streamRev{stream, rev}] }
}

type streamRev struct {
	stream string
	rev    uint64
}

// KnownAt is when the ledger learned of the event: the envelope's
// recordedAt, else the store's timestamp (as folds.AsAt decides).
func (e Entry) KnownAt() time.Time {
	if !e.RecordedAt.IsZero() {
		return e.RecordedAt
	}
	return e.StoredAt
}

// Columns are the CSV header, in the order of each row.
// The first columns are for people (what happened, with the event's
// labelled fields in one cell, "Release kind: On licence; Prison: MDI", who,
// when in UK time, from where); the rest are the machine values.
var Columns = []string{"position", "stream", "revision", "what", "details", "who", "occurred", "recorded", "from",
	"event_id", "type", "schema_version", "occurred_at", "recorded_at",
	"stored_at", "user_id", "role", "organisation", "source", "correlation_id", "causation_id", "idempotency_key",
	"command", "hash", "previous_hash", "envelope_error"}

func (e Entry) record(rec []string) []string {
	return append(rec[:0], strconv.FormatUint(e.Position, 10), e.Stream, strconv.FormatUint(e.Revision, 10),
		e.What, labels.FieldsText(e.Details), e.Who, e.Occurred, e.Recorded, e.From, e.EventID,
		e.Type, strconv.Itoa(e.SchemaVersion), csvTime(e.OccurredAt), csvTime(e.RecordedAt), csvTime(e.StoredAt),
		e.UserID, e.Role, e.Organisation, e.Source, e.CorrelationID, e.CausationID, e.IdempotencyKey, e.Command, e.Hash,
		e.PreviousHash, e.EnvelopeError)
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// flushEvery is how many rows are buffered before they are sent on.
const flushEvery = 256

// WriteCSV writes the header and one row per entry in RFC 4180 form: every
// record ends in CRLF, and a field holding a comma, a double quote, CR or LF
// is enclosed in double quotes with its quotes doubled. Field contents are
// written exactly (encoding/csv would drop a lone CR), after SafeCell, so no
// cell someone typed is taken for a formula by a spreadsheet.
func WriteCSV(w io.Writer, entries []projections.AuditEntry, d Describer) error {
	cw := NewCSV(w)
	for _, e := range entries {
		if err := cw.Write(d.Entry(e)); err != nil {
			return err
		}
	}
	return cw.Close()
}

// CSV writes entries as CSV one at a time, for a download of many people
// that never holds them all: the header first, then a row per Write.
type CSV struct {
	bw  *bufio.Writer
	rec []string
	n   int
}

// NewCSV starts a CSV download on w with its header.
func NewCSV(w io.Writer) *CSV {
	bw := bufio.NewWriterSize(w, 32<<10)
	writeRecord(bw, Columns)
	return &CSV{bw: bw, rec: make([]string, 0, len(Columns))}
}

// Write adds one entry (RFC 4180, formula-guarded as WriteCSV).
func (c *CSV) Write(e Entry) error {
	c.rec = e.record(c.rec)
	for j := range c.rec {
		c.rec[j] = SafeCell(c.rec[j])
	}
	writeRecord(c.bw, c.rec)
	c.n++
	if c.n%flushEvery == 0 {
		if err := c.bw.Flush(); err != nil {
			return fmt.Errorf("export: csv: %w", err)
		}
	}
	return nil
}

// Close flushes what is buffered.
func (c *CSV) Close() error {
	if err := c.bw.Flush(); err != nil {
		return fmt.Errorf("export: csv: %w", err)
	}
	return nil
}

// writeRecord writes one RFC 4180 record. A bufio.Writer keeps its first
// error and reports it at Flush, so the writes need no checks of their own.
func writeRecord(w *bufio.Writer, fields []string) {
	for i, f := range fields {
		if i > 0 {
			_ = w.WriteByte(',')
		}
		if !strings.ContainsAny(f, ",\"\r\n") {
			_, _ = w.WriteString(f)
			continue
		}
		_ = w.WriteByte('"')
		_, _ = w.WriteString(strings.ReplaceAll(f, `"`, `""`))
		_ = w.WriteByte('"')
	}
	_, _ = w.WriteString("\r\n")
}

// SafeCell guards a CSV cell against formula injection (CWE-1236): a cell
// that starts with =, +, -, @, a tab or a carriage return is taken by
// spreadsheets for a formula, so it is given a leading apostrophe, which they
// show as text. The apostrophe is visible to a program reading the file;
// none of the ledger's own values (numbers, times, ids, hashes) starts with
// those characters, so only text someone typed is ever changed.
func SafeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteJSON writes {"noms": noms, "entries": [...]}, the shape of the API's
// trail without "as at", one entry at a time.
func WriteJSON(w io.Writer, noms string, entries []projections.AuditEntry, d Describer) error {
	head, err := json.Marshal(noms)
	if err != nil {
		return fmt.Errorf("export: json: %w", err)
	}
	buf := make([]byte, 0, 4096)
	buf = append(append(append(buf, `{"noms":`...), head...), `,"entries":[`...)
	for i, e := range entries {
		if i > 0 {
			buf = append(buf, ',')
		}
		b, err := json.Marshal(d.Entry(e))
		if err != nil {
			return fmt.Errorf("export: json: %w", err)
		}
		buf = append(buf, '\n')
		buf = append(buf, b...)
		if len(buf) >= 32<<10 {
			if _, err := w.Write(buf); err != nil {
				return fmt.Errorf("export: json: %w", err)
			}
			buf = buf[:0]
		}
	}
	buf = append(buf, "]}\n"...)
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("export: json: %w", err)
	}
	return nil
}

// Filename is the name a download of noms's history is saved under, e.g.
// "gateledger-history-A1234BC.csv"; ext is "csv" or "json".
func Filename(noms, ext string) string {
	return "gateledger-history-" + noms + "." + ext
}
