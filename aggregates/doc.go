// Package aggregates holds the journey aggregate of Gateledger: one journey per
// person (stream "journey-<NOMS>"), from reception into custody to twelve months
// after release.
//
// The aggregate is pure: it performs no I/O, reads no clock and imports nothing
// of ours. A command is decided against the current state,
//
//	events, err := Decide(state, cmd, now, policy)
//
// and state is rebuilt by folding events,
//
//	state = Evolve(state, ev)   // or Rebuild(events)
//
// Decide enforces the invariants of the domain (see the project's domain brief) and
// answers a broken rule with a *RuleError that matches one of the sentinel
// errors (ErrNotReceived, ErrReleased, ErrClosed, ...) under errors.Is.
// Evolve never fails: it trusts that events were produced by Decide (or are
// historical facts that were once accepted), because history cannot be refused.
//
// Deadlines (Journey.Deadlines) and responsibility (ResponsibleFor) are derived
// from the events and a Policy, never stored, so that a change of policy applies
// to old journeys without rewriting history.
//
// # Late and duplicated custody movements
//
// The HMPPS custody feed is at-least-once, delayed by design (45 minutes), and
// occasionally out of order. The aggregate therefore treats custody movements
// (receptions, releases, temporary absences, court, transfers) as facts with
// their own occurredAt:
//
//   - A movement identical to one already recorded (same event type, same
//     occurredAt, same prison) is already reflected by state: Decide returns no
//     events and no error, so redelivery is harmless.
//   - A reception with the same occurredAt and prison as a recorded one but a
//     different kind is a conflicting duplicate (ErrConflictingDuplicate); it is
//     not guessed at, the caller dead-letters it for a person to correct.
//   - A movement whose occurredAt is earlier than the latest movement already
//     applied is recorded with Late=true and its real occurredAt. It joins the
//     movement history but does not change the current custody status, prison
//     or location, because a later fact already describes the present.
//   - Anything else is applied in order and is subject to the invariants (for
//     example, a release of someone not yet received is refused with
//     ErrNotReceived, and the feed keeps it in its dead-letter stream).
//
// It imports nothing of ours, and does no I/O: every other package depends on it, and it on
// none.
package aggregates
