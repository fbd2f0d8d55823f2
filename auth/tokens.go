package auth

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventstore"
)

// TokenStream is the stream that holds the built-in tokens.
const TokenStream = "auth-tokens"

// DefaultTokenRefresh bounds how stale a Tokens may be: a token revoked by
// another process is refused at most this long (plus one read) later.
const DefaultTokenRefresh = 2 * time.Second

// Token event types. Their payloads have schema version 1.
const (
	TypeTokenIssued  = "TokenIssued"
	TypeTokenRevoked = "TokenRevoked"
	tokenSchema      = 1
)

// TokenIssued records a new built-in token. Only the hash of its secret is
// stored: SecretHash is the lower-case hex SHA-256 of the 32 secret bytes.
type TokenIssued struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Role       Role      `json:"role"`
	Org        string    `json:"org,omitempty"`
	SecretHash string    `json:"secretHash"`
	IssuedAt   time.Time `json:"issuedAt"`
	IssuedBy   string    `json:"issuedBy"`
	// ExpiresAt is absent for a token that does not expire.
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

// TokenRevoked records that a token may no longer be used.
type TokenRevoked struct {
	ID        string    `json:"id"`
	RevokedAt time.Time `json:"revokedAt"`
	RevokedBy string    `json:"revokedBy"`
	Reason    string    `json:"reason,omitempty"`
}

// TokenInfo describes a built-in token; it never holds the secret or its hash.
type TokenInfo struct {
	ID       string
	Name     string
	Role     Role
	Org      string
	IssuedAt time.Time
	IssuedBy string
	// ExpiresAt is zero for a token that does not expire.
	ExpiresAt time.Time
	// RevokedAt is zero for a token that has not been revoked.
	RevokedAt    time.Time
	RevokedBy    string
	RevokeReason string
}

// Revoked reports whether the token has been revoked.
func (i TokenInfo) Revoked() bool { return !i.RevokedAt.IsZero() }

// Expired reports whether the token has expired at now.
func (i TokenInfo) Expired(now time.Time) bool {
	return !i.ExpiresAt.IsZero() && !now.Before(i.ExpiresAt)
}

// Principal is who the token's holder is.
func (i TokenInfo) Principal() Principal {
	return Principal{ID: "token:" + i.ID, Name: i.Name, Role: i.Role, Org: i.Org}
}

// TokensConfig configures a Tokens. The zero value is usable.
type TokensConfig struct {
	// Stream holds the tokens; empty means TokenStream.
	Stream string
	// Refresh is the longest a Tokens answers from memory before re-reading
	// the stream's new events; zero means DefaultTokenRefresh.
	Refresh time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

type tokenState struct {
	info TokenInfo
	hash [sha256.Size]byte
}

// Tokens is the store of built-in bearer tokens, kept in the event store
// stream TokenStream as TokenIssued and TokenRevoked events appended with the
// Gateledger envelope and hash chain (eventlog.Append).
//
// A Tokens holds the tokens in memory, read from the stream and checked
// against its hash chain. Verify re-reads the stream's new events when its
// copy is older than TokensConfig.Refresh, so a revocation made by another
// process takes effect there within that bound; one made through this Tokens
// takes effect at once. If the stream cannot be read when a refresh is due,
// Verify fails closed with ErrUnavailable; if it does not verify, with
// ErrChainBroken.
//
// A Tokens is safe for concurrent use.
type Tokens struct {
	client  eventstore.Store
	stream  string
	refresh time.Duration
	now     func() time.Time
	log     *slog.Logger

	// syncMu serialises reads of the stream and appends to it.
	syncMu sync.Mutex
	// mu guards the fields below.
	mu       sync.RWMutex
	tokens   map[string]*tokenState
	head     eventlog.Head
	loadedAt time.Time // monotonic reading of time.Now, zero before the first read
	broken   error
}

// NewTokens returns the token store on client. It reads nothing until first
// used.
func NewTokens(client eventstore.Store, cfg TokensConfig) *Tokens {
	if cfg.Stream == "" {
		cfg.Stream = TokenStream
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = DefaultTokenRefresh
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Tokens{client: client, stream: cfg.Stream, refresh: cfg.Refresh, now: cfg.Now, log: cfg.Logger,
		tokens: make(map[string]*tokenState)}
}

// dummyHash is compared against when a token id is unknown, so that unknown
// and known ids take the same time.
var dummyHash [sha256.Size]byte

// Verify checks a built-in token and returns its principal. Every refusal
// matches ErrInvalidToken (see InvalidTokenError for the reason); a store
// that cannot be read gives ErrUnavailable.
func (t *Tokens) Verify(ctx context.Context, token string) (Principal, error) {
	id, secret, ok := parseToken(token)
	if !ok {
		return Principal{}, invalid(ReasonMalformed, "", nil)
	}
	if err := t.fresh(ctx); err != nil {
		if !errors.Is(err, ErrUnavailable) {
			err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return Principal{}, err
	}
	got := secretHash(secret)
	t.mu.RLock()
	st, known := t.tokens[id]
	var info TokenInfo
	want := dummyHash
	if known {
		info, want = st.info, st.hash
	}
	t.mu.RUnlock()
	match := subtle.ConstantTimeCompare(got[:], want[:]) == 1
	switch {
	case !known:
		return Principal{}, invalid(ReasonUnknown, id, nil)
	case !match:
		return Principal{}, invalid(ReasonWrongSecret, id, nil)
	case info.Revoked():
		return Principal{}, invalid(ReasonRevoked, id, nil)
	case info.Expired(t.now()):
		return Principal{}, invalid(ReasonExpired, id, nil)
	}
	p := info.Principal()
	if err := p.Validate(); err != nil {
		return Principal{}, invalid(ReasonBadPrincipal, id, err)
	}
	return p, nil
}

// DefaultTokenLifetime is how long a token lives unless whoever creates it
// says otherwise, on the command line (token create --expires) and through
// the API alike: a token copied somewhere it should not be stops working by
// itself.
const DefaultTokenLifetime = 90 * 24 * time.Hour

// Create issues a token for a principal with role and org, named name (for
// people: "MDI reception desk"), recorded as issued by by. A zero expiresAt
// makes a token that does not expire. It returns the token text, which is
// not stored anywhere and cannot be shown again, and its description.
func (t *Tokens) Create(ctx context.Context, role Role, org, name, by string, expiresAt time.Time) (string, TokenInfo, error) {
	if err := ValidateRoleOrg(role, org); err != nil {
		return "", TokenInfo{}, err
	}
	if name == "" {
		return "", TokenInfo{}, fmt.Errorf("%w: a token needs a name", ErrInvalidPrincipal)
	}
	if err := validText("name", name); err != nil {
		return "", TokenInfo{}, err
	}
	if err := checkActor(by); err != nil {
		return "", TokenInfo{}, err
	}
	now := t.now().UTC()
	if !expiresAt.IsZero() && !expiresAt.After(now) {
		return "", TokenInfo{}, fmt.Errorf("%w: expiry %s is not in the future", ErrInvalidPrincipal, expiresAt.Format(time.RFC3339))
	}
	secret, err := newSecret()
	if err != nil {
		return "", TokenInfo{}, err
	}
	sum := secretHash(secret)

	t.syncMu.Lock()
	defer t.syncMu.Unlock()
	if err := t.sync(ctx); err != nil {
		return "", TokenInfo{}, err
	}
	var id string
	for {
		if id, err = newTokenID(); err != nil {
			return "", TokenInfo{}, err
		}
		t.mu.RLock()
		_, taken := t.tokens[id]
		t.mu.RUnlock()
		if !taken {
			break
		}
	}
	ev := TokenIssued{ID: id, Name: name, Role: role, Org: org, SecretHash: hex.EncodeToString(sum[:]),
		IssuedAt: now, IssuedBy: by, ExpiresAt: utcOrZero(expiresAt)}
	issued := func() bool { _, ok := t.get(id); return ok }
	if err := t.append(ctx, TypeTokenIssued, ev, by, now, "token-issued-"+id, issued); err != nil {
		return "", TokenInfo{}, err
	}
	t.mu.RLock()
	st, ok := t.tokens[id]
	t.mu.RUnlock()
	if !ok {
		return "", TokenInfo{}, fmt.Errorf("auth: token %s was appended but not read back", id)
	}
	t.log.Info("token issued", "token_id", id, "role", role, "org", org, "name", name, "by", by)
	return formatToken(id, secret), st.info, nil
}

// Revoke revokes the token with the public id, recorded as done by by for
// reason. Revoking a revoked token records nothing and returns it as it is.
// An id never issued gives ErrTokenNotFound.
func (t *Tokens) Revoke(ctx context.Context, id, by, reason string) (TokenInfo, error) {
	if !ValidTokenID(id) {
		return TokenInfo{}, fmt.Errorf("%w: %q is not a token id", ErrTokenNotFound, id)
	}
	if err := checkActor(by); err != nil {
		return TokenInfo{}, err
	}
	if len(reason) > 1000 {
		return TokenInfo{}, fmt.Errorf("auth: revocation reason longer than 1000 bytes")
	}
	t.syncMu.Lock()
	defer t.syncMu.Unlock()
	if err := t.sync(ctx); err != nil {
		return TokenInfo{}, err
	}
	info, ok := t.get(id)
	if !ok {
		return TokenInfo{}, fmt.Errorf("%w: %s", ErrTokenNotFound, id)
	}
	if info.Revoked() {
		return info, nil
	}
	now := t.now().UTC()
	ev := TokenRevoked{ID: id, RevokedAt: now, RevokedBy: by, Reason: reason}
	revoked := func() bool { i, _ := t.get(id); return i.Revoked() }
	if err := t.append(ctx, TypeTokenRevoked, ev, by, now, "token-revoked-"+id, revoked); err != nil {
		return TokenInfo{}, err
	}
	info, _ = t.get(id)
	if !info.Revoked() {
		return TokenInfo{}, fmt.Errorf("auth: revocation of %s was appended but not read back", id)
	}
	t.log.Info("token revoked", "token_id", id, "by", by, "reason", reason)
	return info, nil
}

// List returns every token ever issued, revoked and expired ones included,
// oldest first. It reads the stream first, so it is current.
func (t *Tokens) List(ctx context.Context) ([]TokenInfo, error) {
	t.syncMu.Lock()
	err := t.sync(ctx)
	t.syncMu.Unlock()
	if err != nil {
		return nil, err
	}
	t.mu.RLock()
	out := make([]TokenInfo, 0, len(t.tokens))
	for _, st := range t.tokens {
		out = append(out, st.info)
	}
	t.mu.RUnlock()
	slices.SortFunc(out, func(a, b TokenInfo) int {
		return cmp.Or(a.IssuedAt.Compare(b.IssuedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func (t *Tokens) get(id string) (TokenInfo, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	st, ok := t.tokens[id]
	if !ok {
		return TokenInfo{}, false
	}
	return st.info, true
}

// fresh makes sure the in-memory copy is at most t.refresh old.
func (t *Tokens) fresh(ctx context.Context) error {
	if err := t.check(); err != errStale {
		return err
	}
	t.syncMu.Lock()
	defer t.syncMu.Unlock()
	if err := t.check(); err != errStale {
		// Another caller refreshed while this one waited (or found the
		// chain broken).
		return err
	}
	return t.sync(ctx)
}

// check returns the broken-chain error, errStale when the copy is older
// than t.refresh (or was never read), and nil when it is fresh.
func (t *Tokens) check() error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.broken != nil {
		return t.broken
	}
	if t.loadedAt.IsZero() || time.Since(t.loadedAt) >= t.refresh {
		return errStale
	}
	return nil
}

// errStale is check's answer for a copy due to be re-read; it never leaves
// the package.
var errStale = errors.New("auth: token list due for a re-read")

// sync reads the events appended after the head. syncMu must be held.
func (t *Tokens) sync(ctx context.Context) error {
	t.mu.RLock()
	head, broken := t.head, t.broken
	t.mu.RUnlock()
	if broken != nil {
		return broken
	}
	started := time.Now()
	recs, err := readFrom(ctx, t.client, t.stream, head.Next())
	if err != nil {
		if errors.Is(err, ErrChainBroken) {
			return t.breakChain(err)
		}
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, rec := range recs {
		next, err := verifyNext(t.head, rec)
		if err != nil {
			t.broken = err
			t.log.Error("token stream does not verify; refusing every built-in token", "stream", t.stream, "err", err)
			return err
		}
		if err := t.apply(rec); err != nil {
			t.broken = fmt.Errorf("%w: %w", ErrChainBroken, err)
			t.log.Error("token stream holds an event this version cannot read; refusing every built-in token", "stream", t.stream, "err", err)
			return t.broken
		}
		t.head = next
	}
	t.loadedAt = started
	return nil
}

func (t *Tokens) breakChain(err error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.broken = err
	t.log.Error("token stream does not verify; refusing every built-in token", "stream", t.stream, "err", err)
	return err
}

// apply folds one stored event into the tokens. t.mu must be held.
func (t *Tokens) apply(rec eventlog.Recorded) error {
	if rec.Metadata.SchemaVersion != tokenSchema {
		return fmt.Errorf("%s revision %d: %s schema version %d", rec.Stream, rec.Revision, rec.Type, rec.Metadata.SchemaVersion)
	}
	switch rec.Type {
	case TypeTokenIssued:
		var ev TokenIssued
		if err := json.Unmarshal(rec.Data, &ev); err != nil {
			return fmt.Errorf("%s revision %d: %w", rec.Stream, rec.Revision, err)
		}
		b, err := hex.DecodeString(ev.SecretHash)
		if err != nil || len(b) != sha256.Size || !ValidTokenID(ev.ID) {
			return fmt.Errorf("%s revision %d: malformed TokenIssued", rec.Stream, rec.Revision)
		}
		if _, dup := t.tokens[ev.ID]; dup {
			// Create never reuses an id; keep the first, which is the one
			// its holder was given.
			t.log.Warn("token id issued twice; the later issue is ignored", "token_id", ev.ID, "revision", rec.Revision)
			return nil
		}
		st := &tokenState{info: TokenInfo{ID: ev.ID, Name: ev.Name, Role: ev.Role, Org: ev.Org,
			IssuedAt: ev.IssuedAt, IssuedBy: ev.IssuedBy, ExpiresAt: ev.ExpiresAt}}
		copy(st.hash[:], b)
		t.tokens[ev.ID] = st
	case TypeTokenRevoked:
		var ev TokenRevoked
		if err := json.Unmarshal(rec.Data, &ev); err != nil {
			return fmt.Errorf("%s revision %d: %w", rec.Stream, rec.Revision, err)
		}
		st, ok := t.tokens[ev.ID]
		if !ok {
			t.log.Warn("revocation of a token never issued", "token_id", ev.ID, "revision", rec.Revision)
			return nil
		}
		if !st.info.Revoked() {
			st.info.RevokedAt, st.info.RevokedBy, st.info.RevokeReason = ev.RevokedAt, ev.RevokedBy, ev.Reason
		}
	default:
		// Refuse rather than ignore: an unknown event could be a newer
		// version's way of withdrawing a token.
		return fmt.Errorf("%s revision %d: unknown event type %q", rec.Stream, rec.Revision, rec.Type)
	}
	return nil
}

// maxAppendAttempts bounds the retries of an append that meets another
// writer.
const maxAppendAttempts = 5

// append appends one event after the head and reads it back. If another
// process appended first, it reads on and, unless done reports that the
// stream now says what the event would (an earlier attempt whose answer was
// lost, or another process doing the same), tries again. syncMu must be
// held.
func (t *Tokens) append(ctx context.Context, typ string, payload any, by string, at time.Time, key string, done func() bool) error {
	data, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("auth: encode %s: %w", typ, err)
	}
	meta := eventlog.Metadata{Metadata: aggregates.Metadata{UserID: by, OccurredAt: at, RecordedAt: at,
		Source: aggregates.SourceSystem, IdempotencyKey: key, SchemaVersion: tokenSchema}}
	for attempt := 1; ; attempt++ {
		t.mu.RLock()
		head := t.head
		t.mu.RUnlock()
		_, err := eventlog.Append(ctx, t.client, t.stream, head, key, []eventlog.Proposed{{Type: typ, Data: data, Metadata: meta}})
		if err == nil || errors.Is(err, eventlog.ErrWrongExpectedRevision) {
			if serr := t.sync(ctx); serr != nil {
				return serr
			}
		}
		if err == nil {
			return nil
		}
		if !errors.Is(err, eventlog.ErrWrongExpectedRevision) {
			return fmt.Errorf("%w: append %s: %w", ErrUnavailable, typ, err)
		}
		if done() {
			return nil
		}
		if attempt == maxAppendAttempts {
			return fmt.Errorf("auth: append %s: %w", typ, err)
		}
	}
}

func checkActor(by string) error {
	if by == "" {
		return fmt.Errorf("%w: say who is acting", ErrInvalidPrincipal)
	}
	return validText("actor", by)
}

func utcOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}
