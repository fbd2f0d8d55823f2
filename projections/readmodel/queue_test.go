package readmodel

import (
	"context"
	"testing"
	"time"
)

func putN(t *testing.T, q *queue, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		if !q.put(context.Background(), &Event{Position: uint64(i)}) {
			t.Fatalf("put %d refused", i)
		}
	}
}

func positions(evs []Event) []uint64 {
	out := make([]uint64, len(evs))
	for i := range evs {
		out[i] = evs[i].Position
	}
	return out
}

func wantPositions(t *testing.T, got []Event, from, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("took %d events %v, want %d from %d", len(got), positions(got), n, from)
	}
	for i := range got {
		if got[i].Position != uint64(from+i) {
			t.Fatalf("took %v, want %d events from %d in order", positions(got), n, from)
		}
	}
}

func TestQueueTake(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name         string
		batch        int
		queued       int
		want         int
		caughtUp     bool
		closed       bool
		wantTaken    int
		wantCaughtUp bool
		wantOpen     bool
	}{
		{name: "a full batch is taken at once", batch: 4, queued: 4, want: 4, wantTaken: 4, wantOpen: true},
		{name: "at most a batch is taken", batch: 4, queued: 7, want: 4, wantTaken: 4, wantOpen: true},
		{name: "live takes whatever is there", batch: 4, queued: 2, want: 1, wantTaken: 2, wantOpen: true},
		{name: "fewer than wanted are taken after the linger", batch: 4, queued: 3, want: 4, wantTaken: 3, wantOpen: true},
		{name: "caught up ends the wait", batch: 4, queued: 1, want: 4, caughtUp: true, wantTaken: 1, wantCaughtUp: true, wantOpen: true},
		{name: "caught up with nothing queued", batch: 4, want: 4, caughtUp: true, wantCaughtUp: true, wantOpen: true},
		{name: "closed still hands on what is queued", batch: 4, queued: 2, want: 4, closed: true, wantTaken: 2, wantOpen: true},
		{name: "closed and empty", batch: 4, want: 4, closed: true, wantOpen: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newQueue(tt.batch)
			putN(t, q, 1, tt.queued)
			if tt.caughtUp {
				q.markCaughtUp()
			}
			if tt.closed {
				q.close()
			}
			got, caughtUp, open := q.take(ctx, tt.want, 10*time.Millisecond, nil)
			wantPositions(t, got, 1, tt.wantTaken)
			if caughtUp != tt.wantCaughtUp || open != tt.wantOpen {
				t.Fatalf("caughtUp, open = %v, %v; want %v, %v", caughtUp, open, tt.wantCaughtUp, tt.wantOpen)
			}
		})
	}
}

// TestQueueKeepsOrderAcrossTakes: what one take leaves is where the next begins, and a
// buffer handed back is reused without disturbing events still queued.
func TestQueueKeepsOrderAcrossTakes(t *testing.T) {
	ctx := context.Background()
	q := newQueue(3)
	putN(t, q, 1, 5)
	first, _, _ := q.take(ctx, 3, time.Millisecond, nil)
	wantPositions(t, first, 1, 3)
	putN(t, q, 6, 1)
	second, _, _ := q.take(ctx, 3, time.Millisecond, first)
	wantPositions(t, second, 4, 3)
	q.close()
	third, _, open := q.take(ctx, 3, time.Millisecond, second)
	if len(third) != 0 || open {
		t.Fatalf("after close took %v, open %v", positions(third), open)
	}
}

// TestQueuePutWaitsForRoom: the receiver runs at most two batches ahead, resumes when the
// applier takes, and gives up when its context ends.
func TestQueuePutWaitsForRoom(t *testing.T) {
	q := newQueue(2)
	putN(t, q, 1, 4)
	done := make(chan bool)
	go func() { done <- q.put(context.Background(), &Event{Position: 5}) }()
	select {
	case <-done:
		t.Fatal("put into a full queue returned before anything was taken")
	case <-time.After(20 * time.Millisecond):
	}
	got, _, _ := q.take(context.Background(), 2, time.Millisecond, nil)
	wantPositions(t, got, 1, 2)
	if !<-done {
		t.Fatal("put refused after room was made")
	}

	ctx, cancel := context.WithCancel(context.Background())
	putN(t, q, 6, 1) // full again: 3, 4, 5, 6
	go func() { done <- q.put(ctx, &Event{Position: 7}) }()
	cancel()
	if <-done {
		t.Fatal("put into a full queue succeeded after its context ended")
	}
}

// TestQueueTakeWaitsForEvents: an applier waiting on an empty queue is woken by the first
// event, and one waiting for a batch by the last event of it, before any linger.
func TestQueueTakeWaitsForEvents(t *testing.T) {
	q := newQueue(3)
	got := make(chan []Event)
	go func() {
		evs, _, _ := q.take(context.Background(), 3, time.Hour, nil)
		got <- evs
	}()
	putN(t, q, 1, 3)
	wantPositions(t, <-got, 1, 3)

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		evs, _, open := q.take(ctx, 1, 0, nil)
		if open {
			got <- evs
			return
		}
		got <- nil
	}()
	cancel()
	if evs := <-got; evs != nil {
		t.Fatalf("take on an empty queue returned %v after its context ended", positions(evs))
	}
}
