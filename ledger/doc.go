// Package ledger is Gateledger's application layer: the one place where a
// principal's command and a principal's read are carried out, whichever
// transport asked (the HTTP API, the web pages, the inspector's views, the
// downloads).
//
// # Commands
//
// (*Ledger).Command authorises and decides a command on one revision, with
// one retry loop: the authorisation (auth.AuthorizeCommand) is handed to the
// command service as its guard (journeys.CommandMeta.Guard), which asks it on
// every state it is about to decide on. When the journey moves between the
// read and the append, the service reads it again, and the command is
// authorised again on the new state before it is decided again; after
// journeys.DefaultMaxAttempts it answers journeys.ErrConflict. A command whose
// idempotency key already recorded events is answered from them without being
// authorised again (the journey may have moved on; the answer repeats what
// the same principal was told). A CRN held by another journey is named in the
// refusal only to a principal who may read that journey.
//
// The ledger's own work that no principal sends (the HMPPS feed and its
// redrives, closure at the end of supervision) has nothing to authorise: it
// calls the command service directly, through the same single loop.
//
// # Reads
//
// Read (one person) and ReadOrganisation (an organisation's lists, and reads
// across organisations) carry out the read rule inspectors rely on, in this
// order: authorise (a journey the principal may not read answers
// auth.ErrNotFound exactly as one that does not exist), wait until the read
// model answering has applied the person's last event and the caller's
// minimum position (read-your-writes), build the answer, record the read in
// the access log, and only then return the answer. A read that cannot be
// recorded returns ErrNotRecorded and nothing else: it is not served.
//
// # Imports
//
// ledger imports the domain (aggregates), the command service (journeys),
// the read models (projections), the event log's types (eventlog) and the
// authorisation rules and access log (auth). It imports no transport: web
// and its packages import it, never the reverse.
package ledger
