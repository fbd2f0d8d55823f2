// Command gateledger runs the through-the-gate resettlement ledger and its operator tools.
//
// It may import any package of ours; serve only turns flags into an instance.Config.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"google.golang.org/grpc/grpclog"

	"github.com/gateledger/gateledger/internal/esdbserver"
)

const usage = `gateledger: the through-the-gate resettlement ledger

Usage:
  gateledger serve [flags]   run the ledger (embedded event store unless --eventstore is set)
  gateledger replay [flags]  rebuild read models from position zero
  gateledger verify [flags]  check every stream's hash chain, the seals and every sealed journey, and the audit trail
  gateledger bench [flags]   measure the event store, the read models and the live feed on this machine
  gateledger loadtest [flags] WebSocket subscribers and commands under load, on loopback
  gateledger backup [flags]  write a consistent copy of the embedded store, live (--url) or stopped (--data)
  gateledger restore [flags] check a backup (bbolt and every hash chain) and put it in place of a store
  gateledger migrate [flags] copy every stream, in $all order, into another EventStoreDB-compatible store (resumable)
  gateledger simulate [flags] keep a running ledger busy with plausible people, through its API and HMPPS feed
  gateledger import [flags]  deliver HMPPS feed messages from files to a running ledger, in order
  gateledger token ...       create, list and revoke the ledger's own bearer tokens
  gateledger seal ...        write a seal of the journeys' history, export one person's proof, check it without the ledger
  gateledger help            show this help

Run 'gateledger <command> -h' for a command's flags. Every flag can also be set with the
environment variable shown in its help.
`

func main() {
	grpcLog.Store(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	grpclog.SetLoggerV2(esdbserver.GRPCLogger{Log: slog.New(forward{})})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, stderr)
	case "bench":
		err = benchCmd(ctx, args[1:], stdout, stderr)
	case "loadtest":
		err = loadtestCmd(ctx, args[1:], stdout, stderr)
	case "replay":
		err = replayCmd(ctx, args[1:], stdout, stderr)
	case "verify":
		err = verifyCmd(ctx, args[1:], stdout, stderr)
	case "backup":
		err = backupCmd(ctx, args[1:], stdout, stderr)
	case "restore":
		err = restoreCmd(ctx, args[1:], stdout, stderr)
	case "migrate":
		err = migrateCmd(ctx, args[1:], stdout, stderr)
	case "import":
		err = importCmd(ctx, args[1:], stdout, stderr)
	case "simulate":
		err = simulateCmd(ctx, args[1:], stdout, stderr)
	case "token":
		err = tokenCmd(ctx, args[1:], stdout, stderr)
	case "seal":
		err = sealCmd(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "gateledger: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintf(stderr, "gateledger %s: %v\n", args[0], err)
		return 1
	}
}

// forward hands gRPC's log records to whichever logger grpcLog points at now.
type forward struct{}

func (forward) Enabled(ctx context.Context, l slog.Level) bool {
	return grpcLog.Load().Enabled(ctx, l)
}

func (forward) Handle(ctx context.Context, r slog.Record) error {
	return grpcLog.Load().Handler().Handle(ctx, r)
}

func (f forward) WithAttrs([]slog.Attr) slog.Handler { return f }

func (f forward) WithGroup(string) slog.Handler { return f }

// errUsage marks a command line that could not be parsed; the flag package has already
// said why.
var errUsage = errors.New("usage")
