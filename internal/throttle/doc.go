// Package throttle holds the request limits that keep one caller from
// crowding out the others, shared by every transport (the HTTP API in
// package web, the pages in web/pages, the WebSocket live feed in web/live).
//
// A Throttle keeps token buckets by key:
//
//   - per principal: every authenticated request, page load and WebSocket
//     upgrade of one principal draws on one bucket, whichever transport it
//     comes by (page loads and reads each write a durable access-log event,
//     so this also bounds how fast one person can grow the log);
//   - per client address: requests that carry no credential (the sign-in
//     form, a page without a session, an upgrade without a token);
//   - failed authentication, per client address and per presented
//     credential (a built-in token's id, or a hash of anything else).
//
// The failed-authentication buckets are drawn on only after a credential
// has been checked and refused. A valid credential is never refused by
// them — only by its principal's own bucket — so a stream of bad tokens,
// even from the same address (every user behind one TLS proxy), cannot lock
// a valid user out. Checking a credential is cheap (a hash lookup for
// built-in tokens, a signature check against cached keys for JWTs; fetching
// unknown keys is itself limited in package auth), so every credential is
// checked; what the failed-authentication limit buys is a 429 with
// Retry-After that tells a misconfigured or hostile client to back off, and
// a bound on the refusals logged.
//
// The client address is the TCP peer's, unless the peer is one of
// Config.TrustedProxies: then it is the right-most address in
// X-Forwarded-For that is not itself a trusted proxy. The header is never
// read from any other peer, since anyone can send it.
//
// A nil *Throttle allows everything. The package imports only the standard
// library and golang.org/x/time/rate.
package throttle
