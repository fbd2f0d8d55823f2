// Package web is Gateledger's HTTP API, as transport: routes, handlers and
// the answers they write (JSON, and RFC 9457 problem details), for commands
// for every step of a journey, reads of every read model, the HMPPS feed
// endpoint, token administration, health, readiness and metrics. What a
// request means is decided elsewhere, the same for the web pages: decoding
// and validation in package web/request, the classification of errors into
// problems in package web/problem, authorisation, decision and the read
// pipeline in package ledger. It may import those and the application
// packages it serves; never web/pages (the pages hand API paths to it as an
// http.Handler, Config.API, without importing it). The WebSocket live feed
// is package web/live, mounted at GET /v1/live through Config.Live.
//
// New builds the handler from Config; NewServer wraps it in an http.Server
// with header, read, write and idle timeouts. openapi.json (embedded, served
// at GET /v1/openapi.json) documents every route; a test checks it against
// the route table (routeTable and request.CommandRoutes, the one list the mux is
// built from), the command bodies and the problem types.
//
// # Routes
//
//	GET    /healthz                                  process alive (public)
//	GET    /readyz                                   store answers and takes writes, read models caught up (public)
//	GET    /metrics                                  Prometheus (public; bind it to an internal network)
//	GET    /v1/openapi.json                          this API's OpenAPI 3.1 document (public)
//	GET    /v1/live                                  WebSocket live feed (authenticates its own upgrade)
//	GET    /v1/journeys/{noms}                       the journey from the store, ETag = revision
//	GET    /v1/journeys/{noms}/plan                  resettlement plan, deadlines, history
//	GET    /v1/journeys/{noms}/trail                 audit trail; ?as_at=<RFC 3339> or ?as_at_position=<pos>
//	GET    /v1/journeys/{noms}/trail.csv             the whole audit trail as CSV (package export)
//	GET    /v1/journeys/{noms}/verification          the person's hash chain and audit rows
//	GET    /v1/verification                          every chain in the store (inspectors)
//	GET    /v1/journeys/{noms}/seal-proof            the journey's inclusion proof in the latest seal (inspectors)
//	GET    /v1/seals/latest                          the latest seal's signed root (inspectors)
//	POST   /v1/seals                                 write a seal now (admins)
//	GET    /v1/organisations/{org}/caseload          caseload (own organisation; inspectors any)
//	GET    /v1/organisations/{org}/handovers         handover queue (own organisation; inspectors any)
//	GET    /v1/outcomes                              payment-by-results cohorts (inspectors; providers their own)
//	GET    /v1/access-log?from=&to=                  who read what (inspectors)
//	POST   /v1/feeds/hmpps                           SNS envelope or bare HMPPS event (feed principal)
//	GET    /v1/dead-letters?state=&noms=&reason=&limit=&cursor=   the dead-letter queue (admins, inspectors)
//	GET    /v1/dead-letters/{id}                     one dead letter: message, reason, history
//	POST   /v1/dead-letters/redrive                  redrive every open letter, or one person's (admins)
//	POST   /v1/dead-letters/{id}/redrive             redrive one letter (admins)
//	POST   /v1/dead-letters/{id}/discard             discard one letter with a reason (admins)
//	GET    /v1/tokens, POST /v1/tokens, DELETE /v1/tokens/{id}   built-in tokens (admins)
//	POST   /v1/journeys/{noms}/<command>             one route per command (request.CommandRoutes):
//	       receptions, movements, releases, screenings, plan, plan/revisions,
//	       pathways/{pathway}/needs, pathways/{pathway}/status, actions,
//	       actions/{id}/assignment, actions/{id}/completion, release-dates,
//	       sentence-recalculations, met-at-gate, supervision-contacts, risk,
//	       mappa, breaches, recalls, reoffences, crn, corrections, closure,
//	       handovers, handovers/current/acceptance, handovers/current/rejection,
//	       release-area
//
// # Authorisation
//
// Every /v1 route but the OpenAPI document and the live feed authenticates
// with auth.Authenticator (built-in bearer tokens or OIDC JWTs) and decides
// on the server with the auth package's rules. Reads of a person load the
// journey from the event store and call auth.AuthorizeRead; commands load it
// and call auth.AuthorizeCommand. A person the caller may not see answers 404
// not-found exactly as one that does not exist; roles that write nothing
// (inspector, feed, admin) get 403 for commands. Request validation comes
// before authorisation: what is wrong with a request says nothing about the
// case. Commands and reads go through the application layer (package
// ledger): a command is decided on exactly the revision it was authorised
// on (ledger.Command; if the journey moves in between, it is authorised
// again on the new state), and every read of a person's history or plan
// (journey, plan, trail, verification) and of a caseload or handover queue
// is authorised, waits for its read model, and is recorded in the access
// log before the answer is written (ledger.Read, ledger.ReadOrganisation);
// if it cannot be recorded the read answers 503 and discloses nothing.
//
// # Commands
//
// Bodies are JSON objects decoded strictly: unknown fields, trailing data,
// wrong types, a member name sent twice, a name that matches a field only
// when case is ignored, and invalid UTF-8 are malformed-request naming the
// field (request.DecodeJSON checks these before encoding/json, which accepts the last three); each field is then validated (formats
// of NOMS, prison, CRN, PNC, booking and organisation codes, enums, RFC 3339
// times, YYYY-MM-DD dates, text length and control characters) and every
// invalid field reported at once as a validation problem. Every command
// carries "at", when the fact happened: it is never defaulted, so that a
// retried request says exactly the same thing.
//
// A command answers 201 with what it recorded, or 200 when the journey
// already reflected it (nothing recorded); the body is {noms, command,
// revision, position, events[{id, type, revision}]}, with headers ETag (the
// journey's revision, quoted), Gateledger-Position (the $all position of the
// last event) and Location.
//
// Idempotency-Key (optional, 1-128 printable ASCII) is honoured on every
// command. The key is scoped to the principal ("http:<principal id>:<key>")
// and stored by the command service in the metadata of the events it
// records, so a retry is recognised from the event store itself — across
// restarts and instances, with no response cache. A retry answers the first
// answer: same status, same body (built only from what both know: the
// recorded events' ids, types and revisions, the revision and position after
// them), plus the header Idempotent-Replayed: true; nothing is recorded
// again. A retry is answered even if the caller could no longer send the
// command (an accepted handover is no longer open), since it repeats only
// what that principal was told. The same key with a different command is
// 422 idempotency-key-reused. A command that recorded nothing leaves no trace
// and is simply decided again.
//
// If-Match takes one strong ETag ("3"; "-1" for a journey with no events):
// when the journey is at another revision the command answers 412
// revision-mismatch, with currentRevision in the problem, and records
// nothing.
//
// # Read-your-writes
//
// Reads of the read models accept Gateledger-Min-Position (a command's
// Gateledger-Position) and wait, up to Config.WaitTimeout, until the read
// model has applied it (readmodel.Runner.WaitFor); past that they answer
// 503 not-caught-up with Retry-After. Reads of one person also wait, by
// themselves, until the read model reflects the person's last event as the
// store had it when the read was authorised, so a plan is never older than
// the journey. A command sent with ?wait=true waits for every read model
// before answering and says so in Gateledger-Projections (caught-up or
// behind); the command is recorded either way.
//
// # Problems
//
// Errors are application/problem+json (RFC 9457) with type
// https://gateledger.example/problems/<slug>, title, status, detail,
// instance, and for field errors errors[{field, message}]. Each kind has one
// status:
//
//	malformed-request        400  not JSON, unknown field, wrong type, trailing data, empty body
//	validation               400  fields invalid (body, path, query or header), with errors[]
//	unauthenticated          401  no or refused bearer token (WWW-Authenticate: Bearer)
//	forbidden                403  the role or organisation may not do this
//	not-found                404  no such route, or no such person / not one the caller may see
//	method-not-allowed       405  with Allow
//	rule-violation           409  the journey's rules refuse the command (rule: the aggregate's slug)
//	concurrent-modification  409  the journey kept changing; retry (Retry-After)
//	dead-letter-closed       409  the dead letter was applied or discarded already
//	revision-mismatch        412  If-Match names another revision (currentRevision)
//	payload-too-large        413  body over Config.MaxBodyBytes (1 MiB)
//	unsupported-media-type   415  a command body that is not application/json
//	idempotency-key-reused   422  the key recorded a different command
//	rate-limited             429  over the per-principal rate (Retry-After)
//	internal                 500  logged with the error; the text never reaches the client
//	unavailable              503  store, credentials or access log not answering (Retry-After)
//	not-caught-up            503  the read model has not reached the position asked for (Retry-After)
//	storage-full             503  the event store's disk is full: nothing recorded (Retry-After); writes resume by themselves
//	gone                     410  the journey's stream was tombstoned in the store: never readable or writable again
//
// # Limits
//
// Request bodies are limited to Config.MaxBodyBytes (413). Each principal has
// a token bucket (golang.org/x/time/rate) of Config.RateLimit; over it the
// answer is 429 with Retry-After. Refused credentials drain a bucket per
// client address, and an address whose bucket is empty is refused before its
// credential is checked, so that tokens cannot be guessed quickly. Answers
// carry Cache-Control: no-store and X-Content-Type-Options: nosniff.
//
// # Observability
//
// Each request is logged with log/slog: method, route pattern, status,
// duration, bytes, request id (X-Request-Id, echoed or generated) and
// principal id; the NOMS number of the path is the only personal datum
// logged, and never a token. Metrics are described on Metrics; the live
// feed reports its connections through Metrics.LiveConnected,
// LiveDisconnected and LiveDropped.
//
// # Other front ends
//
// The web pages (package web/pages) send journey commands through the same
// path as the command routes: request.DecodeCommand decodes and validates a
// route's JSON body, ledger.Command authorises and decides it at the
// revision it was authorised on (with the caller's own idempotency-key scope
// and source), and problem.Of says what the API would answer an error with,
// field by field. Neither front end imports the other.
package web
