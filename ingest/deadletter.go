package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/hmpps"
)

// DefaultDeadLetterStream holds the HMPPS messages that could not be applied.
const DefaultDeadLetterStream = "deadletter-hmpps"

// Event types of the dead-letter stream (schema version 1).
const (
	TypeDeadLetterRecorded = "DeadLetterRecorded"
	TypeDeadLetterResolved = "DeadLetterResolved"
)

// MaxStoredMessageBytes bounds the raw message kept in a dead letter; a longer
// one is truncated (MessageBytes and MessageSHA256 still describe the whole).
const MaxStoredMessageBytes = 1 << 20

// appendAttempts bounds retries of a dead-letter append that meets a
// concurrent writer of the dead-letter stream.
const appendAttempts = 20

// DeadLetterRecorded is a message kept because it could not be applied.
type DeadLetterRecorded struct {
	// Key is the message's idempotency key (hmpps.Parse), or "raw:<sha256>"
	// when the message could not be read far enough to have one.
	Key        string    `json:"key"`
	MessageID  string    `json:"messageId,omitempty"`
	EventType  string    `json:"eventType,omitempty"`
	NOMS       string    `json:"nomsNumber,omitempty"`
	OccurredAt time.Time `json:"occurredAt,omitzero"`
	// Reason is one of the Reason* constants; Rule the aggregate rule slug
	// when a rule refused it; Error the error text.
	Reason string `json:"reason"`
	Rule   string `json:"rule,omitempty"`
	Error  string `json:"error"`
	// CommandIndex and Command name the command refused (absent when the
	// message was not translated).
	CommandIndex *int   `json:"commandIndex,omitempty"`
	Command      string `json:"command,omitempty"`
	// The raw message: as text when it is UTF-8, else base64.
	Message       string `json:"message,omitempty"`
	MessageBase64 []byte `json:"messageBase64,omitempty"`
	MessageBytes  int    `json:"messageBytes"`
	MessageSHA256 string `json:"messageSha256"`
	Truncated     bool   `json:"truncated,omitempty"`
	// DeadLetteredAt is when the ledger kept it.
	DeadLetteredAt time.Time `json:"deadLetteredAt"`
}

// Raw is the stored message bytes (truncated if Truncated).
func (d DeadLetterRecorded) Raw() []byte {
	if d.MessageBase64 != nil {
		return d.MessageBase64
	}
	return []byte(d.Message)
}

// DeadLetterResolved records that a dead letter was applied on redrive.
type DeadLetterResolved struct {
	DeadLetterID string `json:"deadLetterId"`
	Key          string `json:"key"`
	// Resolution is "applied".
	Resolution string    `json:"resolution"`
	Events     int       `json:"events"`
	ResolvedAt time.Time `json:"resolvedAt"`
}

// DeadLetterRef locates a dead letter.
type DeadLetterRef struct {
	Stream   string
	EventID  uuid.UUID
	Revision uint64
	// AlreadyOpen: an open dead letter already held this message; nothing was
	// appended.
	AlreadyOpen bool
}

// DeadLetter is a dead letter as read, with whether it is resolved.
type DeadLetter struct {
	DeadLetterRecorded
	ID       uuid.UUID
	Revision uint64
	Resolved bool
}

// newDeadLetter builds the record of a message that failed. It does no I/O.
func newDeadLetter(body []byte, r hmpps.Result, err error, cmdIndex int, at time.Time) DeadLetterRecorded {
	sum := sha256.Sum256(body)
	reason, _ := classify(err)
	if reason == "" {
		reason = ReasonRejected
	}
	d := DeadLetterRecorded{Key: r.IdempotencyKey, MessageID: r.MessageID, EventType: r.EventType, NOMS: r.NOMS,
		OccurredAt: r.OccurredAt, Reason: reason, Rule: ruleOf(err), Error: err.Error(),
		MessageBytes: len(body), MessageSHA256: hex.EncodeToString(sum[:]), DeadLetteredAt: at.UTC()}
	if d.Key == "" {
		d.Key = "raw:" + hex.EncodeToString(sum[:16])
	}
	if cmdIndex >= 0 && cmdIndex < len(r.Steps) {
		i := cmdIndex
		d.CommandIndex, d.Command = &i, r.Steps[i].Command.CommandName()
	}
	stored := body
	if len(stored) > MaxStoredMessageBytes {
		stored, d.Truncated = stored[:MaxStoredMessageBytes], true
	}
	if utf8.Valid(stored) {
		d.Message = string(stored)
	} else {
		d.MessageBase64 = append([]byte{}, stored...)
	}
	return d
}

func (f *Feed) stream() string {
	if f.DeadLetters != "" {
		return f.DeadLetters
	}
	return DefaultDeadLetterStream
}

// deadLetter keeps a message that failed and completes its Outcome.
func (f *Feed) deadLetter(ctx context.Context, body []byte, r hmpps.Result, cause error, cmdIndex int, out Outcome) (Outcome, error) {
	d := newDeadLetter(body, r, cause, cmdIndex, f.now())
	out.Disposition, out.Reason, out.Err = hmpps.DeadLetter, d.Reason, cause
	if out.IdempotencyKey == "" {
		out.IdempotencyKey = d.Key
	}
	ref, err := f.appendDeadLetter(ctx, d)
	if err != nil {
		return out, fmt.Errorf("ingest: keep dead letter %s (%v): %w", d.Key, cause, err)
	}
	out.DeadLetter = &ref
	f.log().WarnContext(ctx, "HMPPS message dead-lettered", "eventType", d.EventType, "noms", d.NOMS, "key", d.Key,
		"reason", d.Reason, "rule", d.Rule, "err", cause, "alreadyOpen", ref.AlreadyOpen, "revision", ref.Revision)
	return out, nil
}

// DeadLetterList reads the dead-letter stream, oldest first, each letter marked
// resolved or open.
func (f *Feed) DeadLetterList(ctx context.Context) ([]DeadLetter, error) {
	letters, _, err := f.readDeadLetters(ctx)
	return letters, err
}

func (f *Feed) readDeadLetters(ctx context.Context) ([]DeadLetter, eventlog.Head, error) {
	recs, err := eventlog.ReadStream(ctx, f.Journeys.Store.Client, f.stream())
	if err != nil {
		return nil, eventlog.Head{}, err
	}
	var letters []DeadLetter
	index := map[string]int{}
	for _, rec := range recs {
		switch rec.Type {
		case TypeDeadLetterRecorded:
			var d DeadLetterRecorded
			if err := json.Unmarshal(rec.Data, &d); err != nil {
				return nil, eventlog.Head{}, fmt.Errorf("ingest: %s revision %d: %w", rec.Stream, rec.Revision, err)
			}
			index[rec.ID.String()] = len(letters)
			letters = append(letters, DeadLetter{DeadLetterRecorded: d, ID: rec.ID, Revision: rec.Revision})
		case TypeDeadLetterResolved:
			var res DeadLetterResolved
			if err := json.Unmarshal(rec.Data, &res); err != nil {
				return nil, eventlog.Head{}, fmt.Errorf("ingest: %s revision %d: %w", rec.Stream, rec.Revision, err)
			}
			if i, ok := index[res.DeadLetterID]; ok {
				letters[i].Resolved = true
			}
		}
	}
	return letters, eventlog.HeadOf(recs), nil
}

// appendDeadLetter appends d unless an open dead letter holds the same key.
func (f *Feed) appendDeadLetter(ctx context.Context, d DeadLetterRecorded) (DeadLetterRef, error) {
	data, err := json.Marshal(d)
	if err != nil {
		return DeadLetterRef{}, err
	}
	return f.appendChained(ctx, func(letters []DeadLetter) (eventlog.Proposed, string, *DeadLetterRef) {
		n := 0
		for _, l := range letters {
			if l.Key != d.Key {
				continue
			}
			if !l.Resolved {
				return eventlog.Proposed{}, "", &DeadLetterRef{Stream: f.stream(), EventID: l.ID, Revision: l.Revision, AlreadyOpen: true}
			}
			n++
		}
		key := fmt.Sprintf("deadletter:%s:%d", d.Key, n)
		at := d.OccurredAt
		if at.IsZero() {
			at = d.DeadLetteredAt
		}
		return eventlog.Proposed{Type: TypeDeadLetterRecorded, Data: data, Metadata: f.metadata(key, d.Key, d.MessageID, at, "DeadLetter")}, key, nil
	})
}

// resolve appends a DeadLetterResolved for l unless it is resolved already.
func (f *Feed) resolve(ctx context.Context, l DeadLetter, events int) error {
	res := DeadLetterResolved{DeadLetterID: l.ID.String(), Key: l.Key, Resolution: "applied", Events: events, ResolvedAt: f.now().UTC()}
	data, err := json.Marshal(res)
	if err != nil {
		return err
	}
	_, err = f.appendChained(ctx, func(letters []DeadLetter) (eventlog.Proposed, string, *DeadLetterRef) {
		for _, x := range letters {
			if x.ID == l.ID && x.Resolved {
				return eventlog.Proposed{}, "", &DeadLetterRef{Stream: f.stream(), EventID: x.ID, Revision: x.Revision, AlreadyOpen: false}
			}
		}
		key := "resolved:" + l.ID.String()
		return eventlog.Proposed{Type: TypeDeadLetterResolved, Data: data, Metadata: f.metadata(key, l.Key, l.MessageID, res.ResolvedAt, "ResolveDeadLetter")}, key, nil
	})
	return err
}

func (f *Feed) metadata(key, causation, correlation string, at time.Time, command string) eventlog.Metadata {
	if correlation == "" {
		correlation = causation
	}
	return eventlog.Metadata{Metadata: aggregates.Metadata{UserID: FeedUser, Role: "system", Source: aggregates.SourceHMPPSFeed,
		OccurredAt: at, RecordedAt: f.now(), CorrelationID: correlation, CausationID: causation, IdempotencyKey: key,
		SchemaVersion: 1}, Command: command}
}

// appendChained reads the dead-letter stream, asks next what to append (or
// for an existing reference), and appends it on the hash chain, retrying when
// another writer got there first.
func (f *Feed) appendChained(ctx context.Context, next func([]DeadLetter) (eventlog.Proposed, string, *DeadLetterRef)) (DeadLetterRef, error) {
	var last error
	for range appendAttempts {
		letters, head, err := f.readDeadLetters(ctx)
		if err != nil {
			return DeadLetterRef{}, err
		}
		p, key, existing := next(letters)
		if existing != nil {
			return *existing, nil
		}
		res, err := eventlog.Append(ctx, f.Journeys.Store.Client, f.stream(), head, key, []eventlog.Proposed{p})
		if errors.Is(err, eventlog.ErrWrongExpectedRevision) {
			last = err
			select {
			case <-ctx.Done():
				return DeadLetterRef{}, ctx.Err()
			case <-time.After(2 * time.Millisecond):
			}
			continue
		}
		if err != nil {
			return DeadLetterRef{}, err
		}
		return DeadLetterRef{Stream: f.stream(), EventID: res.Events[0].ID, Revision: res.Head.Revision}, nil
	}
	return DeadLetterRef{}, fmt.Errorf("ingest: dead-letter stream busy: %w", last)
}

// RedriveItem is one dead letter offered again.
type RedriveItem struct {
	DeadLetterID uuid.UUID
	Key          string
	EventType    string
	NOMS         string
	OccurredAt   time.Time
	// Commands are the commands applied (for a dead letter still open, those
	// applied before the one that failed).
	Commands []CommandOutcome
	// Err is why it still cannot be applied (nil when resolved).
	Err error
}

// RedriveReport lists what a redrive resolved and what stays open.
type RedriveReport struct {
	Resolved  []RedriveItem
	Remaining []RedriveItem
}

// Redrive offers every open dead letter to the journeys again, in hmpps.Order
// (by occurredAt, ties in the order they were dead-lettered), and appends a
// DeadLetterResolved for each that now applies. Those that still fail stay
// open, with the error in the report; nothing is deleted. The error is for
// failures of the store (the report then holds what was done before).
func (f *Feed) Redrive(ctx context.Context) (RedriveReport, error) {
	var rep RedriveReport
	if f.Journeys == nil {
		return rep, errors.New("ingest: feed has no command service")
	}
	letters, _, err := f.readDeadLetters(ctx)
	if err != nil {
		return rep, err
	}
	byKey := map[string][]DeadLetter{}
	var results []hmpps.Result
	for _, l := range letters {
		if l.Resolved {
			continue
		}
		item := RedriveItem{DeadLetterID: l.ID, Key: l.Key, EventType: l.EventType, NOMS: l.NOMS, OccurredAt: l.OccurredAt}
		if l.Truncated {
			item.Err = fmt.Errorf("message truncated to %d of %d bytes; it cannot be replayed", MaxStoredMessageBytes, l.MessageBytes)
			rep.Remaining = append(rep.Remaining, item)
			continue
		}
		r, perr := hmpps.Parse(l.Raw())
		if perr != nil {
			item.Err = perr
			rep.Remaining = append(rep.Remaining, item)
			continue
		}
		if len(byKey[r.IdempotencyKey]) == 0 {
			results = append(results, r)
		}
		byKey[r.IdempotencyKey] = append(byKey[r.IdempotencyKey], l)
	}
	hmpps.Order(results)
	for _, r := range results {
		cmds, _, err := f.apply(ctx, r)
		for _, l := range byKey[r.IdempotencyKey] {
			item := RedriveItem{DeadLetterID: l.ID, Key: l.Key, EventType: r.EventType, NOMS: r.NOMS, OccurredAt: r.OccurredAt, Commands: cmds, Err: err}
			if err != nil {
				if _, permanent := classify(err); !permanent {
					return rep, fmt.Errorf("ingest: redrive %s: %w", l.Key, err)
				}
				rep.Remaining = append(rep.Remaining, item)
				continue
			}
			events := 0
			for _, c := range cmds {
				events += c.Events
			}
			if err := f.resolve(ctx, l, events); err != nil {
				return rep, fmt.Errorf("ingest: resolve dead letter %s: %w", l.Key, err)
			}
			rep.Resolved = append(rep.Resolved, item)
		}
	}
	f.log().InfoContext(ctx, "dead letters redriven", "resolved", len(rep.Resolved), "remaining", len(rep.Remaining))
	return rep, nil
}
