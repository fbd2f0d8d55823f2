package folds

import (
	"context"
	"sync"

	"github.com/gateledger/gateledger/eventstore"
)

// Cache holds folds, at most max of them, least recently used first out. Its methods
// are safe for concurrent use; a Fold it hands out is fed by its caller alone (see
// At).
type Cache struct {
	client eventstore.Store
	max    int

	mu     sync.Mutex
	byNOMS map[string]*Fold
	// root links the folds in use order: root.older is the most recently used,
	// root.newer the least.
	root Fold
}

// NewCache returns a cache of at most max folds (none when max is not positive) that
// reads what it lacks from client.
func NewCache(client eventstore.Store, max int) *Cache {
	c := &Cache{client: client, max: max, byNOMS: make(map[string]*Fold)}
	c.root.newer, c.root.older = &c.root, &c.root
	return c
}

// Len is how many folds the cache holds.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byNOMS)
}

// get returns the fold of noms, now the most recently used; nil when there is none.
func (c *Cache) get(noms string) *Fold {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.byNOMS[noms]
	if f != nil {
		c.unlink(f)
		c.pushFront(f)
	}
	return f
}

// Put holds f as its person's fold, the most recently used, in place of any other.
func (c *Cache) Put(f *Fold) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(f)
}

func (c *Cache) putLocked(f *Fold) {
	if old := c.byNOMS[f.NOMS]; old != nil {
		c.unlink(old)
	}
	if c.max <= 0 {
		delete(c.byNOMS, f.NOMS)
		return
	}
	c.byNOMS[f.NOMS] = f
	c.pushFront(f)
	for len(c.byNOMS) > c.max {
		last := c.root.newer
		c.unlink(last)
		delete(c.byNOMS, last.NOMS)
	}
}

// Drop forgets the fold of noms.
func (c *Cache) Drop(noms string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f := c.byNOMS[noms]; f != nil {
		c.unlink(f)
		delete(c.byNOMS, noms)
	}
}

func (c *Cache) pushFront(f *Fold) {
	f.newer, f.older = &c.root, c.root.older
	c.root.older.newer = f
	c.root.older = f
}

func (c *Cache) unlink(f *Fold) {
	f.newer.older, f.older.newer = f.older, f.newer
	f.newer, f.older = nil, nil
}

// At returns the fold of noms just before its event at revision rev of stream: the
// cached one when it stands there, else one folded again from the store (and cached).
// The caller then takes the event with Apply. A fold is fed in place by one goroutine:
// a Cache whose folds are fed by several must be one per feeding goroutine.
func (c *Cache) At(ctx context.Context, noms, stream string, rev uint64) (*Fold, error) {
	if f := c.get(noms); f != nil && f.Next == rev {
		return f, nil
	}
	f, err := Before(ctx, c.client, noms, stream, rev)
	if err != nil {
		return nil, err
	}
	c.Put(f)
	return f, nil
}
