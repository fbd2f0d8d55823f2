package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/hmpps"
)

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

// RedriveRequest says which open dead letters to offer again, and who asks.
type RedriveRequest struct {
	// IDs, when set, are the letters to redrive; each must exist and be
	// open (ErrDeadLetterNotFound, ErrDeadLetterClosed). Empty means every
	// open letter that passes the other fields.
	IDs []uuid.UUID
	// NOMS, when set, keeps the letters of one prison number.
	NOMS string
	// Blocked keeps only the letters a later fact can unblock (the
	// journey's rules refused them: ReasonRejected). A malformed or
	// unmappable message fails the same way until the ledger changes, so
	// the automatic redrive leaves those to people.
	Blocked bool
	// By is the person who asked; the zero Actor is the ledger itself.
	By Actor
}

// Redrive offers every open dead letter again, as the ledger's own step
// (RedriveWith with the zero request).
func (f *Feed) Redrive(ctx context.Context) (RedriveReport, error) {
	return f.RedriveWith(ctx, RedriveRequest{})
}

// RedriveWith offers the open dead letters req names to the journeys again,
// in hmpps.Order (by occurredAt, ties in the order they were dead-lettered, so
// that a person's facts are offered in the order they happened), and appends
// a DeadLetterResolved for each that now applies. One that still fails stays
// open, with the error in the report, and gains a DeadLetterRedriveFailed
// when a person asked or when its error changed. Nothing is deleted.
//
// Redriving is safe to repeat and to run on several ledger instances at once:
// a message's commands carry the idempotency keys of its first delivery, so a
// fact applied twice is recorded once, and every step is appended at the
// dead-letter stream's expected revision after checking the letter is still
// open. The error is for failures of the store (the report then holds what
// was done before).
func (f *Feed) RedriveWith(ctx context.Context, req RedriveRequest) (RedriveReport, error) {
	var rep RedriveReport
	if f.Journeys == nil {
		return rep, errors.New("ingest: feed has no command service")
	}
	letters, _, err := f.readDeadLetters(ctx)
	if err != nil {
		return rep, err
	}
	chosen, err := choose(letters, req)
	if err != nil {
		return rep, err
	}
	trigger := TriggerAutomatic
	if req.By.person() {
		trigger = TriggerManual
	}
	byKey := map[string][]DeadLetter{}
	var results []hmpps.Result
	for _, l := range chosen {
		item := RedriveItem{DeadLetterID: l.ID, Key: l.Key, EventType: l.EventType, NOMS: l.NOMS, OccurredAt: l.OccurredAt}
		if l.Truncated {
			item.Err = fmt.Errorf("message truncated to %d of %d bytes; it cannot be replayed", MaxStoredMessageBytes, l.MessageBytes)
		} else if r, perr := hmpps.Parse(l.Raw()); perr != nil {
			item.Err = perr
		} else {
			if len(byKey[r.IdempotencyKey]) == 0 {
				results = append(results, r)
			}
			byKey[r.IdempotencyKey] = append(byKey[r.IdempotencyKey], l)
			continue
		}
		if err := f.stillFails(ctx, l, item.Err, req.By, trigger); err != nil {
			return rep, err
		}
		rep.Remaining = append(rep.Remaining, item)
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
				if err := f.stillFails(ctx, l, err, req.By, trigger); err != nil {
					return rep, err
				}
				rep.Remaining = append(rep.Remaining, item)
				continue
			}
			events := 0
			for _, c := range cmds {
				events += c.Events
			}
			if err := f.resolve(ctx, l, events, req.By, trigger); err != nil {
				return rep, fmt.Errorf("ingest: resolve dead letter %s: %w", l.Key, err)
			}
			rep.Resolved = append(rep.Resolved, item)
		}
	}
	if len(chosen) > 0 {
		f.log().InfoContext(ctx, "dead letters redriven", "trigger", trigger, "by", req.By.ID, "noms", req.NOMS,
			"resolved", len(rep.Resolved), "remaining", len(rep.Remaining))
	}
	return rep, nil
}

// choose picks the open letters a request names.
func choose(letters []DeadLetter, req RedriveRequest) ([]DeadLetter, error) {
	var out []DeadLetter
	if len(req.IDs) > 0 {
		for _, id := range req.IDs {
			l, err := find(letters, id)
			if err != nil {
				return nil, err
			}
			if !l.Open() {
				return nil, fmt.Errorf("%w: it is %s", ErrDeadLetterClosed, l.State)
			}
			out = append(out, l)
		}
		return out, nil
	}
	for _, l := range letters {
		if l.Open() && (req.NOMS == "" || l.NOMS == req.NOMS) && (!req.Blocked || l.Reason == ReasonRejected) {
			out = append(out, l)
		}
	}
	return out, nil
}

// stillFails records a redrive of l that failed with cause: always when a
// person asked, else only when the failure is not the one already recorded.
func (f *Feed) stillFails(ctx context.Context, l DeadLetter, cause error, by Actor, trigger string) error {
	reason, _ := classify(cause)
	if reason == "" {
		reason = ReasonRejected
	}
	if !by.person() && cause.Error() == l.Error {
		return nil
	}
	at := f.now().UTC()
	b, err := json.Marshal(DeadLetterRedriveFailed{DeadLetterID: l.ID.String(), Key: l.Key, Reason: reason, Rule: ruleOf(cause),
		Error: cause.Error(), Trigger: trigger, By: by.ID, ByName: by.Name, AttemptedAt: at})
	if err != nil {
		return err
	}
	_, err = f.appendChained(ctx, func(letters []DeadLetter) (eventlog.Proposed, string, bool, error) {
		cur, err := find(letters, l.ID)
		if err != nil || !cur.Open() || (!by.person() && cur.Error == cause.Error()) {
			return eventlog.Proposed{}, "", false, nil
		}
		key := fmt.Sprintf("redrive-failed:%s:%d", l.ID, cur.Attempts)
		return eventlog.Proposed{Type: TypeDeadLetterRedriveFailed, Data: b, Metadata: f.metadata(by, key, l.Key, l.MessageID, at, "RedriveDeadLetter")}, key, true, nil
	}, nil)
	if err != nil {
		return fmt.Errorf("ingest: record failed redrive of %s: %w", l.Key, err)
	}
	return nil
}

// resolve appends a DeadLetterResolved for l unless it is no longer open.
func (f *Feed) resolve(ctx context.Context, l DeadLetter, events int, by Actor, trigger string) error {
	res := DeadLetterResolved{DeadLetterID: l.ID.String(), Key: l.Key, Resolution: "applied", Events: events, ResolvedAt: f.now().UTC(),
		Trigger: trigger, By: by.ID, ByName: by.Name}
	data, err := json.Marshal(res)
	if err != nil {
		return err
	}
	_, err = f.appendChained(ctx, func(letters []DeadLetter) (eventlog.Proposed, string, bool, error) {
		cur, err := find(letters, l.ID)
		if err != nil {
			return eventlog.Proposed{}, "", false, err
		}
		if cur.State == StateDiscarded {
			// Discarded while its facts were being applied: the facts stand
			// (history is never undone); the queue keeps the person's decision.
			f.log().WarnContext(ctx, "a dead letter discarded during its redrive was applied", "id", l.ID, "key", l.Key)
		}
		if !cur.Open() {
			return eventlog.Proposed{}, "", false, nil
		}
		key := "resolved:" + l.ID.String()
		return eventlog.Proposed{Type: TypeDeadLetterResolved, Data: data, Metadata: f.metadata(by, key, l.Key, l.MessageID, res.ResolvedAt, "ResolveDeadLetter")}, key, true, nil
	}, nil)
	return err
}
