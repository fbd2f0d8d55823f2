package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

// grpcLog is the logger gRPC's own messages go to. gRPC keeps one logger per process,
// installed by main before anything runs; each command points it at the logger its
// flags asked for.
var grpcLog atomic.Pointer[slog.Logger]

// envPrefix is the prefix of every environment variable the ledger reads.
const envPrefix = "GATELEDGER_"

// flags wraps a FlagSet so that every flag has an environment variable, named in its
// help, that supplies its default.
type flags struct {
	*flag.FlagSet
	envErrs []error
}

func newFlags(name string, stderr io.Writer) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return &flags{FlagSet: fs}
}

func (f *flags) string(p *string, name, env, def, help string) {
	if v, ok := os.LookupEnv(envPrefix + env); ok {
		def = v
	}
	f.StringVar(p, name, def, fmt.Sprintf("%s (env %s%s)", help, envPrefix, env))
}

func (f *flags) bool(p *bool, name, env string, def bool, help string) {
	if v, ok := os.LookupEnv(envPrefix + env); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			f.envErrs = append(f.envErrs, fmt.Errorf("%s%s=%q: not a boolean", envPrefix, env, v))
		}
		def = b
	}
	f.BoolVar(p, name, def, fmt.Sprintf("%s (env %s%s)", help, envPrefix, env))
}

func (f *flags) int(p *int, name, env string, def int, help string) {
	if v, ok := os.LookupEnv(envPrefix + env); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			f.envErrs = append(f.envErrs, fmt.Errorf("%s%s=%q: not a whole number", envPrefix, env, v))
		}
		def = n
	}
	f.IntVar(p, name, def, fmt.Sprintf("%s (env %s%s)", help, envPrefix, env))
}

func (f *flags) parse(args []string) error {
	if err := f.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return errUsage
	}
	if len(f.envErrs) > 0 {
		return f.envErrs[0]
	}
	if f.NArg() > 0 {
		fmt.Fprintf(f.Output(), "unexpected arguments: %s\n", strings.Join(f.Args(), " "))
		return errUsage
	}
	return nil
}

// logConfig is the logging flags every long-running command shares.
type logConfig struct {
	format string
	level  string
}

func (l *logConfig) register(f *flags) {
	f.string(&l.format, "log-format", "LOG_FORMAT", "json", "log format: json or text")
	f.string(&l.level, "log-level", "LOG_LEVEL", "info", "log level: debug, info, warn or error")
}

func (l *logConfig) logger(w io.Writer) (*slog.Logger, error) {
	log, err := l.newLogger(w)
	if err != nil {
		return nil, err
	}
	grpcLog.Store(log)
	return log, nil
}

// newLogger is a logger in the configured format and level on w, for a
// second stream (serve's --request-log); logger also makes it the gRPC
// client's.
func (l *logConfig) newLogger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", l.level, err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch l.format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want json or text", l.format)
}
