package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// Built-in token format: TokenPrefix, then the id (TokenIDLen lower-case hex
// characters), "_", then the secret (secretBytes bytes in unpadded base64url,
// which may itself contain "_" and "-").
const (
	// TokenPrefix starts every built-in token; Authenticator uses it to tell
	// built-in tokens from JWTs.
	TokenPrefix = "glt_"
	// TokenIDLen is the length of a token id: 6 random bytes in hex.
	TokenIDLen  = 12
	idBytes     = TokenIDLen / 2
	secretBytes = 32
	secretLen   = 43 // base64.RawURLEncoding.EncodedLen(secretBytes)
	// TokenLen is the length of every built-in token.
	TokenLen = len(TokenPrefix) + TokenIDLen + 1 + secretLen
)

// secretEncoding is strict so that a secret has one spelling only.
var secretEncoding = base64.RawURLEncoding.Strict()

// parseToken splits a built-in token into its id and secret. It accepts
// exactly the format newToken produces and nothing else.
func parseToken(tok string) (id string, secret [secretBytes]byte, ok bool) {
	if len(tok) != TokenLen || !strings.HasPrefix(tok, TokenPrefix) {
		return "", secret, false
	}
	rest := tok[len(TokenPrefix):]
	id, enc := rest[:TokenIDLen], rest[TokenIDLen:]
	if !ValidTokenID(id) || enc[0] != '_' {
		return "", secret, false
	}
	n, err := secretEncoding.Decode(secret[:], []byte(enc[1:]))
	if err != nil || n != secretBytes {
		return "", [secretBytes]byte{}, false
	}
	return id, secret, true
}

// ValidTokenID reports whether s has the form of a token id (lower-case hex,
// TokenIDLen characters).
func ValidTokenID(s string) bool {
	if len(s) != TokenIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// newTokenID draws a random token id.
func newTokenID() (string, error) {
	var b [idBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("auth: random token id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// newSecret draws a random secret.
func newSecret() ([secretBytes]byte, error) {
	var b [secretBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return b, fmt.Errorf("auth: random token secret: %w", err)
	}
	return b, nil
}

// formatToken is the token text handed to its holder.
func formatToken(id string, secret [secretBytes]byte) string {
	return TokenPrefix + id + "_" + secretEncoding.EncodeToString(secret[:])
}

// secretHash is what is stored: SHA-256 of the 32 secret bytes.
func secretHash(secret [secretBytes]byte) [sha256.Size]byte { return sha256.Sum256(secret[:]) }
