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

// DefaultDeadLetterStream holds the HMPPS messages that could not be applied,
// and every step taken with them since.
const DefaultDeadLetterStream = "deadletter-hmpps"

// Event types of the dead-letter stream (schema version 1). A dead letter is
// recorded once; everything that happens to it afterwards is an event naming
// it by id (deadLetterId, the id of its DeadLetterRecorded event).
const (
	// TypeDeadLetterRecorded: a message could not be applied and is kept.
	TypeDeadLetterRecorded = "DeadLetterRecorded"
	// TypeDeadLetterSeenAgain: the same message was delivered again, and
	// failed again, while its dead letter was open.
	TypeDeadLetterSeenAgain = "DeadLetterSeenAgain"
	// TypeDeadLetterRedriveFailed: a redrive offered it again and it still
	// cannot be applied.
	TypeDeadLetterRedriveFailed = "DeadLetterRedriveFailed"
	// TypeDeadLetterResolved: a redrive applied it.
	TypeDeadLetterResolved = "DeadLetterResolved"
	// TypeDeadLetterDiscarded: a person decided it is never to be applied,
	// and said why.
	TypeDeadLetterDiscarded = "DeadLetterDiscarded"
)

// MaxStoredMessageBytes bounds the raw message kept in a dead letter; a longer
// one is truncated (MessageBytes and MessageSHA256 still describe the whole).
const MaxStoredMessageBytes = 1 << 20

// appendAttempts bounds retries of a dead-letter append that meets a
// concurrent writer of the dead-letter stream.
const appendAttempts = 20

// Triggers of a redrive.
const (
	// TriggerAutomatic: the ledger redrove it by itself (Redriver, or
	// Redrive with no actor).
	TriggerAutomatic = "automatic"
	// TriggerManual: a person asked for it.
	TriggerManual = "manual"
)

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

// DeadLetterSeenAgain records a delivery of a message whose dead letter was
// open, and which failed again (Reason, Rule and Error say how this time).
type DeadLetterSeenAgain struct {
	DeadLetterID string    `json:"deadLetterId"`
	Key          string    `json:"key"`
	Reason       string    `json:"reason"`
	Rule         string    `json:"rule,omitempty"`
	Error        string    `json:"error"`
	SeenAt       time.Time `json:"seenAt"`
}

// DeadLetterRedriveFailed records a redrive that could not apply the message.
// An automatic redrive records one only when the error changed, so that a
// letter waiting for its reception does not gain an event for every movement
// of the person; a manual one always does.
type DeadLetterRedriveFailed struct {
	DeadLetterID string `json:"deadLetterId"`
	Key          string `json:"key"`
	Reason       string `json:"reason"`
	Rule         string `json:"rule,omitempty"`
	Error        string `json:"error"`
	// Trigger is TriggerAutomatic or TriggerManual; By the principal id of a
	// manual redrive.
	Trigger     string    `json:"trigger"`
	By          string    `json:"by,omitempty"`
	ByName      string    `json:"byName,omitempty"`
	AttemptedAt time.Time `json:"attemptedAt"`
}

// DeadLetterResolved records that a dead letter was applied on redrive.
type DeadLetterResolved struct {
	DeadLetterID string `json:"deadLetterId"`
	Key          string `json:"key"`
	// Resolution is "applied".
	Resolution string    `json:"resolution"`
	Events     int       `json:"events"`
	ResolvedAt time.Time `json:"resolvedAt"`
	// Trigger is TriggerAutomatic or TriggerManual (absent in events written
	// before it existed: automatic); By the principal id of a manual redrive.
	Trigger string `json:"trigger,omitempty"`
	By      string `json:"by,omitempty"`
	ByName  string `json:"byName,omitempty"`
}

// DeadLetterDiscarded records that a person decided a dead letter is never to
// be applied, and why.
type DeadLetterDiscarded struct {
	DeadLetterID string `json:"deadLetterId"`
	Key          string `json:"key"`
	Reason       string `json:"reason"`
	// By is the principal id, ByName its name for people to read.
	By          string    `json:"by"`
	ByName      string    `json:"byName,omitempty"`
	ByRole      string    `json:"byRole,omitempty"`
	DiscardedAt time.Time `json:"discardedAt"`
}

// DeadLetterRef locates a dead letter.
type DeadLetterRef struct {
	Stream   string
	EventID  uuid.UUID
	Revision uint64
	// AlreadyOpen: an open dead letter already held this message; a
	// DeadLetterSeenAgain was appended to it rather than a second letter.
	AlreadyOpen bool
	// Attempts is the letter's attempts count after this delivery.
	Attempts int
}

// DeadLetterState is where a dead letter is in the queue.
type DeadLetterState string

// States of a dead letter.
const (
	StateOpen      DeadLetterState = "open"
	StateResolved  DeadLetterState = "resolved"
	StateDiscarded DeadLetterState = "discarded"
)

// States lists every state, in the order people read them.
func States() []DeadLetterState { return []DeadLetterState{StateOpen, StateResolved, StateDiscarded} }

// Valid reports whether s is a state.
func (s DeadLetterState) Valid() bool {
	return s == StateOpen || s == StateResolved || s == StateDiscarded
}

// DeadLetter is a dead letter as folded from its events. Reason, Rule and
// Error (of the embedded record) are those of the latest failure.
type DeadLetter struct {
	DeadLetterRecorded
	// ID is the id of its DeadLetterRecorded event; Revision that event's
	// revision in the dead-letter stream (the queue's order).
	ID       uuid.UUID
	Revision uint64
	State    DeadLetterState
	// FirstSeen is when it was first dead-lettered; LastSeen the latest
	// delivery or recorded redrive that failed.
	FirstSeen time.Time
	LastSeen  time.Time
	// Attempts counts deliveries and recorded redrives that failed.
	Attempts int
	// MovementCode is the NOMIS movement reason code the message carries
	// ("" when it has none or cannot be read).
	MovementCode string
	// Resolution, when resolved: when, how and by whom.
	ResolvedAt time.Time
	Trigger    string
	ResolvedBy string
	// Discard, when discarded: when, by whom and why.
	DiscardedAt   time.Time
	DiscardedBy   string
	DiscardedName string
	DiscardReason string
	// Steps are its events, oldest first.
	Steps []DeadLetterStep
}

// Open reports whether the letter still waits to be applied.
func (d DeadLetter) Open() bool { return d.State == StateOpen }

// DeadLetterStep is one event of a dead letter's history.
type DeadLetterStep struct {
	// Type is the event type (TypeDeadLetter...).
	Type string
	At   time.Time
	// By is the principal id of a person's step, "" for the ledger's own;
	// ByName the person's name, when known.
	By, ByName string
	Detail     string
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
		"reason", d.Reason, "rule", d.Rule, "err", cause, "alreadyOpen", ref.AlreadyOpen, "attempts", ref.Attempts, "revision", ref.Revision)
	return out, nil
}

// DeadLetterList reads the dead-letter stream: every letter, in the order they
// were first dead-lettered, each folded to its current state.
func (f *Feed) DeadLetterList(ctx context.Context) ([]DeadLetter, error) {
	letters, _, err := f.readDeadLetters(ctx)
	return letters, err
}

func (f *Feed) readDeadLetters(ctx context.Context) ([]DeadLetter, eventlog.Head, error) {
	if f.Journeys == nil || f.Journeys.Store == nil {
		return nil, eventlog.Head{}, errors.New("ingest: feed has no store")
	}
	recs, err := eventlog.ReadStream(ctx, f.Journeys.Store, f.stream())
	if err != nil {
		return nil, eventlog.Head{}, err
	}
	letters, err := foldDeadLetters(recs)
	if err != nil {
		return nil, eventlog.Head{}, err
	}
	return letters, eventlog.HeadOf(recs), nil
}

// foldDeadLetters folds the dead-letter stream into its letters. It is the one
// place that says what each event does to a letter.
func foldDeadLetters(recs []eventlog.Recorded) ([]DeadLetter, error) {
	var letters []DeadLetter
	index := map[string]int{}
	// of decodes an event about an existing letter and returns it (nil when
	// the letter is unknown: a stream cut by hand; the event is skipped).
	of := func(rec eventlog.Recorded, v any, id func() string) (*DeadLetter, error) {
		if err := json.Unmarshal(rec.Data, v); err != nil {
			return nil, fmt.Errorf("ingest: %s revision %d: %w", rec.Stream, rec.Revision, err)
		}
		i, ok := index[id()]
		if !ok {
			return nil, nil
		}
		return &letters[i], nil
	}
	for _, rec := range recs {
		switch rec.Type {
		case TypeDeadLetterRecorded:
			var d DeadLetterRecorded
			if err := json.Unmarshal(rec.Data, &d); err != nil {
				return nil, fmt.Errorf("ingest: %s revision %d: %w", rec.Stream, rec.Revision, err)
			}
			index[rec.ID.String()] = len(letters)
			letters = append(letters, DeadLetter{DeadLetterRecorded: d, ID: rec.ID, Revision: rec.Revision, State: StateOpen,
				FirstSeen: d.DeadLetteredAt, LastSeen: d.DeadLetteredAt, Attempts: 1, MovementCode: movementCode(d.Raw()),
				Steps: []DeadLetterStep{{Type: rec.Type, At: d.DeadLetteredAt, Detail: d.Error}}})
		case TypeDeadLetterSeenAgain:
			var e DeadLetterSeenAgain
			l, err := of(rec, &e, func() string { return e.DeadLetterID })
			if err != nil {
				return nil, err
			}
			if l != nil {
				l.Attempts++
				l.LastSeen = e.SeenAt
				l.Reason, l.Rule, l.Error = e.Reason, e.Rule, e.Error
				l.Steps = append(l.Steps, DeadLetterStep{Type: rec.Type, At: e.SeenAt, Detail: e.Error})
			}
		case TypeDeadLetterRedriveFailed:
			var e DeadLetterRedriveFailed
			l, err := of(rec, &e, func() string { return e.DeadLetterID })
			if err != nil {
				return nil, err
			}
			if l != nil {
				l.Attempts++
				l.LastSeen = e.AttemptedAt
				l.Reason, l.Rule, l.Error = e.Reason, e.Rule, e.Error
				l.Steps = append(l.Steps, DeadLetterStep{Type: rec.Type, At: e.AttemptedAt, By: e.By, ByName: e.ByName, Detail: e.Error})
			}
		case TypeDeadLetterResolved:
			var e DeadLetterResolved
			l, err := of(rec, &e, func() string { return e.DeadLetterID })
			if err != nil {
				return nil, err
			}
			if l != nil && l.Open() {
				l.State, l.ResolvedAt, l.ResolvedBy, l.Trigger = StateResolved, e.ResolvedAt, e.By, e.Trigger
				if l.Trigger == "" {
					l.Trigger = TriggerAutomatic
				}
				l.Steps = append(l.Steps, DeadLetterStep{Type: rec.Type, At: e.ResolvedAt, By: e.By, ByName: e.ByName,
					Detail: fmt.Sprintf("%d events recorded", e.Events)})
			}
		case TypeDeadLetterDiscarded:
			var e DeadLetterDiscarded
			l, err := of(rec, &e, func() string { return e.DeadLetterID })
			if err != nil {
				return nil, err
			}
			if l != nil && l.Open() {
				l.State, l.DiscardedAt, l.DiscardedBy, l.DiscardedName, l.DiscardReason = StateDiscarded, e.DiscardedAt, e.By, e.ByName, e.Reason
				l.Steps = append(l.Steps, DeadLetterStep{Type: rec.Type, At: e.DiscardedAt, By: e.By, ByName: e.ByName, Detail: e.Reason})
			}
		}
	}
	return letters, nil
}

// movementCode reads the NOMIS movement reason code of a message, bare or in
// its SNS envelope, for people to see what an unmapped code was. It reads
// nothing else: what the code means is hmpps.Parse's business.
func movementCode(raw []byte) string {
	var env struct {
		Message *string `json:"Message"`
	}
	if json.Unmarshal(raw, &env) == nil && env.Message != nil {
		raw = []byte(*env.Message)
	}
	var ev struct {
		AdditionalInformation struct {
			Code string `json:"nomisMovementReasonCode"`
		} `json:"additionalInformation"`
	}
	if json.Unmarshal(raw, &ev) != nil {
		return ""
	}
	return ev.AdditionalInformation.Code
}

// appendDeadLetter appends d, or, when an open dead letter holds the same
// key, a DeadLetterSeenAgain for that letter.
func (f *Feed) appendDeadLetter(ctx context.Context, d DeadLetterRecorded) (DeadLetterRef, error) {
	data, err := json.Marshal(d)
	if err != nil {
		return DeadLetterRef{}, err
	}
	var ref DeadLetterRef
	_, err = f.appendChained(ctx, func(letters []DeadLetter) (eventlog.Proposed, string, bool, error) {
		n := 0
		for _, l := range letters {
			if l.Key != d.Key {
				continue
			}
			if l.Open() {
				seen := DeadLetterSeenAgain{DeadLetterID: l.ID.String(), Key: l.Key, Reason: d.Reason, Rule: d.Rule, Error: d.Error, SeenAt: d.DeadLetteredAt}
				b, err := json.Marshal(seen)
				if err != nil {
					return eventlog.Proposed{}, "", false, err
				}
				ref = DeadLetterRef{Stream: f.stream(), EventID: l.ID, Revision: l.Revision, AlreadyOpen: true, Attempts: l.Attempts + 1}
				key := fmt.Sprintf("seen:%s:%d", l.ID, l.Attempts)
				return eventlog.Proposed{Type: TypeDeadLetterSeenAgain, Data: b,
					Metadata: f.metadata(Actor{}, key, l.Key, d.MessageID, d.DeadLetteredAt, "DeadLetter")}, key, true, nil
			}
			n++
		}
		key := fmt.Sprintf("deadletter:%s:%d", d.Key, n)
		at := d.OccurredAt
		if at.IsZero() {
			at = d.DeadLetteredAt
		}
		ref = DeadLetterRef{Stream: f.stream(), Attempts: 1}
		return eventlog.Proposed{Type: TypeDeadLetterRecorded, Data: data, Metadata: f.metadata(Actor{}, key, d.Key, d.MessageID, at, "DeadLetter")}, key, true, nil
	}, func(res eventlog.AppendResult) {
		if !ref.AlreadyOpen {
			ref.EventID, ref.Revision = res.Events[0].ID, res.Head.Revision
		}
	})
	return ref, err
}

// Actor is who takes a step with a dead letter. The zero Actor is the ledger
// itself (an automatic redrive, or the feed recording a dead letter).
type Actor struct {
	// ID is the principal id; Name, Role and Org describe it.
	ID, Name, Role, Org string
	// Source is where the request came from (api or ui).
	Source aggregates.Source
}

func (a Actor) person() bool { return a.ID != "" }

// RedriveUser is the user id of the ledger's own steps in the dead-letter
// stream besides recording (automatic redrives).
const RedriveUser = "deadletter-redrive"

// metadata is the metadata of a dead-letter stream event taken by a (the
// zero Actor: the feed for records, the ledger for other steps).
func (f *Feed) metadata(a Actor, key, causation, correlation string, at time.Time, command string) eventlog.Metadata {
	if correlation == "" {
		correlation = causation
	}
	m := aggregates.Metadata{UserID: FeedUser, Role: "system", Source: aggregates.SourceHMPPSFeed,
		OccurredAt: at, RecordedAt: f.now(), CorrelationID: correlation, CausationID: causation, IdempotencyKey: key,
		SchemaVersion: 1}
	switch {
	case a.person():
		m.UserID, m.Role, m.Organisation, m.Source = a.ID, a.Role, a.Org, a.Source
		if !m.Source.Valid() {
			m.Source = aggregates.SourceAPI
		}
	case command != "DeadLetter":
		m.UserID, m.Source = RedriveUser, aggregates.SourceSystem
	}
	return eventlog.Metadata{Metadata: m, Command: command}
}

// appendChained reads the dead-letter stream, asks next what to append (ok
// false: nothing), and appends it on the hash chain, retrying when another
// writer got there first; done is called with the result of the append that
// succeeded. It returns whether anything was appended.
func (f *Feed) appendChained(ctx context.Context, next func([]DeadLetter) (p eventlog.Proposed, key string, ok bool, err error),
	done func(eventlog.AppendResult)) (bool, error) {
	var last error
	for range appendAttempts {
		letters, head, err := f.readDeadLetters(ctx)
		if err != nil {
			return false, err
		}
		p, key, ok, err := next(letters)
		if err != nil || !ok {
			return false, err
		}
		res, err := eventlog.Append(ctx, f.Journeys.Store, f.stream(), head, key, []eventlog.Proposed{p})
		if errors.Is(err, eventlog.ErrWrongExpectedRevision) {
			last = err
			select {
			case <-ctx.Done():
				return false, ctx.Err()
			case <-time.After(2 * time.Millisecond):
			}
			continue
		}
		if err != nil {
			return false, err
		}
		if done != nil {
			done(res)
		}
		return true, nil
	}
	return false, fmt.Errorf("ingest: dead-letter stream busy: %w", last)
}
