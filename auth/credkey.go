package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
)

// CredentialKey names the credential a request presents, for counting its
// failures (package throttle) without keeping it: a built-in token's public
// id ("glt:<id>"), so that guesses at one token's secret share one count
// however they vary; or else a SHA-256 prefix of what was sent. A request
// with no Authorization header gives "".
func CredentialKey(r *http.Request) string {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return ""
	}
	raw := strings.Join(values, "\n")
	if scheme, token, ok := strings.Cut(raw, " "); ok && strings.EqualFold(scheme, "Bearer") {
		return TokenKey(strings.TrimSpace(token))
	}
	return hashKey(raw)
}

// TokenKey is CredentialKey for the text of a bearer token (the sign-in
// form's).
func TokenKey(token string) string {
	if rest, ok := strings.CutPrefix(token, TokenPrefix); ok && len(rest) > TokenIDLen && ValidTokenID(rest[:TokenIDLen]) {
		return "glt:" + rest[:TokenIDLen]
	}
	return hashKey(token)
}

func hashKey(s string) string {
	h := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(h[:16])
}
