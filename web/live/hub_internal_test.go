package live

import (
	"context"
	"slices"
	"testing"
)

func testSub(t *testing.T, queue, backlog int) (*hubSub, *conn) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c := &conn{ctx: ctx, send: make(chan outbound, queue)}
	return &hubSub{c: c, wake: make(chan struct{}, 1), max: backlog}, c
}

func ev(pos uint64) outbound { return outbound{data: []byte("e"), pos: pos, hasPos: true} }

// drain is what the feed goroutine does once live: the send queue first
// (what the hub sent straight), then the backlog, in order.
func drain(s *hubSub, c *conn) (out []uint64) {
	for {
		select {
		case m := <-c.send:
			out = append(out, m.pos)
			continue
		default:
		}
		m, ok, _ := s.pop()
		if !ok {
			return out
		}
		c.send <- m
	}
}

// TestGoLive: events the hub kept while the history was read are cut at
// what the catch-up covered — at or below it dropped, above it sent after
// caught-up — and events after the switch follow in order, straight to the
// send queue or behind the backlog, never past it.
func TestGoLive(t *testing.T) {
	s, c := testSub(t, 4, 100)
	s.buffering = true
	for _, p := range []uint64{11, 12, 13, 14, 15} {
		s.deliver(ev(p))
	}
	if len(c.send) != 0 {
		t.Fatal("a buffering connection was sent events")
	}
	dropped, ok := s.goLive(13)
	if !ok || dropped != 3 {
		t.Fatalf("goLive: dropped %d, ok %v", dropped, ok)
	}
	s.deliver(ev(13)) // at or below the cut: never again
	s.deliver(ev(16)) // behind the backlog
	m, _, _ := s.pop()
	if string(m.data) != `{"type":"caught-up","position":13}` {
		t.Fatalf("first after the switch: %s", m.data)
	}
	c.send <- m
	got := drain(s, c)
	if want := []uint64{13, 14, 15, 16}; !slices.Equal(got, want) {
		t.Fatalf("got %v; want %v", got, want)
	}
	s.deliver(ev(17)) // backlog empty: straight to the send queue
	if len(c.send) != 1 {
		t.Fatal("an event with nothing before it was not sent at once")
	}
	// A checkpoint goes only to a connection given nothing at or after it.
	s.checkpoint(17, func() []byte { return []byte("cp") })
	s.checkpoint(18, func() []byte { return []byte("cp") })
	if got := drain(s, c); !slices.Equal(got, []uint64{17, 18}) {
		t.Fatalf("got %v; want [17 18]", got)
	}
}

// TestBacklogOverflow: while buffering, an overflowing backlog lapses (the
// connection registers again); once live, it marks the client too slow.
// Neither ever blocks the caller.
func TestBacklogOverflow(t *testing.T) {
	s, _ := testSub(t, 1, 3)
	s.buffering = true
	for p := uint64(1); p <= 4; p++ {
		s.deliver(ev(p))
	}
	if _, ok := s.goLive(2); ok || !s.lapsed || s.pending() != 0 {
		t.Fatalf("lapsed %v, pending %d", s.lapsed, s.pending())
	}
	s, c := testSub(t, 1, 3)
	for p := uint64(1); p <= 5; p++ {
		s.deliver(ev(p)) // 1 to the queue, 2..4 to the backlog, 5 overflows
	}
	if _, _, overflow := s.pop(); !overflow || len(c.send) != 1 {
		t.Fatalf("overflow %v, queued %d", overflow, len(c.send))
	}
}
