// Package pages is Gateledger's web user interface: server-rendered HTML in
// the GOV.UK Design System's style (govuk-frontend and
// @ministryofjustice/frontend, installed by npm and embedded with go:embed),
// mounted at / beside the HTTP API.
//
// New builds the handler. It serves the pages itself and hands every API
// path (/v1/..., /healthz, /readyz, /metrics) to Config.API, so one
// listener serves both.
//
// # Sign in and sessions
//
// A user signs in with a built-in token (glt_...). The server keeps the
// session (Sessions): a random id in a cookie that is Secure, HttpOnly and
// SameSite=Lax maps to the principal and the token, which is verified again
// on every request, so revoking the token ends the session. Sessions end
// after 8 hours, or 30 minutes unused, and on sign out. Sessions.Principal
// is the auth.Authenticator.Session hook, so the WebSocket live feed accepts
// the session cookie at its upgrade (with its own Origin check).
//
// # Forms
//
// Every form carries a CSRF token (the session's, or a double-submit cookie
// on the sign-in form) checked in constant time, and a post whose
// Sec-Fetch-Site or Origin says it came from another site is refused (see
// forgery.go). Pages carry a Content-Security-Policy with no inline script
// or style, and may not be framed.
//
// # Authorisation and the access log
//
// Pages send commands and read people, caseloads and queues through the
// same application layer as the API (package ledger: ledger.Command,
// ledger.Read, ledger.ReadOrganisation), so they are authorised by the same
// rules and recorded in the access log with the same words
// (auth.AccessRead...) before the page is sent.
//
// # Adding pages
//
// Each role's routes come from its own function (prisonRoutes,
// providerRoutes, inspectorRoutes, deadLetterRoutes for admins and
// inspectors) in its own file; a route with a Nav label
// appears in that role's navigation, and the one marked Home is where "/"
// sends the role. Templates are templates/<name>.html, each defining
// "title" and "content" inside layout.html; render executes them with a
// page.
package pages
