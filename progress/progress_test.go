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
