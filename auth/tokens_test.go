package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventlog/eventlogtest"
	"github.com/gateledger/gateledger/eventstore"
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newTestTokens(store *eventstore.Conn, refresh time.Duration) *Tokens {
	return NewTokens(store.Client, TokensConfig{Refresh: refresh, Logger: eventlogtest.Logger()})
}

func reason(err error) string {
	var e *InvalidTokenError
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func TestTokensCreateVerifyListRevoke(t *testing.T) {
	ctx := testCtx(t)
	store := eventlogtest.Store(t)
	toks := newTestTokens(store, time.Hour)

	tests := []struct {
		role Role
		org  string
		name string
	}{
		{RolePrison, "MDI", "Moorland reception"},
		{RoleProvider, "C17", "London CRC"},
		{RoleProvider, "NPS-J", "NPS London"},
		{RoleInspector, "", "HMIP"},
		{RoleFeed, "", "HMPPS feed"},
		{RoleAdmin, "", "ops"},
	}
	plain := make(map[string]string)
	for _, tc := range tests {
		tok, info, err := toks.Create(ctx, tc.role, tc.org, tc.name, "test", time.Time{})
		if err != nil {
			t.Fatalf("Create(%s %s): %v", tc.role, tc.org, err)
		}
		if len(tok) != TokenLen || !strings.HasPrefix(tok, TokenPrefix+info.ID+"_") {
			t.Fatalf("token %q does not have the format glt_<id>_<secret>", tok)
		}
		p, err := toks.Verify(ctx, tok)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		want := Principal{ID: "token:" + info.ID, Name: tc.name, Role: tc.role, Org: tc.org}
		if p != want {
			t.Fatalf("principal %+v, want %+v", p, want)
		}
		plain[info.ID] = tok
	}

	list, err := toks.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(tests) {
		t.Fatalf("List has %d tokens, want %d", len(list), len(tests))
	}
	// Only a hash is stored: the secret appears nowhere in the stream.
	recs, err := eventlog.ReadStream(ctx, store.Client, TokenStream)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range plain {
		secret := tok[len(TokenPrefix)+TokenIDLen+1:]
		for _, r := range recs {
			if strings.Contains(string(r.Data), secret) || strings.Contains(string(r.RawMetadata), secret) {
				t.Fatal("the secret is stored")
			}
		}
	}
	if v := eventlog.VerifyEvents(TokenStream, recs); !v.OK() {
		t.Fatalf("token stream chain: %v", v.Break)
	}

	victim := list[1]
	info, err := toks.Revoke(ctx, victim.ID, "test", "lost laptop")
	if err != nil {
		t.Fatal(err)
	}
	if !info.Revoked() || info.RevokeReason != "lost laptop" || info.RevokedBy != "test" {
		t.Fatalf("revoked info %+v", info)
	}
	// At once, in the process that revoked, even with a long refresh.
	if _, err := toks.Verify(ctx, plain[victim.ID]); !errors.Is(err, ErrInvalidToken) || reason(err) != ReasonRevoked {
		t.Fatalf("revoked token: %v (%s)", err, reason(err))
	}
	// Revoking again records nothing.
	if _, err := toks.Revoke(ctx, victim.ID, "test", "again"); err != nil {
		t.Fatal(err)
	}
	recs2, _ := eventlog.ReadStream(ctx, store.Client, TokenStream)
	if len(recs2) != len(recs)+1 {
		t.Fatalf("%d events after revoking twice, want %d", len(recs2), len(recs)+1)
	}
	if _, err := toks.Revoke(ctx, "0123456789ab", "test", ""); !errors.Is(err, ErrTokenNotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	// The others still work.
	for id, tok := range plain {
		if id == victim.ID {
			continue
		}
		if _, err := toks.Verify(ctx, tok); err != nil {
			t.Fatalf("token %s after another was revoked: %v", id, err)
		}
	}
}

func TestTokensCreateRefusesBadInput(t *testing.T) {
	ctx := testCtx(t)
	toks := newTestTokens(eventlogtest.Store(t), time.Hour)
	tests := []struct {
		name    string
		role    Role
		org     string
		tname   string
		by      string
		expires time.Time
	}{
		{"unknown role", "janitor", "", "x", "t", time.Time{}},
		{"prison without code", RolePrison, "", "x", "t", time.Time{}},
		{"prison with provider code", RolePrison, "C17", "x", "t", time.Time{}},
		{"provider with prison code", RoleProvider, "MDI", "x", "t", time.Time{}},
		{"provider C22", RoleProvider, "C22", "x", "t", time.Time{}},
		{"inspector with org", RoleInspector, "C17", "x", "t", time.Time{}},
		{"feed with junk org", RoleFeed, "nope", "x", "t", time.Time{}},
		{"no name", RoleProvider, "C17", "", "t", time.Time{}},
		{"control character in name", RoleProvider, "C17", "a\nb", "t", time.Time{}},
		{"nobody acting", RoleProvider, "C17", "x", "", time.Time{}},
		{"expired already", RoleProvider, "C17", "x", "t", time.Now().Add(-time.Minute)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := toks.Create(ctx, tc.role, tc.org, tc.tname, tc.by, tc.expires); !errors.Is(err, ErrInvalidPrincipal) {
				t.Fatalf("err = %v, want ErrInvalidPrincipal", err)
			}
		})
	}
}

func TestTokensRejectTamperedMalformedExpired(t *testing.T) {
	ctx := testCtx(t)
	var now time.Time
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	now = time.Now()
	toks := NewTokens(eventlogtest.Store(t).Client, TokensConfig{Refresh: time.Hour, Now: clock, Logger: eventlogtest.Logger()})
	tok, info, err := toks.Create(ctx, RoleProvider, "C05", "West Yorkshire", "test", now.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := toks.Create(ctx, RoleProvider, "C06", "Merseyside", "test", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	secretOf := func(s string) string { return s[len(TokenPrefix)+TokenIDLen+1:] }
	tests := []struct {
		name   string
		token  string
		reason string
	}{
		{"empty", "", ReasonMalformed},
		{"prefix only", TokenPrefix, ReasonMalformed},
		{"wrong prefix", "glx_" + tok[4:], ReasonMalformed},
		{"upper-case id", TokenPrefix + strings.ToUpper(info.ID) + tok[len(TokenPrefix)+TokenIDLen:], ReasonMalformed},
		{"secret one char short", tok[:len(tok)-1], ReasonMalformed},
		{"secret one char long", tok + "A", ReasonMalformed},
		{"padding", tok[:len(tok)-1] + "=", ReasonMalformed},
		{"not base64url", tok[:len(tok)-1] + "+", ReasonMalformed},
		{"separator changed", tok[:len(TokenPrefix)+TokenIDLen] + "-" + secretOf(tok), ReasonMalformed},
		{"space appended", tok + " ", ReasonMalformed},
		{"last secret char flipped", flip(tok, len(tok)-2), ReasonWrongSecret},
		{"first secret char flipped", flip(tok, len(TokenPrefix)+TokenIDLen+1), ReasonWrongSecret},
		{"id of one, secret of another", tok[:len(TokenPrefix)+TokenIDLen+1] + secretOf(other), ReasonWrongSecret},
		{"unknown id", TokenPrefix + "0123456789ab_" + secretOf(tok), ReasonUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := toks.Verify(ctx, tc.token)
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("err = %v, want ErrInvalidToken", err)
			}
			if err.Error() != ErrInvalidToken.Error() {
				t.Fatalf("error text %q reveals more than %q", err.Error(), ErrInvalidToken.Error())
			}
			if got := reason(err); got != tc.reason {
				t.Fatalf("reason %q, want %q", got, tc.reason)
			}
		})
	}
	mu.Lock()
	now = now.Add(25 * time.Hour)
	mu.Unlock()
	if _, err := toks.Verify(ctx, tok); !errors.Is(err, ErrInvalidToken) || reason(err) != ReasonExpired {
		t.Fatalf("expired token: %v (%s)", err, reason(err))
	}
	if _, err := toks.Verify(ctx, other); err != nil {
		t.Fatalf("token without expiry: %v", err)
	}
}

// A second Tokens on the same store (another process) sees a revocation
// within its refresh bound, and a new token as soon as it re-reads.
func TestTokensRevocationReachesOtherInstances(t *testing.T) {
	ctx := testCtx(t)
	store := eventlogtest.Store(t)
	const bound = 200 * time.Millisecond
	a := newTestTokens(store, bound)
	b := newTestTokens(store, bound)
	tok, info, err := a.Create(ctx, RolePrison, "LEI", "Leeds", "test", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(bound + 2*time.Second)
	for {
		_, err := b.Verify(ctx, tok)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the other instance never accepted the new token: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	revokedAt := time.Now()
	if _, err := a.Revoke(ctx, info.ID, "test", "left"); err != nil {
		t.Fatal(err)
	}
	for {
		_, err := b.Verify(ctx, tok)
		if errors.Is(err, ErrInvalidToken) {
			if reason(err) != ReasonRevoked {
				t.Fatalf("reason %q", reason(err))
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if since := time.Since(revokedAt); since > bound+time.Second {
			t.Fatalf("revoked token still accepted by the other instance after %v (bound %v)", since, bound)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Both appended to the same chain: a Create through b after a's writes
	// must build on a's head.
	if _, _, err := b.Create(ctx, RoleFeed, "", "feed", "test", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Create(ctx, RoleAdmin, "", "ops", "test", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if v, err := eventlog.VerifyStream(ctx, store.Client, TokenStream); err != nil || !v.OK() || v.Checked != 4 {
		t.Fatalf("chain after writes from two instances: %+v %v", v, err)
	}
}

func TestTokensConcurrentVerify(t *testing.T) {
	ctx := testCtx(t)
	toks := newTestTokens(eventlogtest.Store(t), 5*time.Millisecond)
	tok, _, err := toks.Create(ctx, RoleInspector, "", "HMIP", "test", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			for range 50 {
				if _, err := toks.Verify(ctx, tok); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// A stream that does not verify makes every built-in token fail closed.
func TestTokensBrokenChainFailsClosed(t *testing.T) {
	ctx := testCtx(t)
	store := eventlogtest.Store(t)
	toks := newTestTokens(store, time.Millisecond)
	tok, _, err := toks.Create(ctx, RoleInspector, "", "HMIP", "test", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	// Append an event whose envelope claims a different previous hash, as a
	// writer that bypassed eventlog.Append would.
	recs, err := eventlog.ReadStream(ctx, store.Client, TokenStream)
	if err != nil {
		t.Fatal(err)
	}
	head := eventlog.HeadOf(recs)
	forged := head
	forged.Hash = strings.Repeat("0", 64)
	sealed, err := eventlog.Seal(TokenStream, forged, "forged", []eventlog.Proposed{{Type: TypeTokenRevoked, Data: []byte(`{"id":"000000000000"}`),
		Metadata: eventlog.Metadata{Metadata: sealedMeta()}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Client.AppendToStream(ctx, TokenStream, appendAfter(head), sealed[0].EventData()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	if _, err := toks.Verify(ctx, tok); !errors.Is(err, ErrChainBroken) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Verify on a broken chain: %v", err)
	}
	if _, err := toks.List(ctx); !errors.Is(err, ErrChainBroken) {
		t.Fatalf("List on a broken chain: %v", err)
	}
}
