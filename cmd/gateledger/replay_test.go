package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/internal/journeygen"
)

func TestReplayRebuildsFromZeroAndRefusesALockedStore(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	store, err := eventstore.Open(ctx, eventstore.Config{DataDir: dir, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	g := journeygen.New(3, time.Now(), 2*365*24*time.Hour, aggregates.DefaultPolicy(nil))
	var js []journeygen.Journey
	events := 0
	for i := 0; i < 30; i++ {
		js = append(js, g.Journey(i))
		events += js[i].EventCount()
	}
	if err := (&journeygen.Writer{Client: store.Client}).Write(ctx, js); err != nil {
		t.Fatal(err)
	}

	// While the store is open, replay says the store is in use rather than waiting.
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"replay", "--data", dir, "--json"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "in use by another process") {
		t.Fatalf("replay on a locked store: exit %d, stderr %q", code, errOut.String())
	}
	if err := store.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for attempt := 0; attempt < 2; attempt++ {
		out.Reset()
		errOut.Reset()
		if code := run(ctx, []string{"replay", "--data", dir, "--json", "--log-level", "warn"}, &out, &errOut); code != 0 {
			t.Fatalf("replay: exit %d: %s", code, errOut.String())
		}
		var rep replayReport
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("replay output %q: %v", out.String(), err)
		}
		if rep.Events < uint64(events) || rep.Position == 0 {
			t.Fatalf("replay %d applied %d events up to %d, want at least %d", attempt, rep.Events, rep.Position, events)
		}
	}
	if code := run(ctx, []string{"replay", "--data", dir, "nonesuch"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "unknown projection") {
		t.Fatalf("replay of an unknown projection: exit %d, stderr %q", code, errOut.String())
	}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
