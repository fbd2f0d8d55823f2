// Package hmpps translates HMPPS domain events from the custody feed into
// journey commands (package aggregates). It does no I/O: the ingestion
// service reads the queue, calls Parse, and runs the commands through the
// command service with the returned idempotency key.
//
// Three event types are understood: prison-offender-events.prisoner.received,
// .released and .sentence-dates-changed, either inside an SNS envelope (whose
// Message is the event as a JSON string) or bare. Reasons are mapped
// faithfully: only RELEASED and RELEASED_TO_HOSPITAL are releases; temporary
// absence, court and transfer are movements of their own; an ADMISSION whose
// NOMIS movement reason code is a recall code (Y, PD, ELR, B, 24, ETRLR, L)
// is a recall reception. A release with reason UNKNOWN is not guessed at.
//
// What the caller does with the result of Parse (see Disposition):
//   - nil error: run Result.Commands in order, with Result.IdempotencyKey.
//   - ErrUnknownEventType: acknowledge and ignore.
//   - ErrMalformed or ErrUnmappable: keep the message in the dead-letter
//     stream with err.Error() as its reason; Result carries whatever could be
//     read (NOMS, key, occurredAt) to file it under.
//
// # Duplicates, delays and order
//
// The feed is delayed 45 minutes by design, delivered at least once, and can
// arrive out of order. Two layers make that safe. The idempotency key stops
// the same delivery being recorded twice. The aggregate then recognises a
// movement already recorded (same type, time and prison) and records
// nothing, and records a movement older than the latest one it knows as a
// late fact (Late=true, real occurredAt) that joins the history without
// changing where the person is now. A release that arrives before its
// reception is refused (ErrNotReceived) and dead-lettered; replaying dead
// letters in Order once the reception has arrived applies it.
//
// Of ours it imports only aggregates: it turns messages into commands and never touches the
// store.
package hmpps
