package journeys

import (
	"container/list"
	"sync"

	"github.com/gateledger/gateledger/eventlog"
)

// DefaultCacheSize is how many journeys a Service keeps when CacheSize is zero. A
// journey of a few dozen events takes some tens of kilobytes.
const DefaultCacheSize = 4096

// streamCache keeps the journeys most recently read, as they were then, so
// that the next read of one asks the store only for what came after
// (eventlog.RefreshJourney) instead of reading and folding the whole stream. It never
// answers for the store: every read through it still reaches the store, so a journey
// written by another process or ledger instance is seen as soon as it is written.
type streamCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *eventlog.JourneyStream; front is most recently used
	items map[string]*list.Element
}

func newStreamCache(max int) *streamCache {
	return &streamCache{max: max, order: list.New(), items: make(map[string]*list.Element)}
}

// get returns the cached journey of noms. The caller must not change it.
func (c *streamCache) get(noms string) (eventlog.JourneyStream, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[noms]
	if !ok {
		return eventlog.JourneyStream{}, false
	}
	c.order.MoveToFront(el)
	return *el.Value.(*eventlog.JourneyStream), true
}

// put caches st unless a later revision of the same journey is cached already
// (two requests reading one journey at once may finish in either order).
func (c *streamCache) put(st eventlog.JourneyStream) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[st.NOMS]; ok {
		if el.Value.(*eventlog.JourneyStream).Revision() <= st.Revision() {
			el.Value = &st
		}
		c.order.MoveToFront(el)
		return
	}
	c.items[st.NOMS] = c.order.PushFront(&st)
	for c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(*eventlog.JourneyStream).NOMS)
	}
}

// drop forgets the journey of noms.
func (c *streamCache) drop(noms string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[noms]; ok {
		c.order.Remove(el)
		delete(c.items, noms)
	}
}
