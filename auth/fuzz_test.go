package auth

import (
	"strings"
	"testing"
)

// FuzzParseToken: parsing accepts exactly the tokens formatToken makes, and
// a parsed token formats back to itself.
func FuzzParseToken(f *testing.F) {
	var secret [secretBytes]byte
	for i := range secret {
		secret[i] = byte(i * 7)
	}
	valid := formatToken("0123456789ab", secret)
	for _, s := range []string{valid, "", "glt_", "glt__", valid + "=", strings.ToUpper(valid), valid[:len(valid)-1] + "_",
		"glt_0123456789ab_" + strings.Repeat("_", 43), "glt_0123456789ab-" + valid[17:], "eyJhbGciOiJub25lIn0.e30."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, sec, ok := parseToken(s)
		if !ok {
			if id != "" || sec != ([secretBytes]byte{}) {
				t.Fatal("a refused token leaked parts")
			}
			return
		}
		if !ValidTokenID(id) {
			t.Fatalf("accepted id %q", id)
		}
		if back := formatToken(id, sec); back != s {
			t.Fatalf("%q parsed and formatted as %q", s, back)
		}
	})
}

// FuzzVerify: Verify never panics and refuses everything but issued tokens
// with ErrInvalidToken. The store is real but empty, so every input must be
// refused.
func FuzzVerify(f *testing.F) {
	toks := newTestTokens(fuzzStore(f), 0)
	for _, s := range []string{"", "glt_0123456789ab_" + strings.Repeat("A", 43), "glt_", "Bearer x", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := toks.Verify(t.Context(), s)
		if err == nil {
			t.Fatalf("accepted %q as %+v", s, p)
		}
		if err.Error() != ErrInvalidToken.Error() {
			t.Fatalf("%q: error %q", s, err)
		}
	})
}
