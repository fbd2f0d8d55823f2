// Package auth decides who is calling Gateledger and what they may do.
//
// # Who is calling
//
// A caller is a Principal: an id, a display name, a Role (prison, provider,
// inspector, feed, admin) and an organisation code whose kind the role
// dictates (a prison code for prison staff, a CRC or NPS code for providers,
// none for inspectors). There are two ways in, both verified on the server:
//
//   - Built-in bearer tokens (Tokens), for the single-machine default. A token
//     looks like glt_<id>_<secret>: id is a short public identifier used to
//     list and revoke it, secret is 32 bytes from crypto/rand in unpadded
//     base64url. Only the SHA-256 of the secret is stored, in the append-only,
//     hash-chained stream "auth-tokens" of the event store itself, so the
//     token list has the same envelope and integrity check as every journey.
//   - JSON Web Tokens from an external OAuth2/OIDC identity provider
//     (OIDCVerifier), verified with github.com/coreos/go-oidc/v3 against the
//     provider's JWKS: signature (RS256 or ES256 by default, never "none" or a
//     shared-secret algorithm), issuer, audience, expiry and not-before; the
//     role and organisation come from configurable claims.
//
// Authenticator combines both behind Authenticate(ctx, *http.Request), with a
// hook for the session cookie the web pages will add.
//
// Errors that reach a remote caller must not say which part of a credential
// was wrong: every rejected credential matches ErrInvalidToken under
// errors.Is, and the error text is the same whatever the reason. The reason is
// kept for the server's own log (InvalidTokenError.Reason).
//
// # What they may do
//
// Authorisation is decided on the server by pure functions of the principal
// and the journey (CanReadJourney, CanCommand, CanIngest, CanManageTokens,
// CanReadAccessLog); the rules are listed in policy.go and tested as tables.
// AuthorizeRead and AuthorizeCommand turn a refusal into ErrNotFound when the
// caller may not see the case, so that a denied read of a case that exists
// looks the same as a case that does not exist.
//
// # Who looked
//
// AccessLog records every read of a person's history (who, what, when,
// subject) in append-only monthly streams "access-log-YYYY-MM", with the
// event envelope and hash chain, for inspectors to read back.
//
// Of ours it may import aggregates (the journey it authorises against), eventlog and
// eventstore (tokens and the access log are streams).
package auth
