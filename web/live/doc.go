// Package live serves Gateledger's WebSocket live feed (mounted at
// /v1/live): each client subscribes from a position of $all and receives,
// in position order and with no gap, the events its principal may see —
// the history first, then a caught-up marker, then events as they are
// recorded. protocol.md beside this file is the client's reference; in
// short:
//
//	client  {"type":"subscribe","from":"now"|"start"|<position>,"people":["A1234BC"],"eventTypes":["HandoverAccepted"]}
//	server  {"type":"subscribed","from":"start"|<position>,"role":"provider","organisation":"C05",...}
//	server  {"type":"event","position":N,"stream":"journey-A1234BC","noms":"A1234BC","revision":R,
//	         "eventType":"…","eventId":"…","occurredAt":"…","recordedAt":"…","who":"…","role":"…",
//	         "organisation":"…","source":"…","correlationId":"…","data":{…}}   (history)
//	server  {"type":"caught-up","position":N}
//	server  {"type":"event",…} … {"type":"checkpoint","position":N} …         (live)
//	server  {"type":"error","code":"bad-request"|"already-subscribed"|"unauthenticated"|"unavailable","message":"…"}, then close
//
// A position is exclusive, like an EventStoreDB subscription: a client that
// reconnects with the last position it received (from an event, caught-up,
// checkpoint or the close reason "<word> position=N") misses nothing and
// receives nothing twice.
//
// # Who sees what
//
// The upgrade is authenticated by auth.Authenticator (bearer token, or the
// session hook for browsers) and the Origin checked; see Handler.ServeHTTP.
// Each journey event is then authorised at its own position:
// MaySeeJourneyEvent says the principal receives it when it may read the
// journey (auth.CanReadJourney) as it was just before the event or as it is
// just after it. Each connection folds the journeys it meets in position
// order, in place, in a bounded cache; a person first met at a revision
// above 0 is folded from the store up to that event. Inspectors read every
// journey, so nothing is folded for them. Streams other than journeys go to
// inspectors only, and only the access log and dead letters
// (MaySeeOtherStream); the token stream and system streams never.
//
// # One connection
//
// One catch-up subscription to $all per connection through the official
// client, filtered on the server to the streams the principal could ever be
// sent (journey-… and, for inspectors, the access log and dead letters; or
// only the journeys named in "people"), ended when the connection ends.
// Event types are filtered here, after folding, because every event of a
// journey counts for its visibility. Exactly one goroutine writes frames; a
// bounded queue feeds it. Ping/pong keeps idle connections alive and finds
// dead ones; read and write deadlines bound every operation. A client whose
// queue stays full once live is dropped with 4429 (see conn.enqueue).
package live
