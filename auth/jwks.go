package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// DefaultJWKSRefreshInterval is the least time between two fetches of the
// identity provider's keys (OIDCConfig.JWKSRefreshInterval).
const DefaultJWKSRefreshInterval = 30 * time.Second

// maxJWKSBytes bounds a key set document.
const maxJWKSBytes = 1 << 20

// jwksCache is the identity provider's key set, implementing go-oidc's
// KeySet. go-oidc's own RemoteKeySet fetches the keys again for every token
// naming a key it does not hold, so anyone could make the ledger hammer the
// provider by sending tokens with made-up key ids. Here a token with an
// unknown key id causes a fetch only when the last one began at least
// interval ago; requests arriving during a fetch wait for it and share its
// result. A provider rotating its keys is seen within one interval.
type jwksCache struct {
	url      string
	client   *http.Client
	interval time.Duration
	now      func() time.Time
	algs     []jose.SignatureAlgorithm

	mu       sync.Mutex
	keys     []jose.JSONWebKey
	fetched  time.Time     // when the last fetch began; zero before the first
	inflight chan struct{} // closed when the fetch under way ends
	fetchErr error         // of the last fetch
	fetches  int           // how many fetches began (tests)
}

func newJWKSCache(url string, client *http.Client, interval time.Duration, now func() time.Time, algs []string) *jwksCache {
	c := &jwksCache{url: url, client: client, interval: interval, now: now}
	for _, a := range algs {
		c.algs = append(c.algs, jose.SignatureAlgorithm(a))
	}
	return c
}

var errNoKey = errors.New("no key of the identity provider verifies the signature")

// VerifySignature implements oidc.KeySet: it returns the payload of raw
// when one of the provider's keys verifies its signature.
func (c *jwksCache) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSigned(raw, c.algs)
	if err != nil {
		return nil, fmt.Errorf("malformed jwt: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("malformed jwt: want exactly one signature")
	}
	kid := jws.Signatures[0].Header.KeyID
	if payload, ok := c.verify(jws, kid); ok {
		return payload, nil
	}
	if err := c.refresh(ctx); err != nil {
		return nil, err
	}
	if payload, ok := c.verify(jws, kid); ok {
		return payload, nil
	}
	return nil, errNoKey
}

// verify tries the cached keys with id kid (every key when kid is empty).
func (c *jwksCache) verify(jws *jose.JSONWebSignature, kid string) ([]byte, bool) {
	c.mu.Lock()
	keys := c.keys
	c.mu.Unlock()
	for i := range keys {
		if kid != "" && keys[i].KeyID != kid {
			continue
		}
		if payload, err := jws.Verify(&keys[i]); err == nil {
			return payload, true
		}
	}
	return nil, false
}

// refresh fetches the key set unless a fetch began less than interval ago;
// it waits for a fetch already under way instead of starting another.
func (c *jwksCache) refresh(ctx context.Context) error {
	c.mu.Lock()
	if ch := c.inflight; ch != nil {
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the identity provider's keys: %w", ctx.Err())
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.fetchErr
	}
	if !c.fetched.IsZero() && c.now().Sub(c.fetched) < c.interval {
		c.mu.Unlock()
		return nil // the keys held are as fresh as the provider gets asked for
	}
	ch := make(chan struct{})
	c.inflight, c.fetched = ch, c.now()
	c.fetches++
	c.mu.Unlock()

	// The fetch is shared: one caller giving up must not fail it for the
	// others, so it runs on its own deadline (the HTTP client's timeout).
	keys, err := c.fetch(context.WithoutCancel(ctx))
	c.mu.Lock()
	if err == nil {
		c.keys = keys
	}
	c.fetchErr, c.inflight = err, nil
	c.mu.Unlock()
	close(ch)
	return err
}

func (c *jwksCache) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch keys from %s: %w", c.url, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch keys from %s: %w", c.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch keys from %s: status %d", c.url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetch keys from %s: %w", c.url, err)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("fetch keys from %s: the key set is over %d bytes", c.url, maxJWKSBytes)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("fetch keys from %s: %w", c.url, err)
	}
	return set.Keys, nil
}

// fetchCount is how many fetches have begun.
func (c *jwksCache) fetchCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fetches
}
