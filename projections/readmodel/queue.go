package readmodel

import (
	"context"
	"sync"
	"time"
)

// queue hands decoded events from the goroutine that receives them to the goroutine that
// applies them, a whole batch at a time. Two channel stages, one send per event each, cost
// a tenth of a rebuild's CPU in channel operations, wake-ups and copies of the event; here
// the receiver appends under a mutex and the applier takes everything queued in one swap.
//
// The receiver waits while two batches are queued; the applier waits until at least the
// number it wants are queued (at most a batch), the subscription has caught up, the queue is closed, or its
// linger has passed since it saw the first event.
type queue struct {
	mu       sync.Mutex
	items    []Event
	caughtUp bool // a caught-up message came after the events queued before it
	closed   bool
	want     int // the applier is woken once this many events are queued
	batch    int // the most events one take returns
	limit    int // the most events queued: two batches, so that receiving runs a batch ahead

	ready chan struct{} // capacity 1: the applier may find what it waits for
	room  chan struct{} // capacity 1: the receiver may find room
}

func newQueue(batch int) *queue {
	batch = max(batch, 1)
	// The buffers grow as events arrive: a live runner sees a few at a time.
	return &queue{want: 1, batch: batch, limit: 2 * batch,
		ready: make(chan struct{}, 1), room: make(chan struct{}, 1)}
}

// notify wakes whoever waits on c, or leaves a wake-up for the next wait.
func notify(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// put queues ev, waiting for room; it reports false once ctx has ended.
func (q *queue) put(ctx context.Context, ev *Event) bool {
	for {
		q.mu.Lock()
		if len(q.items) < q.limit {
			q.items = append(q.items, *ev)
			// The first event starts the applier's linger; a full batch ends it.
			wake := len(q.items) >= q.want || len(q.items) == 1
			q.mu.Unlock()
			if wake {
				notify(q.ready)
			}
			return true
		}
		q.mu.Unlock()
		select {
		case <-q.room:
		case <-ctx.Done():
			return false
		}
	}
}

// markCaughtUp records that the subscription has delivered everything queued so far and
// is now live.
func (q *queue) markCaughtUp() {
	q.mu.Lock()
	q.caughtUp = true
	q.mu.Unlock()
	notify(q.ready)
}

// close tells the applier that nothing more will be queued.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	notify(q.ready)
}

// take waits as the type's comment says and returns the queued events, whether the
// subscription caught up after them, and whether the queue is still open. spare, an
// earlier result the caller is done with (its length as returned), becomes the queue's
// next buffer. It returns
// nothing more once ctx ends.
func (q *queue) take(ctx context.Context, want int, linger time.Duration, spare []Event) (events []Event, caughtUp, open bool) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	var expired <-chan time.Time
	lingered := false
	want = min(max(want, 1), q.batch)
	for {
		q.mu.Lock()
		n := len(q.items)
		if n >= want || q.caughtUp || q.closed || (lingered && n > 0) {
			clear(spare) // drop what the old events point to
			if n > q.batch {
				// Hand on one batch; the rest starts the next.
				events = q.items[:q.batch]
				q.items = append(spare[:0], q.items[q.batch:]...)
				q.mu.Unlock()
				notify(q.room)
				return events, false, true
			}
			events, caughtUp, open = q.items, q.caughtUp, !q.closed || n > 0
			q.items, q.caughtUp, q.want = spare[:0], false, 1
			q.mu.Unlock()
			notify(q.room)
			return events, caughtUp, open
		}
		q.want = want
		q.mu.Unlock()
		if n > 0 && timer == nil {
			timer = time.NewTimer(linger)
			expired = timer.C
		}
		select {
		case <-q.ready:
		case <-expired:
			lingered = true
		case <-ctx.Done():
			return nil, false, false
		}
	}
}
