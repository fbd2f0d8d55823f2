package esdbserver

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/peer"
)

func TestSignInDelayGrowsAndIsCapped(t *testing.T) {
	g := newSignInGuard(SignInDelay{Base: 100 * time.Millisecond, Max: time.Second}, slog.Default())
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond,
		4: 800 * time.Millisecond, 5: time.Second, 60: time.Second} {
		if got := g.delayFor(n); got != want {
			t.Errorf("failure %d: delay %v, want %v", n, got, want)
		}
	}
	if d := newSignInGuard(SignInDelay{Base: -1}, slog.Default()).delayFor(9); d != 0 {
		t.Errorf("a negative base delayed %v", d)
	}
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSignInFailuresAreLoggedPerAddressAtABoundedRate: failures are counted
// per address; each address gets one log line per interval, naming it, and
// its count grows apart from the other addresses'.
func TestSignInFailuresAreLoggedPerAddressAtABoundedRate(t *testing.T) {
	var buf syncBuffer
	g := newSignInGuard(SignInDelay{Base: -1}, slog.New(slog.NewTextHandler(&buf, nil)))
	now := time.Unix(1_800_000_000, 0)
	g.now = func() time.Time { return now }
	from := func(ip string) context.Context {
		return peer.NewContext(context.Background(), &peer.Peer{Addr: &net.TCPAddr{IP: net.ParseIP(ip), Port: 5000}})
	}
	for range 300 {
		g.failed(from("192.0.2.1"), "admin", "/m")
	}
	g.failed(from("192.0.2.2"), "admin", "/m")
	if n := strings.Count(buf.String(), "sign-in refused"); n != 2 {
		t.Fatalf("%d lines for 301 failures from 2 addresses, want 2:\n%s", n, buf.String())
	}
	now = now.Add(signInLogEvery)
	g.failed(from("192.0.2.1"), "admin", "/m")
	out := buf.String()
	for _, want := range []string{"address=192.0.2.1", "address=192.0.2.2", "failures=301", "refused_since_last_line=300"} {
		if !strings.Contains(out, want) {
			t.Fatalf("log lacks %q:\n%s", want, out)
		}
	}
	if g.addrs["192.0.2.2"].count != 1 {
		t.Fatalf("192.0.2.2 counted %d", g.addrs["192.0.2.2"].count)
	}
	// Failures are forgotten after a quiet spell.
	now = now.Add(signInForget + time.Second)
	g.failed(from("192.0.2.1"), "admin", "/m")
	if c := g.addrs["192.0.2.1"].count; c != 1 {
		t.Fatalf("count after a quiet spell %d, want 1", c)
	}
}
