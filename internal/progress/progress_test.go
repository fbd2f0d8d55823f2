package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestPlainLinesWhenNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := New(&buf, "replay", 1000, "events")
	r.now = func() time.Time { return clock }
	r.start = clock
	clock = clock.Add(10 * time.Second)
	r.Update(250, 5000) // a quarter done in 10 s: 30 s left
	r.Update(260, 5100) // too soon after the last line: not printed
	clock = clock.Add(10 * time.Second)
	r.Finish()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2:\n%s", len(lines), buf.String())
	}
	for _, want := range []string{"25.0%", "5000 events", "500 events/s", "30s left"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("first line %q lacks %q", lines[0], want)
		}
	}
	if !strings.Contains(lines[1], "26.0%") || !strings.Contains(lines[1], "0s left") || strings.Contains(buf.String(), "\r") {
		t.Errorf("final line %q should be complete and plain", lines[1])
	}
}

// TestTerminalKeepsLogsOffTheBar: a log line written while the bar is drawn
// clears the bar's line first and the bar is drawn again after it, so the
// log line stands on its own line.
func TestTerminalKeepsLogsOffTheBar(t *testing.T) {
	var b strings.Builder
	term := NewTerminal(&b)
	r := term.Bar("replay", 100, "events")
	r.tty, r.interval = true, 0
	r.Update(10, 10)
	if _, err := term.Write([]byte("level=WARN msg=slow\n")); err != nil {
		t.Fatal(err)
	}
	r.Update(20, 20)
	r.Finish()
	out := b.String()
	if !strings.Contains(out, "\r\033[Klevel=WARN msg=slow\n\r\033[K[") {
		t.Errorf("the log line is not cleared of the bar and followed by it again:\n%q", out)
	}
	if _, err := term.Write([]byte("after\n")); err != nil || !strings.HasSuffix(b.String(), "\nafter\n") {
		t.Errorf("after Finish a log line is written as it is: %q", b.String())
	}
}
