// Package ingest feeds HMPPS domain events (the custody feed) into journeys,
// and keeps the messages it cannot apply in a dead-letter queue that people
// work.
//
// Feed.Ingest takes one message as delivered (an SNS envelope or a bare HMPPS
// event), translates it with hmpps.Parse and runs its commands through the
// command service (journeys.Service) with source "hmpps-feed", the message's
// occurredAt, and an idempotency key per command (the message key from
// hmpps.Parse, suffixed "#<command index>"). What happens to a message:
//
//   - Applied: its facts are recorded, or were already (a redelivery is
//     answered from the idempotency key, a movement already recorded under
//     another delivery is recognised by the aggregate), so a message delivered
//     twice records its facts once; Outcome.AlreadyApplied says it recorded
//     nothing new.
//   - Ignored: an event type the ledger does not consume (or an SNS message
//     that is not a notification). Acknowledge it.
//   - Dead-lettered: the message cannot be applied — malformed, unmappable
//     without guessing (an unknown movement code), or refused by a rule of the
//     journey (a release before its reception, a conflicting duplicate). It
//     is appended to the dead-letter stream (DefaultDeadLetterStream) with the
//     raw message, the reason, the error and the time; never dropped. The same
//     message failing again while its dead letter is open is recorded as a
//     DeadLetterSeenAgain of that letter (last seen, attempts), not as a
//     second letter. Acknowledge it.
//   - Error: the store failed or the journey kept changing (journeys.ErrConflict).
//     Nothing is acknowledged; redeliver the message later.
//
// # The dead-letter queue
//
// A dead letter is open until a redrive applies it (resolved) or a person
// discards it with a reason (discarded); every step is an event of the
// dead-letter stream, folded in one place (foldDeadLetters) for every reader.
// Feed.ListDeadLetters lists the queue, filtered and paged; Feed.DeadLetter reads
// one; Feed.Discard discards one.
//
// Feed.RedriveWith re-applies open dead letters in hmpps.Order (by
// occurredAt), and appends a DeadLetterResolved for each one that now
// applies. People ask for it (all, one person's, or one letter); the
// Redriver asks for it by itself when a journey with open letters gains an
// event, so that a release that arrived before its reception is applied once
// the reception is in. Redrives are idempotent, so any number of ledger
// instances may run them against one store.
//
// Of ours it may import aggregates, hmpps, eventlog and journeys.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/hmpps"
	"github.com/gateledger/gateledger/journeys"
)

// FeedUser is the user id recorded on events from the custody feed.
const FeedUser = "hmpps-feed"

// Feed ingests the HMPPS custody feed. It is safe for concurrent use.
type Feed struct {
	// Journeys runs the commands; its Store also holds the dead letters.
	Journeys *journeys.Service
	// DeadLetters is the dead-letter stream; empty means DefaultDeadLetterStream.
	DeadLetters string
	// Clock stamps dead letters; nil means the service's clock, else time.Now.
	Clock func() time.Time
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// Outcome says what Ingest did with a message.
type Outcome struct {
	// Disposition is hmpps.Apply, hmpps.Ignore or hmpps.DeadLetter.
	Disposition hmpps.Disposition
	// What could be read of the message.
	EventType      string
	NOMS           string
	MessageID      string
	IdempotencyKey string
	OccurredAt     time.Time
	// Commands are the commands run, in order (for a dead letter, those that
	// were applied before the one that failed).
	Commands []CommandOutcome
	// Reason says why the message was ignored or dead-lettered: one of the
	// Reason* constants, or "ignored" for an unconsumed event type.
	Reason string
	// Err is the error that ignored or dead-lettered the message.
	Err error
	// DeadLetter locates the dead letter, for Disposition DeadLetter.
	DeadLetter *DeadLetterRef
	// AlreadyApplied: the message was applied and recorded nothing new (a
	// redelivery, or facts the journey already held).
	AlreadyApplied bool
}

// CommandOutcome is one command of a message as the command service answered.
type CommandOutcome struct {
	Command string
	// NOMS is the journey the command went to.
	NOMS           string
	IdempotencyKey string
	// Events is how many events the command recorded (0: already reflected).
	Events int
	// Duplicate: an earlier delivery recorded them.
	Duplicate bool
	Revision  int64
	Position  esdb.Position
}

// Reasons a message is dead-lettered.
const (
	// ReasonMalformed: the message cannot be read (hmpps.ErrMalformed).
	ReasonMalformed = "malformed"
	// ReasonUnmappable: it cannot be translated without guessing
	// (hmpps.ErrUnmappable).
	ReasonUnmappable = "unmappable"
	// ReasonRejected: the journey refused a command (an aggregates rule, a
	// reused idempotency key).
	ReasonRejected = "rejected"
	// ReasonUnreadableJourney: the journey's stream holds events this code
	// cannot read (written by a newer version); redrive after upgrading.
	ReasonUnreadableJourney = "unreadable-journey"
)

func (f *Feed) now() time.Time {
	switch {
	case f.Clock != nil:
		return f.Clock()
	case f.Journeys != nil && f.Journeys.Clock != nil:
		return f.Journeys.Clock()
	}
	return time.Now()
}

func (f *Feed) log() *slog.Logger {
	if f.Logger != nil {
		return f.Logger
	}
	return slog.Default()
}

// Ingest applies one message (see the package documentation). The error is
// only for failures the caller should retry by redelivering the message; a
// message that is ignored or dead-lettered returns a nil error.
func (f *Feed) Ingest(ctx context.Context, body []byte) (Outcome, error) {
	if f.Journeys == nil {
		return Outcome{}, errors.New("ingest: feed has no command service")
	}
	r, perr := hmpps.Parse(body)
	out := Outcome{EventType: r.EventType, NOMS: r.NOMS, MessageID: r.MessageID, IdempotencyKey: r.IdempotencyKey, OccurredAt: r.OccurredAt}
	log := f.log().With("eventType", r.EventType, "noms", r.NOMS, "key", r.IdempotencyKey)
	switch hmpps.DispositionOf(perr) {
	case hmpps.Ignore:
		out.Disposition, out.Reason, out.Err = hmpps.Ignore, "ignored", perr
		log.InfoContext(ctx, "HMPPS message ignored", "reason", perr)
		return out, nil
	case hmpps.DeadLetter:
		return f.deadLetter(ctx, body, r, perr, -1, out)
	}
	cmds, failed, err := f.apply(ctx, r)
	out.Commands = cmds
	if err != nil {
		if _, permanent := classify(err); !permanent {
			return out, fmt.Errorf("ingest %s for %s: %w", r.EventType, r.NOMS, err)
		}
		return f.deadLetter(ctx, body, r, err, failed, out)
	}
	out.Disposition = hmpps.Apply
	out.AlreadyApplied = alreadyApplied(cmds)
	log.DebugContext(ctx, "HMPPS message applied", "commands", len(cmds))
	return out, nil
}

// alreadyApplied reports whether commands that all succeeded recorded
// nothing new: each was a redelivery (Duplicate) or already reflected in the
// journey (no events).
func alreadyApplied(cmds []CommandOutcome) bool {
	if len(cmds) == 0 {
		return false
	}
	for _, c := range cmds {
		if !c.Duplicate && c.Events > 0 {
			return false
		}
	}
	return true
}

// CommandKey is the idempotency key of the i-th command of a message.
func CommandKey(messageKey string, i int) string { return fmt.Sprintf("%s#%d", messageKey, i) }

// apply runs a parsed message's steps in order; on error it returns the
// index of the step that failed. A step for a prison number that was merged
// into another goes to the number it was merged into (once: a merge of a
// merge is followed by the next delivery, not chased here).
func (f *Feed) apply(ctx context.Context, r hmpps.Result) ([]CommandOutcome, int, error) {
	corr := r.MessageID
	if corr == "" {
		corr = r.IdempotencyKey
	}
	out := make([]CommandOutcome, 0, len(r.Steps))
	for i, s := range r.Steps {
		key := CommandKey(r.IdempotencyKey, i)
		meta := journeys.CommandMeta{UserID: FeedUser, Role: "system",
			Source: aggregates.SourceHMPPSFeed, CorrelationID: corr, CausationID: r.IdempotencyKey,
			IdempotencyKey: key, OccurredAt: r.OccurredAt}
		noms, cmd := s.NOMS, s.Command
		if a, ok := cmd.(aggregates.AbsorbPrisonNumber); ok {
			// The merge carries the removed number's journey over; the
			// aggregate decides what of it (aggregates.PrisonNumberAbsorbed).
			removed, _, err := f.Journeys.Load(ctx, a.From)
			if err != nil {
				return out, i, err
			}
			a.Removed = removed
			cmd = a
		}
		res, err := f.Journeys.Handle(ctx, noms, cmd, meta)
		var merged *aggregates.MergedError
		if errors.As(err, &merged) && merged.Into != "" {
			noms = merged.Into
			res, err = f.Journeys.Handle(ctx, noms, retarget(cmd, noms), meta)
		}
		if err != nil {
			return out, i, err
		}
		out = append(out, CommandOutcome{Command: s.Command.CommandName(), NOMS: noms, IdempotencyKey: key, Events: len(res.Events),
			Duplicate: res.Duplicate, Revision: res.Revision, Position: res.Position})
	}
	return out, -1, nil
}

// retarget makes a command for a merged prison number one for the number it
// was merged into (only a reception names the number in its payload).
func retarget(c aggregates.Command, noms string) aggregates.Command {
	if r, ok := c.(aggregates.ReceivePrisoner); ok {
		r.NOMS = noms
		return r
	}
	return c
}

// classify names the dead-letter reason of an error, and says whether it is
// permanent (dead-letter the message) rather than transient (retry it).
func classify(err error) (reason string, permanent bool) {
	var re *aggregates.RuleError
	switch {
	case errors.Is(err, hmpps.ErrMalformed):
		return ReasonMalformed, true
	case errors.Is(err, hmpps.ErrUnmappable):
		return ReasonUnmappable, true
	case errors.Is(err, journeys.ErrConflict), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "", false
	case errors.As(err, &re), errors.Is(err, aggregates.ErrInvalidIdentifier), errors.Is(err, aggregates.ErrInvalidValue),
		errors.Is(err, aggregates.ErrMerged),
		errors.Is(err, journeys.ErrIdempotencyKeyReused), errors.Is(err, journeys.ErrCorrectedEventNotFound):
		return ReasonRejected, true
	case errors.Is(err, aggregates.ErrUnknownEventType), errors.Is(err, aggregates.ErrUnsupportedSchemaVersion),
		errors.Is(err, aggregates.ErrMalformedEvent), errors.Is(err, eventlog.ErrMalformedEnvelope):
		return ReasonUnreadableJourney, true
	}
	return "", false
}

// ruleOf is the aggregate rule slug in err, if any.
func ruleOf(err error) string {
	var re *aggregates.RuleError
	if errors.As(err, &re) {
		return re.Rule
	}
	return ""
}
