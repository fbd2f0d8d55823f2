// Package progress reports the progress of long operator commands (replay, import,
// backup, migrate): a bar with rate and time left on a terminal, and plain lines at a
// steady interval when the output is a file or a pipe, so logs stay readable.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Reporter tracks one operation towards a known total.
type Reporter struct {
	w        io.Writer
	label    string
	unit     string
	total    float64
	tty      bool
	interval time.Duration
	now      func() time.Time

	// term, when set, is the Terminal the bar shares with log lines.
	term *Terminal

	mu        sync.Mutex
	start     time.Time
	lastPrint time.Time
	done      float64
	count     float64 // items counted for the rate (events), separate from the position-based done
}

// New returns a reporter writing to w. total is the amount of work (for example the log
// position to reach); unit names what Add counts (for example "events").
func New(w io.Writer, label string, total float64, unit string) *Reporter {
	r := &Reporter{w: w, label: label, total: total, unit: unit, interval: 5 * time.Second, now: time.Now}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		r.tty, r.interval = true, 200*time.Millisecond
	}
	r.start = r.now()
	return r
}

// Update records that done of the total is complete and count items were processed in
// all, printing when it is time to.
func (r *Reporter) Update(done, count float64) {
	if r.term != nil {
		r.term.mu.Lock()
		defer r.term.mu.Unlock()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done, r.count = done, count
	if now := r.now(); now.Sub(r.lastPrint) >= r.interval {
		r.lastPrint = now
		r.print(false)
	}
}

// Finish prints the final state and ends the bar's line.
func (r *Reporter) Finish() {
	if r.term != nil {
		r.term.mu.Lock()
		defer r.term.mu.Unlock()
		if r.term.bar == r {
			r.term.bar = nil
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.print(true)
}

// Terminal is one output shared by a progress bar and log lines, so that
// they never mix: every log line written through it first clears the bar's
// line (on a terminal), and the bar is drawn again after it. Off a
// terminal the bar prints whole lines anyway, and Terminal only keeps the
// two from interleaving mid-line.
type Terminal struct {
	mu  sync.Mutex
	w   io.Writer
	bar *Reporter
}

// NewTerminal shares w between a bar (Bar) and log lines (Write).
func NewTerminal(w io.Writer) *Terminal { return &Terminal{w: w} }

// Write writes log output (whole lines, as slog handlers write them).
func (t *Terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.bar
	if b == nil || !b.tty {
		return t.w.Write(p)
	}
	if _, err := io.WriteString(t.w, "\r\033[K"); err != nil {
		return 0, err
	}
	n, err := t.w.Write(p)
	b.mu.Lock()
	b.print(false)
	b.mu.Unlock()
	return n, err
}

// Bar starts a progress bar on the terminal's writer, as New does.
func (t *Terminal) Bar(label string, total float64, unit string) *Reporter {
	r := New(t.w, label, total, unit)
	r.term = t
	t.mu.Lock()
	t.bar = r
	t.mu.Unlock()
	return r
}

func (r *Reporter) print(final bool) {
	elapsed := r.now().Sub(r.start)
	frac := 1.0
	if r.total > 0 {
		frac = min(max(r.done/r.total, 0), 1)
	}
	rate := 0.0
	if elapsed > 0 {
		rate = r.count / elapsed.Seconds()
	}
	left := "?"
	if frac > 0 && !final {
		left = roundDur(time.Duration(float64(elapsed) * (1 - frac) / frac)).String()
	}
	if final {
		left = "0s"
	}
	status := fmt.Sprintf("%s %5.1f%% %.0f %s, %.0f %s/s, %s elapsed, %s left",
		r.label, frac*100, r.count, r.unit, rate, r.unit, roundDur(elapsed), left)
	if !r.tty {
		fmt.Fprintln(r.w, status)
		return
	}
	const width = 30
	filled := int(frac * width)
	bar := "[" + strings.Repeat("=", filled) + strings.Repeat(" ", width-filled) + "]"
	end := ""
	if final {
		end = "\n"
	}
	fmt.Fprintf(r.w, "\r\033[K%s %s%s", bar, status, end)
}

func roundDur(d time.Duration) time.Duration {
	if d > time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}
