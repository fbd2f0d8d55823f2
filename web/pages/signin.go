package pages

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gateledger/gateledger/auth"
)

// baseRoutes are the pages every role shares: the start page, sign in and
// sign out.
func (s *server) baseRoutes() []route {
	return []route{
		{Method: "GET", Path: "/{$}", h: s.home},
		{Method: "GET", Path: "/sign-in", Public: true, pub: s.signInForm},
		{Method: "POST", Path: "/sign-in", Public: true, pub: s.signIn},
		{Method: "POST", Path: "/sign-out", h: s.signOut},
	}
}

// hasPages reports whether role has any page: the routes say, so that a
// role given pages (admins, with the dead-letter queue) can sign in without
// a second list to keep in step. The feed uses the API only.
func (s *server) hasPages(role auth.Role) bool {
	for _, rt := range s.routes {
		if !rt.Public && len(rt.Roles) > 0 && allows(rt, role) {
			return true
		}
	}
	return false
}

// home sends the principal to its role's main page, or lists its pages
// when the role has no main page.
func (s *server) home(w http.ResponseWriter, r *http.Request, sess *session) error {
	for _, rt := range s.routes {
		if rt.Home && allows(rt, sess.principal.Role) {
			http.Redirect(w, r, rt.Path, http.StatusSeeOther)
			return nil
		}
	}
	s.render(w, r, sess, http.StatusOK, "home", page{Title: "Gateledger"})
	return nil
}

type signInBody struct {
	Next string
	// OIDC offers the identity provider's sign-in.
	OIDC bool
}

// signInForm shows the sign-in form, with a fresh form token in a cookie
// (double submit: there is no session yet to hold it).
func (s *server) signInForm(w http.ResponseWriter, r *http.Request) {
	if d := s.cfg.Throttle.Anonymous(r); d.Limited {
		s.tooMany(w, r, nil, d)
		return
	}
	next := localPath(r.URL.Query().Get("next"))
	if _, err := s.cfg.Sessions.lookup(r.Context(), r); err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	p := page{Title: "Sign in to Gateledger", Body: signInBody{Next: next}}
	if r.URL.Query().Get("signed-out") != "" {
		p.Notice = "You have signed out."
	}
	s.renderSignIn(w, r, http.StatusOK, p)
}

func (s *server) renderSignIn(w http.ResponseWriter, r *http.Request, status int, p page) {
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: tok, Path: "/sign-in", MaxAge: 3600, Secure: true, HttpOnly: true,
		SameSite: http.SameSiteStrictMode})
	p.CSRF = tok
	if b, ok := p.Body.(signInBody); ok {
		b.OIDC = s.cfg.OIDC != nil
		p.Body = b
	}
	s.render(w, r, nil, status, "sign-in", p)
}

// signIn checks the token and opens a session.
func (s *server) signIn(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(signInCookie)
	want := ""
	if err == nil {
		want = c.Value
	}
	if err := s.checkForgery(r, want); err != nil {
		s.log.WarnContext(r.Context(), "pages: sign-in form refused", "err", err, "remote", r.RemoteAddr)
		s.errorPage(w, r, nil, http.StatusForbidden)
		return
	}
	next := localPath(r.PostFormValue("next"))
	token := strings.TrimSpace(r.PostFormValue("token"))
	fail := func(msg string) {
		s.renderSignIn(w, r, http.StatusUnprocessableEntity, page{Title: "Sign in to Gateledger", Body: signInBody{Next: next},
			Errors: []fieldError{{Field: "token", Message: msg}}})
	}
	switch {
	case token == "":
		fail("Enter your Gateledger token")
		return
	case !strings.HasPrefix(token, auth.TokenPrefix):
		fail("Enter a Gateledger token, which starts with " + auth.TokenPrefix)
		return
	}
	p, err := s.cfg.Auth.VerifyBearer(r.Context(), token)
	switch {
	case errors.Is(err, auth.ErrUnavailable) || errors.Is(err, auth.ErrChainBroken):
		s.errorPage(w, r, nil, http.StatusServiceUnavailable)
		return
	case err != nil:
		// Refused tokens count against this address and this token; a
		// valid token is never refused for others' mistakes.
		if d := s.cfg.Throttle.Failed(r, auth.TokenKey(token)); d.Limited {
			w.Header().Set("Retry-After", strconv.Itoa(d.RetryAfterSeconds()))
			s.renderSignIn(w, r, http.StatusTooManyRequests, page{Title: "Sign in to Gateledger", Body: signInBody{Next: next},
				Errors: []fieldError{{Field: "token", Message: fmt.Sprintf("There have been too many attempts to sign in. Wait %d seconds, check your token, then try again", d.RetryAfterSeconds())}}})
			return
		}
		fail("The token is not valid: it may be mistyped, expired or revoked")
		return
	case !s.hasPages(p.Role):
		fail("This token is for the " + string(p.Role) + " role, which has no web pages: use the API")
		return
	}
	if d := s.cfg.Throttle.Principal(p.ID); d.Limited {
		s.tooMany(w, r, nil, d)
		return
	}
	id, _ := s.cfg.Sessions.create(p, token)
	http.SetCookie(w, sessionCookie(id, int(s.cfg.Sessions.cfg.Lifetime.Seconds())))
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: "", Path: "/sign-in", MaxAge: -1, Secure: true, HttpOnly: true,
		SameSite: http.SameSiteStrictMode})
	s.log.InfoContext(r.Context(), "pages: signed in", "principal", p.String())
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signOut ends the session.
func (s *server) signOut(w http.ResponseWriter, r *http.Request, sess *session) error {
	s.cfg.Sessions.end(sess.key)
	http.SetCookie(w, sessionCookie("", -1))
	http.Redirect(w, r, "/sign-in?signed-out=1", http.StatusSeeOther)
	return nil
}
