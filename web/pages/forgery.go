package pages

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Cross-site request forgery is refused twice over on every form post:
//
//   - by where it comes from: a browser's Sec-Fetch-Site must be
//     same-origin (or none: typed by the user), and an Origin header must be
//     the server's own origin or one of Config.AllowedOrigins ("null" never
//     is). A request with neither header is from a client that is not a
//     modern browser, and rests on the token alone.
//   - by a token in the hidden field "csrf": the session's own token for a
//     signed-in form, or for the sign-in form (no session yet) the value of
//     a short-lived cookie set with the form (double submit). Both are
//     compared in constant time.

// csrfField is the hidden form field holding the token.
const csrfField = "csrf"

// signInCookie carries the sign-in form's token.
const signInCookie = "gateledger_signin"

var errForged = errors.New("pages: cross-site or forged form")

// checkOrigin refuses a request a browser says came from another site.
func (s *server) checkOrigin(r *http.Request) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return fmt.Errorf("%w: Sec-Fetch-Site %q", errForged, site)
	}
	origins := r.Header.Values("Origin")
	if len(origins) == 0 {
		return nil
	}
	if len(origins) > 1 {
		return fmt.Errorf("%w: %d Origin headers", errForged, len(origins))
	}
	o := strings.ToLower(origins[0])
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if o == scheme+"://"+strings.ToLower(r.Host) || s.origins[o] {
		return nil
	}
	return fmt.Errorf("%w: Origin %q", errForged, origins[0])
}

// checkForgery checks where an unsafe request comes from and that its form
// carries want.
func (s *server) checkForgery(r *http.Request, want string) error {
	if err := s.checkOrigin(r); err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxFormBytes)
	if !equalTokens(r.PostFormValue(csrfField), want) {
		return fmt.Errorf("%w: form token missing or wrong", errForged)
	}
	return nil
}

// maxFormBytes bounds a form's body.
const maxFormBytes = 64 << 10
