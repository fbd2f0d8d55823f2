package projections

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/gateledger/gateledger/projections/readmodel"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func run(t *testing.T, r *readmodel.Runner) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = r.Run(ctx) }()
	return func() { cancel(); wg.Wait() }
}

func dump(t *testing.T, r *readmodel.Runner, name string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := r.Dump(name, func(path [][]byte, k, v []byte) { fmt.Fprintf(&buf, "%q %q=%q\n", path, k, v) }); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
