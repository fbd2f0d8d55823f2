package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gateledger/gateledger/eventlog/eventlogtest"
)

func TestAuthenticate(t *testing.T) {
	ctx := testCtx(t)
	toks := newTestTokens(eventlogtest.Store(t), time.Hour)
	glt, info, err := toks.Create(ctx, RolePrison, "MDI", "Moorland", "test", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	p := newIDP(t)
	v := p.verifier(t, OIDCConfig{})
	jwt := sign(t, jose.RS256, p.rsaKey, "rsa-1", map[string]any{"iss": p.srv.URL, "aud": testAudience, "sub": "u1",
		"exp": time.Now().Add(time.Minute).Unix(), DefaultRoleClaim: "inspector"})
	sessionP := Principal{ID: "session:s1", Role: RoleProvider, Org: "C17"}
	session := func(r *http.Request) (Principal, bool) {
		c, err := r.Cookie("glsession")
		if err != nil {
			return Principal{}, false
		}
		if c.Value == "bad" {
			return Principal{ID: "session:s2", Role: RoleProvider, Org: "MDI"}, true
		}
		return sessionP, true
	}
	full := &Authenticator{Tokens: toks, OIDC: v, Session: session, Logger: eventlogtest.Logger()}
	tokensOnly := &Authenticator{Tokens: toks, Logger: eventlogtest.Logger()}

	tests := []struct {
		name    string
		a       *Authenticator
		headers []string
		cookie  string
		want    Principal
		wantErr error
	}{
		{"built-in token", full, []string{"Bearer " + glt}, "", info.Principal(), nil},
		{"scheme is case-insensitive", full, []string{"bearer " + glt}, "", info.Principal(), nil},
		{"JWT", full, []string{"Bearer " + jwt}, "", Principal{ID: "oidc:u1", Name: "u1", Role: RoleInspector}, nil},
		{"JWT without OIDC configured", tokensOnly, []string{"Bearer " + jwt}, "", Principal{}, ErrInvalidToken},
		{"nothing", full, nil, "", Principal{}, ErrNoCredentials},
		{"session cookie", full, nil, "good", sessionP, nil},
		{"session with an invalid principal", full, nil, "bad", Principal{}, ErrInvalidToken},
		{"header beats cookie", full, []string{"Bearer " + glt}, "good", info.Principal(), nil},
		{"bad header is not rescued by the cookie", full, []string{"Bearer glt_nope"}, "good", Principal{}, ErrInvalidToken},
		{"Basic", full, []string{"Basic dXNlcjpwYXNz"}, "", Principal{}, ErrInvalidToken},
		{"Bearer without token", full, []string{"Bearer"}, "", Principal{}, ErrInvalidToken},
		{"two headers", full, []string{"Bearer " + glt, "Bearer " + glt}, "", Principal{}, ErrInvalidToken},
		{"revoked-looking garbage", full, []string{"Bearer glt_" + info.ID + "_x"}, "", Principal{}, ErrInvalidToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/v1/journeys/A1234BC", nil)
			for _, h := range tc.headers {
				r.Header.Add("Authorization", h)
			}
			if tc.cookie != "" {
				r.AddCookie(&http.Cookie{Name: "glsession", Value: tc.cookie})
			}
			got, err := tc.a.Authenticate(ctx, r)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("principal %+v, want %+v", got, tc.want)
			}
			ctx := WithPrincipal(context.Background(), got)
			if back, ok := FromContext(ctx); !ok || back != got {
				t.Fatal("context round trip")
			}
		})
	}
	if _, ok := FromContext(context.Background()); ok {
		t.Fatal("a principal from nowhere")
	}
}
