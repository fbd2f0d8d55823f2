package esdbserver

import (
	"context"
	"fmt"
	"log/slog"
	"os"
)

// GRPCLogger adapts slog to gRPC's logger interface (grpclog.LoggerV2), so that the gRPC
// library's own messages join the ledger's structured log instead of being printed to
// stderr. gRPC's info messages are routine connection chatter, so they become debug.
// Install it once, in main, with grpclog.SetLoggerV2: gRPC keeps its logger globally.
type GRPCLogger struct{ Log *slog.Logger }

func (g GRPCLogger) log(level slog.Level, msg string) {
	g.Log.Log(context.Background(), level, "grpc: "+msg)
}

// Info logs at debug level.
func (g GRPCLogger) Info(args ...any) { g.log(slog.LevelDebug, fmt.Sprint(args...)) }

// Infoln logs at debug level.
func (g GRPCLogger) Infoln(args ...any) { g.log(slog.LevelDebug, fmt.Sprint(args...)) }

// Infof logs at debug level.
func (g GRPCLogger) Infof(format string, args ...any) {
	g.log(slog.LevelDebug, fmt.Sprintf(format, args...))
}

// Warning logs at warn level.
func (g GRPCLogger) Warning(args ...any) { g.log(slog.LevelWarn, fmt.Sprint(args...)) }

// Warningln logs at warn level.
func (g GRPCLogger) Warningln(args ...any) { g.log(slog.LevelWarn, fmt.Sprint(args...)) }

// Warningf logs at warn level.
func (g GRPCLogger) Warningf(format string, args ...any) {
	g.log(slog.LevelWarn, fmt.Sprintf(format, args...))
}

// Error logs at error level.
func (g GRPCLogger) Error(args ...any) { g.log(slog.LevelError, fmt.Sprint(args...)) }

// Errorln logs at error level.
func (g GRPCLogger) Errorln(args ...any) { g.log(slog.LevelError, fmt.Sprint(args...)) }

// Errorf logs at error level.
func (g GRPCLogger) Errorf(format string, args ...any) {
	g.log(slog.LevelError, fmt.Sprintf(format, args...))
}

// Fatal logs at error level and exits, as gRPC expects of it.
func (g GRPCLogger) Fatal(args ...any) { g.Error(args...); os.Exit(1) }

// Fatalln logs at error level and exits.
func (g GRPCLogger) Fatalln(args ...any) { g.Error(args...); os.Exit(1) }

// Fatalf logs at error level and exits.
func (g GRPCLogger) Fatalf(format string, args ...any) { g.Errorf(format, args...); os.Exit(1) }

// V reports whether verbosity level l is on: only for debug logging.
func (g GRPCLogger) V(l int) bool { return g.Log.Enabled(context.Background(), slog.LevelDebug) }
