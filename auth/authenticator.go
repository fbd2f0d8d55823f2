package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
)

// Authenticator finds out who is calling. Set the fields before first use;
// nil Tokens or OIDC means that kind of credential is refused.
type Authenticator struct {
	// Tokens verifies built-in tokens (Authorization: Bearer glt_...).
	Tokens *Tokens
	// OIDC verifies any other bearer token as a JWT.
	OIDC *OIDCVerifier
	// Session, when set, is asked for a principal when the request has no
	// Authorization header (the web pages' session cookie). The principal it
	// returns is validated like any other.
	Session func(*http.Request) (Principal, bool)
	// Logger records refused credentials with their reason; nil means
	// slog.Default().
	Logger *slog.Logger
	// Refusals, when set, bounds how many refused credentials are logged
	// (NewRefusalLog); nil logs every one. Credentials that could not be
	// checked are always logged.
	Refusals *RefusalLog
	// Names, when set, remembers the name of every identity provider user
	// verified, so histories can say who acted.
	Names *Names
}

// Authenticate returns the principal of the request. A request with an
// Authorization header is judged by it alone (never by its cookie): it must
// be "Bearer <token>", where a token starting with TokenPrefix is a built-in
// token and anything else a JWT. The errors are ErrNoCredentials (no header
// and no session), ErrInvalidToken (refused; the same whatever the reason)
// and ErrUnavailable (the credential could not be checked).
func (a *Authenticator) Authenticate(ctx context.Context, r *http.Request) (Principal, error) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		if a.Session != nil {
			if p, ok := a.Session(r); ok {
				if err := p.Validate(); err != nil {
					return Principal{}, a.refused(ctx, r, invalid(ReasonBadPrincipal, "", err))
				}
				return p, nil
			}
		}
		return Principal{}, ErrNoCredentials
	}
	if len(values) > 1 {
		return Principal{}, a.refused(ctx, r, invalid(ReasonMalformed, "", errors.New("more than one Authorization header")))
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return Principal{}, a.refused(ctx, r, invalid(ReasonMalformed, "", errors.New("not a Bearer credential")))
	}
	token = strings.TrimSpace(token)
	p, err := a.verify(ctx, token)
	if err != nil {
		return Principal{}, a.refused(ctx, r, err)
	}
	return p, nil
}

// Verify checks a bearer token's text as Authenticate does.
func (a *Authenticator) verify(ctx context.Context, token string) (Principal, error) {
	if strings.HasPrefix(token, TokenPrefix) {
		if a.Tokens == nil {
			return Principal{}, invalid(ReasonNotAccepted, "", errors.New("built-in tokens are not enabled"))
		}
		return a.Tokens.Verify(ctx, token)
	}
	if a.OIDC == nil {
		return Principal{}, invalid(ReasonNotAccepted, "", errors.New("no identity provider is configured"))
	}
	p, err := a.OIDC.Verify(ctx, token)
	if err == nil {
		a.Names.Remember(p)
	}
	return p, err
}

// VerifyBearer checks the text of a bearer token (without "Bearer ") as
// Authenticate does; the WebSocket upgrade can use it for a token sent
// another way.
func (a *Authenticator) VerifyBearer(ctx context.Context, token string) (Principal, error) {
	p, err := a.verify(ctx, token)
	if err != nil {
		return Principal{}, a.refused(ctx, nil, err)
	}
	return p, nil
}

func (a *Authenticator) refused(ctx context.Context, r *http.Request, err error) error {
	log := a.Logger
	if log == nil {
		log = slog.Default()
	}
	attrs := []any{"err", err}
	if r != nil {
		attrs = append(attrs, "remote", r.RemoteAddr, "path", r.URL.Path)
	}
	if errors.Is(err, ErrUnavailable) || errors.Is(err, ErrChainBroken) {
		log.ErrorContext(ctx, "credential could not be checked", attrs...)
		return err
	}
	ok, skipped := a.Refusals.take()
	if !ok {
		return err
	}
	if skipped > 0 {
		attrs = append(attrs, "refusals_not_logged", skipped)
	}
	log.WarnContext(ctx, "credential refused", attrs...)
	return err
}
