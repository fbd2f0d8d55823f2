package auth

import (
	"errors"
	"log/slog"
)

// Sentinel errors. Callers check them with errors.Is.
var (
	// ErrNoCredentials: the request carries no credential at all (HTTP 401
	// with a WWW-Authenticate challenge).
	ErrNoCredentials = errors.New("auth: no credentials")
	// ErrInvalidToken: a credential was presented and refused, whatever the
	// reason (malformed, unknown, revoked, expired, bad signature, wrong
	// issuer or audience, missing or invalid role or organisation claim).
	// The reason is deliberately not part of the error text; see
	// InvalidTokenError.
	ErrInvalidToken = errors.New("auth: invalid token")
	// ErrUnavailable: the credential could not be checked because the token
	// store or the identity provider did not answer (HTTP 503). The request
	// is refused: authentication fails closed.
	ErrUnavailable = errors.New("auth: credential store unavailable")
	// ErrInvalidPrincipal: a principal whose role or organisation is not
	// allowed (for example a provider with a prison code).
	ErrInvalidPrincipal = errors.New("auth: invalid principal")
	// ErrForbidden: the principal may not do this (HTTP 403, or 404 where
	// AuthorizeRead/AuthorizeCommand say so).
	ErrForbidden = errors.New("auth: forbidden")
	// ErrNotFound: the case does not exist, or the principal may not see it;
	// the two are deliberately the same answer.
	ErrNotFound = errors.New("auth: not found")
	// ErrTokenNotFound: List/Revoke named a token id that was never issued
	// (an operator error, not an authentication failure).
	ErrTokenNotFound = errors.New("auth: no such token")
	// ErrChainBroken: a stream of this package does not verify against its
	// hash chain; nothing read from it is trusted.
	ErrChainBroken = errors.New("auth: hash chain broken")
	// ErrClosed: the AccessLog has been closed.
	ErrClosed = errors.New("auth: access log closed")
)

// Reasons a credential is refused, for the server's log only.
const (
	ReasonMalformed    = "malformed"
	ReasonUnknown      = "unknown token id"
	ReasonWrongSecret  = "secret does not match"
	ReasonRevoked      = "revoked"
	ReasonExpired      = "expired"
	ReasonNotYetValid  = "not yet valid"
	ReasonSignature    = "signature or algorithm"
	ReasonIssuer       = "issuer"
	ReasonAudience     = "audience"
	ReasonClaims       = "role or organisation claim"
	ReasonNotAccepted  = "credential kind not accepted"
	ReasonBadPrincipal = "principal not allowed"
)

// InvalidTokenError is a refused credential. Its Error text is the same for
// every reason, so that passing it to a remote caller reveals nothing; log
// the error itself (it implements slog.LogValuer) to keep the reason.
type InvalidTokenError struct {
	// Reason is one of the Reason* constants.
	Reason string
	// TokenID is the public id of a built-in token when it could be parsed.
	TokenID string
	// Err is the underlying error, if any (for example from go-oidc). It is
	// not part of Error() and is not unwrapped, so that its text cannot leak
	// through fmt or errors.Unwrap.
	Err error
}

// Error is the same for every reason.
func (e *InvalidTokenError) Error() string { return ErrInvalidToken.Error() }

// Is makes errors.Is(err, ErrInvalidToken) true.
func (e *InvalidTokenError) Is(target error) bool { return target == ErrInvalidToken }

// LogValue gives the reason to the server's log.
func (e *InvalidTokenError) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("reason", e.Reason)}
	if e.TokenID != "" {
		attrs = append(attrs, slog.String("token_id", e.TokenID))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("detail", e.Err.Error()))
	}
	return slog.GroupValue(attrs...)
}

func invalid(reason, id string, err error) error {
	return &InvalidTokenError{Reason: reason, TokenID: id, Err: err}
}
