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
// just after it. The shared subscription (the hub, below) folds every journey
// once, in place, and judges each event once per kind of principal (role and
// organisation); a connection reading history folds the journeys it meets in
// its own bounded cache. A person first met at a revision above 0 is folded
// from the store up to that event. Streams other than journeys go to
// inspectors only, and only the access log and dead letters
// (MaySeeOtherStream); the token stream and system streams never.
//
// # One subscription for the process
//
// One live subscription to $all (the hub, hub.go), started by the first
// subscribe, decodes each event once, folds its journey once, judges it once
// per kind of principal, encodes its frame once and hands the same bytes to
// every connection entitled to it and whose filters want it. It never waits
// for a connection: a frame goes to the connection's send queue if there is
// room, else to the connection's bounded backlog, which its feed goroutine
// moves to the queue at the client's pace.
//
// A connection registers with the hub first, then reads the history after
// its starting position with a catch-up subscription of its own (filtered on
// the server to the streams the principal could ever be sent: journey-… and,
// for inspectors, the access log and dead letters; or only the journeys named
// in "people"), while the hub keeps the events meant for it. Once the
// catch-up has covered the hub's position at registration, the catch-up ends
// and the connection switches to the hub: kept events the catch-up already
// covered are dropped, caught-up is sent, then the rest. "now" (and a
// position the hub has already reached) needs no catch-up at all. Event types
// are filtered after folding, because every event of a journey counts for its
// visibility.
//
// # One connection
//
// Exactly one goroutine writes frames; a bounded queue feeds it. Ping/pong
// keeps idle connections alive and finds dead ones; read and write deadlines
// bound every operation. A client whose queue stays full once live is
// dropped with 4429 (see conn.enqueue), as is one whose backlog overflows.
//
// Of ours it may import aggregates, auth, eventlog, eventstore, folds, labels and
// internal/throttle.
package live
