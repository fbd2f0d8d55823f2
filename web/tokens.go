package web

import (
	"errors"
	"net/http"

	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/web/problem"
	"github.com/gateledger/gateledger/web/request"
)

// Token administration for admins, beside the gateledger token command.

type createTokenBody struct {
	Role string `json:"role"`
	Org  string `json:"org"`
	Name string `json:"name"`
	// ExpiresAt is an RFC 3339 time; empty means auth.DefaultTokenLifetime
	// from now, as on the command line.
	ExpiresAt string `json:"expiresAt"`
	// NeverExpires asks for a token that never expires (token create
	// --expires never); it cannot be sent with ExpiresAt.
	NeverExpires bool `json:"neverExpires"`
}

type createdTokenView struct {
	// Token is shown once: only its hash is stored.
	Token string    `json:"token"`
	Info  tokenView `json:"info"`
}

type revokeTokenBody struct {
	Reason string `json:"reason"`
}

func (s *server) tokensFor(p auth.Principal) (*auth.Tokens, error) {
	if s.cfg.Tokens == nil {
		return nil, problem.New(problem.NotFound, "token administration is not enabled on this server")
	}
	if !auth.CanManageTokens(p) {
		return nil, auth.ErrForbidden
	}
	return s.cfg.Tokens, nil
}

func (s *server) listTokens(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	toks, err := s.tokensFor(p)
	if err != nil {
		return err
	}
	list, err := toks.List(r.Context())
	if err != nil {
		return err
	}
	out := make([]tokenView, 0, len(list))
	for _, t := range list {
		out = append(out, tokenOf(t))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

func (s *server) createToken(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	toks, err := s.tokensFor(p)
	if err != nil {
		return err
	}
	if err := request.CheckJSONContentType(r); err != nil {
		return err
	}
	var b createTokenBody
	if err := request.DecodeJSON(r.Body, &b); err != nil {
		return err
	}
	var v request.Validator
	role, rerr := auth.ParseRole(b.Role)
	if rerr != nil {
		v.Add("role", "must be one of prison, provider, inspector, feed, admin")
	} else if auth.ValidateRoleOrg(role, b.Org) != nil {
		v.Add("org", "does not suit the role (prison: a prison code; provider: C01-C21, N01-N07 or NPS-A..NPS-L; inspector: none)")
	}
	v.Text("name", b.Name, true, auth.MaxNameLen)
	exp := v.Time("expiresAt", b.ExpiresAt, false)
	switch {
	case !exp.IsZero() && !exp.After(s.now()):
		v.Add("expiresAt", "must be in the future")
	case b.NeverExpires && b.ExpiresAt != "":
		v.Add("neverExpires", "cannot be sent with expiresAt: send one or the other")
	case b.ExpiresAt == "" && !b.NeverExpires:
		exp = s.now().Add(auth.DefaultTokenLifetime)
	}
	if err := v.Err(); err != nil {
		return err
	}
	tok, info, err := toks.Create(r.Context(), role, b.Org, b.Name, p.ID, exp)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, createdTokenView{Token: tok, Info: tokenOf(info)})
}

func (s *server) revokeToken(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	toks, err := s.tokensFor(p)
	if err != nil {
		return err
	}
	var b revokeTokenBody
	if r.ContentLength != 0 {
		if err := request.CheckJSONContentType(r); err != nil {
			return err
		}
		if err := request.DecodeJSON(r.Body, &b); err != nil {
			return err
		}
	}
	var v request.Validator
	v.Text("reason", b.Reason, false, auth.MaxNameLen)
	if err := v.Err(); err != nil {
		return err
	}
	info, err := toks.Revoke(r.Context(), r.PathValue("id"), p.ID, b.Reason)
	if errors.Is(err, auth.ErrTokenNotFound) {
		return problem.New(problem.NotFound, "no such token")
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, tokenOf(info))
}
